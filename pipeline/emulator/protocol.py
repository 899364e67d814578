"""The API's wire conventions: Accept negotiation, token auth, exact JSON, multipart forms."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP

VENDOR_MEDIA_TYPE = "application/vnd.commpeak.com"
SUPPORTED_VERSIONS = ("1",)
ACCESS_DENIED = b"HTTP Token: Access denied.\n"
SECRET_HEADERS = frozenset(
    {"authorization", "x-recognition-token", "cookie", "proxy-authorization"}
)
REDACTED = "[redacted]"


class NotAcceptable(Exception):
    """Nothing in the Accept header can be served (406)."""


def negotiate(accept: str | None, offered: Sequence[str]) -> str:
    """The media type to serve for ``Accept`` (first acceptable in the header's order).

    CommPeak's form is ``application/vnd.commpeak.com; version=1,<type>``: the vendor part
    selects the API version, the other part the representation. No Accept header, ``*/*``
    or a vendor part alone get the endpoint's default (``offered[0]``).
    """
    if accept is None or not accept.strip():
        return offered[0]
    wanted: list[str] = []
    for part in accept.split(","):
        media, *raw_params = (p.strip() for p in part.split(";"))
        media = media.lower()
        params = dict(_param(p) for p in raw_params if "=" in p)
        if media == VENDOR_MEDIA_TYPE:
            if params.get("version", "1") not in SUPPORTED_VERSIONS:
                raise NotAcceptable(f"API version {params['version']!r} is not supported")
            continue
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if media:
            wanted.append(media)
    if not wanted:
        return offered[0]
    for media in wanted:
        if media == "*/*":
            return offered[0]
        if media.endswith("/*"):
            match = next((o for o in offered if o.startswith(media[:-1])), None)
            if match is not None:
                return match
        elif media in offered:
            return media
    raise NotAcceptable(f"cannot serve {accept!r}; this endpoint offers {', '.join(offered)}")


def _param(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    return key.strip().lower(), value.strip().strip('"')


def token_from_authorization(value: str | None) -> str | None:
    """``Token abc`` or ``Token token="abc"`` (Rails' forms; ``Bearer`` is accepted too)."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer") or not rest.strip():
        return None
    rest = rest.strip()
    if rest.startswith("token="):
        rest = rest[len("token=") :].split(",")[0].strip().strip('"')
    return rest or None


def same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def to_json(value: object) -> bytes:
    """Compact JSON where a Decimal is written as its exact number text (never via float)."""
    return _encode(value).encode("utf-8")


def _encode(value: object) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a JSON number: {value}")
        return format(value, "f")
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (filename, data)


def parse_multipart(content_type: str | None, body: bytes) -> Form:
    """A ``multipart/form-data`` body; raises ValueError when it is not one."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise ValueError("expected multipart/form-data")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ValueError("malformed multipart body")
    form = Form()
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)  # None for a part that is itself multipart
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            form.files[str(name)] = (filename, data)
        else:
            form.fields[str(name)] = data.decode("utf-8", errors="replace")
    return form
