"""``ratedeck demo``: the whole pipeline, end to end, on the built-in emulator, two market days.

Day 1 (yesterday's market) is the baseline; day 2 (today's) brings price changes, announced
(future-dated) changes and a short-notice increase, so the finance email has something to say.
"""

from __future__ import annotations

import argparse
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import console
from pipeline.errors import ConfigError, RunFailed
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.orchestrate import RunSummary

DEMO_MARKER = ".ratedeck-demo"
DEMO_OUTPUTS = ("raw", "staging", "state", "outbox", "reports", "dagster_home", "rejects")
DEMO_EMULATOR_KEY = "demo-emulator-key"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--deck-size", type=int, help="prefixes per tech prefix (default: settings)"
    )
    parser.add_argument("--seed", type=int, help="market seed (default: settings)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    # heavy imports (Dagster) only when the command runs: keeps `ratedeck --help` fast
    from pydantic import SecretStr

    from pipeline.commands.run import print_summary
    from pipeline.commpeak.emulator.market import Market
    from pipeline.commpeak.emulator.server import EmulatorServer
    from pipeline.orchestrate import persistent_instance, run_pipeline

    prepare_data_dir(settings)
    market_today = datetime.now(UTC).date()
    market = Market(
        seed=args.seed if args.seed is not None else settings.emulator.seed,
        start_date=market_today - timedelta(days=1),
        deck_size=args.deck_size or settings.emulator.deck_size,
        tech_prefixes=tuple(settings.voice.tech_prefixes),
        effective_dates=True,
    )
    api_key = (
        settings.secrets.api_key.get_secret_value()
        if settings.secrets.api_key
        else DEMO_EMULATOR_KEY
    )
    instance = persistent_instance(settings)
    with EmulatorServer(market, api_key=api_key) as server:
        demo_settings = settings.with_overrides(api={"base_url": server.url}).model_copy(
            update={"secrets": settings.secrets.model_copy(update={"api_key": SecretStr(api_key)})}
        )
        days = []
        for offset, label in ((1, "day 1 (baseline)"), (0, "day 2")):
            server.set_market_date(market_today - timedelta(days=offset))
            print(
                f"ratedeck demo: {label}: market of {market_today - timedelta(days=offset)}",
                flush=True,
            )
            with console.progress(label) as bar:
                summary = run_pipeline(
                    demo_settings,
                    instance=instance,
                    on_step=lambda name, bar=bar: bar.advance(1, description=name),
                )
            print_summary(summary)
            _fail_on_errors(label, summary)
            days.append(summary)
    print_locations(settings, days)
    return 0


def prepare_data_dir(settings: Settings) -> None:
    """Start from a clean slate, but never wipe a data dir that holds real (non-demo) data."""
    data_dir = settings.data_dir
    marker = data_dir / DEMO_MARKER
    holds_data = data_dir.exists() and any(
        (data_dir / name).exists() for name in (*DEMO_OUTPUTS, settings.warehouse_path.name)
    )
    if holds_data and not marker.exists():
        raise ConfigError(
            f"{data_dir} holds data that the demo did not write; set RATEDECK_DATA_DIR to another "
            "folder for the demo"
        )
    for name in DEMO_OUTPUTS:
        shutil.rmtree(data_dir / name, ignore_errors=True)
    for path in (settings.warehouse_path, Path(f"{settings.warehouse_path}.wal")):
        path.unlink(missing_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text("this data dir was written by `ratedeck demo` and is rewritten by it\n")


def _fail_on_errors(label: str, summary: RunSummary) -> None:
    if not summary.ok:
        first = summary.failures[0]
        raise RunFailed(f"demo {label}: {first.area} {first.partition or ''}: {first.error}")


def print_locations(settings: Settings, days: list[RunSummary]) -> None:
    outbox = sorted(settings.outbox_dir.glob("*.eml")) if settings.outbox_dir.exists() else []
    reports = sorted(settings.reports_dir.glob("*")) if settings.reports_dir.exists() else []
    print()
    print("ratedeck demo: done. Where everything is:")
    console.print_table(
        ["what", "where"],
        [
            ["warehouse (open read-only)", settings.warehouse_path],
            ["raw downloads", settings.raw_dir],
            ["finance email (.eml)", outbox[-1] if outbox else "(none: no changes)"],
            ["report files", reports[-1] if reports else "(none)"],
            ["Dagster home (make dev)", settings.dagster_home],
        ],
    )
    print()
    print("Try:")
    print(
        '  .venv/bin/ratedeck sql "SELECT tech_prefix, count(*) FROM voice_rate_current GROUP BY 1"'
    )
    print("  .venv/bin/ratedeck diff")
    print('  .venv/bin/ratedeck lookup "+353 89 412 3456" --duration 185')
