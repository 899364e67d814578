import csv
import io
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from pipeline.reports.attachments import changes_csv, changes_xlsx, table_xlsx
from pipeline.reports.model import ChangeSection, Column
from pipeline.reports.reconcile import (
    DISPUTE_COLUMNS,
    DayDisputes,
    Reconciliation,
    dispute_attachment,
)
from pipeline.reports.sms import SMS_COLUMNS
from pipeline.reports.voice import VOICE_COLUMNS

COLUMNS = (
    Column("Prefix", "prefix"),
    Column("Destination", "destination"),
    Column("Old price", "old_price", "price"),
    Column("New price", "new_price", "price"),
    Column("Change %", "pct", "pct"),
    Column("Effective at (UTC)", "changed_at", "datetime"),
    Column("Short notice", "short_notice", "bool"),
)
WHEN = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
HOSTILE = ['=HYPERLINK("http://x")', "+1-555", "-2+3", "@SUM(A1:A9)", "\tTab", "\rCR"]


def section(records: list[dict]) -> ChangeSection:
    return ChangeSection(
        kind="voice",
        title="Voice",
        group_label="Tech prefix",
        key_label="Prefix",
        name_label="Destination",
        rows=(),
        columns=COLUMNS,
        records=tuple(records),
    )


def record(destination: str, **extra) -> dict:
    return {
        "prefix": "35389",
        "destination": destination,
        "old_price": Decimal("0.15820000"),
        "new_price": Decimal("0.16170123"),
        "pct": Decimal("2.2124"),
        "changed_at": WHEN,
        "short_notice": True,
        **extra,
    }


def test_csv_is_exact_and_neutralises_formulas():
    data = changes_csv(COLUMNS, [record(name) for name in [*HOSTILE, "Ireland"]])
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert [r["destination"] for r in rows] == [*("'" + h for h in HOSTILE), "Ireland"]
    first = rows[0]
    assert first["old_price"] == "0.15820000"
    assert first["new_price"] == "0.16170123"
    assert first["pct"] == "2.2124"
    assert first["changed_at"] == "2026-11-02T06:00:00Z"
    assert first["short_notice"] == "yes"


def test_csv_leaves_negative_numbers_as_numbers():
    data = changes_csv(COLUMNS, [record("X", old_price=Decimal("-0.0100"))])
    assert "\r\n35389,X,-0.0100," in data.decode()


def test_xlsx_numbers_dates_and_formats():
    data = changes_xlsx([section([record("Ireland"), record("UK", new_price=None)])])
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Voice changes"]
    header = [c.value for c in sheet[1]]
    assert header == [c.header for c in COLUMNS]
    prefix, name, old, new, pct, changed, short = sheet[2]
    assert prefix.value == "35389" and prefix.data_type == "s"  # leading digits stay text
    assert Decimal(str(old.value)) == Decimal("0.1582")
    assert Decimal(str(new.value)) == Decimal("0.16170123")
    assert old.number_format == "0.0000####"
    assert Decimal(str(pct.value)) == Decimal("0.022124")
    assert "%" in pct.number_format
    assert changed.value == datetime(2026, 11, 2, 6, 0) and changed.is_date
    assert short.value == "yes"
    assert sheet["D3"].value is None


@pytest.mark.parametrize("hostile", HOSTILE)
def test_xlsx_never_stores_a_formula(hostile):
    data = changes_xlsx([section([record(hostile)])])
    cell = openpyxl.load_workbook(io.BytesIO(data))["Voice changes"]["B2"]
    assert cell.data_type == "s"
    # XML has no bare CR: it reads back as a line feed, still behind the quote
    assert cell.value == "'" + hostile.replace("\r", "\n")


def test_xlsx_notice_days_are_whole_days():
    # a "days" column is voice_rate_change.notice_days, whole calendar days: 14, not 14.00
    [notice] = [c for c in VOICE_COLUMNS if c.header == "Notice days"]
    data = changes_xlsx([replace(section([{"notice_days": 14}]), columns=(notice,))])
    cell = openpyxl.load_workbook(io.BytesIO(data))["Voice changes"]["A2"]
    assert cell.value == 14 and cell.data_type == "n"
    assert cell.number_format == "0"


