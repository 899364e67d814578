"""``ratedeck run [--select voice,sms,balance]``: one full in-process pipeline run."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from pipeline import console
from pipeline.errors import RunFailed
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.orchestrate import RunSummary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--select",
        metavar="AREAS",
        help="comma-separated areas to run: voice,sms,balance (default: all); the price-change "
        "report runs after voice or sms",
    )
    parser.add_argument("--no-report", action="store_true", help="skip the price-change report")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.orchestrate import parse_select

    areas = parse_select(args.select)
    summary = execute(settings, areas, report=not args.no_report)
    if args.json:
        console.print_json(summary_document(summary))
    else:
        print_summary(summary)
    if not summary.ok:
        first = summary.failures[0]
        raise RunFailed(
            f"{len(summary.failures)} step(s) failed; first: {first.area} "
            f"{first.partition or ''}: {first.error}".replace("  ", " ")
        )
    return 0


def execute(settings: Settings, areas: list[str], *, report: bool = True) -> RunSummary:
    steps = (
        len(settings.voice.tech_prefixes) * ("voice" in areas)
        + len(settings.sms.channels) * ("sms" in areas)
        + ("balance" in areas)
        + (report and bool({"voice", "sms"} & set(areas)))
    )
    from pipeline.orchestrate import persistent_instance, run_pipeline

    instance = persistent_instance(settings)
    with console.progress("ratedeck run", total=steps) as bar:
        return run_pipeline(
            settings,
            areas,
            instance=instance,
            report=report,
            on_step=lambda name: bar.advance(1, description=name),
        )


def summary_document(summary: RunSummary) -> dict:
    return {
        "ok": summary.ok,
        "steps": [
            {
                "area": s.area,
                "partition": s.partition,
                "ok": s.ok,
                "error": s.error,
                "metadata": s.metadata,
            }
            for s in summary.steps
        ],
    }


def print_summary(summary: RunSummary) -> None:
    rows = []
    for s in summary.steps:
        meta = s.metadata
        rows.append(
            [
                s.area,
                s.partition or "",
                "ok" if s.ok else "FAILED",
                _first(meta, "rows"),
                _first(meta, "rejects"),
                _first(meta, "rates_opened"),
                _first(meta, "rates_closed"),
                s.error or _first(meta, "summary") or "",
            ]
        )
    console.print_table(
        ["area", "partition", "status", "rows", "rejects", "opened", "closed", "notes"], rows
    )
    decks = sum(1 for s in summary.steps if s.area == "voice" and s.ok)
    print(
        f"\n{decks} voice deck(s) loaded, {summary.total('voice_deck', 'rows')} rows, "
        f"{summary.total('voice_deck', 'rejects')} rejects, "
        f"{summary.total('voice_rate_history', 'rates_opened')} rate versions opened, "
        f"{summary.total('voice_rate_history', 'rates_closed')} closed",
        file=sys.stdout,
    )


def _first(metadata: dict[str, dict], key: str):
    for values in metadata.values():
        if key in values:
            return values[key]
    return None
