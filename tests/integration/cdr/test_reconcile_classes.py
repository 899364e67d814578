"""A paired call's class says what differs (docs/cdr.md#call-by-call-reconcile_call): the rate
(price_differs), else the seconds (duration_differs), else the billed seconds (billing_differs:
the carrier's increments are not the deck's), else a cost beyond rounding (cost_differs);
a cost that differs only by rounding at the carrier's or our places is exact. The finance
email and its XLSX name the new classes and the billed seconds."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from support.cdr import DAY, HISTORY, asterisk_line, cdr_settings, insert_history, query
from support.cdr import write_master as write_calls
from support.reconcile import carrier_export, carrier_line

from pipeline.reports.reconcile import (
    DayDisputes,
    Reconciliation,
    destination_lines,
    dispute_attachment,
)
from pipeline.settings import Settings
from pipeline.stages.cdr import cost_days, import_file
from pipeline.stages.reconcile import import_carrier_file
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.reconcile import disputed_calls, disputes_by_destination

TEN = DAY + timedelta(hours=10)
IRELAND = "353871111111"  # HISTORY: 353 Ireland at 0.05 a minute, billed 1/1
CLASS_ROW = (
    "SELECT our_call_id, class, our_seconds, their_seconds, our_billed_seconds, "
    "their_billed_seconds, our_increments, our_rate, their_rate, our_cost, their_cost, "
    "cost_difference FROM reconcile_call ORDER BY our_call_id"
)


def reconcile(settings: Settings, folder: Path, ours: list[int], theirs: list[str]) -> None:
    """Our calls of ``ours`` seconds to IRELAND, a minute apart, and the carrier's rows of the
    same calls (``theirs``: 'seconds,billed seconds,rate,cost' each); costed."""
    starts = [TEN + timedelta(minutes=n) for n in range(len(ours))]
    lines = [asterisk_line(f"o{n}", IRELAND, start, seconds)
             for n, (start, seconds) in enumerate(zip(starts, ours, strict=True))]  # fmt: skip
    import_file(settings, write_calls(folder / "ours.csv", lines))
    rows = []
    for n, (start, row) in enumerate(zip(starts, theirs, strict=True)):
        seconds, billed, rate, cost = row.split(",")
        rows.append(carrier_line(f"t{n}", start, IRELAND, int(seconds), int(billed), rate, cost))
    import_carrier_file(settings, carrier_export(folder / "theirs.csv", *rows))
    cost_days(settings)


def costed_at(folder: Path, decimals: int) -> Settings:
    settings = cdr_settings(folder / "data").with_overrides(report={"cost_decimals": decimals})
    insert_history(settings, HISTORY)
    return settings


def test_other_billed_seconds_at_the_deck_s_rate_are_a_billing_difference(settings, tmp_path):
    # the carrier measured our 61 s, at the deck's 0.05, but billed 120 (60/60 increments,
    # where the deck bills 1/1): not a price difference, both rates are the deck's
    reconcile(settings, tmp_path, [61, 61], ["61,120,0.05,0.100000", "61,61,0.05,0.050833"])
    assert query(settings, CLASS_ROW) == [
        ("o0", "billing_differs", 61, 61, 61, 120, "1/1", Decimal("0.05"), Decimal("0.05"),
         Decimal("0.050833"), Decimal("0.1"), Decimal("0.049167")),
        ("o1", "exact", 61, 61, 61, 61, "1/1", Decimal("0.05"), Decimal("0.05"),
         Decimal("0.050833"), Decimal("0.050833"), Decimal("0")),
    ]  # fmt: skip


def test_a_cost_rounded_at_other_places_is_exact(tmp_path):
    # costed at 2 places: 90 s at 0.05 is 0.075, ours 0.08; the carrier writes 6 (0.075000,
    # 0.050833 that day): the same cost, rounded elsewhere. The difference stays on the row
    settings = costed_at(tmp_path, decimals=2)
    reconcile(settings, tmp_path, [90, 61], ["90,90,0.05,0.075000", "61,61,0.05,0.050833"])
    rows = query(settings, "SELECT our_call_id, class, our_cost, their_cost, cost_difference "
                           "FROM reconcile_call ORDER BY 1")  # fmt: skip
    assert rows == [
        ("o0", "exact", Decimal("0.08"), Decimal("0.075"), Decimal("-0.005")),
        ("o1", "exact", Decimal("0.05"), Decimal("0.050833"), Decimal("0.000833")),
    ]


def test_a_carrier_writing_fewer_places_than_ours_is_exact(settings, tmp_path):
    # the carrier's export has 2 places (0.08 and 0.05 for 0.075 and 0.0508333...: one rounded
    # up, one down); ours, 6
    reconcile(settings, tmp_path, [90, 61], ["90,90,0.05,0.08", "61,61,0.05,0.05"])
    assert query(settings, "SELECT class FROM reconcile_call") == [("exact",), ("exact",)]


def test_a_cost_beyond_rounding_is_a_cost_difference(settings, tmp_path):
    # same rate, seconds and billed seconds, 6 places both sides, 0.00001 more than 0.075
    reconcile(settings, tmp_path, [90, 61], ["90,90,0.05,0.075010", "61,61,0.05,0.050833"])
    rows = query(settings, "SELECT class, cost_difference FROM reconcile_call ORDER BY 1")
    assert rows == [("cost_differs", Decimal("0.00001")), ("exact", Decimal("0"))]


def test_the_rate_then_the_seconds_decide_first(settings, tmp_path):
    # another rate wins over other seconds; other seconds over other billed seconds
    reconcile(
        settings, tmp_path, [61, 61, 61],
        ["62,62,0.06,0.062000", "62,120,0.05,0.100000", "61,61,0.06,0.061000"],
    )  # fmt: skip
    classes = query(settings, "SELECT class FROM reconcile_call ORDER BY our_call_id")
    assert classes == [("price_differs",), ("duration_differs",), ("price_differs",)]


def test_the_email_and_its_xlsx_name_a_billing_difference(settings, tmp_path):
    reconcile(settings, tmp_path, [61, 90], ["61,120,0.05,0.100000", "90,90,0.05,0.075010"])
    day = DAY.date()
    with Warehouse(settings).reader() as con:
        rows = tuple(disputed_calls(con, day, day))
        by_destination = tuple(disputes_by_destination(con, [day]))
    rec = Reconciliation(day, day, Decimal(2), (), by_destination, (DayDisputes(day, rows, None),))
    assert destination_lines(rec, "USD") == [
        "Ireland: +0.049177 USD over 2 call(s) (1 billed in other increments, 1 cost differs)"
    ]
    attachment = dispute_attachment(rec, "20261201T0000Z")
    assert attachment is not None
    sheet = load_workbook(io.BytesIO(attachment.data)).active
    header, *cells = sheet.iter_rows(values_only=True)
    first = dict(zip(header, cells[0], strict=True))
    assert (first["Class"], first["Our billed seconds"], first["Carrier billed seconds"],
            first["Our increments"]) == ("billing_differs", 61, 120, "1/1")  # fmt: skip
