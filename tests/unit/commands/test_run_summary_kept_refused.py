"""`ratedeck run`'s summary says how many refused rows kept their previous price."""

from __future__ import annotations

from pipeline.commands.run import _step_row, summary_line, totals
from pipeline.orchestrate import RunSummary, StepOutcome


def voice_step(partition: str, kept: int) -> StepOutcome:
    history = {"rows": 10, "rejects": 1, "changes": 0, "change_types": "none"}
    return StepOutcome(
        "voice",
        partition,
        ok=True,
        metadata={"voice_rate_history": {**history, "rates_kept_refused": kept}},
    )


def test_the_totals_and_the_step_say_how_many_refused_rows_kept_their_price():
    summary = RunSummary([voice_step("current", 1), voice_step("021001", 0)])

    counted = totals(summary)

    assert counted["kept_refused"] == 1
    assert summary_line(counted).endswith(
        "; 1 refused row kept its previous price (not removed; reasons in ingest_reject)"
    )
    assert _step_row(summary.steps[0])[-1] == (
        "1 refused row kept its previous price (not removed; reasons in ingest_reject)"
    )
    assert _step_row(summary.steps[1])[-1] == ""
