"""``ratedeck run [--select voice,sms,balance]``: one full in-process pipeline run.

A progress bar on a terminal (stderr), then a table with one line per step and a totals line:
decks loaded, rows, rejects, price changes detected, what the report did.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pipeline import console
from pipeline.errors import RunFailed
from pipeline.settings import Settings

if TYPE_CHECKING:
    import dagster as dg

    from pipeline.orchestrate import RunSummary, StepOutcome

# asset -> metadata keys left out of the CLI's summaries (markdown meant for the Dagster UI)
UI_ONLY_METADATA = {"preview", "rejects_preview"}
HISTORY_ASSETS = {"voice": "voice_rate_history", "sms": "sms_rate_history"}


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
    raise_if_failed(summary)
    return 0


def execute(
    settings: Settings,
    areas: list[str],
    *,
    report: bool = True,
    label: str = "ratedeck run",
    instance: dg.DagsterInstance | None = None,
) -> RunSummary:
    """Run the selected areas in-process, recording into the persistent Dagster home (or
    ``instance``: the demo opens it once for both its days)."""
    from pipeline.orchestrate import persistent_instance, require_credentials, run_pipeline
    from pipeline.warehouse.db import Warehouse

    require_credentials(settings, areas)
    Warehouse(settings).refuse_newer()  # before any download: no load could be stored
    instance = instance or persistent_instance(settings)
    with console.progress(label, total=count_steps(settings, areas, report=report)) as bar:
        return run_pipeline(
            settings,
            areas,
            instance=instance,
            report=report,
            on_step=lambda name: bar.advance(1, description=f"{label}: {name}"),
        )


def count_steps(settings: Settings, areas: list[str], *, report: bool) -> int:
    return (
        len(settings.voice.tech_prefixes) * ("voice" in areas)
        + len(settings.sms.channels) * ("sms" in areas)
        + ("balance" in areas)
        + (report and bool({"voice", "sms"} & set(areas)))
    )


def raise_if_failed(summary: RunSummary, context: str = "") -> None:
    if summary.ok and summary.unpublished:
        raise RunFailed(
            f"{context}warehouse not published: {summary.unpublished} (the steps' data is kept "
            "in the working copy and published by the next run)"
        )
    if summary.ok:
        return
    first = summary.failures[0]
    where = " ".join(p for p in (first.area, first.partition) if p)
    raise RunFailed(
        f"{context}{len(summary.failures)} step(s) failed; first: {where}: {first.error}"
    )


def totals(summary: RunSummary) -> dict[str, int | str | None]:
    """What the run did, added up over its steps (the summary line and ``--json``)."""
    report = next((s for s in summary.steps if s.area == "report"), None)
    report_meta = report.metadata.get("price_change_report", {}) if report else {}
    return {
        "voice_decks": _count_loaded(summary, "voice"),
        "sms_lists": _count_loaded(summary, "sms"),
        # what was loaded: a deck a check refused is in its step's line, not in the totals
        "rows": sum(summary.total(asset, "rows") for asset in HISTORY_ASSETS.values()),
        "rejects": sum(summary.total(asset, "rejects") for asset in HISTORY_ASSETS.values()),
        # refused rows whose key kept its price in force (not removed)
        "kept_refused": sum(
            summary.total(asset, "rates_kept_refused") for asset in HISTORY_ASSETS.values()
        ),
        "voice_changes": summary.total(HISTORY_ASSETS["voice"], "changes"),
        "sms_changes": summary.total(HISTORY_ASSETS["sms"], "changes"),
        "report": (report.error or report_meta.get("summary")) if report else None,
        "failed_steps": len(summary.failures),
    }


def _count_loaded(summary: RunSummary, area: str) -> int:
    return sum(1 for s in summary.steps if s.area == area and HISTORY_ASSETS[area] in s.metadata)


def summary_document(summary: RunSummary) -> dict:
    return {
        "ok": summary.ok,
        "totals": totals(summary),
        "steps": [
            {
                "area": s.area,
                "partition": s.partition,
                "ok": s.ok,
                "error": s.error,
                "unpublished": s.unpublished,
                "metadata": {
                    asset: {k: v for k, v in values.items() if k not in UI_ONLY_METADATA}
                    for asset, values in s.metadata.items()
                },
            }
            for s in summary.steps
        ],
    }


def print_summary(summary: RunSummary) -> None:
    console.print_table(
        ["area", "partition", "status", "rows", "rejects", "changes", "notes"],
        [_step_row(s) for s in summary.steps],
    )
    print()
    print(summary_line(totals(summary)))


def summary_line(t: dict) -> str:
    changes = t["voice_changes"] + t["sms_changes"]
    line = (
        f"{t['voice_decks']} voice deck(s) and {t['sms_lists']} SMS rate list(s) loaded: "
        f"{t['rows']} rows, {t['rejects']} rejects, {changes} price change(s) detected "
        f"({t['voice_changes']} voice, {t['sms_changes']} SMS)"
    )
    if t.get("kept_refused"):
        line += f"; {_kept_refused_note(t['kept_refused'])}"
    if t["report"]:
        line += f"; report: {t['report']}"
    if t["failed_steps"]:
        line += f"; {t['failed_steps']} step(s) FAILED"
    return line


def _step_row(step: StepOutcome) -> list:
    meta = step.metadata
    history = meta.get(HISTORY_ASSETS.get(step.area, ""), {})
    notes = step.error or history.get("change_types") or _first(meta, "summary") or ""
    if history.get("rates_kept_refused"):
        notes = f"{notes}; " if notes and notes != "none" else ""
        notes += _kept_refused_note(history["rates_kept_refused"])
    if step.unpublished:
        notes = f"{notes}; " if notes and notes != "none" else ""
        notes += f"done, not published: {step.unpublished}"
    return [
        step.area,
        step.partition or "",
        "ok" if step.ok else "FAILED",
        _first(meta, "rows"),
        _first(meta, "rejects"),
        history.get("changes"),
        "" if notes == "none" else notes,
    ]


def _kept_refused_note(count: int) -> str:
    from pipeline.stages.feed import kept_refused_note

    return kept_refused_note(count)


def _first(metadata: dict[str, dict], key: str):
    for values in metadata.values():
        if key in values:
            return values[key]
    return None
