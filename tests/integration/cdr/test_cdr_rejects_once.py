"""A growing Master.csv imported again holds its earlier bad rows again: a reject refused by
an earlier import (the same raw record at the same row, docs/cdr.md#bad-rows) is counted as
refused before (``cdr_file.refused_before_count``), not stored, counted or printed again."""

from __future__ import annotations

from datetime import timedelta

from support.cdr import DAY, asterisk_line, query, write_master

from pipeline.cli import main
from pipeline.stages.cdr import import_file

NINE = DAY + timedelta(hours=9)
BAD = asterisk_line("s1", "s", NINE, 10)  # Asterisk's 's' extension: not a number
GOOD = [asterisk_line(f"g{i}", "442079460001", NINE + timedelta(minutes=i), 60) for i in range(3)]


def test_a_grown_file_does_not_store_its_earlier_rejects_again(settings, tmp_path):
    first = import_file(settings, write_master(tmp_path / "Master.csv", [GOOD[0], BAD]))
    assert (first.calls, first.rejects, first.refused_before) == (1, 1, 0)
    grown = import_file(settings, write_master(tmp_path / "Master.csv", [GOOD[0], BAD, GOOD[1]]))
    assert (grown.calls, grown.duplicates, grown.rejects, grown.refused_before) == (1, 1, 0, 1)
    assert grown.rejects_preview == ()
    sql = "SELECT reject_count, refused_before_count FROM cdr_file ORDER BY file_id"
    assert query(settings, sql) == [(1, 0), (0, 1)]
    sql = "SELECT snapshot_id, row_number, reason FROM ingest_reject WHERE kind = 'cdr'"
    assert query(settings, sql) == [(first.file_id, 2, "number 's': letters are not allowed")]
    # a new bad row of the grown file is a reject as before
    lines = [GOOD[0], BAD, GOOD[1], BAD.replace("s1", "s2"), GOOD[2]]
    again = import_file(settings, write_master(tmp_path / "Master.csv", lines))
    assert (again.calls, again.rejects, again.refused_before) == (1, 1, 1)
    assert again.rejects_preview == ((4, "number 's': letters are not allowed"),)


def test_cdr_import_prints_the_rejects_refused_before_apart(settings, tmp_path, capsys):
    config = tmp_path / "ratedeck.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{settings.data_dir}"\n'
        '[voice]\ntech_prefixes = ["current", "021001"]\n[cdr]\nmax_reject_fraction = 0.5\n'
    )
    write_master(tmp_path / "Master.csv", [GOOD[0], BAD])
    assert main(["--config", str(config), "cdr", "import", str(tmp_path / "Master.csv")]) == 0
    capsys.readouterr()
    write_master(tmp_path / "Master.csv", [GOOD[0], BAD, GOOD[1]])
    assert main(["--config", str(config), "cdr", "import", str(tmp_path / "Master.csv")]) == 0
    out, err = capsys.readouterr()
    assert "0 rejected (1 refused by an earlier import, not stored again); days" in out
    assert err == ""
