import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest

from pipeline.reports.attachments import changes_csv, changes_xlsx, table_xlsx
from pipeline.reports.model import ChangeSection, Column
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
