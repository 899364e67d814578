"""A change already derived (and reported) stays in voice_rate_change when the carrier takes it
back: same change_id, same values, flagged with withdrawn_at; the withdrawal is reported once as
its own row and the withdrawn change is never reported again. Real ingest (CSV text), the real
loader, voice_rate_change and the report ledger (report_change, written by a real outbox
delivery)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from support.dated_decks import csv_deck
from support.dated_decks import load_csv_deck as load

from pipeline.reports import report_and_send

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # baseline
T1 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # announces three changes for Nov 10; reported
T2 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)  # announces a fourth; not reported before T3
T3 = datetime(2026, 11, 4, 6, 0, tzinfo=UTC)  # withdraws all four, re-prices 49's
NOV10 = datetime(2026, 11, 10, tzinfo=UTC)
D = Decimal

UK, DE, LONDON, FR = (
    ("UK", "44", "0.10", "2026-10-01"),
    ("Germany", "49", "0.05", "2026-10-01"),
    ("London", "4420", "0.20", "2026-11-10"),
    ("France", "33", "0.08", "2026-10-01"),
)
UK_UP, DE_UP, FR_UP = (
    ("UK", "44", "0.12", "2026-11-10"),
    ("Germany", "49", "0.06", "2026-11-10"),
    ("France", "33", "0.09", "2026-11-10"),
)
DE_UP_MORE = ("Germany", "49", "0.07", "2026-11-10")


COLUMNS = (
    "change_id, prefix, change_type, old_price, new_price, price_change_pct, changed_at, "
    "announced_at, notice_days, snapshot_id, old_call_cost, new_call_cost, direction"
)


def change_rows(con) -> dict[str, tuple]:
    rows = con.execute(f"SELECT {COLUMNS} FROM voice_rate_change").fetchall()  # noqa: S608
    return {row[0]: row for row in rows}


def withdrawn_at(con) -> dict[str, datetime | None]:
    return dict(con.execute("SELECT change_id, withdrawn_at FROM voice_rate_change").fetchall())


def reported(con, report_id: int | None = None) -> set[str]:
    rows = con.execute(
        "SELECT change_id FROM report_change WHERE kind = 'voice' AND (? IS NULL OR report_id = ?)",
        [report_id, report_id],
    ).fetchall()
    return {row[0] for row in rows}


def test_a_reported_change_stays_with_its_values_when_withdrawn(con, settings):
    load(con, csv_deck(UK, DE, FR), T0)
    load(con, csv_deck(UK, UK_UP, DE, DE_UP, LONDON, FR), T1)
    first = report_and_send(con, settings, now=T1)
    assert first is not None and first.status == "outboxed"
    sent = change_rows(con)
    assert sorted(r[1:5] for r in sent.values()) == [
        ("44", "increase", D("0.1"), D("0.12")),
        ("4420", "new", None, D("0.2")),
        ("49", "increase", D("0.05"), D("0.06")),
    ]
    assert reported(con) == set(sent)
    load(con, csv_deck(UK, UK_UP, DE, DE_UP, LONDON, FR, FR_UP), T2)
    announced = change_rows(con)
    [france] = set(announced) - set(sent)

    load(con, csv_deck(UK, DE, DE_UP_MORE, FR), T3)

    # every change ever derived is still there, with its id and values, flagged
    now = change_rows(con)
    for change_id, row in announced.items():
        assert now[change_id] == row
        assert withdrawn_at(con)[change_id] == T3
    assert con.execute(
        "SELECT count(*) FROM report_change r WHERE NOT EXISTS ("
        " SELECT 1 FROM voice_rate_change v WHERE v.change_id = r.change_id)"
    ).fetchall() == [(0,)]
    # the withdrawals and 49's new price are the only news, reported once each
    news = {k: r for k, r in now.items() if k not in sent and k != france}
    assert sorted(r[1:5] for r in news.values()) == [
        ("33", "withdrawn", D("0.09"), None),
        ("44", "withdrawn", D("0.12"), None),
        ("4420", "withdrawn", D("0.2"), None),
        ("49", "increase", D("0.05"), D("0.07")),
        ("49", "withdrawn", D("0.06"), None),
    ]
    assert all(withdrawn_at(con)[k] is None for k in news)
    second = report_and_send(con, settings, now=T3)
    assert second is not None
    second_id = con.execute("SELECT max(report_id) FROM report_log").fetchall()[0][0]
    assert reported(con, second_id) == set(news)
    assert report_and_send(con, settings, now=T3 + timedelta(hours=1)) is None
