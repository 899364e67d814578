"""apply_snapshot on a table of another shape: SMS-like (channel scope, (mcc, mnc) key, no
effective dates), to prove the machinery is not voice-specific."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from pipeline.warehouse.errors import SnapshotLoadError
from pipeline.warehouse.history import HistorySpec, apply_snapshot, transaction

SPEC = HistorySpec(
    table="demo_sms_rate",
    scope_columns=("channel",),
    key_columns=("mcc", "mnc"),
    value_columns=("rate",),
)
T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def sms_con():
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE demo_sms_rate (
               channel VARCHAR NOT NULL, mcc INTEGER NOT NULL, mnc INTEGER NOT NULL,
               rate DECIMAL(18, 8) NOT NULL,
               valid_from TIMESTAMPTZ NOT NULL, valid_to TIMESTAMPTZ,
               first_seen_at TIMESTAMPTZ NOT NULL, first_snapshot_id BIGINT NOT NULL,
               closed_snapshot_id BIGINT, withdrawn_at TIMESTAMPTZ)"""
    )
    yield con
    con.close()


def frame(*rows: tuple[int, int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "mcc": [r[0] for r in rows],
            "mnc": [r[1] for r in rows],
            "rate": [Decimal(r[2]) for r in rows],
        },
        schema={"mcc": pl.Int32, "mnc": pl.Int32, "rate": pl.Decimal(18, 8)},
    )


def apply(con, channel: str, deck: pl.DataFrame, snapshot_id: int, at: datetime):
    with transaction(con):
        return apply_snapshot(
            con, SPEC, {"channel": channel}, deck, snapshot_id=snapshot_id, fetched_at=at
        )


def versions(con) -> list[tuple]:
    return con.execute(
        "SELECT channel, mcc, mnc, rate, valid_from, valid_to, first_snapshot_id, "
        "closed_snapshot_id FROM demo_sms_rate ORDER BY channel, mcc, mnc, valid_from"
    ).fetchall()


def test_composite_key_history(sms_con):
    apply(sms_con, "acme:1", frame((234, 10, "0.01"), (234, 15, "0.02"), (262, 1, "0.03")), 1, T0)
    stats = apply(sms_con, "acme:1", frame((234, 10, "0.01"), (234, 15, "0.025")), 2, T0 + DAY)

    assert (stats.opened, stats.closed, stats.withdrawn, stats.unchanged) == (1, 2, 0, 1)
    assert versions(sms_con) == [
        ("acme:1", 234, 10, Decimal("0.01"), T0, None, 1, None),
        ("acme:1", 234, 15, Decimal("0.02"), T0, T0 + DAY, 1, 2),
        ("acme:1", 234, 15, Decimal("0.025"), T0 + DAY, None, 2, None),
        ("acme:1", 262, 1, Decimal("0.03"), T0, T0 + DAY, 1, 2),
    ]


def test_unchanged_list_adds_nothing_and_channels_are_separate(sms_con):
    deck = frame((234, 10, "0.01"))
    apply(sms_con, "acme:1", deck, 1, T0)
    apply(sms_con, "acme:2", frame((234, 10, "0.05")), 2, T0)
    stats = apply(sms_con, "acme:1", deck, 3, T0 + DAY)

    assert (stats.opened, stats.unchanged) == (0, 1)
    assert [v[:4] for v in versions(sms_con)] == [
        ("acme:1", 234, 10, Decimal("0.01")),
        ("acme:2", 234, 10, Decimal("0.05")),
    ]


def test_same_key_twice_is_refused(sms_con):
    with pytest.raises(SnapshotLoadError, match="same row twice"):
        apply(sms_con, "acme:1", frame((234, 10, "0.01"), (234, 10, "0.02")), 1, T0)
    assert versions(sms_con) == []


def test_frame_without_a_key_column_is_refused(sms_con):
    with pytest.raises(SnapshotLoadError, match="lacks column"):
        apply(sms_con, "acme:1", frame((234, 10, "0.01")).drop("mnc"), 1, T0)


def test_spec_refuses_identifiers_that_are_not_plain():
    with pytest.raises(ValueError, match="identifier"):
        HistorySpec("rate; DROP TABLE x", ("channel",), ("mcc",), ("rate",))


DATED_SPEC = HistorySpec(
    table="demo_sms_rate_dated",
    scope_columns=("channel",),
    key_columns=("mcc", "mnc"),
    value_columns=("rate",),
    effective_column="effective_at",
)


def test_scheduled_only_row_keeps_the_composite_key_priced_until_its_date(sms_con):
    sms_con.execute(
        "CREATE TABLE demo_sms_rate_dated AS SELECT *, CAST(NULL AS TIMESTAMPTZ) AS effective_at "
        "FROM demo_sms_rate"
    )

    def dated(*rows: tuple[int, int, str, datetime | None]) -> pl.DataFrame:
        plain = frame(*(r[:3] for r in rows))
        return plain.with_columns(
            pl.Series("effective_at", [r[3] for r in rows], dtype=pl.Datetime("us", "UTC"))
        )

    def apply_dated(deck, snapshot_id, at):
        with transaction(sms_con):
            return apply_snapshot(
                sms_con,
                DATED_SPEC,
                {"channel": "a:1"},
                deck,
                snapshot_id=snapshot_id,
                fetched_at=at,
            )

    due = T0 + 2 * DAY
    apply_dated(dated((272, 1, "0.05", None), (272, 2, "0.06", None)), 1, T0)
    stats = apply_dated(dated((272, 1, "0.07", due), (272, 2, "0.06", None)), 2, T0 + DAY)

    assert (stats.opened, stats.closed) == (1, 0)
    rows = sms_con.execute(
        "SELECT mcc, mnc, rate, valid_from, valid_to FROM demo_sms_rate_dated "
        "WHERE mnc = 1 ORDER BY valid_from"
    ).fetchall()
    assert rows == [(272, 1, Decimal("0.05"), T0, due), (272, 1, Decimal("0.07"), due, None)]


def test_transaction_commits_and_a_rollback_one_keeps_nothing():
    """``rollback=True`` (a dry run) does the work and keeps none of it; a failure rolls back."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    with transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
    with transaction(con, rollback=True):
        con.execute("INSERT INTO t VALUES (2)")
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(2,)]
    with pytest.raises(ValueError, match="boom"), transaction(con, rollback=True):
        con.execute("INSERT INTO t VALUES (3)")
        raise ValueError("boom")
    assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