def test_xlsx_a_date_column_is_a_date_cell():
    data = table_xlsx("Disputed calls", (Column("Day", "call_day", "date"),),
                      [{"call_day": date(2026, 11, 8)}])  # fmt: skip
    cell = openpyxl.load_workbook(io.BytesIO(data))["Disputed calls"]["A2"]
    assert cell.is_date and cell.value == datetime(2026, 11, 8)
    assert cell.number_format == "yyyy-mm-dd"


# Prices and costs that a float cannot hold: '%.16g' % 0.0865 is 0.08649999999999999
AWKWARD = [
    Decimal("0.08650000"),
    Decimal("0.06850000"),
    Decimal("1E-8"),
    Decimal("99999999.99999999"),
    Decimal("-0.06850000"),
]
DECIMAL_KINDS = ("price", "pct", "cost", "money", "minutes")


def stored_numbers(data: bytes, sheet: int) -> dict[str, tuple[str | None, str | None]]:
    """Each cell's type and the text of its <v>, by reference ("C2"), as the XML holds them."""
    ns = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    xml = zipfile.ZipFile(io.BytesIO(data)).read(f"xl/worksheets/sheet{sheet}.xml")
    return {
        c.get("r"): (c.get("t"), c.findtext("x:v", namespaces=ns))
        for c in ElementTree.fromstring(xml).iterfind(".//x:c", ns)
    }


def expected_money(columns, values) -> dict[str, str]:
    """The exact digits each money cell must store: a percent is stored divided by 100."""
    return {
        f"{get_column_letter(index)}{row}": format(value / 100 if c.kind == "pct" else value, "f")
        for row, value in enumerate(values, start=2)
        for index, c in enumerate(columns, start=1)
        if c.kind in DECIMAL_KINDS
    }


def assert_exact_numbers(data: bytes, sheet: int, expected: dict[str, str]) -> None:
    stored = stored_numbers(data, sheet)
    assert expected, "no money column to check"
    assert {ref: stored.get(ref) for ref in expected} == {
        ref: ("n", text) for ref, text in expected.items()
    }


def test_xlsx_price_changes_store_the_exact_digits_of_every_price():
    sections = [
        replace(section([]), columns=VOICE_COLUMNS, records=tuple(
            {c.field: value for c in VOICE_COLUMNS if c.kind in DECIMAL_KINDS}
            for value in AWKWARD)),
        replace(section([]), kind="sms", title="SMS", columns=SMS_COLUMNS, records=tuple(
            {c.field: value for c in SMS_COLUMNS if c.kind in DECIMAL_KINDS}
            for value in AWKWARD)),
    ]  # fmt: skip
    data = changes_xlsx(sections)
    assert_exact_numbers(data, 1, expected_money(VOICE_COLUMNS, AWKWARD))
    assert_exact_numbers(data, 2, expected_money(SMS_COLUMNS, AWKWARD))
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Voice changes"]
    old_price = sheet.cell(2, 1 + [c.field for c in VOICE_COLUMNS].index("old_price"))
    assert old_price.data_type == "n" and old_price.number_format == "0.0000####"


def test_xlsx_disputed_calls_store_the_exact_digits_of_every_rate_and_cost():
    money = [c for c in DISPUTE_COLUMNS if c.kind in DECIMAL_KINDS]
    rows = tuple({c.field: value for c in money} for value in AWKWARD)
    day = date(2026, 11, 8)
    rec = Reconciliation(day, day, Decimal(2), (), (), (DayDisputes(day, rows, None),))
    attachment = dispute_attachment(rec, "20261108T0041Z")
    assert attachment is not None
    assert_exact_numbers(attachment.data, 1, expected_money(DISPUTE_COLUMNS, AWKWARD))
    sheet = openpyxl.load_workbook(io.BytesIO(attachment.data))["Disputed calls"]
    our_cost = sheet.cell(2, 1 + [c.field for c in DISPUTE_COLUMNS].index("our_cost"))
    assert our_cost.value == 0.0865 and our_cost.number_format == "0.0000####"
