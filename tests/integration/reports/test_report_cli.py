"""`ratedeck diff` and `ratedeck report [--send]` through the real CLI entry point, on a
published warehouse (Warehouse.writer() to fill it, reader() for the read-only commands)."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from reports_fixtures import T1, DeckHistory, populate_sample

from pipeline import cli
from pipeline.warehouse.db import Warehouse


@pytest.fixture
def published(settings):
    with Warehouse(settings).writer() as con:
        populate_sample(DeckHistory(con))
    return settings


@pytest.fixture
def ratedeck(monkeypatch, published, tmp_path):
    """Runs `ratedeck ...` with this test's settings (only the commands under test)."""
    monkeypatch.setattr(cli, "COMMANDS", {n: cli.COMMANDS[n] for n in ("diff", "report")})
    monkeypatch.setattr("pipeline.settings.load_settings", lambda config=None: published)

    def run(*argv: str) -> int:
        return cli.main(list(argv))

    return run


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


def test_report_writes_files_without_marking_anything(ratedeck, published, capsys):
    assert ratedeck("report", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["change_count"] == 18
    files = [Path(p) for p in document["files"]]
    assert {f.name for f in files} >= {"report.html", "report.txt", "chart.png"}
    assert sorted(f.suffix for f in files if f.name.startswith("ratedeck-voice-changes-")) == [
        ".csv",
        ".xlsx",
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
