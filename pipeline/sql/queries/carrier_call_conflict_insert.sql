-- The re-billed calls of a carrier export (carrier_incoming), refused into ingest_reject with
-- what differs (docs/cdr.md#corrected-calls), by the rule of cdr_call_conflict_insert.sql:
-- runs right after carrier_call_insert.sql, on the rows it left out (so "stored" includes the
-- export's own first row of a call id on its day: in an export, the first row wins). A
-- left-out row is a repeat when a call stored under its id within a day of it has the same
-- start, tech prefix, number, destination, prefix, seconds, billed seconds, rate, cost and
-- currency; else a conflict with the nearest of them (the same day first), which stands.
-- The carrier's ids are its own, so every row can conflict. Only the export's days of
-- carrier_call are read (a day either side).
-- Params: $file_id, $first_day, $last_day, and ingest_reject's $kind, $source, $fetched_at,
-- $content_sha256.
WITH left_out AS (
    SELECT i.row_number AS call_row, i.call_id, i.started_at, i.tech_prefix, i.number,
           i.destination, i.prefix, i.seconds, i.billed_seconds, i.rate, i.cost, i.currency,
           CAST(timezone('UTC', i.started_at) AS DATE) AS call_day
    FROM carrier_incoming i
    WHERE i.row_number NOT IN (SELECT row_number FROM carrier_call WHERE file_id = $file_id)
),
candidates AS (  -- each left-out row against the calls stored under its id within a day
    SELECT l.*, c.file_id AS stored_file, c.row_number AS stored_row,
           c.started_at AS stored_started_at, c.tech_prefix AS stored_tech_prefix,
           c.number AS stored_number, c.destination AS stored_destination,
           c.prefix AS stored_prefix, c.seconds AS stored_seconds,
           c.billed_seconds AS stored_billed_seconds, c.rate AS stored_rate,
           c.cost AS stored_cost, c.currency AS stored_currency,
           abs(c.call_day - l.call_day) AS days_apart,
           c.started_at = l.started_at AND c.tech_prefix = l.tech_prefix
               AND c.number = l.number
               AND c.destination IS NOT DISTINCT FROM l.destination
               AND c.prefix IS NOT DISTINCT FROM l.prefix AND c.seconds = l.seconds
               AND c.billed_seconds = l.billed_seconds AND c.rate = l.rate
               AND c.cost = l.cost AND c.currency IS NOT DISTINCT FROM l.currency AS same
    FROM left_out l
    JOIN carrier_call c
      ON c.call_id = l.call_id AND c.call_day BETWEEN l.call_day - 1 AND l.call_day + 1
    WHERE c.call_day BETWEEN CAST($first_day AS DATE) - 1 AND CAST($last_day AS DATE) + 1
),
nearest AS (  -- a row no stored call repeats conflicts with the nearest of them, which stands
    SELECT * FROM candidates
    WHERE call_row NOT IN (SELECT call_row FROM candidates WHERE same)
    QUALIFY row_number() OVER (PARTITION BY call_row
                               ORDER BY days_apart, stored_file, stored_row) = 1
),
shown AS (  -- only the conflicts (usually none or few) are worded; money without its padding
    SELECT *,
           CAST(timezone('UTC', started_at) AS VARCHAR) || ' UTC' AS start_text,
           CAST(timezone('UTC', stored_started_at) AS VARCHAR) || ' UTC' AS stored_start_text,
           rtrim(rtrim(CAST(rate AS VARCHAR), '0'), '.') AS rate_text,
           rtrim(rtrim(CAST(stored_rate AS VARCHAR), '0'), '.') AS stored_rate_text,
           rtrim(rtrim(CAST(cost AS VARCHAR), '0'), '.') AS cost_text,
           rtrim(rtrim(CAST(stored_cost AS VARCHAR), '0'), '.') AS stored_cost_text
    FROM nearest
),
differences AS (  -- each field that differs, as stored (was) and as the export says (now),
                  -- worded by call_conflict_reason (macros/300_call_conflict.sql)
    SELECT *,
           list_filter([
               {'differs': stored_started_at <> started_at,
                'was': 'start ' || stored_start_text, 'now': 'start ' || start_text},
               {'differs': stored_tech_prefix <> tech_prefix,
                'was': 'tech prefix ' || stored_tech_prefix, 'now': 'tech prefix ' || tech_prefix},
               {'differs': stored_number <> number,
                'was': 'number ' || stored_number, 'now': 'number ' || number},
               {'differs': stored_destination IS DISTINCT FROM destination,
                'was': 'destination ' || coalesce(stored_destination, 'none'),
                'now': 'destination ' || coalesce(destination, 'none')},
               {'differs': stored_prefix IS DISTINCT FROM prefix,
                'was': 'prefix ' || coalesce(stored_prefix, 'none'),
                'now': 'prefix ' || coalesce(prefix, 'none')},
               {'differs': stored_seconds <> seconds,
                'was': 'duration ' || stored_seconds || ' s', 'now': 'duration ' || seconds || ' s'},
               {'differs': stored_billed_seconds <> billed_seconds,
                'was': stored_billed_seconds || ' billed seconds',
                'now': billed_seconds || ' billed seconds'},
               {'differs': stored_rate <> rate,
                'was': 'rate ' || stored_rate_text, 'now': 'rate ' || rate_text},
               {'differs': stored_cost <> cost,
                'was': 'cost ' || stored_cost_text, 'now': 'cost ' || cost_text},
               {'differs': stored_currency IS DISTINCT FROM currency,
                'was': 'currency ' || coalesce(stored_currency, 'none'),
                'now': 'currency ' || coalesce(currency, 'none')}
           ], lambda f: f.differs) AS fields
    FROM shown
)
INSERT INTO ingest_reject (kind, source, snapshot_id, fetched_at, content_sha256,
                           row_number, sheet, raw, reason)
SELECT $kind, $source, $file_id, $fetched_at, $content_sha256, k.call_row, NULL,
       CAST(to_json({'call_id': k.call_id, 'started_at': k.start_text,
                     'tech_prefix': k.tech_prefix, 'number': k.number,
                     'destination': k.destination, 'prefix': k.prefix, 'seconds': k.seconds,
                     'billed_seconds': k.billed_seconds, 'rate': k.rate_text,
                     'cost': k.cost_text, 'currency': k.currency}) AS VARCHAR),
       call_conflict_reason(k.call_id, k.fields, k.stored_file = $file_id, k.stored_row,
                            f.original_name)
FROM differences k
LEFT JOIN carrier_file f ON f.file_id = k.stored_file  -- this export's row is not written yet
ORDER BY k.call_row;
