"""Issue 16.4-5 in the finance email: the reconciliation section (days beyond tolerance with
the money, disputed calls per destination, or one line when all is within) and the dispute
XLSX, one row per disputed call, values as the warehouse has them."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

from openpyxl import load_workbook
from support.reconcile import emailed_market_day

from pipeline.emulator import Discrepancies
from pipeline.reports.build import build_report
from pipeline.reports.reconcile import DISPUTE_COLUMNS
from pipeline.warehouse.db import Warehouse

DAY = date(2026, 11, 3)
NOW = datetime(2026, 11, 4, 6, tzinfo=UTC)


def reconciled_report(tmp_path, discrepancies, **reconcile):
    settings, manifest, market = emailed_market_day(tmp_path, discrepancies, DAY, **reconcile)
    with Warehouse(settings).reader() as con:
        report = build_report(con, settings, now=NOW)
    assert report is not None
    return report, manifest, market


def test_beyond_tolerance_the_email_has_the_day_and_the_disputes(tmp_path):
    wrong = Discrepancies(early_price=2, extra_seconds=3, missing_on_carrier=2,
                          missing_on_customer=2)  # fmt: skip
    report, manifest, market = reconciled_report(tmp_path, wrong, tolerance_pct="0.001")
    ledger = market.day(DAY).ledger()
    assert "Reconciliation with the carrier (2026-10-28 to 2026-11-03)" in report.text
    assert f"2026-11-03: the balance spent {ledger.cost} USD" in report.text
    assert "beyond the 0.001% tolerance" in report.text
    disputes = manifest["discrepancies"]
    assert f"Disputed calls: {len(disputes)} call(s)" in report.text
    assert "Disputed calls" in report.html

    [xlsx] = [a for a in report.attachments if a.filename.startswith("ratedeck-reconciliation-")]
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    _assert_dates_are_date_cells(sheet)
    assert rows[0] == tuple(c.header for c in DISPUTE_COLUMNS)
    assert len(rows) == 1 + len(disputes)
    header = rows[0]
    by_start = {r[header.index("Start (UTC)")]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    for d in disputes:
        start = datetime.fromisoformat(d["start"]).replace(tzinfo=None)
        row = by_start[start]
        assert row["Number"] == d["number"]
        ours = 0 if d["kind"] == "missing_on_customer" else Decimal(d["expected_cost"])
        assert Decimal(str(row["Difference"])) == Decimal(d["billed_cost"]) - ours
        if d["kind"] == "early_price":
            assert (row["Class"], row["Prefix"]) == ("price_differs", d["prefix"])
            assert Decimal(str(row["Carrier rate"])) == Decimal(d["price_billed"])
            effective = datetime.fromisoformat(d["effective_date"])
            assert row["Carrier rate valid from"] == effective  # a date cell, midnight UTC


def _assert_dates_are_date_cells(sheet) -> None:
    """Day, start and both valid-from columns are dates in UTC, never text (finance sorts
    and filters on them)."""
    header = [c.value for c in sheet[1]]
    formats = {"Day": "yyyy-mm-dd", "Start (UTC)": "yyyy-mm-dd hh:mm",
               "Our rate valid from": "yyyy-mm-dd hh:mm",
               "Carrier rate valid from": "yyyy-mm-dd hh:mm"}  # fmt: skip
    seen = dict.fromkeys(formats, 0)
    for row in sheet.iter_rows(min_row=2):
        for name, number_format in formats.items():
            cell = row[header.index(name)]
            if cell.value is None:
                continue
            assert cell.is_date and cell.number_format == number_format, (name, cell.value)
            seen[name] += 1
    assert all(seen.values()), seen  # every column had a value to check


def test_within_tolerance_one_line_says_so(tmp_path):
    report, _, _ = reconciled_report(tmp_path, Discrepancies())
    assert (
        "Balance vs own costs: all 1 day(s) of 2026-11-03..2026-11-03 are within the 2% "
        "tolerance." in report.text
    )
    assert "Every call the carrier billed matches" in report.text
    assert not [a for a in report.attachments if "reconciliation" in a.filename]
