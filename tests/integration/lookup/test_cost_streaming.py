"""``cost_file`` streams a file of calls in batches: the output, the rejects and the exact
totals are those of costing every call at once (``cost_calls``), whatever the batch size."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support.lookup_warehouse import STANDARD_HISTORY

from pipeline.analytics.costing import CallCoster, cost_file
from pipeline.analytics.lookup import cost_calls
from pipeline.errors import InputError

LATER = datetime(2026, 9, 1, tzinfo=UTC)
# (number, duration, started_at): matched, unmatched, bad, before history, across the June
# price change and the removal of 449, out of time order (an engine rebuilt for a wider span)
CALL_KINDS = [
    ("4420 1", "61", "2026-03-01"),
    ("+44 20 79 1", "95", "2026-07-01T00:00:00Z"),
    ("33", "5", ""),
    ("44", "0", "2026-06-01 00:00"),
    ("44x", "5", "2026-03-01"),
    ("44", "-3", "2026-03-01"),
    ("4491", "1", "2026-05-31T23:59:59.999999+00:00"),
    ("4491", "1", "2026-06-01T02:00:00+02:00"),
    ("004420555", "3600", "2025-06-01"),  # before the history starts
    ("442079", "7", "yesterday"),
    ("0044 9", "130", "2026-01-01"),
]


def _write_calls(path: Path, rows: int) -> Path:
    kinds = [CALL_KINDS[(i * 7) % len(CALL_KINDS)] for i in range(rows)]
    pl.DataFrame(
        {
            "Number": [k[0] for k in kinds],
            "duration": [k[1] for k in kinds],
            "started_at": [k[2] or None for k in kinds],
            "note": [f"call {i}" for i in range(rows)],
        }
    ).write_csv(path)
    return path


def _all_at_once(con, source: Path):
    calls = pl.read_csv(source, infer_schema=False).rename({"Number": "number"})
    return cost_calls(con, calls, now=LATER)


@pytest.mark.parametrize("batch_rows", [1, 3, 7, 1000])
def test_streamed_csv_equals_all_at_once(con, tmp_path, batch_rows):
    source = _write_calls(tmp_path / "calls.csv", 40)
    whole = _all_at_once(con, source)
    result = cost_file(
        con,
        source,
        tmp_path / "out.csv",
        rejects=tmp_path / "rejects.csv",
        now=LATER,
        batch_rows=batch_rows,
    )
    whole.frame.write_csv(tmp_path / "whole.csv")
    whole.bad_rows.write_csv(tmp_path / "whole_rejects.csv")
    assert (tmp_path / "out.csv").read_text() == (tmp_path / "whole.csv").read_text()
    assert (tmp_path / "rejects.csv").read_text() == (tmp_path / "whole_rejects.csv").read_text()
    assert result.summary == whole.summary
    assert result.rows_written == whole.frame.height == 2 * whole.summary.calls
    assert result.bad_rows == whole.bad_rows.height == 10  # 44x, a negative duration, "yesterday"
    assert result.first_bad_rows["row"].to_list() == whole.bad_rows["row"].head(5).to_list()


def test_streamed_parquet_equals_all_at_once(con, tmp_path):
    source = _write_calls(tmp_path / "calls.csv", 25)
    whole = _all_at_once(con, source)
    cost_file(
        con, source, tmp_path / "out.parquet", rejects=tmp_path / "r.csv", now=LATER, batch_rows=4
    )
    streamed = pl.read_parquet(tmp_path / "out.parquet")
    text = ["tech_prefix", "matched_prefix", "destination"]
    assert streamed.drop(text).schema == whole.frame.drop(text).schema
    as_text = [pl.col(text).cast(pl.String)]
    assert streamed.with_columns(as_text).equals(whole.frame.with_columns(as_text))
    assert streamed["cost"].dtype == pl.Decimal(18, 6)
    # the text columns of a stream are Enums over everything the decks ever held, fixed
    # before the first batch ("Gone" too: a destination withdrawn before these calls)
    assert streamed["tech_prefix"].dtype == pl.Enum(["current", "021001"])
    assert streamed["matched_prefix"].dtype == pl.Enum(["44", "4420", "442079", "449"])
    assert streamed["destination"].dtype == pl.Enum(["Gone", "London", "London centre", "UK"])
    with duckdb.connect() as reader:  # what an analyst's SQL sees: text
        types = reader.execute(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))",
            [str(tmp_path / "out.parquet")],
        ).fetchall()
    assert {name: kind for name, kind in types if name in text} == dict.fromkeys(text, "VARCHAR")


def test_parquet_output_has_row_groups_of_the_size_asked_whatever_the_batches(con, tmp_path):
    """Every row group carries the Enum dictionaries: they are cut at a fixed size, whatever
    the batches (left to itself, polars' sink wrote these 90 rows as one row group)."""
    import pyarrow.parquet as pq

    source = _write_calls(tmp_path / "calls.csv", 60)
    out = tmp_path / "out.parquet"
    result = cost_file(
        con, source, out, rejects=tmp_path / "r.csv", now=LATER, batch_rows=4, row_group_rows=25
    )
    layout = pq.ParquetFile(out).metadata
    sizes = [layout.row_group(i).num_rows for i in range(layout.num_row_groups)]
    assert result.rows_written == 90  # 45 good calls x 2 tech prefixes
    assert sizes == [25, 25, 25, 15]


def test_totals_are_exact_sums_of_the_rows(con, tmp_path):
    """The summary adds integers across batches: it equals the Decimal sum of the output."""
    source = _write_calls(tmp_path / "calls.csv", 33)
    result = cost_file(
        con, source, tmp_path / "out.csv", rejects=tmp_path / "r.csv", now=LATER, batch_rows=2
    )
    out = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    for total in result.summary.per_tech_prefix:
        rows = out.filter(pl.col("tech_prefix") == total.tech_prefix)
        assert total.cost == sum((Decimal(c) for c in rows["cost"].drop_nulls()), Decimal(0))
        assert total.billed_seconds == sum(int(s) for s in rows["billed_seconds"].drop_nulls())
        assert total.matched == rows["cost"].drop_nulls().len()
    assert result.summary.per_tech_prefix[0].before_history == 3  # 2025 calls: no price yet
    assert result.summary.notes[0].startswith("3 call(s) before history")


def test_a_bad_line_deep_in_the_file_names_it_and_leaves_nothing(con, tmp_path):
    source = tmp_path / "calls.csv"
    source.write_text("number,duration\n" + "4420,1\n" * 10 + '4420,"1\n' + "4420,1\n" * 3)
    out = tmp_path / "out.csv"
    with pytest.raises(InputError, match=r"calls\.csv: cannot read calls"):
        cost_file(con, source, out, rejects=tmp_path / "r.csv", now=LATER, batch_rows=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv"]


def test_every_call_bad_leaves_the_output_alone(con, tmp_path):
    source = tmp_path / "calls.csv"
    source.write_text("number,duration\n44x,1\n44,-1\n")
    out = tmp_path / "out.csv"
    out.write_text("earlier output")
    result = cost_file(con, source, out, rejects=tmp_path / "r.csv", now=LATER, batch_rows=1)
    assert (result.rows_written, result.bad_rows, result.summary.calls) == (0, 2, 0)
    assert out.read_text() == "earlier output"
    rejects = pl.read_csv(tmp_path / "r.csv", infer_schema=False)
    assert rejects["row"].to_list() == ["1", "2"]
    assert rejects["reason"].to_list() == [
        "bad number '44x': letters are not allowed",
        "negative duration -1",
    ]


def test_an_output_column_in_the_input_is_refused_before_any_work(con, tmp_path):
    source = tmp_path / "calls.csv"
    source.write_text("number,duration,cost\n44,1,3\n")
    with pytest.raises(InputError, match="'cost' clashes with an output column"):
        cost_file(con, source, tmp_path / "o.csv", rejects=tmp_path / "r.csv")
    assert not (tmp_path / "o.csv").exists()


def test_the_engine_is_built_once_and_rebuilt_only_for_a_wider_span(con):
    coster = CallCoster(con, tech_prefixes=["current"], now=LATER)
    march = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1_000_000)
    july = int(datetime(2026, 7, 1, tzinfo=UTC).timestamp() * 1_000_000)
    first = coster.engine("current", (march, july))
    assert coster.engine("current", (march + 1, july - 1)) is first
    wider = coster.engine("current", (march - 1, july))
    assert wider is not first
    assert coster.engine("current", (march, july)) is wider
    assert coster.engine("current", (1, july)) is wider  # widened back to 1970 at once


def test_history_fixture_is_what_these_tests_assume():
    assert ("current", "449", "Gone", "0.9", 1, 1) in [r[:6] for r in STANDARD_HISTORY]
