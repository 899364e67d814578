"""Limits that more than one layer holds to, below every layer (it imports nothing): the
settings check their values against them, and lookup, cost and the SQL macros refuse what lies
beyond them. The settings cannot import analytics, so the limits live here, not where they bite.
"""

from __future__ import annotations

# The longest call lookup and cost price: 999,999,999 s (about 31.7 years), the 9 digits of
# billsec a CDR import takes. Billed seconds (at most this plus an increment of a day) stay
# far inside int64, and lookup's HUGEINT price x billed x 10^decimals inside its 1.7e38; a
# cost beyond DECIMAL(18, decimals) is a CostOverflowError in both, never a wrapped integer.
# The SQL macro lpm_call_seconds (sql/macros/100_lpm.sql) spells the same limit and words.
MAX_CALL_SECONDS = 999_999_999
TOO_LARGE = f"is too large: at most {MAX_CALL_SECONDS:,} seconds"

# MCC and MNC are at most 3 digits (ITU-T E.212): the typed client and SMS ingest refuse more.
MAX_MCC_MNC = 999
