"""Helpers for the CDR integration tests (a uniquely named module): settings on a tmp data
dir, a rate history written into the real warehouse, CDR files written as the switch would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse
from support.lookup_reference import Version, reference_billed, reference_cost, reference_match
from support.warehouse_template import start_warehouse

DAY = datetime(2026, 12, 1, tzinfo=UTC)
NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

# (tech_prefix, prefix, destination, price, a, b, valid_from, valid_to)
HISTORY = [
    ("current", "44", "UK", "0.1", 1, 1, EPOCH, None),
    ("current", "4420", "London", "0.2", 60, 60, EPOCH, NOON),
    ("current", "4420", "London", "0.25", 60, 60, NOON, None),  # a change at noon
    ("current", "442079", "London centre", "0.3", 30, 6, EPOCH, None),
    ("current", "353", "Ireland", "0.05", 1, 1, EPOCH, None),
    ("021001", "44", "UK", "0.12345678", 60, 1, EPOCH, None),
    ("021001", "353", "Ireland", "0.04", 30, 30, EPOCH, None),
]


def cdr_settings(data_dir: Path, **cdr: object) -> Settings:
    return Settings().with_overrides(
        paths={"data_dir": str(data_dir)},
        voice={"tech_prefixes": ["current", "021001"]},
        cdr={"max_reject_fraction": 0.5, **cdr},
    )


def insert_history(settings: Settings, rows: list[tuple]) -> None:
    """Rate versions straight into voice_rate (what the voice feed's history holds)."""
    start_warehouse(settings)  # a new warehouse from the migrated template, not migrated again
    with Warehouse(settings).writer() as con:
        for tp, prefix, destination, price, a, b, valid_from, valid_to in rows:
            con.execute(
                "INSERT INTO voice_rate (tech_prefix, prefix, destination, price, "
                "initial_seconds, increment_seconds, currency, valid_from, valid_to, "
                "first_seen_at, first_snapshot_id) VALUES (?, ?, ?, ?, ?, ?, 'USD', ?, ?, ?, 1)",
                [tp, prefix, destination, Decimal(price), a, b, valid_from, valid_to, valid_from],
            )


def asterisk_line(call_id: str, dialled: str, start: datetime, billsec: int, answered=True) -> str:
    """One Master.csv line (cdr-csv column order), times as the switch writes them."""
    stamp = start.strftime("%Y-%m-%d %H:%M:%S")
    disposition = "ANSWERED" if answered else "NO ANSWER"
    fields = ["", "1001", dialled, "from-internal", "Alice <1001>", "PJSIP/1001-1", "PJSIP/cp-2"]
    fields += ["Dial", f"PJSIP/{dialled}@cp", stamp, stamp if answered else "", stamp]
    fields += [str(billsec + 3), str(billsec), disposition, "DOCUMENTATION", call_id, ""]
    return ",".join(f'"{f}"' for f in fields) + "\n"


def write_master(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines), encoding="utf-8")
    return path


def query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with Warehouse(settings).reader() as con:
        return con.execute(sql, params or []).fetchall()


def generated_calls(
    count: int, seed: int = 16, days: int = 1
) -> list[tuple[str, str, datetime, int, bool]]:
    """(call_id, dialled, start, billsec, answered): numbers across nested prefixes, the noon
    price change, both tech prefixes (dialled 021001 + number), unmatched and unanswered;
    starts spread over ``days`` UTC days from DAY."""
    rng = random.Random(seed)
    heads = ["442079", "4420", "44", "353", "1212", "4420794", "3538"]
    calls = []
    for i in range(count):
        number = rng.choice(heads) + "".join(rng.choice("0123456789") for _ in range(6))
        dialled = ("021001" + number) if rng.random() < 0.4 else number
        start = DAY + timedelta(seconds=rng.randrange(86400 * days))
        billsec = rng.choice([0, 1, 29, 30, 31, 59, 60, 61, 125, rng.randrange(3600)])
        calls.append((f"g{i}", dialled, start, billsec, rng.random() < 0.9))
    return calls


def reference_matches(calls, history: list[tuple] = HISTORY):
    """Brute force: dict of versions per tech prefix, LPM by hand. Per billable call:
    (call_id, tech_prefix, billsec, the Version it is rated on or None)."""
    decks: dict[str, list[Version]] = {}
    for tp, prefix, dest, price, a, b, valid_from, valid_to in history:
        decks.setdefault(tp, []).append(
            Version(prefix, dest, Decimal(price), a, b, valid_from, valid_to)
        )
    for call_id, dialled, start, billsec, answered in calls:
        if not answered or billsec == 0:
            continue  # not billable: never costed
        tp, number = (
            ("021001", dialled[6:]) if dialled.startswith("021001") else ("current", dialled)
        )
        yield call_id, tp, billsec, reference_match(decks.get(tp, []), number, start)


def reference_versions(calls, history: list[tuple] = HISTORY) -> dict[str, tuple]:
    """Per billable call, the version it is rated on: (initial and increment seconds,
    valid_from), Nones when no prefix matched."""
    return {
        call_id: (None, None, None)
        if version is None
        else (version.initial, version.increment, version.valid_from)
        for call_id, _tp, _billsec, version in reference_matches(calls, history)
    }


def reference_costs(calls, history: list[tuple] = HISTORY) -> dict[str, tuple]:
    """Decimal money on ``reference_matches``. Per billable call: (tech_prefix, matched
    prefix, price, billed seconds, cost)."""
    expected = {}
    for call_id, tp, billsec, version in reference_matches(calls, history):
        if version is None:
            expected[call_id] = (tp, None, None, None, None)
            continue
        billed = reference_billed(billsec, version.initial, version.increment)
        cost = reference_cost(version.price, billed, 6)
        expected[call_id] = (tp, version.prefix, version.price, billed, cost)
    return expected


def warehouse_history(settings: Settings) -> list[tuple]:
    """voice_rate as the warehouse holds it now, in HISTORY's shape (withdrawn versions left
    out, as costing leaves them out): the reference prices against what was committed."""
    return query(
        settings,
        "SELECT tech_prefix, prefix, destination, CAST(price AS VARCHAR), initial_seconds, "
        "increment_seconds, valid_from, valid_to FROM voice_rate "
        "WHERE valid_to IS NULL OR valid_to > valid_from",
    )


def assert_same_outcome(new: tuple, old: tuple) -> None:
    """Two ingests' outcomes, ``(rows, rejects, total, format)`` or a refusal ``(type,
    message)``, are the same: the same refusal, or the same rows (schema and values), rejects
    and counts."""
    if isinstance(old[0], str) or isinstance(new[0], str):
        assert new == old
        return
    assert new[2:] == old[2:]
    assert new[0].schema == old[0].schema
    assert new[0].to_dicts() == old[0].to_dicts()
    assert new[1].to_dicts() == old[1].to_dicts()
