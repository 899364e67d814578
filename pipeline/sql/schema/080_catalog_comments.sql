-- The catalog documents itself: a COMMENT ON every table and column (read them with
-- duckdb_tables(), duckdb_columns(); docs/warehouse.md is generated from them by
-- `python -m pipeline.warehouse.catalog_doc`). A migration, so older warehouses gain them too;
-- views and macros are re-created every run and carry their comments in sql/views, sql/macros.
-- Conventions: times are TIMESTAMPTZ in UTC; prices and balances are exact DECIMAL(18, 8);
-- a later migration that adds a table or column adds its comments with it (a test insists).

COMMENT ON SEQUENCE snapshot_id_seq IS 'Ids of voice_snapshot, sms_snapshot and balance_snapshot (one sequence: a snapshot_id is unique across the three).';
COMMENT ON SEQUENCE report_id_seq IS 'Ids of report_log.';

COMMENT ON TABLE schema_migration IS 'Bookkeeping: the sql/schema migrations applied to this warehouse, one row each (ratedeck applies each once, in name order).';
COMMENT ON COLUMN schema_migration.name IS 'Migration file name, e.g. 080_catalog_comments.sql. Key.';
COMMENT ON COLUMN schema_migration.applied_at IS 'When it was applied (UTC).';

-- voice -------------------------------------------------------------------------------------
COMMENT ON TABLE voice_snapshot IS 'One row per voice rate deck downloaded and loaded, per tech prefix: the lineage of voice_rate (which rows each download opened, closed, withdrew). Key: snapshot_id.';
COMMENT ON COLUMN voice_snapshot.snapshot_id IS 'Snapshot id (snapshot_id_seq). Key; voice_rate.first_snapshot_id / closed_snapshot_id refer to it.';
COMMENT ON COLUMN voice_snapshot.tech_prefix IS 'The CommPeak tech prefix (call plan) the deck belongs to: ''current'' (the account default) or digits, e.g. ''021001''.';
COMMENT ON COLUMN voice_snapshot.fetched_at IS 'When the deck was downloaded (UTC). Undated deck rows take effect at this moment.';
COMMENT ON COLUMN voice_snapshot.loaded_at IS 'When this row was written to the warehouse (UTC).';
COMMENT ON COLUMN voice_snapshot.content_sha256 IS 'sha256 (hex) of the raw downloaded bytes; the same bytes for the same tech prefix and fetch load once.';
COMMENT ON COLUMN voice_snapshot.raw_path IS 'The raw file in the landing zone, relative to the data directory (raw/...).';
COMMENT ON COLUMN voice_snapshot.source_format IS 'Format of the raw file: csv, xls or xlsx.';
COMMENT ON COLUMN voice_snapshot.row_count IS 'Valid (canonical) rate rows in the deck.';
COMMENT ON COLUMN voice_snapshot.reject_count IS 'Rows refused by ingest; their reasons are in ingest_reject (kind voice, same snapshot_id).';
COMMENT ON COLUMN voice_snapshot.rates_opened IS 'voice_rate versions this snapshot added (new prefixes, changed rates, newly announced changes).';
COMMENT ON COLUMN voice_snapshot.rates_closed IS 'In-force voice_rate versions this snapshot ended (rate changed or prefix gone).';
COMMENT ON COLUMN voice_snapshot.rates_withdrawn IS 'Scheduled (future-dated) versions this snapshot withdrew before their date.';
COMMENT ON COLUMN voice_snapshot.rates_unchanged IS 'Stored versions the deck confirmed unchanged.';
COMMENT ON COLUMN voice_snapshot.has_effective_dates IS 'true when the deck states effective dates (then its changes can be scheduled ahead and judged for notice).';

