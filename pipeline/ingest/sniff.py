"""What kind of file is this? Decided by content (magic bytes, text shape), never by name."""

from __future__ import annotations

import io
import zipfile
from typing import Literal

from pipeline.ingest.errors import UnrecognisedFormatError

DeckFormat = Literal["csv", "xls", "xlsx"]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
DELIMITERS = (",", ";", "\t")

# Formats a download can turn out to be instead of a deck (an error page, a wrong file).
_BINARY_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)
_SNIFF_BYTES = 8192


def _refuse(source: str, looks_like: str) -> UnrecognisedFormatError:
    return UnrecognisedFormatError(f"{source}: not a rate deck: {looks_like}")


def sniff_format(data: bytes, *, source: str = "input") -> DeckFormat:
    """Returns the deck format of ``data``; raises UnrecognisedFormatError for anything else."""
    if _is_blank(data):
        raise _refuse(source, "the file is empty")
    if data.startswith(OLE2_MAGIC):
        return "xls"
    if data.startswith(ZIP_MAGICS):
        return _sniff_zip(data, source)
    for magic, what in _BINARY_MAGICS:
        if data.startswith(magic):
            raise _refuse(source, f"looks like {what}")
    text = _text_head(data, source)
    _check_tabular_text(text, source)
    return "csv"


def _is_blank(data: bytes) -> bool:
    """Only whitespace? The head answers for almost every file, without copying all of it."""
    return not data[:_SNIFF_BYTES].strip() and not data.strip()


def _sniff_zip(data: bytes, source: str) -> DeckFormat:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        raise _refuse(source, "a damaged zip archive") from None
    if any(name.startswith("xl/") for name in names):
        return "xlsx"
    if any(name.startswith("word/") for name in names):
        raise _refuse(source, "looks like a Word document")
    raise _refuse(source, "a zip archive, not an XLSX workbook")


def _text_head(data: bytes, source: str) -> str:
    head = data[:_SNIFF_BYTES]
    if head.startswith(UTF16_BOMS):
        return head.decode("utf-16", errors="ignore")
    if b"\x00" in head or _control_fraction(head) > 0.05:
        raise _refuse(source, "looks like binary data")
    return head.decode("utf-8", errors="ignore").lstrip("\ufeff")


def _control_fraction(head: bytes) -> float:
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    return controls / len(head)


def _check_tabular_text(text: str, source: str) -> None:
    stripped = text.lstrip().lower()
    if stripped.startswith("<"):
        if "<html" in stripped or "<!doctype html" in stripped or "<body" in stripped:
            raise _refuse(source, "looks like an HTML page")
        if "urn:schemas-microsoft-com:office:spreadsheet" in stripped:
            raise _refuse(source, "looks like an Excel 2003 XML spreadsheet (save it as XLS/XLSX)")
        raise _refuse(source, "looks like XML/HTML markup")
    if stripped.startswith(("{", "[")):
        raise _refuse(source, "looks like JSON")
    lines = [line for line in text.splitlines() if line.strip()][:20]
    if not any(delimiter in line for line in lines for delimiter in DELIMITERS):
        first = lines[0].strip()[:60] if lines else ""
        raise _refuse(source, f"plain text without comma, semicolon or tab columns: {first!r}")


def decode_text(data: bytes) -> tuple[str, str]:
    """Decodes a text deck: UTF-8 (BOM or not), UTF-16 with BOM, else cp1252, else latin-1.

    Returns (text, encoding used). latin-1 maps every byte, so this never fails.
    """
    if data.startswith(UTF16_BOMS):
        return data.decode("utf-16"), "utf-16"
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass  # not UTF-8: try the usual Windows code page next
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"
