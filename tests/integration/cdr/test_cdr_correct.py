"""`ratedeck cdr correct` (docs/cdr.md#applying-a-correction): the corrected calls an import
refused as conflicts are applied on the user's word. Each stored call takes the corrected
values (read again from the landed file), what it had is kept in cdr_call_correction, every
costed day touched is recosted and logged like `cdr cost --recost --why`, cdr_day stays equal
to a full count, all in one transaction; applying again changes nothing, --dry-run keeps
nothing, a failure keeps nothing. Checked against a brute-force expectation: the calls the
two files say once the corrections stand, costed by the plain-Decimal reference."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from support.cdr import (
    DAY,
    HISTORY,
    asterisk_line,
    cdr_settings,
    insert_history,
    query,
    reference_costs,
    write_master,
)
from support.cli_errors import run_ratedeck
from support.reliability import dump_warehouse

import pipeline.warehouse.cdr as warehouse_cdr
from pipeline.cli import main
from pipeline.stages.cdr import cost_days, import_file
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.migrate import read_sql

H = timedelta(hours=1)
D1, D2 = DAY.date(), (DAY + 24 * H).date()
# (call_id, dialled, start, billsec, answered): what the switch exported first
FIRST = [
    ("a", "442079460001", DAY + 9 * H, 60, True),
    ("b", "35312345", DAY + 10 * H, 30, True),
    ("c", "4420794000", DAY + 23.5 * H, 61, True),
    ("d", "02100135312345", DAY + 11 * H, 60, True),
    ("e", "35399", DAY + 12 * H, 20, True),
    ("f", "442079460002", DAY + 32 * H, 100, True),
]
# its re-export: a, b, c, d corrected (seconds, number, a start on the next day, unanswered),
# e repeated as it was, g a new call
CORRECTED = {
    "a": ("a", "442079460001", DAY + 9 * H, 65, True),
    "b": ("b", "35312399", DAY + 10 * H, 30, True),
    "c": ("c", "4420794000", DAY + 24.5 * H, 61, True),
    "d": ("d", "02100135312345", DAY + 11 * H, 60, False),
}
SECOND = [*CORRECTED.values(), FIRST[4], ("g", "4420794111", DAY + 13 * H, 45, True)]
COSTS = "SELECT call_id, tech_prefix, matched_prefix, price, billed_seconds, cost FROM cdr_cost"


def lines(calls) -> list[str]:
    return [asterisk_line(i, dialled, start, sec, ok) for i, dialled, start, sec, ok in calls]


@pytest.fixture
def corrected(tmp_path, monkeypatch):
    """FIRST imported and costed (both days), then SECOND imported: 4 conflicts refused."""
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "ratedeck.toml"
    config.write_text(
        '[paths]\ndata_dir = "data"\n[voice]\ntech_prefixes = ["current", "021001"]\n'
        "[cdr]\nmax_reject_fraction = 0.5\n"
    )
    settings = cdr_settings(tmp_path / "data")
    insert_history(settings, HISTORY)
    import_file(settings, write_master(tmp_path / "Master.csv", lines(FIRST)))
    cost_days(settings)
    second = import_file(settings, write_master(tmp_path / "Master-2.csv", lines(SECOND)))
    assert (second.calls, second.duplicates, second.conflicts) == (1, 1, 4)
    return settings, config


def ratedeck(capsys, config: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "cdr", *args])
    out, err = capsys.readouterr()
    return code, out, err


def published(settings) -> dict:
    return dump_warehouse(Warehouse(settings).published_path)


def assert_days_counted(settings) -> None:
    """cdr_day equals counting every stored call and cost (schema/105_cdr_day.sql)."""
    with Warehouse(settings).reader() as con:
        counted = con.execute(
            read_sql("queries/cdr_day_counts.sql"), warehouse_cdr.EVERY_DAY
        ).fetchall()
        assert con.execute("SELECT * FROM cdr_day ORDER BY call_day").fetchall() == counted


def test_corrections_supersede_the_stored_calls_keep_them_and_recost_their_days(corrected, capsys):
    settings, config = corrected
    before_costs = {row[0]: row[-1] for row in query(settings, COSTS)}
    totals_before = dict(query(settings, "SELECT call_day, total_cost FROM cdr_day"))

    code, out, err = ratedeck(capsys, config, "correct", "--why", "switch re-export")

    assert (code, err) == (0, "")
    assert "call a (from Master-2.csv row 1): duration 63 -> 68, billsec 60 -> 65" in out
    assert "call c (from Master-2.csv row 3): start 2026-12-01 23:30:00 UTC -> " in out
    assert "call d (from Master-2.csv row 4): disposition ANSWERED -> NO ANSWER, " in out
    assert "4 call(s) were corrected" in out
    # g, new on a costed day, is no correction's: left for `cdr cost`, out of the recost
    assert f"{D1}: 1 call(s) never costed left for `ratedeck cdr cost`" in out

    # the calls are what the two files say once the corrections stand
    final = [CORRECTED.get(call[0], call) for call in FIRST] + [SECOND[-1]]
    calls = "SELECT call_id, file_id, row_number, billsec, billable, call_day FROM cdr_call"
    rows_of = {"a": (2, 1), "b": (2, 2), "c": (2, 3), "d": (2, 4), "e": (1, 5), "f": (1, 6)}
    rows_of["g"] = (2, 6)
    assert sorted(query(settings, calls)) == sorted(
        (i, *rows_of[i], sec, ok and sec > 0, start.date()) for i, _, start, sec, ok in final
    )
    # every billable call but g costed by the brute-force reference, on its (new) day
    expected = reference_costs(final)
    new_call = expected.pop("g")
    assert {row[0]: row[1:] for row in query(settings, COSTS)} == expected
    assert dict(query(settings, "SELECT call_id, call_day FROM cdr_cost")) == {
        i: start.date() for i, _, start, sec, ok in final if ok and sec > 0 and i != "g"
    }
    # what was superseded is kept: the first file's values and costs
    kept = query(
        settings,
        "SELECT call_id, file_id, row_number, old_file_id, old_row_number, old_billsec, "
        "old_number, old_call_day, old_billable, old_costed, old_cost, why, who "
        "FROM cdr_call_correction ORDER BY call_id",
    )
    first_row = {c[0]: (k + 1, c) for k, c in enumerate(FIRST)}
    assert [r[:3] for r in kept] == [(i, 2, rows_of[i][1]) for i in "abcd"]
    for (
        call_id,
        *_,
        old_file,
        old_row,
        billsec,
        number,
        day,
        billable,
        costed,
        cost,
        why,
        who,
    ) in kept:
        row, (_, dialled, start, sec, _) = first_row[call_id]
        assert (old_file, old_row, billsec, day, billable) == (1, row, sec, start.date(), True)
        assert number == dialled.removeprefix("021001")
        assert (costed, cost) == (True, before_costs[call_id])
        assert why == "switch re-export" and who.startswith("cli")
    # both days were costed: recosted and logged as `cdr cost --recost --why` logs it
    log = query(
        settings,
        "SELECT call_day, recost, why, old_total, new_total FROM cdr_costing_log "
        "WHERE why LIKE 'correction:%' ORDER BY call_day",
    )
    totals = {D1: Decimal(0), D2: Decimal(0)}
    for i, _, start, _sec, _ok in final:
        if expected.get(i) and expected[i][-1] is not None:
            totals[start.date()] += expected[i][-1]
    assert log == [
        (day, True, "correction: switch re-export", totals_before[day], totals[day])
        for day in (D1, D2)
    ]
    assert_days_counted(settings)
    cost_days(settings)
    assert {row[0]: row[1:] for row in query(settings, COSTS)}["g"] == new_call


def test_applying_again_changes_nothing_and_a_dry_run_keeps_nothing(corrected, capsys):
    settings, config = corrected
    untouched = published(settings)
    code, dry, _ = ratedeck(capsys, config, "correct", "--why", "look first", "--dry-run")
    assert code == 0 and "4 call(s) would be corrected; --dry-run: nothing changed" in dry
    assert published(settings) == untouched

    code, out, _ = ratedeck(capsys, config, "correct", "--why", "re-export")
    assert code == 0 and out.splitlines()[:4] == dry.splitlines()[:4]
    applied = published(settings)
    assert applied != untouched

    code, out, _ = ratedeck(capsys, config, "--json", "correct", "--why", "again")
    assert code == 0
    assert json.loads(out) == {
        "dry_run": False,
        "corrections": [],
        "unchanged": 0,
        "recostings": [],
        "uncosted_days": [],
        "left_for_cost": [],
        "stale": 0,
        "skipped": [],
    }
    assert published(settings) == applied


def test_a_call_re_imported_with_its_old_values_now_conflicts_with_the_correction(
    corrected, capsys, tmp_path
):
    settings, config = corrected
    assert ratedeck(capsys, config, "correct", "--why", "re-export", "--call", "a")[0] == 0
    assert [r[0] for r in query(settings, "SELECT call_id FROM cdr_call_correction")] == ["a"]
    old = import_file(settings, write_master(tmp_path / "old.csv", lines(FIRST[:1])))
    assert old.conflicts == 1
    assert old.rejects_preview[0][1].endswith(
        "(from Master-2.csv row 1); this file says duration 63 s, 60 billed seconds: the "
        "stored call stands"
    )


def test_a_failure_keeps_nothing(corrected, capsys, monkeypatch):
    settings, config = corrected
    untouched = published(settings)
    real = warehouse_cdr.read_sql
    broken = "queries/cdr_costing_log_insert.sql"  # the last write of the last recost
    monkeypatch.setattr(
        warehouse_cdr, "read_sql", lambda name: "SELECT nope" if name == broken else real(name)
    )
    with pytest.raises(Exception, match="nope"):
        main(["--config", str(config), "--debug", "cdr", "correct", "--why", "x"])
    monkeypatch.undo()
    capsys.readouterr()
    assert published(settings) == untouched
    assert dump_warehouse(settings.state_dir / "warehouse.duckdb") == untouched


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--file", "nothing.csv"), "--file nothing.csv: no imported CDR file has that id"),
        (("--why", " "), "cdr correct: give --why TEXT"),
    ],
)
def test_bad_usage_is_one_line_exit_2_and_changes_nothing(corrected, capsys, args, message):
    settings, config = corrected
    untouched = published(settings)
    why = () if "--why" in args else ("--why", "x")
    code, out, err = ratedeck(capsys, config, "correct", *why, *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"ratedeck: error: {message}") and err.count("\n") == 1
    assert published(settings) == untouched


def test_a_file_read_differently_now_is_refused_and_nothing_changes(corrected, capsys):
    """[cdr] timezone changed since the import: the landed rows read other starts than the
    conflicts recorded; applying them would store values nobody reviewed."""
    settings, config = corrected
    config.write_text(config.read_text() + 'timezone = "Asia/Kolkata"\n')
    untouched = published(settings)
    code, _, err = ratedeck(capsys, config, "correct", "--why", "x", "--file", "Master-2.csv")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("ratedeck: error: Master-2.csv row 1: refused as {")
    assert "[cdr] format, timezone or voice.tech_prefixes changed since its import" in err
    assert published(settings) == untouched


@pytest.mark.slow  # the CLI in a subprocess
def test_the_cli_applies_a_file_s_corrections_in_a_subprocess(corrected, tmp_path):
    settings, config = corrected
    [(sha,)] = query(settings, "SELECT content_sha256 FROM cdr_file WHERE file_id = 2")
    args = ("--config", str(config), "cdr", "correct", "--why", "ok", "--file", sha[:12])
    done = run_ratedeck(*args, "--dry-run", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert "4 call(s) would be corrected" in done.stdout
    done = run_ratedeck(*args, "--call", "b", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert "call b (from Master-2.csv row 2): number 35312345 -> 35312399" in done.stdout
    assert query(settings, "SELECT call_id, old_number FROM cdr_call_correction") == [
        ("b", "35312345")
    ]
    assert_days_counted(settings)
