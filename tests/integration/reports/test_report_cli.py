"""`ratedeck diff` and `ratedeck report [--send]` through the real CLI entry point, on a
published warehouse (Warehouse.writer() to fill it, reader() for the read-only commands)."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from support.reports import T1, DeckHistory, SmsHistory, populate_sample, populate_sms_sample

from pipeline import cli
from pipeline.warehouse.db import Warehouse


@pytest.fixture
def published(settings):
    with Warehouse(settings).writer() as con:
        populate_sample(DeckHistory(con))
    return settings


def runner(monkeypatch, settings):
    """Runs `ratedeck ...` with these settings (only the commands under test)."""
    monkeypatch.setattr(cli, "COMMANDS", {n: cli.COMMANDS[n] for n in ("diff", "report")})
    monkeypatch.setattr("pipeline.settings.load_settings", lambda config=None: settings)

    def run(*argv: str) -> int:
        return cli.main(list(argv))

    return run


@pytest.fixture
def ratedeck(monkeypatch, published):
    return runner(monkeypatch, published)


@pytest.fixture
def ratedeck_sms(monkeypatch, settings):
    """A published warehouse with voice and SMS changes."""
    with Warehouse(settings).writer() as con:
        populate_sample(DeckHistory(con))
        populate_sms_sample(SmsHistory(con))
    return runner(monkeypatch, settings)


def test_diff_table_and_json(ratedeck, capsys):
    assert ratedeck("diff", "--tech-prefix", "021001") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["tech_prefix", "prefix", "change", "destination"]
    assert len(table) == 2 + 3

    assert ratedeck("diff", "--json", "--since", (T1 + timedelta(days=2)).isoformat()) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["count"] == 2
    assert [c["prefix"] for c in document["changes"]] == ["49", "55"]
    assert document["changes"][0]["new_price"] == "0.01500000"  # exact, as text


def test_diff_rejects_bad_input_with_exit_2(ratedeck, capsys):
    assert ratedeck("diff", "--since", "yesterday") == 2
    assert "--since 'yesterday'" in capsys.readouterr().err
    assert ratedeck("diff", "--tech-prefix", "../x") == 2


@pytest.mark.slow  # renders every attachment
def test_report_writes_files_without_marking_anything(ratedeck, published, capsys):
    assert ratedeck("report", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["change_count"] == 18
    files = [Path(p) for p in document["files"]]
    assert {f.name for f in files} >= {"report.html", "report.txt", "chart.png"}
    attached = sorted(re.sub(r"-\d{8}-\d{4}", "", f.name) for f in files)
    assert attached == [
        "chart.png",
        "ratedeck-price-changes.xlsx",  # one workbook, a sheet per kind
        "ratedeck-voice-changes.csv",  # no SMS changes: no SMS CSV
        "report.html",
        "report.txt",
    ]
    assert all(f.parent.parent == published.reports_dir and f.is_file() for f in files)
    html = Path(document["directory"]) / "report.html"
    assert 'src="chart.png"' in html.read_text()
    # nothing was reported: the same report again
    assert ratedeck("report", "--json") == 0
    assert json.loads(capsys.readouterr().out)["change_count"] == 18


def test_report_send_outboxes_once(ratedeck, published, capsys):
    assert ratedeck("report", "--send") == 0
    out = capsys.readouterr().out
    assert "outboxed to finance@example.com, cfo@example.com" in out
    assert len(list(published.outbox_dir.glob("*.eml"))) == 1
    assert ratedeck("report", "--send") == 0
    assert "no unreported price changes" in capsys.readouterr().out
    with Warehouse(published).reader() as con:  # the writer published the report log
        assert con.execute("SELECT count(*) FROM report_change").fetchall() == [(18,)]


def test_diff_kinds(ratedeck_sms, capsys):
    assert ratedeck_sms("diff", "--kind", "sms") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "channel", "mcc", "mnc", "change", "country", "network",
        "old_rate", "new_rate", "change_pct", "changed_at",
    ]  # fmt: skip
    assert len(lines) == 2 + 8
    vodafone = next(line for line in lines if line.split()[1:3] == ["272", "01"])
    assert vodafone.split()[:8] == [
        "demo:1", "272", "01", "increase", "Ireland", "Vodafone", "0.04200000", "0.04620000",
    ]  # fmt: skip
    assert "+10.00%" in vodafone
    unknown = next(line for line in lines if line.split()[1:3] == ["272", "99"])
    assert unknown.split()[4:7] == ["Ireland", "unknown", "network"]

    assert ratedeck_sms("diff") == 0  # all: both tables
    out = capsys.readouterr().out
    assert out.startswith("Voice: 18 changes\n") and "\nSMS: 8 changes\n" in out

    assert ratedeck_sms("diff", "--kind", "voice", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["count"], document["voice_count"], document["sms_count"]) == (18, 18, None)

    assert ratedeck_sms("diff", "--channel", "demo:2", "--json") == 0  # implies SMS
    document = json.loads(capsys.readouterr().out)
    [change] = document["changes"]
    assert change["kind"] == "sms" and change["channel"] == "demo:2"
    assert (change["old_rate"], change["new_rate"]) == ("0.06100000", "0.05800000")  # exact
    assert change["rate_change_pct"] == "-4.9180" and change["known"] is True


def test_diff_kind_conflicts_are_usage_errors(ratedeck_sms, capsys):
    assert ratedeck_sms("diff", "--kind", "sms", "--tech-prefix", "current") == 2
    assert "--tech-prefix filters voice changes" in capsys.readouterr().err
    assert ratedeck_sms("diff", "--channel", "nocolon") == 2
    with pytest.raises(SystemExit) as info:  # argparse: usage error
        ratedeck_sms("diff", "--kind", "fax")
    assert info.value.code == 2


def test_diff_unknown_channel_is_one_line_exit_2(ratedeck_sms, capsys):
    """As an unknown tech prefix: "no price changes" would hide a mistyped channel."""
    assert ratedeck_sms("diff", "--channel", "demo:9") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "ratedeck: error: no SMS rates for channel 'demo:9' in the warehouse "
        "(it has: demo:1, demo:2)\n"
    )


def test_diff_channel_without_sms_rates(ratedeck, capsys):
    assert ratedeck("diff", "--channel", "demo:1") == 2
    assert capsys.readouterr().err == (
        "ratedeck: error: the warehouse has no SMS rates yet: run `ratedeck run`\n"
    )
