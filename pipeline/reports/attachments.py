"""The full change list as attachments: a CSV per section (``ratedeck-voice-changes-*.csv``,
``ratedeck-sms-changes-*.csv``) and one XLSX with a sheet per section ("Voice changes",
"SMS changes").

Exact values: Decimals go into the CSV as their digits and into the XLSX as number cells whose
stored text is those same digits (never through a float). Text that a spreadsheet could run as a formula
(= + - @ tab CR) gets a leading single quote in both files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from pipeline.reports.formatting import neutralise
from pipeline.reports.model import Attachment, ChangeSection, Column

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
NUMBER_FORMATS = {
    "price": "0.0000####",  # 4 to 8 decimals: the exact digits of a price
    "pct": "+0.00%;-0.00%;0.00%",
    "cost": "0.0000####",
    "money": "#,##0.00;[Red]-#,##0.00",
    "minutes": "#,##0.00",
    "days": "0",  # whole calendar days (voice_rate_change.notice_days)
    "int": "0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
COLUMN_WIDTHS = {"text": 18, "date": 11, "datetime": 17, "bool": 12}
HEADER_COLOUR = "1F3B57"


def report_attachments(sections: Sequence[ChangeSection], stamp: str) -> list[Attachment]:
    """One CSV per section, then the workbook of all sections."""
    files = [
        Attachment(
            f"ratedeck-{s.kind}-changes-{stamp}.csv",
            "text",
            "csv",
            changes_csv(s.columns, s.records),
        )
        for s in sections
    ]
    files.append(
        Attachment(f"ratedeck-price-changes-{stamp}.xlsx", *XLSX_TYPE, changes_xlsx(sections))
    )
    return files


def changes_csv(columns: Iterable[Column], records: Iterable[dict]) -> bytes:
    columns = list(columns)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.field for c in columns])
    for record in records:
        writer.writerow([_csv_value(record.get(c.field), c) for c in columns])
    return out.getvalue().encode("utf-8")


def _csv_value(value: object, column: Column) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def changes_xlsx(sections: Sequence[ChangeSection]) -> bytes:
    """A workbook with one sheet per section, named "<title> changes"."""
    from openpyxl import Workbook  # heavy: only when a workbook is written

    workbook = Workbook(write_only=True)
    for section in sections:
        _write_sheet(workbook, f"{section.title} changes", section.columns, section.records)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_xlsx(title: str, columns: Sequence[Column], records: Sequence[dict]) -> bytes:
    """A workbook of one sheet ``title``: a header, then one row per record."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    _write_sheet(workbook, title, columns, records)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _write_sheet(workbook, title: str, columns: Sequence[Column], records: Sequence[dict]) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title[:31])
    for index, column in enumerate(columns, start=1):
        width = COLUMN_WIDTHS.get(column.kind, 14)
        sheet.column_dimensions[get_column_letter(index)].width = max(width, len(column.header))
    sheet.freeze_panes = "A2"
    header_font = Font(bold=True, color="FFFFFF")
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font, cell.fill = header_font, PatternFill("solid", fgColor=HEADER_COLOUR)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    for record in records:
        sheet.append([_cell(sheet, record.get(c.field), c) for c in columns])
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{len(records) + 1}"


def _cell(sheet, value: object, column: Column):
    from openpyxl.cell import WriteOnlyCell

    value, number_format = _xlsx_value(value, column)
    if isinstance(value, Decimal) and value.is_finite():
        return _exact_number_cell(sheet, value, number_format)
    # types-openpyxl narrows value to str|float|datetime; dates and ints are written exactly
    cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text
    elif number_format:
        cell.number_format = number_format
    return cell


def _exact_number_cell(sheet, value: Decimal, number_format: str | None):
    """A number cell whose stored text is the Decimal's own digits, as in the CSV.

    openpyxl writes a number's <v> as '%.16g' % value, through a float (0.0865 becomes
    0.08649999999999999); a str it writes as it is. So the cell holds the exact text and is
    typed a number: Excel reads <v>0.08650000</v> as a number it can sum.
    """
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=format(value, "f"))
    cell.data_type = "n"
    if number_format:
        cell.number_format = number_format
    return cell


def _xlsx_value(value: object, column: Column) -> tuple[object, str | None]:
    """The cell value and its number format."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).replace(tzinfo=None)  # xlsx has no time zones: UTC
    elif column.kind == "pct" and isinstance(value, Decimal):
        value = value / 100  # exact: a percent format shows 0.022 as +2.20%
    elif isinstance(value, bool):
        value = "yes" if value else ""
    elif isinstance(value, str):
        return neutralise(value), None
    return value, NUMBER_FORMATS.get(column.kind) if value is not None else None
