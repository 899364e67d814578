"""A call whose cost does not fit ``DECIMAL(18, cost_decimals)`` is a reject of ``ratedeck
cost``, never the end of the file: it is refused with its row number and the tech prefixes it
overflows on, left out of the output and of every total (on every tech prefix, so each
tech prefix's totals and the cheapest mix cover the same calls); the other calls are costed,
exactly (checked against the brute-force Decimal reference)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support.lookup_reference import Version, reference_billed, reference_cost, reference_match
from support.lookup_warehouse import JAN, insert_versions

from pipeline.analytics.costing import cost_file
from pipeline.analytics.lookup import cost_calls
from pipeline.analytics.one_call import MAX_CALL_SECONDS
from pipeline.cli import main
from pipeline.warehouse.migrate import apply_migrations

LATER = datetime(2026, 9, 1, tzinfo=UTC)
TOP = "9999999999.99999999"  # DECIMAL(18, 8) at its largest
# (tech_prefix, prefix, destination, price, initial, increment): 447 is dear on current only
HISTORY = [
    ("current", "44", "UK", "0.1", 1, 1),
    ("current", "447", "UK mobile", "59995.25", 86400, 86400),
    ("current", "449", "Premium", TOP, 1, 1),
    ("021001", "44", "UK", "0.12345678", 60, 1),
    ("021001", "447", "UK mobile", "0.5", 60, 60),
    ("021001", "449", "Premium", TOP, 1, 1),
]
CALLS = [  # (number, duration)
    ("4420", "61"),
    ("447123", str(MAX_CALL_SECONDS)),  # overflows on current only
    ("449", "10"),  # 1.7 billion: fits, but beyond int64 units x seconds (the careful path)
    ("449", str(MAX_CALL_SECONDS)),  # overflows on both
    ("44x", "1"),  # a bad number, as before
    ("447", "30"),
    ("4471", "86401"),  # 2 days at 59,995.25: fits on both
]
# what each rejected row's reason says, in row order (row 1 = the first call)
OVERFLOW_CURRENT = (
    "tech prefix current: a call of 1000080000 billed seconds at 59995.25000000 per minute "
    "costs more than DECIMAL(18, 6) can hold"
)


def _overflow(tech_prefix: str) -> str:
    return (
        f"tech prefix {tech_prefix}: a call of {MAX_CALL_SECONDS} billed seconds at {TOP} "
        "per minute costs more than DECIMAL(18, 6) can hold"
    )


EXPECTED_REJECTS = [
    (2, "447123", str(MAX_CALL_SECONDS), OVERFLOW_CURRENT),
    (4, "449", str(MAX_CALL_SECONDS), f"{_overflow('current')}; {_overflow('021001')}"),
    (5, "44x", "1", "bad number '44x': letters are not allowed"),
]
GOOD_ROWS = [1, 3, 6, 7]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose published warehouse holds HISTORY (file closed); the ``con`` of
    conftest.py reads it."""
    path = tmp_path_factory.mktemp("overflow") / "data"
    path.mkdir()
    with duckdb.connect(str(path / "warehouse.duckdb")) as con:
        apply_migrations(con)
        insert_versions(con, [(*row, JAN, None) for row in HISTORY])
    return path


def _calls_file(path: Path, calls: list[tuple[str, str]] = CALLS) -> Path:
    pl.DataFrame(calls, schema=["number", "duration"], orient="row").write_csv(path)
    return path


def _reference(tech_prefix: str, number: str, seconds: int) -> tuple[int, Decimal] | None:
    deck = [
        Version(p, d, Decimal(price), a, b)
        for tp, p, d, price, a, b in HISTORY
        if tp == tech_prefix
    ]
    match = reference_match(deck, number, LATER)
    if match is None:
        return None
    billed = reference_billed(seconds, match.initial, match.increment)
    return billed, reference_cost(match.price, billed, 6)


