"""``cost_file``'s output and rejects files: each run writes under a temporary name of its own,
so two runs with the same output never share (or tear) one file, and a temporary file that is
not this run's is left alone. An output that cannot be written is one line naming it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipeline.analytics.costing import cost_file
from pipeline.cli import main

LATER = datetime(2026, 9, 1, tzinfo=UTC)


def _cost(data_dir: Path, source: Path, out: Path, **options) -> object:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        rejects = out.with_name(out.name.replace(".csv", ".rejects.csv"))
        return cost_file(con, source, out, rejects=rejects, now=LATER, batch_rows=10, **options)
    finally:
        con.close()


def test_two_runs_writing_the_same_output_each_leave_a_whole_file(data_dir, tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("number,duration\n" + "4420123,61\n" * 50 + "44x,1\n")
    second.write_text("number,duration\n" + "442079,5\n" * 80)
    alone = {}
    for source in (first, second):  # what each run writes when it is the only one
        _cost(data_dir, source, tmp_path / f"alone-{source.name}")
        alone[source] = (tmp_path / f"alone-{source.name}").read_text()
    out = tmp_path / "out" / "same.csv"
    out.parent.mkdir()
    # each run waits at its first batch until the other has started writing too
    both_writing = threading.Barrier(2, timeout=60)
    results: dict[Path, object] = {}

    def run(source: Path) -> None:
        waited = []

        def on_batch(_rows: int) -> None:
            if not waited:
                waited.append(True)
                both_writing.wait()

        try:
            results[source] = _cost(data_dir, source, out, on_batch=on_batch)
        except Exception as exc:  # reported below, with the other run's outcome
            results[source] = exc

    threads = [threading.Thread(target=run, args=(source,)) for source in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [getattr(results[s], "rows_written", results[s]) for s in (first, second)] == [100, 160]
    assert out.read_text() in (alone[first], alone[second])  # whole: the last rename won
    assert sorted(p.name for p in out.parent.iterdir()) in (
        ["same.csv"],  # the second run's (no bad row) came last and removed the rejects
        ["same.csv", "same.rejects.csv"],
    )


def test_a_temporary_file_that_is_not_this_runs_is_neither_used_nor_removed(data_dir, tmp_path):
    source = tmp_path / "calls.csv"
    source.write_text("number,duration\n4420123,61\n44x,1\n")
    foreign = {
        tmp_path / ".out.csv.tmp": "another run's output, half written",
        tmp_path / ".out.rejects.csv.tmp": "another run's rejects",
    }
    for path, text in foreign.items():
        path.write_text(text)

    result = _cost(data_dir, source, tmp_path / "out.csv", tech_prefixes=["current"])

    assert result.rows_written == 1 and result.bad_rows == 1
    assert (tmp_path / "out.csv").read_text().splitlines()[1].startswith("4420123,61,current,")
    assert (tmp_path / "out.rejects.csv").read_text().splitlines() == [
        "row,number,duration,reason",
        "2,44x,1,bad number '44x': letters are not allowed",
    ]
    assert {path: path.read_text() for path in foreign} == foreign
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == [
        ".out.csv.tmp",
        ".out.rejects.csv.tmp",
    ]


def test_an_output_folder_that_cannot_be_written_is_one_line_naming_the_file(
    data_dir, tmp_path, monkeypatch, capsys
):
    # /sys takes no new file, even from root (chmod would not stop root)
    out = Path("/sys/costed.csv")
    if not Path("/sys").is_dir() or out.exists():
        pytest.skip("needs Linux's /sys")
    source = tmp_path / "calls.csv"
    source.write_text("number,duration\n4420123,61\n")
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)

    code = main(["cost", str(source), "--out", str(out), "--no-cache"])

    out_text, err = capsys.readouterr()
    assert (code, out_text) == (2, "")
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"ratedeck: error: {out}: cannot write: "), err
    assert err.rstrip().endswith(("Permission denied", "Read-only file system")), err
