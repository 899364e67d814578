"""`ratedeck cdr correct` as an auditor used it daily (docs/cdr.md#applying-a-correction): a
grown Master.csv repeating a corrected call's old values does not revert the correction, a
conflict nobody should apply can be dismissed and does not block the others, a mistyped
data dir is refused, a lost landed file says so in one line, and a recost reports the
correction's own effect apart from calls no costing reached yet."""

from __future__ import annotations

import json
import os
import shlex
from decimal import Decimal
from pathlib import Path

import pytest
from support.cdr import DAY, HISTORY, asterisk_line, cdr_settings, insert_history, query
from support.reliability import dump_warehouse

from pipeline.cli import main
from pipeline.stages.cdr_correction import _dismiss_hint
from pipeline.warehouse.db import Warehouse

# the auditor's two calls (Master.csv lines), route 021002, no deck: costed unmatched
L1 = (
    '"","1001","0210029168123456","from-internal","x","PJSIP/1001-1","PJSIP/cp-1","Dial","x",'
    '"2026-12-07 10:00:00","2026-12-07 10:00:05","2026-12-07 10:02:10",130,125,"ANSWERED",'
    '"BILLING","u1",""'
)
L2 = (
    '"","1001","0210029168123456","from-internal","x","PJSIP/1001-2","PJSIP/cp-2","Dial","x",'
    '"2026-12-08 10:00:00","2026-12-08 10:00:05","2026-12-08 10:01:10",65,60,"ANSWERED",'
    '"BILLING","u2",""'
)
CONFIG = (
    '[paths]\ndata_dir = "data"\n[voice]\ntech_prefixes = ["current", "021001", "021002"]\n'
    '[cdr]\nformat = "asterisk"\n'
)
TOKYO = CONFIG + 'timezone = "Asia/Tokyo"\n'


