-- A FreeSWITCH call bills on billsec > 0 whatever its hangup cause: FreeSWITCH counts billsec
-- from the answer, so a call answered and then ended by ALLOTTED_TIMEOUT or MEDIA_TIMEOUT was
-- connected and billed (docs/cdr.md#formats). Calls imported before keep the flag they were
-- given then (a file imported again is a no-op).
COMMENT ON COLUMN cdr_call.billable IS 'true when the call bills: Asterisk disposition ANSWERED and billsec > 0; FreeSWITCH billsec > 0 (answered), whatever the hangup cause (before migration 099: NORMAL_CLEARING only); generic seconds > 0.';
