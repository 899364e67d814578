"""Arguments of the CommPeak client, checked before any request is sent.

Whatever ends up in a URL path (tech prefix, task id), a query or a form is validated here, so
a bad value fails with ``InvalidRequestError`` naming the endpoint and never reaches the wire.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence

from pydantic import SecretStr

from pipeline.commpeak.errors import InvalidRequestError
from pipeline.settings import TECH_PREFIX_RE, validate_base_url, validate_tech_prefix

TASK_TYPES = ("transcribe", "translate", "transcribe_and_translate")

_PHONE_PREFIX_RE = re.compile(r"[0-9]{1,20}")
_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}")


def checked_secret(value: str | SecretStr | None, name: str) -> SecretStr | None:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    if not value.isprintable() or not value.isascii():
        # would be refused by requests with a message quoting the header value
        raise InvalidRequestError(f"client: the {name} contains non-printable characters")
    return SecretStr(value)


def checked_base_url(base_url: str) -> str:
    try:
        return validate_base_url(base_url)
    except (ValueError, TypeError) as exc:
        parts = urllib.parse.urlsplit(str(base_url))
        if parts.username or parts.password:
            raise InvalidRequestError("bad base URL: no credentials allowed in it") from None
        raise InvalidRequestError(str(exc)) from None


def checked_tech_prefix(method: str, template: str, value: str) -> str:
    try:
        validate_tech_prefix(value)
        # the settings pattern ends in "$", which also lets "021001\n" through: be exact here
        if not TECH_PREFIX_RE.fullmatch(value):
            raise ValueError(f"bad tech prefix {value!r}: must be 'current' or digits")
        return value
    except ValueError as exc:
        raise InvalidRequestError(
            f"{method} {template}: {exc}", method=method, path=template
        ) from None


def sms_params(username: str, id: str) -> dict[str, str]:
    for name, value in (("username", username), ("id", id)):
        if not isinstance(value, str) or not value.strip() or len(value) > 128:
            raise InvalidRequestError(
                f"GET /rates/sms: bad SMS {name}: expected 1-128 characters",
                method="GET",
                path="/rates/sms",
            )
    return {"username": username, "id": id}


def recognize_form(
    languages: str | Sequence[str],
    remote_identifier: str | None,
    parse_channel: int,
    webhook_url: str | None,
    task_type: str,
) -> dict[str, str]:
    path = "/speech/recognize.json"

    def refuse(what: str) -> InvalidRequestError:
        return InvalidRequestError(f"POST {path}: {what}", method="POST", path=path)

    codes = [languages] if isinstance(languages, str) else list(languages)
    if not codes or not all(isinstance(c, str) and _LANGUAGE_RE.fullmatch(c) for c in codes):
        raise refuse("bad languages: expected language codes such as 'en'")
    if task_type not in TASK_TYPES:
        raise refuse(f"bad task_type {str(task_type)[:40]!r}: expected one of {TASK_TYPES}")
    if isinstance(parse_channel, bool) or parse_channel not in (0, 1, 2):
        raise refuse("bad parse_channel: expected 0 (all), 1 or 2")
    form = {"languages": ",".join(codes), "parse_channel": str(parse_channel)}
    if remote_identifier is not None:
        if not isinstance(remote_identifier, str) or len(remote_identifier) > 255:
            raise refuse("bad remote_identifier: expected text of at most 255 characters")
        form["remote_identifier"] = remote_identifier
    if webhook_url is not None:
        parts = urllib.parse.urlsplit(str(webhook_url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise refuse("bad webhook_url: expected an http(s) URL")
        form["webhook_url"] = webhook_url
    form["task_type"] = task_type
    return form


def checked_phone_prefix(template: str, prefix: str) -> str:
    if not isinstance(prefix, str) or not _PHONE_PREFIX_RE.fullmatch(prefix):
        raise InvalidRequestError(
            f"GET {template}: bad phone prefix {str(prefix)[:40]!r}: expected 1-20 digits",
            method="GET",
            path=template,
        )
    return prefix
