"""A carrier export that bills a stored call again with other values (the carrier re-billed it:
another cost, rate, duration...) is a conflict, as a corrected switch CDR is
(docs/cdr.md#corrected-calls): refused into ingest_reject with its row and what differs,
counted in carrier_file.conflict_count apart from the repeats, printed by `cdr import
--carrier` and in its --json; the stored call stands. The same values stay a repeat."""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
from support.cdr import query
from support.migrations import apply_schema_before
from support.reconcile import carrier_market, market_settings

from pipeline.cli import main
from pipeline.stages.reconcile import import_carrier_file
from pipeline.warehouse.migrate import apply_migrations

HEADER = (
    "Call ID,Start Time (UTC),Tech Prefix,Destination Number,Destination,Prefix,"
    "Duration,Billed Seconds,Rate,Billing Increments,Cost,Currency\n"
)
A1 = "a1,2026-11-01 10:00:00,021001,4420794000,UK,44,60,60,0.1,60/60,0.100000,USD\n"
B1 = "b1,2026-11-01 11:00:00,021001,4420794001,UK,44,30,60,0.1,60/60,0.100000,USD\n"


def export(tmp_path, name: str, *rows: str):
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows))
    return path


def test_a_re_billed_call_is_a_named_conflict_and_the_stored_call_stands(tmp_path):
    settings = market_settings(tmp_path / "data", carrier_market())
    first = import_carrier_file(settings, export(tmp_path, "cdrs-1.csv", A1, B1))
    assert (first.calls, first.duplicates, first.conflicts) == (2, 0, 0)

    rebilled = A1.replace(",60,60,0.1,60/60,0.100000,", ",61,120,0.1,60/60,0.200000,")
    second = import_carrier_file(
        settings,
        export(tmp_path, "cdrs-2.csv", B1, rebilled, rebilled.replace("a1,", "c1,")),
    )
    assert (second.calls, second.duplicates, second.conflicts, second.rejects) == (1, 1, 1, 0)
    reason = (
        "call a1 is already stored with duration 60 s, 60 billed seconds, cost 0.1 (from "
        "cdrs-1.csv row 2); this file says duration 61 s, 120 billed seconds, cost 0.2: the "
        "stored call stands"
    )
    assert second.rejects_preview == ((3, reason),)
    assert query(settings, "SELECT kind, snapshot_id, row_number, reason FROM ingest_reject") == [
        ("carrier", second.file_id, 3, reason)
    ]
    assert query(settings, "SELECT call_id, billed_seconds, cost FROM carrier_call ORDER BY 1") == [
        ("a1", 60, Decimal("0.10000000")),
        ("b1", 60, Decimal("0.10000000")),
        ("c1", 120, Decimal("0.20000000")),
    ]
    counts = "SELECT row_count, duplicate_count, reject_count, conflict_count FROM carrier_file"
    assert query(settings, counts + " ORDER BY file_id") == [(2, 0, 0, 0), (1, 1, 0, 1)]


def test_a_row_repeating_an_id_of_its_own_export_with_other_values_keeps_the_first(tmp_path):
    settings = market_settings(tmp_path / "data", carrier_market())
    other_rate = A1.replace(",0.1,60/60,", ",0.15,60/60,").replace("UK,44", "UK London,4420")
    imported = import_carrier_file(settings, export(tmp_path, "cdrs.csv", A1, A1, other_rate))
    assert (imported.calls, imported.duplicates, imported.conflicts) == (1, 1, 1)
    assert imported.rejects_preview == (
        (
            4,
            "call a1 is also at row 2 of this file with destination UK, prefix 44, rate 0.1; "
            "this row says destination UK London, prefix 4420, rate 0.15: row 2 stands",
        ),
    )


def test_cli_prints_the_carrier_s_conflicts_on_stderr_and_in_json(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "ratedeck.toml"
    config.write_text('[paths]\ndata_dir = "data"\n')
    args = ["--config", str(config), "cdr", "import", "--carrier"]
    assert main([*args, str(export(tmp_path, "one.csv", A1))]) == 0
    capsys.readouterr()
    moved = A1.replace("10:00:00", "10:00:05")
    assert main([*args, str(export(tmp_path, "two.csv", moved, B1))]) == 0
    out, err = capsys.readouterr()
    assert (
        "1 call(s) added, 0 already imported or repeated in the file, 1 conflicting (same call "
        "id, other values), 0 rejected; days 2026-11-01" in out
    )
    assert err == (
        "  row 2: call a1 is already stored with start 2026-11-01 10:00:00 UTC (from one.csv "
        "row 2); this file says start 2026-11-01 10:00:05 UTC: the stored call stands\n"
    )
    assert main(["--json", *args, str(export(tmp_path, "three.csv", moved, B1, A1))]) == 0
    [imported] = json.loads(capsys.readouterr().out)["files"]
    assert (imported["calls"], imported["duplicates"], imported["conflicts"]) == (0, 2, 1)


def test_an_older_warehouse_s_exports_gain_a_conflict_count_of_0(tmp_path):
    new = "106_carrier_call_conflicts.sql"
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        apply_schema_before(con, new)
        con.execute(
            "INSERT INTO carrier_file VALUES (1, 'abc', 'cdrs.csv', 'raw/cdr/carrier/a.csv', "
            "current_timestamp, 4, 1, 2, NULL, NULL)"
        )
        assert new in apply_migrations(con)
        counts = "SELECT row_count, duplicate_count, reject_count, conflict_count FROM carrier_file"
        assert con.execute(counts).fetchall() == [(4, 1, 2, 0)]
        assert apply_migrations(con) == []