COMMENT ON TABLE voice_rate IS 'Voice rate history (type-2): one row per version of a (tech_prefix, prefix) rate, valid on [valid_from, valid_to). Query it as of a moment with voice_rate_at(ts), now with voice_rate_current, by number with lpm_rate() and call_cost().';
COMMENT ON COLUMN voice_rate.tech_prefix IS 'Tech prefix (call plan) of the deck: ''current'' or digits.';
COMMENT ON COLUMN voice_rate.prefix IS 'Dialled-number prefix, digits only, country code first (E.164 without +), e.g. ''35389''. A number is billed by its longest matching prefix.';
COMMENT ON COLUMN voice_rate.destination IS 'Destination name as the carrier writes it, e.g. ''Ireland Mobile''.';
COMMENT ON COLUMN voice_rate.price IS 'Price per minute in currency, exact DECIMAL(18, 8).';
COMMENT ON COLUMN voice_rate.initial_seconds IS 'Billing increments a/b: the first a seconds are billed as a block (a in a/b).';
COMMENT ON COLUMN voice_rate.increment_seconds IS 'Billing increments a/b: after the first block, b-second steps (b in a/b).';
COMMENT ON COLUMN voice_rate.currency IS 'ISO 4217 currency of price (from the deck, else the account currency [report] currency). NULL only for rows loaded before the currency was recorded.';
COMMENT ON COLUMN voice_rate.effective_at IS 'The carrier''s own effective date for this version (UTC), when the deck states one; NULL for an undated deck.';
COMMENT ON COLUMN voice_rate.valid_from IS 'Start of validity (UTC, inclusive): the effective date, else the fetch that first saw it. In the future for a scheduled change.';
COMMENT ON COLUMN voice_rate.valid_to IS 'End of validity (UTC, exclusive); NULL while open-ended (still in force or scheduled without end).';
COMMENT ON COLUMN voice_rate.first_seen_at IS 'fetched_at of the first snapshot that carried this version: when ratedeck learnt of it.';
COMMENT ON COLUMN voice_rate.first_snapshot_id IS 'voice_snapshot that opened this version.';
COMMENT ON COLUMN voice_rate.closed_snapshot_id IS 'voice_snapshot that ended or withdrew it; NULL while open.';
COMMENT ON COLUMN voice_rate.withdrawn_at IS 'When a scheduled version was taken back before its date (UTC); then valid_to = valid_from, so no as-of read sees it. NULL otherwise.';

COMMENT ON TABLE ingest_reject IS 'Rows ingest refused, with the reason, per snapshot (voice deck rows and SMS rate rows). Nothing is dropped silently: every refused row is here.';
COMMENT ON COLUMN ingest_reject.kind IS 'voice or sms.';
COMMENT ON COLUMN ingest_reject.source IS 'Where the row came from: the tech prefix (voice) or the SMS channel ''username:id''.';
COMMENT ON COLUMN ingest_reject.snapshot_id IS 'The voice_snapshot or sms_snapshot the file was loaded as.';
COMMENT ON COLUMN ingest_reject.fetched_at IS 'When the file was downloaded (UTC).';
COMMENT ON COLUMN ingest_reject.content_sha256 IS 'sha256 (hex) of the raw file.';
COMMENT ON COLUMN ingest_reject.row_number IS 'Where the row is, 1-based: the line of the CSV file or the row of the sheet (header lines count), or the position in the SMS JSON list.';
COMMENT ON COLUMN ingest_reject.sheet IS 'Worksheet name for XLS/XLSX decks; NULL for CSV and JSON.';
COMMENT ON COLUMN ingest_reject.raw IS 'The raw cell values as a JSON object (column header -> text).';
COMMENT ON COLUMN ingest_reject.reason IS 'Why it was refused, one line (e.g. bad price, duplicate prefix).';

COMMENT ON TABLE voice_deck_alias IS 'Downloads not loaded because another tech prefix already holds the very same deck (e.g. ''current'' and the default tech prefix''s digits): recorded here instead of a second, identical history.';
COMMENT ON COLUMN voice_deck_alias.tech_prefix IS 'The tech prefix whose download was not loaded (it has no history of its own).';
COMMENT ON COLUMN voice_deck_alias.same_as IS 'The tech prefix whose history holds that deck (query voice_rate with this one).';
COMMENT ON COLUMN voice_deck_alias.snapshot_id IS 'same_as''s voice_snapshot of the same bytes.';
COMMENT ON COLUMN voice_deck_alias.fetched_at IS 'When tech_prefix''s copy was downloaded (UTC). Key with tech_prefix.';
COMMENT ON COLUMN voice_deck_alias.content_sha256 IS 'sha256 (hex) of the raw bytes, equal to the snapshot''s.';
COMMENT ON COLUMN voice_deck_alias.raw_path IS 'tech_prefix''s copy in the landing zone, relative to the data directory.';

