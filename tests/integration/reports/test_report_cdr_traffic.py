"""Issue 16.3: without a hand-made traffic profile, the finance email prices each change on
the customer's own costed calls (the last cdr.profile_days days, scaled to 30 days); each call
once, on its route. A hand-made profile still wins."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from support.reports import T0, T1, Rate

from pipeline.ingest.cdr import Routing, ingest_cdr
from pipeline.reports.voice import voice_section
from pipeline.stages.cdr import cost_day
from pipeline.warehouse.cdr import CDR_SNAPSHOT
from pipeline.warehouse.snapshot import IncomingSnapshot, load_snapshot

BASE = [Rate("44", "UK", "0.01"), Rate("4420", "London", "0.02"), Rate("353", "Ireland", "0.05")]
CHANGED = [Rate("44", "UK", "0.01"), Rate("4420", "London", "0.03"), Rate("353", "Ireland", "0.06")]
# call_id, dialled, start, billsec, disposition: Ireland 600 + 300 s on two days, London 90 s,
# one unanswered call (not billed, not traffic), one call on route 021001 (no change there)
CALLS = [
    ("i1", "35312345", "2026-11-10 10:00:00", 600, "ANSWERED"),
    ("i2", "35312345", "2026-11-11 10:00:00", 300, "ANSWERED"),
    ("l1", "442071234", "2026-11-11 11:00:00", 90, "ANSWERED"),
    ("n1", "442071234", "2026-11-11 12:00:00", 0, "NO ANSWER"),
    ("r1", "02100135399", "2026-11-11 13:00:00", 60, "ANSWERED"),
]


def master_csv() -> bytes:
    lines = []
    for call_id, dialled, start, billsec, disposition in CALLS:
        fields = ["", "1001", dialled, "ctx", "A", "c", "d", "Dial", "x", start, start, start]
        fields += [str(billsec), str(billsec), disposition, "DOCUMENTATION", call_id, ""]
        lines.append(",".join(fields))
    return ("\n".join(lines) + "\n").encode()


def import_and_cost(con, settings) -> None:
    data = master_csv()
    result = ingest_cdr(
        data, source="Master.csv", cdr_format="asterisk", routing=Routing(["021001"], "current")
    )
    incoming = IncomingSnapshot(
        source="asterisk",
        fetched_at=datetime(2026, 11, 12, tzinfo=UTC),
        content_sha256="ab" * 32,
        raw_path="raw/cdr/asterisk/x.csv",
        result=result,
    )
    load_snapshot(con, CDR_SNAPSHOT, incoming)
    for day in (date(2026, 11, 10), date(2026, 11, 11)):
        cost_day(con, settings, day, recost=False, who="test", why="test")


def impacts(section) -> dict:
    return {
        (r["tech_prefix"], r["prefix"]): (r["monthly_minutes"], r["monthly_impact"])
        for r in section.records
    }


def test_the_email_prices_changes_on_the_costed_calls(con, decks, settings):
    decks.snapshot("current", T0, BASE)
    decks.snapshot("current", T1, CHANGED)
    import_and_cost(con, settings)

    section = voice_section(con, settings, now=datetime(2026, 11, 12, tzinfo=UTC))
    assert section is not None and section.has_traffic
    # 2 days of calls scaled to 30: Ireland (600 + 300) s / 60 x 15 = 225 min; London 90 s
    # -> 22.5 min. The unanswered call adds nothing; route 021001's minute is not current's.
    assert impacts(section) == {
        ("current", "4420"): (Decimal("22.5"), Decimal("0.225")),
        ("current", "353"): (Decimal("225"), Decimal("2.25")),
    }
    assert any("4 costed call(s) of 2026-10-13 to 2026-11-11 (2 day(s)" in n for n in section.notes)


def test_a_hand_made_profile_still_wins(con, decks, settings, tmp_path):
    decks.snapshot("current", T0, BASE)
    decks.snapshot("current", T1, CHANGED)
    import_and_cost(con, settings)
    profile = tmp_path / "traffic.csv"
    profile.write_text("number,minutes_per_month\n35312345,1000\n")
    hand_made = settings.with_overrides(report={"traffic_profile": profile})

    section = voice_section(con, hand_made, now=datetime(2026, 11, 12, tzinfo=UTC))
    assert section is not None
    assert impacts(section)[("current", "353")] == (Decimal("1000"), Decimal("10"))
    assert impacts(section)[("current", "4420")] == (Decimal("0"), Decimal("0"))
    assert any("from traffic.csv" in n for n in section.notes)


def test_no_costed_calls_no_traffic(con, decks, settings):
    decks.snapshot("current", T0, BASE)
    decks.snapshot("current", T1, CHANGED)
    section = voice_section(con, settings, now=datetime(2026, 11, 12, tzinfo=UTC))
    assert section is not None and not section.has_traffic
