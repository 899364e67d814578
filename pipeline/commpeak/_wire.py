"""Wire helpers of the CommPeak client: what a body or header says, parsed strictly.

``Retry-After`` and ``Content-Disposition`` values, HTML sniffing, JSON with exact numbers,
and the one-line summary of an error body that goes into an exception message. No I/O.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
import urllib.parse
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pipeline import exactjson
from pipeline.commpeak.errors import UnexpectedContentError

SNIFF_BYTES = 512
_SERVER_TEXT_CHARS = 200
_DELTA_SECONDS_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def refuse_non_finite(name: str) -> Any:
    raise ValueError(f"{name} is not a valid number")


def keep_non_finite(name: str) -> Decimal:
    """``NaN``/``Infinity`` as a Decimal, for a body whose rows are judged one by one (SMS
    rates): only that row is refused then, as not finite, not the whole body."""
    return Decimal(name)


def decode_json(
    method: str,
    path: str,
    raw: bytes,
    *,
    parse_constant: Callable[[str], Any] = refuse_non_finite,
) -> Any:
    """JSON with exact numbers; ``NaN``/``Infinity`` refuse the body unless ``parse_constant``
    (e.g. ``keep_non_finite``) says otherwise."""
    refuse_html(raw[:SNIFF_BYTES], method, path)
    try:
        return exactjson.loads(raw, parse_constant=parse_constant)
    except exactjson.DuplicateKeyError as exc:
        raise UnexpectedContentError(f"{method} {path}: {exc}", method=method, path=path) from None
    except (ValueError, RecursionError):
        raise UnexpectedContentError(
            f"{method} {path}: body is not JSON ({len(raw)} bytes)", method=method, path=path
        ) from None


def looks_like_html(head: bytes) -> bool:
    """True for a body that starts (after a BOM and whitespace) like an HTML page."""
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()[:16].lower()
    return start.startswith((b"<!doctype", b"<html"))


def refuse_html(head: bytes | bytearray, method: str, path: str) -> None:
    if looks_like_html(bytes(head)):
        raise UnexpectedContentError(
            f"{method} {path}: the server sent an HTML page", method=method, path=path
        )


def declared_length(response: Any) -> int | None:
    """Content-Length, when it counts the bytes we will read (no content coding)."""
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    value = response.headers.get("Content-Length")
    if encoding != "identity" or value is None or not _ascii_digits(value.strip()):
        return None
    return int(value.strip())


def clean_text(text: str) -> str:
    """One line, printable, short."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= _SERVER_TEXT_CHARS else text[: _SERVER_TEXT_CHARS - 3] + "..."


def server_text(head: bytes, content_type: str | None) -> str:
    """A short, one-line summary of an error body for the exception message."""
    if looks_like_html(head) or "html" in (content_type or "").lower():
        title = re.search(rb"<title[^>]*>(.*?)</title>", head, re.I | re.S)
        label = clean_text(title.group(1).decode("utf-8", "replace")) if title else ""
        return f"HTML page {label!r}" if label else "HTML page"
    text = head.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            for key in ("error", "message", "detail", "errors"):
                if isinstance(doc.get(key), str):
                    return clean_text(doc[key])
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return clean_text(first_line)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP-date (past dates give 0).

    Fractional seconds (``0.01``) are accepted too: RFC 9110 says digits only, but servers
    (and the built-in emulator's ``429@0.01``) send them, and a jittered guess would be worse.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DELTA_SECONDS_RE.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC too
        return None
    return max(0.0, when.timestamp() - now())


def sanitize_filename(name: str) -> str | None:
    """A bare, safe file name: no directories, no leading dots, portable characters only."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._ -]", "_", name).strip(" .")
    return name[:255] or None


def filename_from_content_disposition(value: str | None) -> str | None:
    """The file name a ``Content-Disposition`` proposes (``filename*`` wins), sanitised."""
    if not value:
        return None
    extended = re.search(r"(?:^|;)\s*filename\*\s*=\s*([^;]+)", value, re.I)
    if extended:
        charset, _, rest = extended.group(1).strip().strip('"').partition("'")
        encoded = rest.partition("'")[2]
        try:
            name = urllib.parse.unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            name = ""
        if name:
            return sanitize_filename(name)
    plain = re.search(r'(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))', value, re.I)
    if not plain:
        return None
    name = plain.group(1) if plain.group(1) is not None else plain.group(2)
    return sanitize_filename(re.sub(r"\\(.)", r"\1", name))


def _ascii_digits(text: str) -> bool:
    """A header's number: ASCII digits only ("²" and "٣" are digits to str.isdigit)."""
    return text.isascii() and text.isdigit()
