"""``ratedeck cost FILE [--tech-prefix P] [--out FILE]``: costs a CSV or Parquet file of calls
(``number``, ``duration`` in whole seconds, optional ``started_at``) for every tech prefix in
the warehouse (or those given with ``--tech-prefix``, repeatable).

* Output: every input column plus ``tech_prefix, matched_prefix, destination, price,
  billed_seconds, cost``, one row per call per tech prefix (empty match columns and cost for
  an unmatched number). Written to ``--out`` (``.csv`` or ``.parquet``), by default
  ``<input stem>.costed.csv`` next to the input.
* A CSV's separator is sniffed from its header (``,``, ``;``, tab or ``|``); column names
  match whatever their case (``Number;Duration``).
* ``--out`` must not be the input, and its folder must exist.
* A call with ``started_at`` is priced as of that moment; one without, at now.
* Bad rows (bad number, missing/negative/fractional duration, unreadable ``started_at``) are
  not costed: they are counted, the first few listed on stderr with their row number (row 1 =
  the first data row, line 2 of a CSV), and all written to ``<out stem>.rejects.csv``.
  A file with no good row at all is an error (exit 2).
* Prints a summary per tech prefix and the cheapest mix (each call on its cheapest tech
  prefix); ``--json`` prints it as one document.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
from pathlib import Path

import polars as pl

from pipeline import console
from pipeline.commands.lookup import tech_prefix_arg
from pipeline.errors import InputError
from pipeline.settings import Settings

LISTED_BAD_ROWS = 5
CALL_COLUMNS = ("number", "duration", "started_at")  # the first two required
SEPARATORS = ",;\t|"
SUMMARY_COLUMNS = ("tech_prefix", "calls", "matched", "unmatched", "billed_seconds", "cost")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", type=Path, help="calls, .csv or .parquet")
    parser.add_argument(
        "--tech-prefix",
        metavar="P",
        action="append",
        type=tech_prefix_arg,
        help="only this tech prefix (repeatable; default: every one in the warehouse)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="output .csv or .parquet (default: <input stem>.costed.csv next to the input)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.analytics.lookup import cost_calls, resolve_tech_prefixes
    from pipeline.warehouse.db import Warehouse

    out = args.out or default_output(args.file)
    check_output(out, args.file)  # refuse a bad --out before any work
    calls = read_calls(args.file)
    with Warehouse(settings).reader() as con:
        steps = len(resolve_tech_prefixes(con, args.tech_prefix)) + 2
        with console.progress(f"costing {calls.height:,} calls", total=steps) as bar:
            result = cost_calls(
                con,
                calls,
                tech_prefixes=args.tech_prefix,
                cost_decimals=settings.report.cost_decimals,
                on_step=lambda text: bar.advance(1, description=text),
            )
    rejects = rejects_path(out) if result.bad_rows.height else None
    if rejects is not None:
        result.bad_rows.write_csv(rejects)
    else:
        rejects_path(out).unlink(missing_ok=True)  # a stale file from an earlier run would mislead
    _report_bad_rows(result.bad_rows, rejects)
    if result.summary.calls == 0 and result.bad_rows.height:
        raise InputError(f"{args.file}: no call could be costed (all rows are bad)")
    write_frame(result.frame, out)
    if args.json:
        console.print_json(
            {
                "input": args.file,
                "output": out,
                "rows_written": result.frame.height,
                "rejects": rejects,
                "summary": result.summary.to_dict(),
                "bad_rows": result.bad_rows.head(LISTED_BAD_ROWS).to_dicts(),
            }
        )
        return 0
    _print_summary(result.summary)
    print(f"wrote {result.frame.height:,} rows to {out}")
    return 0


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


def output_format(out: Path) -> str:
    name = out.name.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise InputError(f"--out {out}: use a .csv or .parquet file name")


def check_output(out: Path, source: Path) -> None:
    """Refuse an output that would overwrite the input or land in a folder nobody made."""
    output_format(out)
    written = (out, rejects_path(out))
    if source.exists() and any(p.exists() and p.samefile(source) for p in written):
        raise InputError(f"--out {out}: would overwrite the input {source}; choose another name")
    if out.is_dir():
        raise InputError(f"--out {out}: is a folder; give a file name")
    folder = out.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise InputError(f"--out {out}: folder {folder} {what} (create it first)")


def read_calls(path: Path) -> pl.DataFrame:
    """CSV read as text (numbers keep their +, 00 and leading zeros), or Parquet as typed;
    the call columns under their canonical names."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file of calls")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            frame = pl.read_parquet(path)
        elif name.endswith((".csv", ".csv.gz", ".txt")):
            frame = pl.read_csv(path, infer_schema=False, separator=sniff_separator(path))
        else:
            raise InputError(f"{path}: expected a .csv or .parquet file of calls")
    except (pl.exceptions.PolarsError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read calls: {first_line}") from None
    return canonical_columns(frame, path)


def sniff_separator(path: Path) -> str:
    """The header's separator: a spreadsheet in a comma-decimal locale saves ``;``."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as handle:
        header = handle.readline()
    try:
        return csv.Sniffer().sniff(header, delimiters=SEPARATORS).delimiter
    except csv.Error:
        return ","  # one column, or no separator the sniffer trusts: polars says the rest


def canonical_columns(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """``Number``/`` DURATION `` -> ``number``/``duration``; a file without them is named with
    the columns it has."""
    found = {c.strip().lower(): c for c in frame.columns}
    missing = [c for c in CALL_COLUMNS[:2] if c not in found]
    if missing:
        have = ", ".join(repr(c) for c in frame.columns) or "none"
        raise InputError(
            f"{path}: expected columns number and duration (optionally started_at); found {have}"
        )
    renames = {found[c]: c for c in CALL_COLUMNS if c in found and found[c] != c}
    return frame.rename(renames) if renames else frame


def write_frame(frame: pl.DataFrame, out: Path) -> None:
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if output_format(out) == "csv":
            frame.write_csv(tmp)
        else:
            frame.write_parquet(tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def _report_bad_rows(bad_rows: pl.DataFrame, rejects: Path | None) -> None:
    if not bad_rows.height:
        return
    print(
        f"ratedeck: {bad_rows.height:,} bad row(s) not costed, all written to {rejects}:",
        file=sys.stderr,
    )
    for row in bad_rows.head(LISTED_BAD_ROWS).iter_rows(named=True):
        print(f"  row {row['row']}: {row['reason']}", file=sys.stderr)
    if bad_rows.height > LISTED_BAD_ROWS:
        print(f"  ... and {bad_rows.height - LISTED_BAD_ROWS:,} more", file=sys.stderr)


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
    for note in summary.notes:  # calls made before a tech prefix's history starts
        print(note)
