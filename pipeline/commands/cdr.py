"""``ratedeck cdr import FILE...`` / ``cdr cost [--day D] [--recost --why TEXT]`` /
``cdr correct --why TEXT`` / ``cdr status``: the customer's own call records (docs/cdr.md).

* ``import [--carrier]``: each file (``--carrier``: the carrier's call export) is landed (immutable, sha256), parsed with ``[cdr] format`` and
  loaded; a file imported before changes nothing. Prints per file the calls added, the calls
  left out as already stored or repeated in the file (a call is its id on its UTC day), the
  rows refused as conflicting (the same call id with other values: a corrected call, whose
  stored version stands), rejects (the first few refused rows with their row numbers) and the
  days touched (a day after today, from a clock running ahead, marked and warned of on
  stderr). A file that cannot be read,
  or with too many bad rows, is one line naming it: exit 2 (files before it stay imported).
* ``cost``: costs the billable calls not costed yet (of ``--day``, else of every day that has
  some), each at its own start time. ``--recost`` replaces every cost of ``--day`` (a backfill:
  logged in cdr_costing_log with ``--why``, the old and the new total).
* ``correct``: applies the corrected calls imports refused as conflicts (``--file``,
  ``--call``: only those), recosting the costed days they touch, all logged with ``--why``;
  ``--dry-run`` changes nothing; ``--dismiss`` sets them aside instead
  (docs/cdr.md#applying-a-correction).
* ``status``: per UTC day, the calls, billable, costed and unmatched ones, the total cost and
  the latest costing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from pipeline import console
from pipeline.errors import InputError
from pipeline.settings import Settings

LISTED_REJECTS = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="cdr_action", metavar="ACTION", required=True)
    imports = _action(
        actions,
        "import",
        "import CDR files ([cdr] format), or with --carrier the carrier's call export",
        "Land each FILE (kept byte for byte under <data_dir>/raw/cdr/), parse it with [cdr] "
        "format (--carrier: as the carrier's call export, [reconcile.columns]) and load its "
        "calls; a file imported before changes nothing. Prints per file the calls added, those "
        "already imported or repeated in the file, those refused as conflicting (a call id "
        "already stored with other values: the stored call stands), the rejects and the UTC "
        "days touched (a day after today is marked and warned of: a clock running ahead?). "
        "A file "
        "that cannot be read, or with too many bad rows, is one line naming it, exit 2 (the "
        "files before it stay imported).",
    )
    imports.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        type=Path,
        help="a switch export in the [cdr] format (asterisk, freeswitch, or generic: CSV or "
        "Parquet with [cdr.columns]); with --carrier, the carrier's call export",
    )
    imports.add_argument(
        "--carrier",
        action="store_true",
        help="the files are the carrier's call export (columns: [reconcile.columns])",
    )
    cost = _action(
        actions,
        "cost",
        "cost the billable calls not costed yet, each as of its start time",
        "Cost the billable calls not costed yet (of --day, else of every day that has some), "
        "each at the prices in force when it started; prints one line per day costed. "
        "--recost replaces every cost of --day (a backfill), logged with --why, the old and "
        "the new total.",
    )
    cost.add_argument("--day", metavar="YYYY-MM-DD", type=_day, help="only this UTC day")
    cost.add_argument(
        "--recost", action="store_true", help="replace the day's costs (needs --day; logged)"
    )
    cost.add_argument("--why", metavar="TEXT", default="", help="reason logged with --recost")
    correct = _action(
        actions,
        "correct",
        "apply corrected calls an import refused as conflicts (logged, recosts their days)",
        "Apply the rows imports refused as conflicting (a stored call id with other values: a "
        "corrected call) and not applied yet: each stored call takes the corrected values, "
        "read again from the landed file; what it had is kept in cdr_call_correction with "
        "--why, who and when. Every costed day they touch is recosted in the same "
        "transaction and logged as `cdr cost --recost --why` logs it (only the calls costed "
        "before and the corrected ones). Applying again changes nothing. Without --call, a "
        "row repeating values its call had before a correction (stale) is skipped; without "
        "--file or --call, a row its landed file no longer gives as imported is skipped and "
        "named. --dismiss sets the rows of --file / --call aside instead. --dry-run prints "
        "the same and keeps nothing.",
    )
    correct.add_argument(
        "--file", metavar="FILE", help="only this imported file's: its file id, name or sha256"
    )
    correct.add_argument("--call", metavar="ID", help="only this call id's corrections")
    correct.add_argument(
        "--why", metavar="TEXT", required=True, help="why (logged with every correction)"
    )
    correct.add_argument(
        "--dry-run", action="store_true", help="print what would change; change nothing"
    )
    correct.add_argument(
        "--dismiss",
        action="store_true",
        help="set the refused rows of --file / --call aside (never applied; logged with --why)",
    )
    _action(
        actions,
        "status",
        "per UTC day: calls, billable, costed, unmatched, total cost, last costing",
        "One row per UTC day with imported calls: the calls, how many are billable, costed and "
        "unmatched, the day's total cost, when it was last costed and whether it was ever "
        "recosted.",
    )


def _action(actions, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """An action of ``cdr``: ``summary`` in ``cdr --help``, ``description`` in its own."""
    return actions.add_parser(name, help=summary, description=description)


def run(args: argparse.Namespace, settings: Settings) -> int:
    actions = {"import": _import, "cost": _cost, "correct": _correct, "status": _status}
    action = actions[args.cdr_action]
    return action(args, settings)


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.stages.cdr import import_file
    from pipeline.stages.reconcile import import_carrier_file

    importer = import_carrier_file if args.carrier else import_file
    done = []
    with console.progress("importing CDR files", total=len(args.files)) as bar:
        for path in args.files:
            imported = importer(settings, path)
            bar.advance(1, description=path.name)
            done.append(imported)
            if not args.json:
                _print_import(imported)
    if args.json:
        console.print_json({"files": [vars(i) for i in done]})
    return 0


def _print_import(imported) -> None:
    if imported.replayed:
        print(f"{imported.path}: imported before (file {imported.file_id}): nothing changed")
        return
    rows = imported.calls + imported.duplicates + imported.conflicts + imported.rejects
    if rows + imported.refused_before == 0:
        # a quiet day's export can hold no call: imported (its bytes are a fact), said plainly
        print(f"{imported.path}: no call in the file (an empty export): nothing added -> "
              f"{imported.raw_path}")  # fmt: skip
        return
    ahead = set(imported.days_ahead)
    days = ", ".join(f"{d} (after today)" if d in ahead else d for d in imported.days) or "none"
    print(
        f"{imported.path}: {imported.calls:,} call(s) added, {imported.duplicates:,} already "
        f"imported or repeated in the file, {imported.conflicts:,} conflicting (same call id, "
        f"other values), {imported.rejects:,} rejected{_refused_before(imported)}; days "
        f"{days} -> {imported.raw_path}"
    )
    _warn_days_ahead(imported)
    for row, reason in imported.rejects_preview[:LISTED_REJECTS]:
        print(f"  row {row}: {reason}", file=sys.stderr)
    refused = imported.rejects + imported.conflicts
    if refused > LISTED_REJECTS:
        print(f"  ... and {refused - LISTED_REJECTS:,} more (ingest_reject)", file=sys.stderr)


def _warn_days_ahead(imported) -> None:
    """Calls dated after today are stored as given: the user hears of them, as they are left
    out of the finance email's windows (docs/cdr.md#import)."""
    if imported.days_ahead:
        print(
            f"  warning: calls dated after today ({', '.join(imported.days_ahead)}): a clock "
            "running ahead? They are stored and `cdr cost` costs them, but the finance "
            "email's reconciliation and traffic windows leave them out until their day.",
            file=sys.stderr,
        )


