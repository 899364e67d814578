"""Every analyst example in sql/examples/ runs on a small published warehouse and says
something true about it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.commands.sql import run_query

EXAMPLES = Path(__file__).resolve().parents[3] / "sql" / "examples"
D = Decimal


def check_deck_as_of(rows: list[dict], now: datetime) -> None:
    assert [(r["prefix"], r["price"]) for r in rows] == [
        ("1", D("0.01")),
        ("44", D("0.1")),
        ("4420", D("0.2")),
        ("49", D("0.05")),
    ]


def check_price_history(rows: list[dict], now: datetime) -> None:
    assert [(r["price"], r["valid_to"], r["withdrawn"]) for r in rows] == [
        (D("0.2"), now - timedelta(days=1), False),
        (D("0.3"), None, False),
    ]


def check_biggest_increases_7d(rows: list[dict], now: datetime) -> None:
    assert [(r["prefix"], r["price_change_pct"]) for r in rows] == [
        ("4420", D("50.0000")),
        ("44", D("20.0000")),
    ]


def check_call_cost_on_day(rows: list[dict], now: datetime) -> None:
    # 95 s on 4420 (60/60) is billed 120 s; 0.20/min then -> 0.40
    assert len(rows) == 1
    row = rows[0]
    assert (row["number"], row["matched_prefix"], row["billed_seconds"]) == (
        "442071234567",
        "4420",
        120,
    )
    assert (row["price"], row["cost"]) == (D("0.2"), D("0.4"))


def check_snapshots_per_tech_prefix(rows: list[dict], now: datetime) -> None:
    assert [(r["tech_prefix"], r["snapshots"], r["last_row_count"]) for r in rows] == [
        ("021001", 1, 1),
        ("current", 3, 6),
    ]


def check_upcoming_changes(rows: list[dict], now: datetime) -> None:
    assert [(r["prefix"], r["change_type"], r["new_price"], r["notice_days"]) for r in rows] == [
        ("1", "increase", D("0.02"), D("8.00")),
    ]


# file -> (variables set before it, check)
EXPECTED: dict[str, tuple[Callable[[datetime], str], Callable]] = {
    "deck_as_of.sql": (
        lambda now: f"SET VARIABLE as_of = TIMESTAMPTZ '{now - timedelta(days=5)}';",
        check_deck_as_of,
    ),
    "price_history.sql": (lambda now: "SET VARIABLE prefix = '4420';", check_price_history),
    "biggest_increases_7d.sql": (lambda now: "", check_biggest_increases_7d),
    "call_cost_on_day.sql": (
        lambda now: (
            "SET VARIABLE number = '0044 (20) 7123-4567'; SET VARIABLE seconds = 95; "
            f"SET VARIABLE call_at = TIMESTAMPTZ '{now - timedelta(days=5)}';"
        ),
        check_call_cost_on_day,
    ),
    "snapshots_per_tech_prefix.sql": (lambda now: "", check_snapshots_per_tech_prefix),
    "upcoming_changes.sql": (lambda now: "", check_upcoming_changes),
}


def test_every_example_has_a_check():
    assert sorted(p.name for p in EXAMPLES.glob("*.sql")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example(name, populated, now):
    variables, check = EXPECTED[name]
    columns, rows = run_query(populated, variables(now) + (EXAMPLES / name).read_text())
    check([dict(zip(columns, row, strict=True)) for row in rows], now)


def test_examples_run_with_their_defaults(populated):
    for path in sorted(EXAMPLES.glob("*.sql")):
        columns, _ = run_query(populated, path.read_text())
        assert columns, path.name


HEADER_SET = re.compile(r"^--\s+SET VARIABLE (\w+) = (.+?);", re.M)
BODY_DEFAULT = re.compile(r"coalesce\(getvariable\('(\w+)'\)(?:::\w+)?, (.+?)\)")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_header_shows_each_parameter_with_its_default(name):
    """Each example's header says its parameters are "shown with their defaults": the SET
    lines must be the values the query falls back to (analysts.md#example-queries)."""
    text = (EXAMPLES / name).read_text()
    header = "".join(line for line in text.splitlines(True) if line.startswith("--"))
    shown = dict(HEADER_SET.findall(header))
    assert shown == dict(BODY_DEFAULT.findall(text))
    assert not shown or "shown with their defaults" in header
