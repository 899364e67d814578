"""Every rate feed, in run order. A new feed (CDR) is a new ``FeedSpec`` added here."""

from __future__ import annotations

from pipeline.stages.sms import SMS
from pipeline.stages.voice import VOICE

FEEDS = (VOICE, SMS)
