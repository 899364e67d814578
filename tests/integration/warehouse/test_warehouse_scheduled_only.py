"""A deck that lists only the future-dated row of a prefix (the carrier rolled its deck day over
before UTC midnight): the price in force continues until that row's date, and a change already
reported keeps its change_id and is not reported again. Real ingest (CSV text), the real loader,
voice_rate_change and the report ledger (report_change, written by a real outbox delivery)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from support.dated_decks import csv_deck
from support.dated_decks import load_csv_deck as load

from pipeline.reports import report_and_send
from pipeline.warehouse.voice import deck_at

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # baseline
T1 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # announces 44 -> 0.12 for Nov 3
T2 = datetime(2026, 11, 2, 22, 0, tzinfo=UTC)  # carrier already on Nov 3: only the new row
T3 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)  # after the date
NOV3 = datetime(2026, 11, 3, tzinfo=UTC)
D = Decimal


DAY0 = csv_deck(("UK", "44", "0.10", "2026-10-01"), ("Germany", "49", "0.05", "2026-10-01"))
DAY1 = csv_deck(
    ("UK", "44", "0.10", "2026-10-01"),
    ("UK", "44", "0.12", "2026-11-03"),
    ("Germany", "49", "0.05", "2026-10-01"),
)
ROLLED = csv_deck(("UK", "44", "0.12", "2026-11-03"), ("Germany", "49", "0.05", "2026-10-01"))


def change_rows(con) -> list[tuple]:
    return con.execute(
        "SELECT change_id, prefix, change_type, old_price, new_price, changed_at "
        "FROM voice_rate_change ORDER BY changed_at, prefix, change_type"
    ).fetchall()


def price_at(con, prefix: str, at: datetime) -> Decimal | None:
    deck = deck_at(con, "current", at)
    prices = deck.filter(deck["prefix"] == prefix)["price"].to_list()
    return prices[0] if prices else None


def test_scheduled_only_row_keeps_the_price_in_force_and_the_reported_change(con, settings):
    load(con, DAY0, T0)
    load(con, DAY1, T1)
    [announced] = change_rows(con)
    assert announced[1:] == ("44", "increase", D("0.1"), D("0.12"), NOV3)
    delivery = report_and_send(con, settings, now=T1)
    assert delivery is not None and delivery.status == "outboxed"

    rolled = load(con, ROLLED, T2)

    # the price in force continues until the new row's date; nothing closes at the fetch
    assert (rolled.closed, rolled.opened, rolled.withdrawn) == (0, 0, 0)
    assert price_at(con, "44", T2 + timedelta(hours=1)) == D("0.1")
    assert price_at(con, "44", NOV3) == D("0.12")
    # the change already reported is not rewritten: same change_id, nothing new to send
    assert change_rows(con) == [announced]
    reported = con.execute("SELECT change_id FROM report_change WHERE kind = 'voice'").fetchall()
    assert reported == [(announced[0],)]
    assert report_and_send(con, settings, now=T2) is None

    # after the date the deck lists the same row (now in force): still nothing changes
    after = load(con, ROLLED, T3)
    assert (after.closed, after.opened, after.withdrawn) == (0, 0, 0)
    assert change_rows(con) == [announced]
    assert report_and_send(con, settings, now=T3) is None


def test_first_sight_of_a_scheduled_only_row_is_a_change_at_its_date(con):
    load(con, DAY0, T0)

    rolled = load(con, ROLLED, T2)

    assert (rolled.closed, rolled.opened) == (0, 1)
    assert price_at(con, "44", T2 + timedelta(hours=1)) == D("0.1")
    assert price_at(con, "44", NOV3) == D("0.12")
    assert [r[1:] for r in change_rows(con)] == [("44", "increase", D("0.1"), D("0.12"), NOV3)]


def test_a_prefix_gone_without_a_future_row_still_closes_at_the_fetch(con):
    load(con, DAY0, T0)

    gone = load(con, csv_deck(("UK", "44", "0.10", "2026-10-01")), T2)

    assert gone.closed == 1
    assert price_at(con, "49", T2) is None
    assert [r[1:] for r in change_rows(con)] == [("49", "removed", D("0.05"), None, T2)]
