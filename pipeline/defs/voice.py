"""Voice assets, partitioned by tech prefix: raw deck -> normalised deck -> history."""

from pipeline.defs.feed import FeedAssets
from pipeline.stages.voice import VOICE

VOICE_ASSETS = FeedAssets(
    feed=VOICE,
    raw="voice_deck_raw",
    normalised="voice_deck",
    history="voice_rate_history",
    raw_description="The voice rate deck as downloaded, kept byte for byte in data/raw/voice/.",
    normalised_description="The deck normalised with polars: digits-only prefixes, exact "
    "prices, parsed increments; refused rows kept with reasons. Blocking checks stop the load.",
    history_description="voice_snapshot + voice_rate history in the warehouse (one transaction).",
    job_description="Download, normalise and load every tech prefix's voice deck.",
)
