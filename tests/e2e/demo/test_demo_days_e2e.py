"""``ratedeck demo --days 3``: a third market day continues the market, reconciles and sends its
own finance email (one voice tech prefix, no SMS: a few Dagster runs a day)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from support.demo import SMALL_DEMO_TOML, query

pytestmark = pytest.mark.slow  # a real three-day demo: tens of seconds


def test_demo_days_3_continues_the_market_with_an_email_per_day(ratedeck, tmp_path):
    config = tmp_path / "one-deck.toml"
    config.write_text(SMALL_DEMO_TOML)
    data_dir = tmp_path / "data"

    result = ratedeck(
        "demo", "--json", "--days", "3", "--deck-size", "400", "--config", str(config),
        cwd=tmp_path, RATEDECK_DATA_DIR=str(data_dir),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-3000:]
    doc = json.loads(result.stdout)
    assert [d["label"] for d in doc["days"]] == ["day 1 (baseline)", "day 2", "day 3"]
    day1, day2, day3 = (date.fromisoformat(d["market_date"]) for d in doc["days"])
    assert (day2 - day1, day3 - day2) == (timedelta(days=1), timedelta(days=1))
    assert day3 == date.fromisoformat(doc["days"][2]["demo_clock_start"][:10])  # ends today

    # one email per day from day 2 on, with that day's changes; each change in exactly one
    changes = [d["totals"]["voice_changes"] for d in doc["days"]]
    assert changes[0] == 0 and changes[2] > 0
    emails = {str(e) for e in (data_dir / "outbox").glob("*.eml")}
    assert doc["days"][0]["email"] is None
    assert emails == {doc["days"][1]["email"], doc["days"][2]["email"]}
    sent = query(
        data_dir,
        "SELECT l.target, l.change_count, count(r.change_id), count(v.change_id)"
        " FROM report_log l JOIN report_change r USING (report_id)"
        " LEFT JOIN voice_rate_change v ON v.change_id = r.change_id AND r.kind = 'voice'"
        " GROUP BY ALL ORDER BY min(l.report_id)",
    )
    # every change emailed is in voice_rate_change, a day-2 announcement withdrawn on day 3
    # included (kept there with withdrawn_at set)
    assert sent == [
        (doc["days"][1]["email"], changes[1], changes[1], changes[1]),
        (doc["days"][2]["email"], changes[2], changes[2], changes[2]),
    ]
    [(reported, distinct)] = query(
        data_dir, "SELECT count(*), count(DISTINCT (kind, change_id)) FROM report_change"
    )
    assert reported == distinct == changes[1] + changes[2]
    assert doc["what_changed"]["email"] == doc["days"][2]["email"]

    # day 1 and day 3 reconcile, day 2 has the carrier's billing errors
    reconciles = [
        (date.fromisoformat(r["day"]), r["within_tolerance"]) for r in doc["reconciliation"]
    ]
    assert reconciles == [(day1, True), (day2, False), (day3, True)]
