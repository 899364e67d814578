"""``ratedeck cost FILE [--tech-prefix P] [--out FILE]``: costs a CSV or Parquet file of calls
(``number``, ``duration`` in whole seconds, optional ``started_at``) for every tech prefix
with a deck of its own in the warehouse (or those given with ``--tech-prefix``, repeatable; an
alias is priced on the deck it shares, under its own name, with a note).

* Output: every input column plus ``tech_prefix, matched_prefix, destination, price,
  billed_seconds, cost``, one row per call per tech prefix (empty match columns and cost for
  an unmatched number). Written to ``--out`` (``.csv`` or ``.parquet``), by default
  ``<input stem>.costed.csv`` next to the input.
* A CSV's separator is sniffed from its header (``,``, ``;``, tab or ``|``); column names
  match whatever their case (``Number;Duration``).
* ``--out`` must not be the input, and its folder must exist.
* A call with ``started_at`` is priced as of that moment; one without, at now.
* Bad rows (bad number, missing/negative/fractional duration, unreadable ``started_at``, a
  cost beyond DECIMAL(18, cost_decimals) on some tech prefix) are not costed on any: they are counted, the first few listed on stderr with their row number (row 1 =
  the first data row, line 2 of a CSV), and all written to ``<out stem>.rejects.csv``.
  A file with no good row at all is an error (exit 2).
* Prints a summary per tech prefix and the cheapest mix (each call on its cheapest tech
  prefix); ``--json`` prints it as one document.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import console
from pipeline.analytics.codecs import COMPRESSIONS, DEFAULT_COMPRESSION
from pipeline.commands.lookup import TECH_PREFIX_HELP, tech_prefix_arg
from pipeline.errors import InputError
from pipeline.settings import Settings

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from pipeline.analytics._engine_cache import EngineCache

# reads the warehouse and writes only files it has closed: no teardown needed (cli.entry)
QUICK_EXIT = True

LISTED_BAD_ROWS = 5
SUMMARY_COLUMNS = ("tech_prefix", "calls", "matched", "unmatched", "billed_seconds", "cost")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", type=Path, help="calls, .csv or .parquet")
    parser.add_argument(
        "--tech-prefix",
        metavar="P",
        action="append",
        type=tech_prefix_arg,
        help=TECH_PREFIX_HELP,
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="output .csv or .parquet (default: <input stem>.costed.csv next to the input)",
    )
    parser.add_argument(
        "--batch-rows",
        metavar="N",
        type=_positive_int,
        help="calls read and costed at a time (default: [report] cost_batch_rows)",
    )
    parser.add_argument(
        "--compression",
        choices=COMPRESSIONS,
        default=DEFAULT_COMPRESSION,
        help="Parquet output codec (default: snappy; uncompressed writes fastest, zstd smallest)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="build the rate engines from the warehouse, ignoring (and not writing) the engine "
        "cache under the state folder",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.analytics.costing import cost_file, scan_calls

    out = args.out or default_output(args.file)
    check_output(out, args.file)  # refuse a bad --out before any work
    scan_calls(args.file)  # refuse a missing/unreadable file, or one without the columns
    batch_rows = args.batch_rows or settings.report.cost_batch_rows
    with _LazyReader(settings) as warehouse:
        with console.progress(f"costing {args.file.name}", total=None) as bar:
            result = cost_file(
                warehouse.connection,
                args.file,
                out,
                rejects=rejects_path(out),
                tech_prefixes=args.tech_prefix,
                cost_decimals=settings.report.cost_decimals,
                batch_rows=batch_rows,
                on_batch=lambda rows: bar.advance(1, description=f"costed {rows:,} rows"),
                cache=None if args.no_cache else engine_cache(settings),
                compression=args.compression,
            )
    _report_bad_rows(result.first_bad_rows, result.bad_rows, result.rejects)
    if result.summary.calls == 0 and result.bad_rows:
        raise InputError(f"{args.file}: no call could be costed (all rows are bad)")
    if args.json:
        console.print_json(
            {
                "input": args.file,
                "output": out,
                "rows_written": result.rows_written,
                "rejects": result.rejects,
                "summary": result.summary.to_dict(),
                "bad_rows": result.first_bad_rows.to_dicts(),
            }
        )
        return 0
    _print_summary(result.summary)
    print(f"wrote {result.rows_written:,} rows to {out}")
    return 0


def engine_cache(settings: Settings) -> EngineCache:
    """The engines of the published warehouse kept between runs, under the state folder."""
    from pipeline.analytics._engine_cache import EngineCache

    return EngineCache(settings.state_dir / "engine_cache", settings.warehouse_path)


class _LazyReader:
    """A read-only connection to the published warehouse, opened on first use only (a run
    served by the engine cache never imports DuckDB), closed on exit."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> _LazyReader:
        return self

    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            from pipeline.warehouse.db import Warehouse

            self._con = Warehouse(self._settings).reader()
        return self._con

    def __exit__(self, *_exc: object) -> None:
        if self._con is not None:
            self._con.close()


def default_output(source: Path) -> Path:
    return source.with_name(f"{_stem(source)}.costed.csv")


def rejects_path(out: Path) -> Path:
    return out.with_name(f"{_stem(out)}.rejects.csv")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".csv.gz", ".csv", ".parquet", ".pq"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def check_output(out: Path, source: Path) -> None:
    """Refuse an output that would overwrite the input or land in a folder nobody made."""
    from pipeline.analytics.costing import output_format

    output_format(out, what="--out")
    written = (out, rejects_path(out))
    if source.exists() and any(p.exists() and p.samefile(source) for p in written):
        raise InputError(f"--out {out}: would overwrite the input {source}; choose another name")
    if out.is_dir():
        raise InputError(f"--out {out}: is a folder; give a file name")
    folder = out.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise InputError(f"--out {out}: folder {folder} {what} (create it first)")


def _report_bad_rows(first: pl.DataFrame, count: int, rejects: Path | None) -> None:
    if not count:
        return
    print(f"ratedeck: {count:,} bad row(s) not costed, all written to {rejects}:", file=sys.stderr)
    for row in first.head(LISTED_BAD_ROWS).iter_rows(named=True):
        print(f"  row {row['row']}: {row['reason']}", file=sys.stderr)
    if count > LISTED_BAD_ROWS:
        print(f"  ... and {count - LISTED_BAD_ROWS:,} more", file=sys.stderr)


def _print_summary(summary) -> None:
    console.print_table(
        SUMMARY_COLUMNS,
        [
            (t.tech_prefix, t.calls, t.matched, t.unmatched, t.billed_seconds, t.cost)
            for t in summary.per_tech_prefix
        ],
    )
    mix = summary.cheapest
    chosen = ", ".join(f"{tp} {n:,}" for tp, n in mix.chosen.items() if n)
    print(f"cheapest mix: {mix.cost} ({chosen or 'no call matched'})")
    if mix.unmatched:
        print(f"{mix.unmatched:,} call(s) match no tech prefix")
    for note in summary.notes:  # the deck an alias shares; calls made before history
        print(note)
