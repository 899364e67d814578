"""A small, strict client for the CommPeak REST API (every endpoint of the Postman collection).

* Headers as the API documents them: ``Authorization: Token <api key>`` and
  ``Accept: application/vnd.commpeak.com; version=1,<type>``; the speech endpoints use
  ``X-Recognition-Token`` instead.
* Arguments that end up in a URL path (tech prefix, task id) are validated before any request.
* Every request has a timeout (connect, and each read). GET requests are retried with
  exponential backoff and full jitter on connection errors, timeouts, broken bodies, 429
  (``Retry-After`` honoured, capped at ``max_backoff_s``) and 5xx; the POST never is.
* JSON is parsed with ``parse_float=Decimal``: money stays exact.
* Downloads stream to a temporary file next to the destination, hashing and counting as they
  go, and are renamed into place only when complete and plausible.
* Redirects are not followed (a custom header such as ``X-Recognition-Token`` would survive a
  cross-host redirect in ``requests``).
* The API key and recognition token never appear in an exception, a log line or a repr.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import http
import json
import logging
import mimetypes
import os
import random
import re
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import requests
import requests.adapters
import urllib3.exceptions
from pydantic import SecretStr

from pipeline import exactjson
from pipeline.commpeak.errors import (
    CommPeakError,
    ConnectError,
    HTTPStatusError,
    InvalidRequestError,
    RateLimitedError,
    RequestTimeout,
    ResponseTooLargeError,
    ServerError,
    TransportError,
    TruncatedBodyError,
    UnexpectedContentError,
    status_error_class,
)
from pipeline.commpeak.models import (
    Customer,
    Download,
    Rate,
    SmsRate,
    parse_customer,
    parse_rates,
    parse_sms_rates,
    parse_speech_result,
    parse_task_id,
)
from pipeline.redaction import configured_secrets, redact, redact_exception
from pipeline.settings import TECH_PREFIX_RE, validate_base_url, validate_tech_prefix

if TYPE_CHECKING:
    from pipeline.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

VENDOR_ACCEPT = "application/vnd.commpeak.com; version=1,"
JSON_TYPE = "application/json"
DOWNLOAD_TYPES = {"csv": "text/csv", "xls": "application/vnd.ms-excel"}
TASK_TYPES = ("transcribe", "translate", "transcribe_and_translate")
DEFAULT_MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024

_CHUNK = 64 * 1024
_SNIFF_BYTES = 512
_SERVER_TEXT_BYTES = 4096
_SERVER_TEXT_CHARS = 200
_PHONE_PREFIX_RE = re.compile(r"[0-9]{1,20}")
_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}")
_DELTA_SECONDS_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# Content types that can never be a rate deck (a login page, an error document...)
_NOT_A_DECK = ("text/html", "application/xhtml+xml", "application/json")
# a TransportError that is neither (a malformed header, say) is local: retrying cannot help
_RETRYABLE = (ConnectError, RequestTimeout, RateLimitedError, ServerError, TruncatedBodyError)
_POOL_SIZE = 32  # settings allow up to 32 concurrent requests through one client


def _scrubbed(endpoint: Callable[..., T]) -> Callable[..., T]:
    """Last line of defence: no secret leaves in an error, even one echoed by the server."""

    @functools.wraps(endpoint)
    def wrapper(self: CommPeakClient, *args: Any, **kwargs: Any) -> T:
        try:
            return endpoint(self, *args, **kwargs)
        except CommPeakError as exc:
            redact_exception(exc, self._secrets)
            raise

    return wrapper


class CommPeakClient:
    """Talks to ``base_url`` (https, or http to a loopback host such as the emulator)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None,
        *,
        recognition_token: str | SecretStr | None = None,
        timeout_s: float = 30,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        secrets: tuple[str, ...] = (),
    ):
        self._base_url = _checked_base_url(base_url)
        self._api_key = _secret(api_key, "API key")
        self._recognition_token = _secret(recognition_token, "recognition token")
        # what errors are scrubbed of: this client's secrets and every other configured one
        self._secrets = (self._api_key, self._recognition_token, *secrets)
        if timeout_s <= 0 or max_retries < 0 or backoff_s < 0 or max_backoff_s < 0:
            raise InvalidRequestError("client: timeouts must be > 0, retries and backoff >= 0")
        if max_download_bytes <= 0:
            raise InvalidRequestError("client: max_download_bytes must be > 0")
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.max_download_bytes = int(max_download_bytes)
        self._owns_session = session is None
        self._session = session if session is not None else _new_session()
        self._sleep = sleep
        self._rng = rng or random.Random()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> CommPeakClient:
        """A client for ``settings.api`` with the secrets from ``settings.secrets``."""
        api = settings.api
        kwargs: dict[str, Any] = {
            "secrets": configured_secrets(settings),  # a server may echo any of them
            "recognition_token": settings.secrets.recognition_token,
            "timeout_s": api.timeout_s,
            "max_retries": api.max_retries,
            "backoff_s": api.backoff_s,
            "max_backoff_s": api.max_backoff_s,
            "max_download_bytes": api.max_download_bytes,
        }
        return cls(api.base_url, settings.secrets.api_key, **{**kwargs, **overrides})

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._base_url!r}, "
            f"api_key={'set' if self._api_key else 'missing'}, "
            f"recognition_token={'set' if self._recognition_token else 'missing'})"
        )

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> CommPeakClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------- endpoints

    @_scrubbed
    def customer(self) -> Customer:
        """``GET /customer``: e-mail and balances (Decimal)."""
        return _parse("GET", "/customer", self._get_json("/customer")[1], parse_customer)

    @_scrubbed
    def customer_raw(self) -> bytes:
        """``GET /customer`` as the server sent it, after checking it parses (landing zone)."""
        raw, doc = self._get_json("/customer")
        _parse("GET", "/customer", doc, parse_customer)
        return raw

    @_scrubbed
    def rates(self, tech_prefix: str) -> list[Rate]:
        """``GET /rates/{tech_prefix}``: the JSON rate list (no billing increments)."""
        path = f"/rates/{_tech_prefix('GET', '/rates/{tech_prefix}', tech_prefix)}"
        return _parse("GET", path, self._get_json(path)[1], parse_rates)

    @_scrubbed
    def search_rates(self, tech_prefix: str, prefix: str) -> list[Rate]:
        """``GET /rates/{tech_prefix}/search?prefix=``: rates whose prefix starts with ``prefix``."""
        template = "/rates/{tech_prefix}/search"
        path = f"/rates/{_tech_prefix('GET', template, tech_prefix)}/search"
        if not isinstance(prefix, str) or not _PHONE_PREFIX_RE.fullmatch(prefix):
            raise InvalidRequestError(
                f"GET {template}: bad phone prefix {str(prefix)[:40]!r}: expected 1-20 digits",
                method="GET",
                path=template,
            )
        doc = self._get_json(path, params={"prefix": prefix})[1]
        return _parse("GET", path, doc, parse_rates)

    @_scrubbed
    def download_rates(
        self, tech_prefix: str, dest: Path, *, fmt: Literal["csv", "xls"] = "csv"
    ) -> Download:
        """``GET /rates/{tech_prefix}/download`` streamed to ``dest`` (replaced atomically)."""
        template = "/rates/{tech_prefix}/download"
        path = f"/rates/{_tech_prefix('GET', template, tech_prefix)}/download"
        if fmt not in DOWNLOAD_TYPES:
            raise InvalidRequestError(
                f"GET {template}: bad format {fmt!r}: expected csv or xls",
                method="GET",
                path=template,
            )
        dest = Path(dest)
        headers = self._api_headers("GET", path, DOWNLOAD_TYPES[fmt])
        return self._request(
            "GET", path, headers=headers, handle=lambda r: self._save_download(r, path, dest)
        )

    @_scrubbed
    def sms_rates(self, username: str, id: str) -> list[SmsRate]:
        """``GET /rates/sms?username=&id=``: rates per MCC/MNC for one SMS channel."""
        doc = self._get_json("/rates/sms", params=_sms_params(username, id))[1]
        return _parse("GET", "/rates/sms", doc, parse_sms_rates)

    @_scrubbed
    def sms_rates_raw(self, username: str, id: str) -> bytes:
        """``GET /rates/sms`` as the server sent it, after checking it parses (landing zone)."""
        raw, doc = self._get_json("/rates/sms", params=_sms_params(username, id))
        _parse("GET", "/rates/sms", doc, parse_sms_rates)
        return raw

    @_scrubbed
    def recognize(
        self,
        recording: Path | bytes,
        *,
        languages: str | Sequence[str] = "en",
        remote_identifier: str | None = None,
        parse_channel: int = 0,
        webhook_url: str | None = None,
        task_type: str = "transcribe",
        filename: str = "recording.wav",
    ) -> int:
        """``POST /speech/recognize.json`` (multipart); returns the task id. Never retried.

        ``filename`` names the uploaded part when ``recording`` is bytes; a path sends its own name.
        """
        path = "/speech/recognize.json"
        form = _recognize_form(languages, remote_identifier, parse_channel, webhook_url, task_type)
        headers = self._speech_headers("POST", path)
        if isinstance(recording, (bytes, bytearray, memoryview)):
            part_name, content = filename, bytes(recording)
        elif isinstance(recording, (str, os.PathLike)) and Path(recording).is_file():
            part_name, content = Path(recording).name, None
        else:
            raise InvalidRequestError(
                f"POST {path}: recording must be bytes or an existing file",
                method="POST",
                path=path,
            )
        mime = mimetypes.guess_type(part_name)[0] or "application/octet-stream"

        def send_once() -> bytes:
            if content is not None:
                return self._send_form(path, headers, form, (part_name, content, mime))
            with open(recording, "rb") as fh:
                return self._send_form(path, headers, form, (part_name, fh, mime))

        return _parse("POST", path, _decode_json("POST", path, send_once()), parse_task_id)

    @_scrubbed
    def speech_result(self, task_id: int) -> dict:
        """``GET /speech/result/{task_id}.json``: the recognition result (numbers as Decimal)."""
        template = "/speech/result/{task_id}.json"
        if isinstance(task_id, bool) or not isinstance(task_id, int) or task_id < 0:
            raise InvalidRequestError(
                f"GET {template}: bad task id {str(task_id)[:40]!r}: expected an integer >= 0",
                method="GET",
                path=template,
            )
        path = f"/speech/result/{task_id}.json"
        headers = self._speech_headers("GET", path)
        raw = self._request("GET", path, headers=headers, handle=lambda r: self._read_json(r, path))
        return _parse("GET", path, _decode_json("GET", path, raw), parse_speech_result)

    # ----------------------------------------------------------------- plumbing

    def _api_headers(self, method: str, path: str, media_type: str) -> dict[str, str]:
        if self._api_key is None:
            raise InvalidRequestError(
                f"{method} {path}: no API key: set COMMPEAK_API_KEY", method=method, path=path
            )
        return {
            "Authorization": f"Token {self._api_key.get_secret_value()}",
            "Accept": VENDOR_ACCEPT + media_type,
        }

    def _speech_headers(self, method: str, path: str) -> dict[str, str]:
        if self._recognition_token is None:
            raise InvalidRequestError(
                f"{method} {path}: no recognition token: set COMMPEAK_RECOGNITION_TOKEN",
                method=method,
                path=path,
            )
        return {
            "X-Recognition-Token": self._recognition_token.get_secret_value(),
            "Accept": JSON_TYPE,
        }

    def _get_json(self, path: str, params: dict[str, str] | None = None) -> tuple[bytes, Any]:
        headers = self._api_headers("GET", path, JSON_TYPE)
        raw = self._request(
            "GET", path, headers=headers, params=params, handle=lambda r: self._read_json(r, path)
        )
        return raw, _decode_json("GET", path, raw)

    def _send_form(self, path: str, headers: dict, form: dict, part: tuple) -> bytes:
        return self._request(
            "POST",
            path,
            headers=headers,
            data=form,
            files={"recording": part},
            handle=lambda r: self._read_json(r, path, method="POST"),
        )

    def _request(
        self, method: str, path: str, *, headers: dict, handle: Callable[[Any], T], **kwargs: Any
    ) -> T:
        """One request with retries (GET only); ``handle`` consumes a 2xx response."""
        attempts = 1 + (self.max_retries if method == "GET" else 0)
        attempt = 1
        while True:
            try:
                return self._attempt(method, path, headers, handle, **kwargs)
            except _RETRYABLE as exc:
                if attempt >= attempts:
                    raise
                delay = self._retry_delay(exc, attempt)
                log.warning(
                    "%s (attempt %d of %d); retrying in %.2f s",
                    self._redact(str(exc)),
                    attempt,
                    attempts,
                    delay,
                )
                self._sleep(delay)
                attempt += 1

    def _retry_delay(self, exc: CommPeakError, attempt: int) -> float:
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_backoff_s)
        # exponential backoff with "full jitter": uniform over [0, capped exponential]
        ceiling = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    def _attempt(
        self, method: str, path: str, headers: dict, handle: Callable[[Any], T], **kwargs: Any
    ) -> T:
        try:
            response = self._session.request(
                method,
                self._base_url + path,
                headers=headers,
                timeout=(self.timeout_s, self.timeout_s),
                stream=True,
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            # "from None": requests' messages carry the full URL and query
            raise _transport_error(exc, method, path) from None
        with response:
            log.debug("%s %s -> %s", method, path, response.status_code)
            if not 200 <= response.status_code < 300:
                raise self._status_error(response, method, path)
            return handle(response)

    def _status_error(self, response: Any, method: str, path: str) -> HTTPStatusError:
        status = response.status_code
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = _clean(response.reason or "")
        try:
            head = next(response.iter_content(_SERVER_TEXT_BYTES), b"")
        except requests.RequestException:
            head = b""
        text = self._redact(_server_text(head, response.headers.get("Content-Type")))
        if 300 <= status < 400:
            text = "redirects are not followed"
        message = f"{method} {path}: {status} {phrase}".rstrip() + (f": {text}" if text else "")
        cls = status_error_class(status)
        kwargs: dict[str, Any] = {
            "status": status,
            "server_text": text,
            "method": method,
            "path": path,
        }
        if cls is RateLimitedError:
            kwargs["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
        return cls(message, **kwargs)

    def _read_json(self, response: Any, path: str, method: str = "GET") -> bytes:
        content_type = response.headers.get("Content-Type") or ""
        if "html" in content_type.lower():
            raise UnexpectedContentError(
                f"{method} {path}: expected JSON, got an HTML page ({_clean(content_type)})",
                method=method,
                path=path,
            )
        body = bytearray()
        self._read_body(response, method, path, body.extend)
        return bytes(body)

    def _save_download(self, response: Any, path: str, dest: Path) -> Download:
        content_type = response.headers.get("Content-Type")
        media = (content_type or "").split(";")[0].strip().lower()
        if media in _NOT_A_DECK:
            raise UnexpectedContentError(
                f"GET {path}: expected a rate deck, got {media}", method="GET", path=path
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        try:
            hasher = hashlib.sha256()
            with os.fdopen(fd, "wb") as tmp:

                def sink(chunk: bytes) -> None:
                    tmp.write(chunk)
                    hasher.update(chunk)

                size = self._read_body(response, "GET", path, sink)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, dest)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        filename = filename_from_content_disposition(response.headers.get("Content-Disposition"))
        return Download(dest, size, hasher.hexdigest(), content_type, filename)

    def _read_body(self, response: Any, method: str, path: str, sink: Callable) -> int:
        """Stream the body into ``sink``; refuse too large, truncated or HTML bodies."""
        limit = self.max_download_bytes
        declared = _declared_length(response)
        if declared is not None and declared > limit:
            raise ResponseTooLargeError(
                f"{method} {path}: body of {declared} bytes exceeds the limit of {limit} bytes",
                method=method,
                path=path,
            )
        count, head, sniffed = 0, bytearray(), False
        for chunk in _iter_body(response, method, path):
            count += len(chunk)
            if count > limit:
                raise ResponseTooLargeError(
                    f"{method} {path}: body exceeds the limit of {limit} bytes",
                    method=method,
                    path=path,
                )
            if not sniffed:
                head += chunk[: _SNIFF_BYTES - len(head)]
                if len(head) >= _SNIFF_BYTES:
                    _refuse_html(head, method, path)
                    sniffed = True
            sink(chunk)
        if declared is not None and count != declared:
            raise TruncatedBodyError(
                f"{method} {path}: body has {count} bytes, Content-Length said {declared}",
                method=method,
                path=path,
            )
        if not sniffed:
            _refuse_html(head, method, path)
        return count

    def _redact(self, text: str) -> str:
        """Every configured secret (SMTP's too, pipeline.redaction), not only this client's."""
        return redact(text, self._secrets)


# --------------------------------------------------------------------- helpers


def _secret(value: str | SecretStr | None, name: str) -> SecretStr | None:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    if not value.isprintable() or not value.isascii():
        # would be refused by requests with a message quoting the header value
        raise InvalidRequestError(f"client: the {name} contains non-printable characters")
    return SecretStr(value)


def _new_session() -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=_POOL_SIZE)  # max_retries=0: ours
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _checked_base_url(base_url: str) -> str:
    try:
        return validate_base_url(base_url)
    except (ValueError, TypeError) as exc:
        parts = urllib.parse.urlsplit(str(base_url))
        if parts.username or parts.password:
            raise InvalidRequestError("bad base URL: no credentials allowed in it") from None
        raise InvalidRequestError(str(exc)) from None


def _tech_prefix(method: str, template: str, value: str) -> str:
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


def _sms_params(username: str, id: str) -> dict[str, str]:
    for name, value in (("username", username), ("id", id)):
        if not isinstance(value, str) or not value.strip() or len(value) > 128:
            raise InvalidRequestError(
                f"GET /rates/sms: bad SMS {name}: expected 1-128 characters",
                method="GET",
                path="/rates/sms",
            )
    return {"username": username, "id": id}


def _recognize_form(
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


def _parse(method: str, path: str, doc: Any, parser: Callable[[Any], T]) -> T:
    try:
        return parser(doc)
    except ValueError as exc:
        raise UnexpectedContentError(
            f"{method} {path}: unexpected JSON: {exc}", method=method, path=path
        ) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid number")


def _decode_json(method: str, path: str, raw: bytes) -> Any:
    _refuse_html(raw[:_SNIFF_BYTES], method, path)
    try:
        return exactjson.loads(raw, parse_constant=_refuse_constant)
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


def _refuse_html(head: bytes | bytearray, method: str, path: str) -> None:
    if looks_like_html(bytes(head)):
        raise UnexpectedContentError(
            f"{method} {path}: the server sent an HTML page", method=method, path=path
        )


def _declared_length(response: Any) -> int | None:
    """Content-Length, when it counts the bytes we will read (no content coding)."""
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    value = response.headers.get("Content-Length")
    if encoding != "identity" or value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _iter_body(response: Any, method: str, path: str) -> Iterator[bytes]:
    try:
        yield from response.iter_content(_CHUNK)
    except requests.exceptions.ChunkedEncodingError:
        # urllib3 reports both a short Content-Length body and a broken chunk this way
        raise TruncatedBodyError(
            f"{method} {path}: the connection closed before the body was complete",
            method=method,
            path=path,
        ) from None
    except requests.exceptions.ContentDecodingError:
        raise UnexpectedContentError(
            f"{method} {path}: the body could not be decoded", method=method, path=path
        ) from None
    except requests.RequestException as exc:
        raise _transport_error(exc, method, path) from None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (cause, context, args, urllib3's ``reason``)."""
    stack, seen = [exc], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [getattr(current, "reason", None), current.__cause__, current.__context__]
        nested += list(current.args)
        stack.extend(e for e in nested if isinstance(e, BaseException))


def _transport_error(exc: requests.RequestException, method: str, path: str) -> TransportError:
    causes = list(_causes(exc))
    # not urllib3's TimeoutError: its NewConnectionError (a refused connection) is one
    timed_out = isinstance(exc, requests.Timeout) or any(
        isinstance(c, (urllib3.exceptions.ReadTimeoutError, TimeoutError)) for c in causes
    )
    # describe by exception type and OS error text only: free-form messages embed the URL
    detail = next(
        (c.strerror for c in causes if isinstance(c, OSError) and c.strerror),
        type(causes[-1]).__name__,
    )
    if timed_out:
        return RequestTimeout(f"{method} {path}: timed out ({detail})", method=method, path=path)
    if isinstance(exc, requests.ConnectionError):
        return ConnectError(
            f"{method} {path}: connection failed ({detail})", method=method, path=path
        )
    return TransportError(
        f"{method} {path}: request failed ({type(exc).__name__})", method=method, path=path
    )


def _clean(text: str) -> str:
    """One line, printable, short."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= _SERVER_TEXT_CHARS else text[: _SERVER_TEXT_CHARS - 3] + "..."


def _server_text(head: bytes, content_type: str | None) -> str:
    """A short, one-line summary of an error body for the exception message."""
    if looks_like_html(head) or "html" in (content_type or "").lower():
        title = re.search(rb"<title[^>]*>(.*?)</title>", head, re.I | re.S)
        label = _clean(title.group(1).decode("utf-8", "replace")) if title else ""
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
                    return _clean(doc[key])
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return _clean(first_line)


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