@pytest.fixture
def auditor(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ratedeck.toml").write_text(CONFIG)
    (tmp_path / "tokyo.toml").write_text(TOKYO)
    settings = cdr_settings(tmp_path / "data")
    insert_history(settings, HISTORY)
    return settings


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--config", "ratedeck.toml", *args])
    out, err = capsys.readouterr()
    return code, out, err


def write(name: str, *lines: str) -> str:
    Path(name).write_text("".join(f"{line}\n" for line in lines))
    return name


def billsec(settings, call_id: str) -> int:
    [(seconds,)] = query(settings, "SELECT billsec FROM cdr_call WHERE call_id = ?", [call_id])
    return int(seconds)


def corrected_then_grown(settings, capsys) -> None:
    """The auditor's sequence: u1 imported, costed, corrected by a re-export (125 -> 135);
    the next day Master.csv has grown by u2 and still says 125 for u1."""
    assert cli(capsys, "cdr", "import", write("Master.csv", L1))[0] == 0
    assert cli(capsys, "cdr", "cost")[0] == 0
    fix = L1.replace("130,125", "140,135")
    assert cli(capsys, "cdr", "import", write("Master-fix.csv", fix))[0] == 0
    code, out, _ = cli(capsys, "cdr", "correct", "--why", "re-export")
    assert code == 0
    assert "call u1 (from Master-fix.csv row 1): duration 130 -> 140, billsec 125 -> 135" in out
    code, out, _ = cli(capsys, "cdr", "import", write("Master.csv", L1, L2))
    assert code == 0 and "1 conflicting" in out
    assert billsec(settings, "u1") == 135


def test_a_grown_file_repeating_a_corrected_call_s_old_values_does_not_revert_it(auditor, capsys):
    settings = auditor
    corrected_then_grown(settings, capsys)

    code, out, err = cli(capsys, "cdr", "correct", "--why", "daily", "--dry-run")
    assert (code, err) == (0, "")
    assert "call u1" not in out
    assert "1 stale refused row(s) skipped" in out
    code, out, _ = cli(capsys, "cdr", "correct", "--why", "daily")
    assert code == 0 and "nothing to correct: nothing else to apply" in out and "1 stale" in out
    assert "no refused conflict left" not in out  # one is left: stale, not applied
    assert billsec(settings, "u1") == 135
    log = query(settings, "SELECT why FROM cdr_costing_log WHERE why = 'correction: daily'")
    assert log == []
    # still there to apply on the user's explicit word, naming the call
    code, out, _ = cli(capsys, "cdr", "correct", "--why", "revert", "--call", "u1")
    assert code == 0 and "call u1 (from Master.csv row 1): duration 140 -> 130" in out
    assert billsec(settings, "u1") == 125


def overlap_read_in_tokyo(settings, capsys) -> None:
    """u2 exported again, imported with [cdr] timezone set by mistake: its start is 9 h off,
    refused as a conflict that reads otherwise with the settings in hand."""
    corrected_then_grown(settings, capsys)
    overlap = write("overlap.csv", L2.replace('"u2",""', '"u2","x"'))
    code, out, _ = cli(capsys, "--config", "tokyo.toml", "cdr", "import", overlap)
    assert code == 0 and "1 conflicting" in out


def test_a_misread_conflict_is_skipped_named_and_can_be_dismissed(auditor, capsys):
    settings = auditor
    overlap_read_in_tokyo(settings, capsys)
    before = dump_warehouse(Warehouse(settings).published_path)

    code, out, err = cli(capsys, "cdr", "correct", "--why", "x", "--dry-run")
    assert code == 0, err
    assert "overlap.csv row 1 (call u2): skipped: refused as {" in out
    assert "--dismiss --file " in out
    # named explicitly, it is refused in one line that names the way out
    code, out, err = cli(capsys, "cdr", "correct", "--why", "x", "--file", "overlap.csv")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "cdr correct --dismiss" in err
    assert dump_warehouse(Warehouse(settings).published_path) == before

    code, out, err = cli(
        capsys, "cdr", "correct", "--dismiss", "--call", "u2", "--why", "tokyo by mistake"
    )
    assert (code, err) == (0, "")
    assert "call u2 (from overlap.csv row 1): dismissed" in out
    assert "1 refused row(s) were dismissed" in out
    dismissed = query(settings, "SELECT call_id, row_number, why FROM cdr_conflict_dismissal")
    assert dismissed == [("u2", 1, "tokyo by mistake")]
    kept = query(settings, "SELECT count(*) FROM ingest_reject WHERE kind = 'cdr'")
    assert kept == [(3,)]  # the refused rows stay (Master-fix.csv, Master.csv, overlap.csv)

    code, out, err = cli(capsys, "cdr", "correct", "--why", "x")
    assert (code, err) == (0, "")
    assert "overlap.csv" not in out and "nothing to correct" in out
    assert [r[0] for r in query(settings, "SELECT started_at FROM cdr_call WHERE call_id = 'u2'")]
    assert billsec(settings, "u2") == 60


def test_dismiss_needs_a_file_or_a_call(auditor, capsys):
    overlap_read_in_tokyo(auditor, capsys)
    code, out, err = cli(capsys, "cdr", "correct", "--dismiss", "--why", "all of them")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith("ratedeck: error: cdr correct --dismiss: give --file or --call")


def test_a_lost_landed_file_is_one_line_exit_2_and_does_not_block_the_others(auditor, capsys):
    settings = auditor
    assert cli(capsys, "cdr", "import", write("Master.csv", L1, L2))[0] == 0
    assert cli(capsys, "cdr", "import", write("a.csv", L1.replace("130,125", "140,135")))[0] == 0
    assert cli(capsys, "cdr", "import", write("b.csv", L2.replace("65,60", "75,70")))[0] == 0
    [(raw_path,)] = query(settings, "SELECT raw_path FROM cdr_file WHERE original_name = 'a.csv'")
    landed = settings.data_dir / raw_path
    os.chmod(landed.parent, 0o755)
    landed.unlink()

    code, out, err = cli(capsys, "cdr", "correct", "--why", "x", "--file", "a.csv")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith(
        f"ratedeck: error: a.csv row 1: its landed copy {raw_path} is missing from the landing"
    )
    assert "cdr correct --dismiss" in err

    code, out, err = cli(capsys, "cdr", "correct", "--why", "x")
    assert (code, err) == (0, "")
    assert f"a.csv row 1 (call u1): skipped: its landed copy {raw_path} is missing" in out
    assert "call u2 (from b.csv row 1): duration 65 -> 75, billsec 60 -> 70" in out
    assert (billsec(settings, "u1"), billsec(settings, "u2")) == (125, 70)


def test_correct_in_a_data_dir_without_a_warehouse_refuses_and_creates_nothing(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    Path("ratedeck.toml").write_text('[paths]\ndata_dir = "dta"\n')
    code, out, err = cli(capsys, "cdr", "correct", "--why", "x")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith("ratedeck: error: no warehouse yet at ")
    assert not Path("dta").exists()


def asterisk(call_id: str, dialled: str, hour: int, seconds: int) -> str:
    return asterisk_line(call_id, dialled, DAY.replace(hour=hour), seconds).rstrip("\n")


def test_a_recost_reports_the_correction_s_own_effect_not_calls_never_costed(auditor, capsys):
    """The day gained a call no costing reached when a correction recosts it: the log's
    before -> after is the correction's effect; the new call is left for `cdr cost`."""
    settings = auditor
    uk = "447700900123"  # current: 44 at 0.1 per minute, billed by the second
    assert cli(capsys, "cdr", "import", write("Master.csv", asterisk("a", uk, 9, 60)))[0] == 0
    assert cli(capsys, "cdr", "cost")[0] == 0
    grown = write("Master-2.csv", asterisk("a", uk, 9, 120), asterisk("n", uk, 10, 600))
    assert cli(capsys, "cdr", "import", grown)[0] == 0

    code, out, err = cli(capsys, "--json", "cdr", "correct", "--why", "billsec")
    assert (code, err) == (0, "")
    done = json.loads(out)
    [recost] = done["recostings"]
    assert (Decimal(recost["old_total"]), Decimal(recost["new_total"])) == (
        Decimal("0.1"),
        Decimal("0.2"),
    )
    assert done["left_for_cost"] == [{"day": "2026-12-01", "calls": 1}]
    log = query(
        settings,
        "SELECT calls, old_total, new_total FROM cdr_costing_log WHERE why = 'correction: billsec'",
    )
    assert log == [(1, Decimal("0.1"), Decimal("0.2"))]
    costed = query(settings, "SELECT call_id, cost FROM cdr_cost ORDER BY call_id")
    assert costed == [("a", Decimal("0.2"))]
    # the next `cdr cost` costs the new call, on its own line of the log
    assert cli(capsys, "cdr", "cost")[0] == 0
    assert query(settings, "SELECT cost FROM cdr_cost WHERE call_id = 'n'") == [(Decimal("1"),)]


def test_the_dismiss_hint_is_one_shell_command_for_a_call_named_by_its_record():
    call_id = "2026-12-06 00:05:06|SIP/agent20-00000000|SIP/commpeak-00000001#1"
    argv = shlex.split(_dismiss_hint(4, call_id))
    assert argv[argv.index("--call") + 1] == call_id
    assert argv[-2:] == ["--why", "TEXT"]
