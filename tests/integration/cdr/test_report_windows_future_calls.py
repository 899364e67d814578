"""A call dated after the report's today (a switch or carrier clock running ahead) moves
neither of the finance email's windows: the 7-day reconciliation and the 30-day traffic profile
both end on the latest day with calls up to the report's own ``now`` (its UTC day); the email
says in one line how many calls it left out. Found by an audit: one future call once moved
both windows onto its day, and the real days' beyond-tolerance line and disputes went with it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from support.reconcile import emailed_market_day

from pipeline import clock
from pipeline.analytics.cdr import derived_traffic_profile
from pipeline.emulator import Discrepancies
from pipeline.reports.build import build_report
from pipeline.reports.reconcile import reconciliation
from pipeline.stages.cdr import cost_days, import_file
from pipeline.stages.reconcile import import_carrier_file
from pipeline.warehouse.db import Warehouse

pytestmark = pytest.mark.slow  # a market day of calls

DAY = date(2026, 11, 3)
NOW = datetime(2026, 11, 4, 6, tzinfo=UTC)  # the report's clock: today is 2026-11-04
AHEAD = date(2027, 6, 1)  # the switch's clock is months ahead
CARRIER_AHEAD = date(2027, 6, 2)
WRONG = Discrepancies(early_price=2, extra_seconds=3, missing_on_carrier=2, missing_on_customer=2)
AHEAD_LINE = (
    "2 call(s) dated after today (latest 2027-06-02) are left out of the reconciliation and "
    "traffic windows: a switch or carrier clock running ahead?"
)
SWITCH_CALL = (
    '"acc","1001","353874444444","outbound","x","PJSIP/1001-ff","PJSIP/cp-ff","Dial",'
    '"PJSIP/cp","2027-06-01 09:00:00","2027-06-01 09:00:00","2027-06-01 09:01:00",60,60,'
    '"ANSWERED","DOCUMENTATION","ahead1",""\n'
)
CARRIER_CALL = (
    "Call ID,Start Time (UTC),Tech Prefix,Destination Number,Destination,Prefix,Duration,"
    "Billed Seconds,Rate,Billing Increments,Cost,Currency\n"
    "xx1,2027-06-02 20:00:00,,353875555555,Ireland - Fixed,353,600,600,0.0218,1/1,0.218,USD\n"
)


@pytest.fixture
def market_day(tmp_path):
    """DAY's calls (the carrier's errors, beyond a tight tolerance) and a price change."""
    settings, manifest, _ = emailed_market_day(tmp_path, WRONG, DAY, tolerance_pct="0.001")
    return settings, manifest


def add_calls_ahead(settings, folder) -> None:
    """One switch call on AHEAD, costed by a plain ``cdr cost`` (every uncosted day), and one
    carrier call on CARRIER_AHEAD that our switch never made (a dispute, were it judged)."""
    switch = folder / "Master-ahead.csv"
    switch.write_text(SWITCH_CALL)
    carrier = folder / "cdrs-ahead.csv"
    carrier.write_text(CARRIER_CALL)
    with clock.running_from(NOW):  # both imports say the days are after today
        assert import_file(settings, switch).days_ahead == (str(AHEAD),)
        assert import_carrier_file(settings, carrier).days_ahead == (str(CARRIER_AHEAD),)
    [costing] = cost_days(settings, who="test")  # costs every uncosted day, future ones too
    assert (costing.day, costing.calls) == (AHEAD, 1)


def report_text(settings) -> str:
    with Warehouse(settings).reader() as con:
        report = build_report(con, settings, now=NOW)
    assert report is not None
    return report.text


def test_calls_after_today_move_neither_window(market_day, tmp_path):
    settings, manifest = market_day
    before = report_text(settings)
    add_calls_ahead(settings, tmp_path / "in")

    today = NOW.date()
    with Warehouse(settings).reader() as con:
        rec = reconciliation(con, settings, today=today)
        profile = derived_traffic_profile(con, 30, today=today)
        report = build_report(con, settings, now=NOW)
    assert rec is not None and profile is not None and report is not None
    assert (rec.first, rec.last) == (DAY - timedelta(days=6), DAY)
    assert [d.day for d in rec.days] == [DAY]
    assert [d.day for d in rec.beyond] == [DAY]
    assert [d.day for d in rec.dispute_days] == [DAY]
    assert len(rec.disputes) == len(manifest["discrepancies"])
    assert [key[0] for key in report.dispute_keys] == [DAY]  # what report_dispute records
    costed = manifest_costed_calls(settings)
    assert (profile.window_start, profile.last_day, profile.covered_days, profile.calls) == (
        DAY - timedelta(days=29),
        DAY,
        1,
        costed,
    )

    text = report.text
    assert "Reconciliation with the carrier (2026-10-28 to 2026-11-03)" in text
    assert "2026-11-03: the balance spent" in text and "beyond the 0.001% tolerance" in text
    assert f"Disputed calls: {len(manifest['discrepancies'])} call(s)" in text
    assert f"{costed:,} costed call(s) of 2026-10-05 to 2026-11-03 (1 day(s)" in text
    assert f"\n\n{AHEAD_LINE}\n\nAttached: " in text  # its own paragraph, after the sections
    assert f'<p class="more">{AHEAD_LINE}</p>' in report.html
    # else the email is the one of the real days, word for word: no 2027 day in it
    assert text.replace(f"\n{AHEAD_LINE}\n", "") == before


def test_no_call_after_today_no_line(market_day):
    settings, _ = market_day
    with Warehouse(settings).reader() as con:
        report = build_report(con, settings, now=NOW)
    assert report is not None
    assert "dated after today" not in report.text and "dated after today" not in report.html


def manifest_costed_calls(settings) -> int:
    with Warehouse(settings).reader() as con:
        [(calls,)] = con.execute(
            "SELECT count(*) FROM cdr_cost WHERE call_day = ?", [DAY]
        ).fetchall()
    return calls
