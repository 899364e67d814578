"""A refused row is not a removal: a deck row (or SMS rate) ingest refused keeps its key's
version in force, with no change row, and the reject stays recorded with its reason.

Real ingest (CSV and JSON bytes) into a real (in-memory) DuckDB warehouse.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipeline.analytics.diff import sms_changes, voice_changes
from pipeline.ingest.errors import TooManyRejectsError
from pipeline.ingest.sms import normalize_sms_rates
from pipeline.ingest.voice import check_rejects, normalize_voice_deck
from pipeline.stages.checks import row_count_not_collapsed
from pipeline.warehouse.sms import SMS_SNAPSHOT
from pipeline.warehouse.snapshot import IncomingSnapshot, SnapshotLoad, load_snapshot
from pipeline.warehouse.voice import load_voice_snapshot

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
D = Decimal
SDF_DECK = Path(__file__).parents[2] / "fixtures" / "realdata" / "decal_sdf-outbound-rates.csv"
IRELAND_MOBILE = b"IRELAND - MOBILE - OTHER CARRIERS,35389,30,6,0.2112,"


def deck(*rows: str) -> bytes:
    return ("destination,prefix,price,effective date\n" + "\n".join(rows) + "\n").encode()


def load_csv(con: duckdb.DuckDBPyConnection, data: bytes, fetched_at: datetime) -> SnapshotLoad:
    result = normalize_voice_deck(data, source="deck.csv")
    return load_voice_snapshot(
        con,
        tech_prefix="current",
        default_currency="USD",
        fetched_at=fetched_at,
        content_sha256=f"sha-{fetched_at.isoformat()}",
        raw_path=f"raw/voice/current/{fetched_at:%Y%m%dT%H%M%S}.csv",
        result=result,
    )


def versions(con: duckdb.DuckDBPyConnection, prefix: str) -> list[tuple]:
    return con.execute(
        "SELECT price, valid_from, valid_to, withdrawn_at FROM voice_rate "
        "WHERE prefix = ? ORDER BY valid_from, withdrawn_at NULLS FIRST",
        [prefix],
    ).fetchall()


def change_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT prefix, change_type FROM voice_rate_change ORDER BY changed_at, prefix"
    ).fetchall()


def test_a_refused_row_keeps_its_price_in_force(con):
    """Was: the refused prefix closed as 'removed' (a false removal in the finance email)."""
    load_csv(con, deck("UK,44,0.1,", "UK Mobile,447,0.2,", "Germany,49,0.3,"), T0)

    loaded = load_csv(con, deck("UK,44,0.1,", "UK Mobile,447,n/a,", "Germany,49,0.3,"), T0 + DAY)

    assert versions(con, "447") == [(D("0.2"), T0, None, None)]
    assert change_rows(con) == []
    assert (loaded.opened, loaded.closed, loaded.kept_refused) == (0, 0, 1)
    assert voice_changes(con, unreported_only=True).is_empty()  # what the email reports
    assert con.execute(
        "SELECT refused_key, reason FROM ingest_reject WHERE snapshot_id = ?",
        [loaded.snapshot_id],
    ).fetchall() == [("447", "price: not a number 'n/a'")]
    assert con.execute(
        "SELECT rates_kept_refused FROM voice_snapshot ORDER BY snapshot_id"
    ).fetchall() == [(0,), (1,)]


def test_a_carried_price_changes_and_goes_as_usual_afterwards(con):
    load_csv(con, deck("UK,44,0.1,", "UK Mobile,447,0.2,"), T0)
    load_csv(con, deck("UK,44,0.1,", "UK Mobile,447,,"), T0 + DAY)
    load_csv(con, deck("UK,44,0.1,", "UK Mobile,447,0.25,"), T0 + 2 * DAY)
    gone = load_csv(con, deck("UK,44,0.1,"), T0 + 3 * DAY)

    assert gone.closed == 1
    assert versions(con, "447") == [
        (D("0.2"), T0, T0 + 2 * DAY, None),
        (D("0.25"), T0 + 2 * DAY, T0 + 3 * DAY, None),
    ]
    assert change_rows(con) == [("447", "increase"), ("447", "removed")]


def test_a_refused_row_does_not_withdraw_a_scheduled_version(con):
    later = datetime(2026, 11, 11, tzinfo=UTC)
    load_csv(con, deck("UK,44,0.1,", "UK Mobile,447,0.2,", "UK Mobile,447,0.3,2026-11-11"), T0)

    loaded = load_csv(
        con, deck("UK,44,0.1,", "UK Mobile,447,0.2x,", "UK Mobile,447,,2026-11-11"), T0 + DAY
    )

    assert (loaded.closed, loaded.withdrawn, loaded.kept_refused) == (0, 0, 1)
    assert versions(con, "447") == [(D("0.2"), T0, later, None), (D("0.3"), later, None, None)]
    assert change_rows(con) == []  # announced in the baseline (no change), not withdrawn


def test_conflicting_duplicates_keep_the_price_in_force(con):
    load_csv(con, deck("UK,44,0.1,", "UK Mobile,447,0.2,"), T0)

    loaded = load_csv(con, deck("UK,44,0.1,", "UK Mobile,447,0.2,", "UK Mobile,447,0.9,"), T0 + DAY)

    assert loaded.kept_refused == 1
    assert versions(con, "447") == [(D("0.2"), T0, None, None)]
    assert change_rows(con) == []


def test_a_refused_prefix_never_priced_opens_nothing(con):
    loaded = load_csv(con, deck("UK,44,0.1,", "UK Mobile,447,n/a,"), T0)

    assert (loaded.opened, loaded.kept_refused) == (1, 0)
    assert versions(con, "447") == []


def test_a_row_whose_prefix_is_refused_names_no_key(con):
    """Which prefix '44 7a' meant is unknown: nothing is kept for it (the reject says why)."""
    load_csv(con, deck("UK,44,0.1,", "UK Mobile,447,0.2,"), T0)

    loaded = load_csv(con, deck("UK,44,0.1,", "UK Mobile,44 7a,0.2,"), T0 + DAY)

    assert (loaded.closed, loaded.kept_refused) == (1, 0)
    assert con.execute(
        "SELECT refused_key FROM ingest_reject WHERE snapshot_id = ?", [loaded.snapshot_id]
    ).fetchall() == [(None,)]


def test_the_real_sdf_deck_with_one_bad_price(con):
    """The auditor's case: SDF's Ireland Mobile row (35389) downloaded again with 'n/a'."""
    data = SDF_DECK.read_bytes()
    assert data.count(IRELAND_MOBILE) == 1
    first = load_csv(con, data, T0)
    bad = data.replace(IRELAND_MOBILE, IRELAND_MOBILE.replace(b"0.2112", b"n/a"))

    second = load_csv(con, bad, T0 + DAY)

    assert versions(con, "35389") == [(D("0.2112"), T0, None, None)]
    assert change_rows(con) == []
    assert voice_changes(con).is_empty()
    assert (second.row_count, second.reject_count) == (first.row_count - 1, first.reject_count + 1)
    assert (second.opened, second.closed, second.withdrawn, second.kept_refused) == (0, 0, 0, 1)


def test_the_reject_guards_still_refuse_a_mostly_refused_deck():
    """Carrying refused rows does not loosen max_reject_fraction or max_row_drop_fraction: the
    valid rows are what they count."""
    good = [f"Dest {n},{n},0.1," for n in range(100, 120)]
    refused = [f"Dest {n},{n},n/a," for n in range(120, 180)]
    result = normalize_voice_deck(deck(*good, *refused), source="deck.csv")

    with pytest.raises(TooManyRejectsError, match="60 of 80 rows rejected"):
        check_rejects(result, 0.01, "deck.csv")
    collapsed = row_count_not_collapsed(result.rows.height, 80, 0.2)
    assert (collapsed.passed, collapsed.metadata["rows"]) == (False, 20)


# -- SMS --------------------------------------------------------------------------------------
def load_sms(con: duckdb.DuckDBPyConnection, items: list[dict], fetched_at: datetime):
    result = normalize_sms_rates(json.dumps(items).encode(), source="sms.json")
    incoming = IncomingSnapshot(
        source="acme:1",
        fetched_at=fetched_at,
        content_sha256=f"sha-{fetched_at.isoformat()}",
        raw_path="raw/sms/acme_1/x.json",
        result=result,
    )
    return load_snapshot(con, SMS_SNAPSHOT, incoming)


def sms_versions(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT mcc_int, mnc_int, rate, valid_from, valid_to FROM sms_rate ORDER BY ALL"
    ).fetchall()


def test_a_refused_sms_rate_keeps_its_pair(con):
    """Was: the pair closed, and the email listed it as removed."""
    load_sms(con, [{"mcc": 272, "mnc": 3, "rate": 0.05}, {"mcc": 262, "mnc": 1, "rate": 0.07}], T0)

    loaded = load_sms(
        con, [{"mcc": 272, "mnc": 3, "rate": "n/a"}, {"mcc": 262, "mnc": 1, "rate": 0.07}], T0 + DAY
    )

    assert sms_versions(con) == [(262, 1, D("0.07"), T0, None), (272, 3, D("0.05"), T0, None)]
    assert sms_changes(con, unreported_only=True).is_empty()
    assert (loaded.closed, loaded.kept_refused) == (0, 1)
    assert con.execute(
        "SELECT refused_key FROM ingest_reject WHERE snapshot_id = ?", [loaded.snapshot_id]
    ).fetchall() == [("272-3",)]


def test_a_conflicting_sms_duplicate_keeps_its_pair(con):
    germany = {"mcc": 262, "mnc": 1, "rate": 0.07}
    load_sms(con, [{"mcc": 272, "mnc": 3, "rate": 0.05}, germany], T0)

    loaded = load_sms(
        con,
        [{"mcc": 272, "mnc": 3, "rate": 0.05}, {"mcc": 272, "mnc": 3, "rate": 0.06}, germany],
        T0 + DAY,
    )

    assert (loaded.closed, loaded.kept_refused) == (0, 1)
    assert sms_versions(con) == [(262, 1, D("0.07"), T0, None), (272, 3, D("0.05"), T0, None)]