-- sms ---------------------------------------------------------------------------------------
COMMENT ON TABLE mcc_mnc IS 'Reference: mobile networks by MCC/MNC (from data/reference/mcc_mnc.csv, reloaded when that file changes). Look an API pair up with mcc_int = ? AND mnc_int = ? AND preferred.';
COMMENT ON COLUMN mcc_mnc.mcc IS 'Mobile country code as published, 3 digits, e.g. ''272''.';
COMMENT ON COLUMN mcc_mnc.mnc IS 'Mobile network code as published, 2 or 3 digits (''01'' and ''001'' are different codes).';
COMMENT ON COLUMN mcc_mnc.mcc_int IS 'mcc as an integer (how the CommPeak API gives it).';
COMMENT ON COLUMN mcc_mnc.mnc_int IS 'mnc as an integer (how the CommPeak API gives it).';
COMMENT ON COLUMN mcc_mnc.iso IS 'ISO 3166-1 alpha-2 country code, upper case; empty string when none.';
COMMENT ON COLUMN mcc_mnc.country IS 'Country name.';
COMMENT ON COLUMN mcc_mnc.network IS 'Network name shown in reports: the brand, else the operator.';
COMMENT ON COLUMN mcc_mnc.brand IS 'Brand name (may be empty).';
COMMENT ON COLUMN mcc_mnc.operator IS 'Operator (company) name (may be empty).';
COMMENT ON COLUMN mcc_mnc.status IS 'Operational, Not operational, ...; empty string when unknown.';
COMMENT ON COLUMN mcc_mnc.source IS 'Where the row comes from: wikipedia or mcc-mnc.com.';
COMMENT ON COLUMN mcc_mnc.preferred IS 'true for the one row an integer (mcc_int, mnc_int) pair from the API maps to.';
COMMENT ON COLUMN mcc_mnc.ambiguous IS 'true when the sources disagree about this pair.';

COMMENT ON TABLE reference_load IS 'Bookkeeping: which version of each committed reference file is loaded (reloaded when its sha256 changes).';
COMMENT ON COLUMN reference_load.name IS 'Reference name, e.g. ''mcc_mnc''. Key.';
COMMENT ON COLUMN reference_load.content_sha256 IS 'sha256 (hex) of the loaded file.';
COMMENT ON COLUMN reference_load.row_count IS 'Rows loaded.';
COMMENT ON COLUMN reference_load.loaded_at IS 'When it was loaded (UTC).';

COMMENT ON TABLE sms_snapshot IS 'One row per SMS rate list downloaded and loaded, per channel: the lineage of sms_rate. Key: snapshot_id.';
COMMENT ON COLUMN sms_snapshot.snapshot_id IS 'Snapshot id (snapshot_id_seq, shared with voice). Key.';
COMMENT ON COLUMN sms_snapshot.channel IS 'SMS channel ''username:id''.';
COMMENT ON COLUMN sms_snapshot.fetched_at IS 'When the list was downloaded (UTC); its changes take effect at this moment.';
COMMENT ON COLUMN sms_snapshot.loaded_at IS 'When this row was written (UTC).';
COMMENT ON COLUMN sms_snapshot.content_sha256 IS 'sha256 (hex) of the raw JSON bytes.';
COMMENT ON COLUMN sms_snapshot.raw_path IS 'The raw JSON in the landing zone, relative to the data directory.';
COMMENT ON COLUMN sms_snapshot.row_count IS 'Valid rate rows in the list (0: an empty list, never a baseline).';
COMMENT ON COLUMN sms_snapshot.reject_count IS 'Rows refused (ingest_reject, kind sms).';
COMMENT ON COLUMN sms_snapshot.unknown_count IS 'Rows whose (mcc, mnc) pair mcc_mnc does not list (kept, flagged known = false).';
COMMENT ON COLUMN sms_snapshot.rates_opened IS 'sms_rate versions this snapshot added.';
COMMENT ON COLUMN sms_snapshot.rates_closed IS 'sms_rate versions this snapshot ended.';

