"""Bounds on one deck: an XLSX may not inflate past the limit (checked before parsing, so a
bomb is refused at once), and ingest has a deadline. A fake clock drives the deadline: no
timed assertion, nothing is actually inflated."""

from __future__ import annotations

import io
import zipfile
from itertools import count

import pytest

from pipeline.ingest.errors import IngestTimeoutError, SpreadsheetTooLargeError
from pipeline.ingest.limits import IngestLimits
from pipeline.ingest.voice import normalize_voice_deck

HEADER = ["Destination", "Prefix", "Price", "Billing Increments"]


def with_sheet_xml(xlsx: bytes, sheet_xml: bytes) -> bytes:
    """The workbook with sheet1.xml replaced (deflated, as Excel writes it)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            target.writestr(item.filename, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def bomb_xml(rows: int) -> bytes:
    """A valid sheet whose rows are all the same cell: it deflates about 1000x."""
    row = b'<row><c t="inlineStr"><is><t>Land</t></is></c></row>'
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + row * rows + b"</sheetData></worksheet>"
    )


def test_a_sheet_that_inflates_like_a_zip_bomb_is_refused_before_parsing(decks) -> None:
    plain = decks.xlsx({"Rates": [HEADER, ["Ireland", 353, 0.1, "1/1"]]})
    bomb = with_sheet_xml(plain, bomb_xml(100_000))  # 5.5 MB of XML, a few KB on disk
    assert len(bomb) < 40_000
    with pytest.raises(SpreadsheetTooLargeError) as caught:
        normalize_voice_deck(bomb, source="raw/voice/current/deck.xlsx")
    message = str(caught.value)
    assert message.startswith("raw/voice/current/deck.xlsx: xl/worksheets/sheet1.xml inflates ")
    assert message.endswith("over 100x: a zip bomb? refused")
    assert caught.value.exit_code == 2


def test_a_workbook_over_the_inflated_size_limit_is_refused(decks) -> None:
    rows = [HEADER] + [[f"Land {i}", 1000 + i, 0.1, "1/1"] for i in range(200)]
    data = decks.xlsx({"Rates": rows})
    inflated = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    limits = IngestLimits(max_inflated_bytes=inflated - 1)
    with pytest.raises(SpreadsheetTooLargeError) as caught:
        normalize_voice_deck(data, source="deck.xlsx", limits=limits)
    assert str(caught.value) == (
        f"deck.xlsx: the workbook would inflate to {inflated:,} bytes, over the limit of "
        f"{inflated - 1:,} ([voice] max_inflated_bytes); refused"
    )
    ok = normalize_voice_deck(data, source="deck.xlsx", limits=IngestLimits(inflated))
    assert ok.rows.height == 200


@pytest.mark.parametrize("fmt", ["xls", "xlsx"])
def test_ingest_past_its_deadline_is_a_one_line_failure_naming_the_file(decks, fmt) -> None:
    rows = [HEADER] + [[f"Land {i}", 1000 + i, 0.1, "1/1"] for i in range(5000)]
    data = decks.xls({"Rates": rows}) if fmt == "xls" else decks.xlsx({"Rates": rows})
    ticks = count()  # every look at the clock is one second later
    limits = IngestLimits(timeout_s=2, clock=lambda: float(next(ticks)))
    with pytest.raises(IngestTimeoutError) as caught:
        normalize_voice_deck(data, source=f"deck.{fmt}", limits=limits)
    assert str(caught.value) == (
        f"deck.{fmt}: ingest took longer than 2 s (at sheet 'Rates' row 4001); "
        "refused (the limit is [voice] ingest_timeout_s)"
    )
    assert normalize_voice_deck(data, source=f"deck.{fmt}").rows.height == 5000
