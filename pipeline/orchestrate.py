"""One full pipeline run as in-process Dagster materialisations (``ratedeck run`` and the demo).

One ``materialize`` per partition (tech prefix, SMS channel), then balance, then the report.
A failing partition does not stop the others (each snapshot is its own transaction); the run as
a whole fails (exit 1) and says which step failed and why, in one line each.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipeline.defs import build_definitions
from pipeline.errors import ConfigError
from pipeline.settings import Settings

AREAS = ("voice", "sms", "balance")
# Dagster's console logger prints every event at DEBUG; the CLI shows its own progress and
# summary, and the full event log stays in the Dagster instance (visible in `make dev`).
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
INSTANCE_CONFIG = """\
# Written by ratedeck: every DuckDB writer step runs alone (pool duckdb_warehouse).
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


@dataclass
class StepOutcome:
    area: str
    partition: str | None
    ok: bool
    error: str | None = None
    metadata: dict[str, dict] = field(default_factory=dict)  # asset name -> metadata values


@dataclass
class RunSummary:
    steps: list[StepOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def failures(self) -> list[StepOutcome]:
        return [s for s in self.steps if not s.ok]

    def total(self, asset: str, key: str) -> int:
        return sum(int(s.metadata.get(asset, {}).get(key, 0) or 0) for s in self.steps)


def parse_select(select: str | None) -> list[str]:
    if not select:
        return list(AREAS)
    areas = [a.strip() for a in select.split(",") if a.strip()]
    unknown = sorted(set(areas) - set(AREAS))
    if unknown:
        raise ConfigError(
            f"--select: unknown area {', '.join(unknown)} (choose from {', '.join(AREAS)})"
        )
    return areas


def prepare_dagster_home(settings: Settings) -> Path:
    """A persistent Dagster home inside the data dir, so `dagster dev` shows the CLI's runs."""
    home = settings.dagster_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG, encoding="utf-8")
    return home


def persistent_instance(settings: Settings) -> dg.DagsterInstance:
    home = prepare_dagster_home(settings)
    os.environ.setdefault("DAGSTER_HOME", str(home))
    return dg.DagsterInstance.from_config(str(home))


def run_pipeline(
    settings: Settings,
    areas: list[str] | None = None,
    *,
    instance: dg.DagsterInstance | None = None,
    on_step: Callable[[str], None] | None = None,
    report: bool = True,
) -> RunSummary:
    """Materialise every configured partition of the selected areas, then the report."""
    areas = areas or list(AREAS)
    defs = build_definitions(settings)
    assets = list(defs.assets or []) + list(defs.asset_checks or [])
    summary = RunSummary()

    def step(area: str, group: str, partition: str | None) -> None:
        if on_step:
            on_step(f"{area} {partition or ''}".strip())
        result = dg.materialize(
            assets,
            selection=dg.AssetSelection.groups(group),
            partition_key=partition,
            instance=instance,
            raise_on_error=False,
            tags={"ratedeck/area": area},
            run_config=QUIET_CONSOLE,
        )
        summary.steps.append(_outcome(area, partition, result))

    if "voice" in areas:
        for tech_prefix in settings.voice.tech_prefixes:
            step("voice", "voice", tech_prefix)
    if "sms" in areas:
        for channel in settings.sms.channels:
            step("sms", "sms", channel.key)
    if "balance" in areas:
        step("balance", "balance", None)
    if report and ("voice" in areas or "sms" in areas):
        step("report", "report", None)
    return summary


def _outcome(area: str, partition: str | None, result: dg.ExecuteInProcessResult) -> StepOutcome:
    metadata: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata[materialization.asset_key.to_user_string()] = {
            key: getattr(value, "value", value) for key, value in materialization.metadata.items()
        }
    failed_check = _failed_check(result)
    if result.success and failed_check is None:
        return StepOutcome(area, partition, True, metadata=metadata)
    return StepOutcome(area, partition, False, error=_failure_message(result), metadata=metadata)


def _failed_check(result: dg.ExecuteInProcessResult) -> str | None:
    """A failed blocking check stops the load; the run must count as failed too."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                return (
                    f"check {evaluation.check_name} failed: {evaluation.description or ''}".strip()
                )
    return None


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The root cause of the first failed check or step, as one line."""
    failed_check = _failed_check(result)
    if failed_check:
        return failed_check
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            return _one_line(error.message)
    return _failed_check(result) or "run failed"


def _one_line(message: str) -> str:
    # Dagster formats errors as "pkg.module.ErrorClass: message\n  traceback..."
    first = message.strip().splitlines()[0] if message.strip() else "error"
    head, sep, rest = first.partition(": ")
    return rest if sep and "." in head and " " not in head else first
