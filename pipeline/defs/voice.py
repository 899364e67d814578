"""Voice assets, partitioned by tech prefix: raw deck -> normalised deck -> history."""

from pipeline.defs.feed import FeedAssets
from pipeline.stages.voice import VOICE

VOICE_ASSETS = FeedAssets(
    feed=VOICE,
    normalised="voice_deck",
    descriptions=(
        "The voice rate deck as downloaded, kept byte for byte in data/raw/voice/.",
        "The deck normalised with polars: digits-only prefixes, exact prices, parsed "
        "increments; refused rows kept with reasons. Blocking checks stop the load.",
    ),
    job_description="Download, normalise and load every tech prefix's voice deck.",
)
