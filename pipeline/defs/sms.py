"""SMS assets, partitioned by channel (username:id): raw rates -> normalised -> history."""

from pipeline.defs.feed import FeedAssets
from pipeline.stages.sms import SMS

SMS_ASSETS = FeedAssets(
    feed=SMS,
    raw="sms_rates_raw",
    normalised="sms_rates",
    history="sms_rate_history",
    raw_description="The SMS rates of one channel as fetched, kept in data/raw/sms/.",
    normalised_description="SMS rates normalised: exact rates per MCC/MNC, refused rows with "
    "reasons.",
    history_description="sms_snapshot + sms_rate history in the warehouse (one transaction).",
    job_description="Download, normalise and load every SMS channel's rates.",
    unknown_metadata="unknown_networks",
)