def _refused_before(imported) -> str:
    """The rejects an earlier import refused (a grown file's old bad rows), said apart."""
    if not imported.refused_before:
        return ""
    return f" ({imported.refused_before:,} refused by an earlier import, not stored again)"


def _cost(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.stages.cdr import cost_days

    if args.recost and args.day is None:
        raise InputError("cdr cost --recost: give the --day to recost (a backfill is explicit)")
    days = None if args.day is None else [args.day]
    costings = cost_days(settings, days, recost=args.recost, why=args.why)
    rows = [(c.day, c.calls, c.unmatched, c.recost, c.old_total, c.new_total) for c in costings]
    if args.json:
        console.print_json({"costings": [vars(c) for c in costings]})
        return 0
    if not rows:
        print("nothing to cost: every billable call is costed")
        return 0
    console.print_table(("day", "calls", "unmatched", "recost", "old_total", "new_total"), rows)
    return 0


def _correct(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.stages.cdr_correction import (
        CorrectionRequest,
        correct_calls,
        dismiss_conflicts,
    )

    chosen = CorrectionRequest(
        why=args.why, file=args.file, call_id=args.call, dry_run=args.dry_run
    )
    if args.dismiss:
        dismissed = dismiss_conflicts(settings, chosen)
        if args.json:
            console.print_json(
                {"dry_run": dismissed.dry_run, "dismissed": _listed(dismissed.dismissed)}
            )
        else:
            _print_dismissals(dismissed)
        return 0
    done = correct_calls(settings, chosen)
    if args.json:
        console.print_json(
            {
                "dry_run": done.dry_run,
                "corrections": [vars(c) for c in done.applied],
                "unchanged": done.unchanged,
                "recostings": [vars(c) for c in done.recostings],
                "uncosted_days": list(done.uncosted_days),
                "left_for_cost": [vars(c) for c in done.left_for_cost],
                "stale": done.stale,
                "skipped": _listed(done.skipped),
            }
        )
        return 0
    _print_corrections(done)
    return 0


def _listed(conflicts) -> list[dict]:
    return [vars(c) for c in conflicts]


def _print_corrections(done) -> None:
    for s in done.skipped:
        print(f"{s.file} row {s.row} (call {s.call_id}): skipped: {s.reason}")
    if done.stale:
        print(
            f"{done.stale:,} stale refused row(s) skipped: they repeat values their call had "
            "before a correction (apply one with --call ID)"
        )
    if not done.applied:
        already = f" ({done.unchanged:,} say what is stored)" if done.unchanged else ""
        left_out = done.stale + len(done.skipped)
        what = "nothing else" if left_out else "no refused conflict left"
        print(f"nothing to correct: {what} to apply{already}")
        return
    for c in done.applied:
        print(f"call {c.call_id} (from {c.file} row {c.row}): {', '.join(c.changes)}")
    if done.unchanged:
        print(f"{done.unchanged:,} refused row(s) say what is stored already: nothing to apply")
    if done.recostings:
        rows = [(c.day, c.calls, c.unmatched, c.old_total, c.new_total) for c in done.recostings]
        console.print_table(("recosted day", "calls", "unmatched", "old_total", "new_total"), rows)
    for left in done.left_for_cost:
        print(f"{left.day}: {left.calls:,} call(s) never costed left for `ratedeck cdr cost`")
    for day in done.uncosted_days:
        print(f"{day}: not costed yet (ratedeck cdr cost costs it)")
    verb = "would be" if done.dry_run else "were"
    tail = "; --dry-run: nothing changed" if done.dry_run else ""
    print(f"{len(done.applied):,} call(s) {verb} corrected{tail}")


def _print_dismissals(done) -> None:
    if not done.dismissed:
        print("nothing to dismiss: no refused conflict left to apply")
        return
    for d in done.dismissed:
        print(f"call {d.call_id} (from {d.file} row {d.row}): dismissed")
    verb = "would be" if done.dry_run else "were"
    tail = "; --dry-run: nothing changed" if done.dry_run else ""
    print(f"{len(done.dismissed):,} refused row(s) {verb} dismissed{tail}")


def _status(args: argparse.Namespace, settings: Settings) -> int:
    import duckdb

    from pipeline.warehouse.cdr import count_days_of_older_warehouse
    from pipeline.warehouse.db import Warehouse
    from pipeline.warehouse.migrate import read_sql

    with Warehouse(settings).reader() as con:
        try:
            count_days_of_older_warehouse(con)
            cursor = con.execute(read_sql("queries/cdr_status.sql"))
        except duckdb.CatalogException:  # published before the CDR tables: nothing imported
            return _print_status(args, [], [])
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return _print_status(args, columns, rows)


def _print_status(args: argparse.Namespace, columns: list[str], rows: list[tuple]) -> int:
    if args.json:
        console.print_json({"days": [dict(zip(columns, r, strict=True)) for r in rows]})
        return 0
    if not rows:
        print("no calls imported yet: ratedeck cdr import FILE...")
        return 0
    console.print_table(columns, rows)
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad day {text!r}: expected YYYY-MM-DD") from None
