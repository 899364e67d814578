-- How `ratedeck sql --format csv` writes a cell, in DuckDB (pipeline/commands/sql.py,
-- csv_lines): the text Python's csv module wrote of console.cell_text(value), value as DuckDB
-- hands it to Python, so the output is what it was when every row passed through Python, only
-- faster (tests/integration/warehouse/test_warehouse_sql_csv.py holds them equal). NULL is an
-- empty cell. Temporary macros on the analyst's connection, created by ratedeck before the
-- analyst's SQL runs. Only the types below take this path; a result with another type (TIME,
-- TIMESTAMP_NS, BIGNUM...) is written through Python as before.

-- text: quoted when it holds a comma, a quote or a newline, quotes doubled (Python 3.11's csv
-- with lineterminator "\n" leaves a lone carriage return unquoted)
CREATE OR REPLACE TEMP MACRO csv_text(v) AS
    CASE WHEN v IS NULL THEN ''
         WHEN contains(v, ',') OR contains(v, '"') OR contains(v, chr(10))
             THEN '"' || replace(v, '"', '""') || '"'
         ELSE v END;
-- integers, DECIMAL (plain, with its scale: 0.00000000, as Python's format(d, 'f')), UUID
CREATE OR REPLACE TEMP MACRO csv_plain(v) AS coalesce(v::VARCHAR, '');
CREATE OR REPLACE TEMP MACRO csv_boolean(v) AS
    CASE WHEN v THEN 'True' WHEN NOT v THEN 'False' ELSE '' END;
-- FLOAT reaches Python as a double; DuckDB prints a double as Python's repr does, but NaN
CREATE OR REPLACE TEMP MACRO csv_double(v) AS
    CASE WHEN isnan(v::DOUBLE) THEN 'nan' ELSE coalesce(v::DOUBLE::VARCHAR, '') END;
-- datetime.isoformat(sep=' '): microseconds only when not 0; the session's time zone, as
-- DuckDB converts a TIMESTAMPTZ for Python; infinity as DuckDB prints it (Python's was a date)
CREATE OR REPLACE TEMP MACRO csv_clock(v) AS
    strftime(v, '%Y-%m-%d %H:%M:%S')
    || CASE WHEN microsecond(v) % 1000000 = 0 THEN ''
            ELSE '.' || lpad((microsecond(v) % 1000000)::VARCHAR, 6, '0') END;
CREATE OR REPLACE TEMP MACRO csv_utc_offset(seconds) AS
    CASE WHEN seconds < 0 THEN '-' ELSE '+' END
    || lpad((abs(seconds) // 3600)::VARCHAR, 2, '0') || ':'
    || lpad((abs(seconds) % 3600 // 60)::VARCHAR, 2, '0')
    || CASE WHEN abs(seconds) % 60 = 0 THEN ''
            ELSE ':' || lpad((abs(seconds) % 60)::VARCHAR, 2, '0') END;
CREATE OR REPLACE TEMP MACRO csv_timestamp(v) AS
    CASE WHEN v IS NULL THEN '' WHEN NOT isfinite(v) THEN v::VARCHAR ELSE csv_clock(v) END;
-- in a UTC session the clock is read off the UTC microseconds: 4x faster than the time zone
-- library, which any other session needs
CREATE OR REPLACE TEMP MACRO csv_timestamptz(v) AS
    CASE WHEN v IS NULL THEN ''
         WHEN NOT isfinite(v) THEN v::VARCHAR
         WHEN current_setting('TimeZone') IN ('UTC', 'Etc/UTC')
             THEN csv_clock(make_timestamp(epoch_us(v))) || '+00:00'
         ELSE csv_clock(v) || csv_utc_offset(timezone(v)) END;
CREATE OR REPLACE TEMP MACRO csv_date(v) AS
    CASE WHEN v IS NULL THEN '' WHEN NOT isfinite(v) THEN v::VARCHAR
         ELSE strftime(v, '%Y-%m-%d') END;