COMMENT ON TABLE sms_rate IS 'SMS rate history (type-2): one row per version of a channel''s rate for a network (mcc_int, mnc_int), valid on [valid_from, valid_to). As of a moment: sms_rate_at(ts); now: sms_rate_current.';
COMMENT ON COLUMN sms_rate.channel IS 'SMS channel ''username:id''.';
COMMENT ON COLUMN sms_rate.mcc_int IS 'Mobile country code as the API gives it (integer). Part of the history key (channel, mcc_int, mnc_int).';
COMMENT ON COLUMN sms_rate.mnc_int IS 'Mobile network code as the API gives it (integer). Part of the history key.';
COMMENT ON COLUMN sms_rate.rate IS 'Price per message in the account currency, exact DECIMAL(18, 8).';
COMMENT ON COLUMN sms_rate.country IS 'Country from mcc_mnc at load time; NULL when the pair is unknown.';
COMMENT ON COLUMN sms_rate.network IS 'Network name from mcc_mnc at load time; NULL when the pair is unknown.';
COMMENT ON COLUMN sms_rate.known IS 'false when mcc_mnc does not list the pair (kept and flagged as unknown network, never dropped).';
COMMENT ON COLUMN sms_rate.valid_from IS 'Start of validity (UTC, inclusive): the fetch that first saw this rate.';
COMMENT ON COLUMN sms_rate.valid_to IS 'End of validity (UTC, exclusive); NULL while in force.';
COMMENT ON COLUMN sms_rate.first_seen_at IS 'fetched_at of the first snapshot that carried this version.';
COMMENT ON COLUMN sms_rate.first_snapshot_id IS 'sms_snapshot that opened this version.';
COMMENT ON COLUMN sms_rate.closed_snapshot_id IS 'sms_snapshot that ended it; NULL while open.';
COMMENT ON COLUMN sms_rate.withdrawn_at IS 'Reserved for withdrawn scheduled rates (SMS lists carry no dates today): NULL.';
COMMENT ON COLUMN sms_rate.mcc IS 'Mobile country code as text, 3 digits as published, e.g. ''272''.';
COMMENT ON COLUMN sms_rate.mnc IS 'Mobile network code as text as published (''02'' and ''002'' differ); an unknown pair gets at least 2 digits.';

-- balance -----------------------------------------------------------------------------------
COMMENT ON TABLE balance_snapshot IS 'Prepaid account balance, one row per fetch of the CommPeak /customer endpoint. Daily figures: balance_daily; runway: balance_runway.';
COMMENT ON COLUMN balance_snapshot.snapshot_id IS 'Snapshot id (snapshot_id_seq). Key.';
COMMENT ON COLUMN balance_snapshot.fetched_at IS 'When the balance was fetched (UTC); unique: replaying the same fetch is a no-op.';
COMMENT ON COLUMN balance_snapshot.loaded_at IS 'When this row was written (UTC).';
COMMENT ON COLUMN balance_snapshot.email IS 'The account (customer email) the balance belongs to.';
COMMENT ON COLUMN balance_snapshot.balance IS 'Voice balance in the account currency, exact DECIMAL(18, 8); negative when overdrawn.';
COMMENT ON COLUMN balance_snapshot.sms_balance IS 'SMS balance in the account currency, exact.';
COMMENT ON COLUMN balance_snapshot.temporary_credit IS 'Temporary credit granted by CommPeak, in the account currency, exact (0 when none).';
COMMENT ON COLUMN balance_snapshot.content_sha256 IS 'sha256 (hex) of the raw /customer JSON.';
COMMENT ON COLUMN balance_snapshot.raw_path IS 'The raw JSON in the landing zone, relative to the data directory.';

COMMENT ON TABLE balance_alert_log IS 'One row per downward crossing of the low-balance threshold, and the delivery of its one alert email. Key: (email, crossing_snapshot_id).';
COMMENT ON COLUMN balance_alert_log.email IS 'The account that crossed.';
COMMENT ON COLUMN balance_alert_log.crossing_snapshot_id IS 'First balance_snapshot below the threshold.';
COMMENT ON COLUMN balance_alert_log.crossed_at IS 'Its fetched_at (UTC).';
COMMENT ON COLUMN balance_alert_log.balance IS 'Balance at the crossing, account currency, exact.';
COMMENT ON COLUMN balance_alert_log.threshold IS 'The [balance] low_balance_threshold in force then, exact.';
COMMENT ON COLUMN balance_alert_log.detected_at IS 'When ratedeck detected the crossing (UTC).';
COMMENT ON COLUMN balance_alert_log.attempts IS 'Delivery attempts so far.';
COMMENT ON COLUMN balance_alert_log.sent_at IS 'When the alert was delivered (UTC); NULL until then (retried next run).';
COMMENT ON COLUMN balance_alert_log.delivery IS 'How it went out: ''smtp ...'' or the .eml path; NULL until delivered.';
COMMENT ON COLUMN balance_alert_log.last_error IS 'The last failed attempt, one line, secrets scrubbed; NULL when none failed.';

