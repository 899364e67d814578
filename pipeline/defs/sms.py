"""SMS assets, partitioned by channel (username:id): raw rates -> normalised -> history."""

from pipeline.defs.feed import FeedAssets
from pipeline.stages.sms import SMS

SMS_ASSETS = FeedAssets(
    feed=SMS,
    normalised="sms_rates",
    descriptions=(
        "The SMS rates of one channel as fetched, kept in data/raw/sms/.",
        "SMS rates normalised: exact rates per MCC/MNC, refused rows with reasons.",
    ),
    job_description="Download, normalise and load every SMS channel's rates.",
    unknown_metadata="unknown_networks",
)
