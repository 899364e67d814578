"""Format sniffing by content, and text decoding."""

from __future__ import annotations

import io
import zipfile

import pytest

from pipeline.errors import InputError
from pipeline.ingest.errors import UnrecognisedFormatError
from pipeline.ingest.sniff import decode_text, sniff_format

HEADER = [["Destination", "Prefix", "Price", "Billing Increments"]]


def test_csv_variants_are_csv(decks) -> None:
    rows = [*HEADER, ["Afghanistan - Fixed", "93", "0.75", "1/1"]]
    assert sniff_format(decks.csv(rows)) == "csv"
    assert sniff_format(decks.csv(rows, delimiter=";")) == "csv"
    assert sniff_format(decks.csv(rows, delimiter="\t")) == "csv"
    assert sniff_format(b"\xef\xbb\xbf" + decks.csv(rows, line_end="\r\n")) == "csv"
    assert sniff_format("Côte d'Ivoire,225,0.1,1/1\n".encode("cp1252")) == "csv"
    assert sniff_format(decks.csv(rows).decode().encode("utf-16")) == "csv"


def test_spreadsheets_by_magic_bytes(decks) -> None:
    assert sniff_format(decks.xls({"Rates": HEADER})) == "xls"
    assert sniff_format(decks.xlsx({"Rates": HEADER})) == "xlsx"


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"", "the file is empty"),
        (b"  \r\n ", "the file is empty"),
        (b"<!DOCTYPE html><html><body>Login</body></html>", "looks like an HTML page"),
        (b"\n  <html lang='en'><head></head></html>", "looks like an HTML page"),
        (b"<?xml version='1.0'?><rates/>", "looks like XML/HTML markup"),
        (b"%PDF-1.7\n%\xe2\xe3", "looks like a PDF document"),
        (b'{"rates": []}', "looks like JSON"),
        (b"\x1f\x8b\x08\x00rest", "looks like gzip-compressed data"),
        (b"\x00\x01\x02\x03binary\x00", "looks like binary data"),
        (b"HTTP Token: Access denied.", "plain text without comma, semicolon or tab columns"),
    ],
)
def test_non_decks_are_refused_naming_the_source(data: bytes, looks_like: str) -> None:
    with pytest.raises(UnrecognisedFormatError) as caught:
        sniff_format(data, source="data/raw/voice/current/x.csv")
    message = str(caught.value)
    assert message.startswith("data/raw/voice/current/x.csv: not a rate deck: ")
    assert looks_like in message
    assert "\n" not in message
    assert caught.value.exit_code == 2
    assert isinstance(caught.value, InputError)


def test_zip_that_is_not_a_workbook_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("rates.csv", "a,b\n")
    with pytest.raises(UnrecognisedFormatError, match="a zip archive, not an XLSX workbook"):
        sniff_format(out.getvalue(), source="x.xlsx")


def test_decode_text_falls_back_from_utf8() -> None:
    assert decode_text("Brazil - S¿Paulo".encode()) == ("Brazil - S¿Paulo", "utf-8")
    assert decode_text(b"\xef\xbb\xbfa,b") == ("a,b", "utf-8")
    assert decode_text("Curaçao €".encode("cp1252")) == ("Curaçao €", "cp1252")
    # 0x81 is undefined in cp1252: latin-1 still maps every byte
    assert decode_text(b"a\x81b") == ("a\x81b", "latin-1")