-- reports and delivery ----------------------------------------------------------------------
COMMENT ON TABLE report_log IS 'Every finance price-change email: when, to whom, how it went out. Its changes are in report_change. Key: report_id.';
COMMENT ON COLUMN report_log.report_id IS 'Report id (report_id_seq). Key.';
COMMENT ON COLUMN report_log.created_at IS 'When the report was built (UTC).';
COMMENT ON COLUMN report_log.sent_at IS 'When the SMTP server accepted it or the .eml was written (UTC); NULL for a failed one.';
COMMENT ON COLUMN report_log.status IS 'sent (SMTP accepted), outboxed (.eml written) or failed.';
COMMENT ON COLUMN report_log.transport IS 'smtp or outbox.';
COMMENT ON COLUMN report_log.target IS 'smtp://host:port, or the .eml file path.';
COMMENT ON COLUMN report_log.message_id IS 'RFC 5322 Message-ID; the same change set gives the same id, so a resend after a crash dedupes.';
COMMENT ON COLUMN report_log.sender IS 'From address.';
COMMENT ON COLUMN report_log.recipients IS 'To addresses.';
COMMENT ON COLUMN report_log.subject IS 'Subject line.';
COMMENT ON COLUMN report_log.change_count IS 'Changes the report lists (voice and SMS).';
COMMENT ON COLUMN report_log.error IS 'For status failed: the error, one line, never a secret; NULL otherwise.';

COMMENT ON TABLE report_change IS 'Which report listed each change: a change is reported at most once (key: kind, change_id). Changes not here are unreported.';
COMMENT ON COLUMN report_change.kind IS 'voice or sms: the view the change comes from (voice_rate_change, sms_rate_change).';
COMMENT ON COLUMN report_change.change_id IS 'The change_id of that view.';
COMMENT ON COLUMN report_change.report_id IS 'The report_log row that listed it.';

COMMENT ON TABLE report_setting IS 'The [report] settings the warehouse views use (one row): voice_rate_change judges up/down by this reference call. Written by ratedeck from its settings; defaults 150 s and 6 decimals until then.';
COMMENT ON COLUMN report_setting.id IS 'Always true: there is one row.';
COMMENT ON COLUMN report_setting.reference_call_seconds IS 'Length of the reference call in seconds ([report] reference_call_seconds).';
COMMENT ON COLUMN report_setting.cost_decimals IS 'Decimals the reference call cost is rounded to, half up (0..8).';
COMMENT ON COLUMN report_setting.updated_at IS 'When ratedeck last wrote the settings (UTC); NULL while the defaults stand.';

COMMENT ON TABLE pending_delivery IS 'Bookkeeping: emails whose delivery has begun but is not yet recorded as done. A row left by a crash is resent byte for byte (same Message-ID) before anything new.';
COMMENT ON COLUMN pending_delivery.name IS 'The delivery''s identity and outbox file name: ratedeck-report-<digest> or low-balance-<crossing>. Key.';
COMMENT ON COLUMN pending_delivery.purpose IS 'report or low-balance.';
COMMENT ON COLUMN pending_delivery.message_id IS 'RFC 5322 Message-ID of the message (unique).';
COMMENT ON COLUMN pending_delivery.mail_from IS 'SMTP envelope sender.';
COMMENT ON COLUMN pending_delivery.rcpt_to IS 'SMTP envelope recipients.';
COMMENT ON COLUMN pending_delivery.subject IS 'Subject line.';
COMMENT ON COLUMN pending_delivery.message IS 'The exact message bytes handed to the server or written.';
COMMENT ON COLUMN pending_delivery.created_at IS 'When the delivery began (UTC).';
COMMENT ON COLUMN pending_delivery.attempts IS 'Deliveries begun for this message.';
COMMENT ON COLUMN pending_delivery.last_error IS 'The last failed attempt, one line, secrets scrubbed; NULL when none failed.';

COMMENT ON TABLE pending_delivery_change IS 'Bookkeeping: the changes a pending report covers; a change here is never put in a new report (the pending message is resent instead). Key: (kind, change_id).';
COMMENT ON COLUMN pending_delivery_change.kind IS 'voice or sms.';
COMMENT ON COLUMN pending_delivery_change.change_id IS 'change_id of voice_rate_change or sms_rate_change.';
COMMENT ON COLUMN pending_delivery_change.name IS 'The pending_delivery it belongs to.';