def _expected_output() -> list[tuple[str, str, str, str, str]]:
    """(number, duration, tech_prefix, billed_seconds, cost) of the good calls, by the reference."""
    rows = []
    for row in GOOD_ROWS:
        number, duration = CALLS[row - 1]
        for tp in ("current", "021001"):
            billed, cost = _reference(tp, number, int(duration)) or (None, None)
            rows.append((number, duration, tp, str(billed), str(cost)))
    return rows


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 100])
def test_an_overflowing_call_is_a_reject_and_the_others_are_costed_exactly(
    con, tmp_path, batch_rows
):
    source = _calls_file(tmp_path / "calls.csv")
    out, rejects = tmp_path / "out.csv", tmp_path / "out.rejects.csv"

    result = cost_file(con, source, out, rejects=rejects, now=LATER, batch_rows=batch_rows)

    assert pl.read_csv(rejects, infer_schema=False).rows() == [
        tuple(str(v) for v in reject) for reject in EXPECTED_REJECTS
    ]
    assert result.bad_rows == 3
    assert result.first_bad_rows["row"].to_list() == [2, 4, 5]
    costed = pl.read_csv(out, infer_schema=False)
    assert costed.select("number", "duration", "tech_prefix", "billed_seconds", "cost").rows() == (
        _expected_output()
    )
    assert result.rows_written == 2 * len(GOOD_ROWS)
    summary = result.summary
    assert summary.calls == len(GOOD_ROWS)
    for total in summary.per_tech_prefix:
        expected = [_reference(total.tech_prefix, *_good_call(r)) for r in GOOD_ROWS]
        assert total.calls == total.matched == len(GOOD_ROWS)
        assert total.billed_seconds == sum(billed for billed, _ in expected)
        assert total.cost == sum(cost for _, cost in expected)
    cheapest = [
        min(_reference(tp, *_good_call(r))[1] for tp in ("current", "021001")) for r in GOOD_ROWS
    ]
    assert summary.cheapest.cost == sum(cheapest)
    # the premium call, priced past int64: exact to the last unit
    assert costed.filter(pl.col("number") == "449")["cost"].to_list() == ["1666666666.666667"] * 2


def _good_call(row: int) -> tuple[str, int]:
    number, duration = CALLS[row - 1]
    return number, int(duration)


def test_in_memory_costing_sets_the_call_aside_too(con):
    calls = pl.DataFrame(CALLS, schema=["number", "duration"], orient="row")
    result = cost_calls(con, calls, now=LATER, tech_prefixes=["current"])
    assert result.bad_rows.select("row", "reason").rows() == [
        (2, OVERFLOW_CURRENT),
        (4, _overflow("current")),
        (5, "bad number '44x': letters are not allowed"),
    ]
    assert result.frame["number"].to_list() == [CALLS[r - 1][0] for r in GOOD_ROWS]


def test_on_the_tech_prefix_where_it_fits_alone_the_call_is_costed(con):
    """Rejected when current is costed too, the call is an ordinary call of 021001 alone."""
    calls = pl.DataFrame([CALLS[1]], schema=["number", "duration"], orient="row")
    result = cost_calls(con, calls, now=LATER, tech_prefixes=["021001"])
    assert result.bad_rows.height == 0
    billed, cost = _reference("021001", "447123", MAX_CALL_SECONDS)
    assert result.frame["cost"].to_list() == [cost]
    assert result.summary.per_tech_prefix[0].billed_seconds == billed


def test_the_command_reports_the_reject_and_exits_0(data_dir, tmp_path, monkeypatch, capsys):
    source = _calls_file(tmp_path / "calls.csv")
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)

    code = main(["cost", str(source), "--no-cache", "--tech-prefix", "current"])

    out, err = capsys.readouterr()
    assert code == 0, err
    rejects = tmp_path / "calls.costed.rejects.csv"
    assert err.splitlines() == [
        f"ratedeck: 3 bad row(s) not costed, all written to {rejects}:",
        f"  row 2: {OVERFLOW_CURRENT}",
        f"  row 4: {_overflow('current')}",
        "  row 5: bad number '44x': letters are not allowed",
    ]
    assert "wrote 4 rows to" in out
    assert pl.read_csv(rejects, infer_schema=False)["row"].to_list() == ["2", "4", "5"]


def test_a_file_whose_every_call_overflows_exits_2_and_writes_no_output(
    data_dir, tmp_path, monkeypatch, capsys
):
    source = _calls_file(tmp_path / "calls.csv", [CALLS[3]])
    out = tmp_path / "out.csv"
    out.write_text("earlier output")
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))

    code = main(["cost", str(source), "--out", str(out), "--no-cache"])

    _, err = capsys.readouterr()
    assert code == 2
    assert err.splitlines()[-1] == (
        f"ratedeck: error: {source}: no call could be costed (all rows are bad)"
    )
    assert out.read_text() == "earlier output"
    assert pl.read_csv(tmp_path / "out.rejects.csv", infer_schema=False)["reason"].to_list() == [
        f"{_overflow('current')}; {_overflow('021001')}"
    ]
