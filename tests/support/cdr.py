"""Helpers for the CDR integration tests (a uniquely named module): settings on a tmp data
dir, a rate history written into the real warehouse, CDR files written as the switch would."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse

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
