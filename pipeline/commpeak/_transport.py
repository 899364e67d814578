"""Transport of the CommPeak client: one request, its attempts, and reading the body.

GET requests are retried with exponential backoff and full jitter (from an injected random
source) on connection errors, timeouts, broken bodies, 429 (``Retry-After`` honoured, capped at
``max_backoff_s``) and 5xx; the POST never is. Bodies are streamed with a size limit, and
downloads land in a temporary file renamed into place only when complete and plausible.
Redirects are not followed (a custom header such as ``X-Recognition-Token`` would survive a
cross-host redirect in ``requests``).
"""

from __future__ import annotations

import hashlib
import http
import logging
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import requests
import requests.adapters
import urllib3.exceptions

from pipeline.commpeak._wire import (
    SNIFF_BYTES,
    clean_text,
    declared_length,
    filename_from_content_disposition,
    parse_retry_after,
    refuse_html,
    server_text,
)
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
from pipeline.commpeak.models import Download
from pipeline.redaction import Secret, redact

# the package's name, not this private module's: what logging configuration should name
log = logging.getLogger("pipeline.commpeak")

T = TypeVar("T")

DEFAULT_MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024

_CHUNK = 64 * 1024
_SERVER_TEXT_BYTES = 4096
# Content types that can never be a rate deck (a login page, an error document...)
_NOT_A_DECK = ("text/html", "application/xhtml+xml", "application/json")
# a TransportError that is neither (a malformed header, say) is local: retrying cannot help
_RETRYABLE = (ConnectError, RequestTimeout, RateLimitedError, ServerError, TruncatedBodyError)
_POOL_SIZE = 32  # settings allow up to 32 concurrent requests through one client


class Transport:
    """Sends requests to ``base_url`` with the retry policy; redacts ``secrets`` from logs."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        max_retries: int,
        backoff_s: float,
        max_backoff_s: float,
        max_download_bytes: int,
        session: requests.Session | None,
        sleep: Callable[[float], None],
        rng: random.Random | None,
        secrets: tuple[Secret, ...],
    ):
        if timeout_s <= 0 or max_retries < 0 or backoff_s < 0 or max_backoff_s < 0:
            raise InvalidRequestError("client: timeouts must be > 0, retries and backoff >= 0")
        if max_download_bytes <= 0:
            raise InvalidRequestError("client: max_download_bytes must be > 0")
        self.base_url = base_url
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.max_download_bytes = int(max_download_bytes)
        self._secrets = secrets
        self._owns_session = session is None
        self._session = session if session is not None else _new_session()
        self._sleep = sleep
        self._rng = rng or random.Random()

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def request(
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
                self.base_url + path,
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
            phrase = clean_text(response.reason or "")
        try:
            head = next(response.iter_content(_SERVER_TEXT_BYTES), b"")
        except requests.RequestException:
            head = b""
        text = self._redact(server_text(head, response.headers.get("Content-Type")))
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

    def read_json(self, response: Any, path: str, method: str = "GET") -> bytes:
        content_type = response.headers.get("Content-Type") or ""
        if "html" in content_type.lower():
            raise UnexpectedContentError(
                f"{method} {path}: expected JSON, got an HTML page ({clean_text(content_type)})",
                method=method,
                path=path,
            )
        body = bytearray()
        self._read_body(response, method, path, body.extend)
        return bytes(body)

    def save_download(self, response: Any, path: str, dest: Path) -> Download:
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
        declared = declared_length(response)
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
                head += chunk[: SNIFF_BYTES - len(head)]
                if len(head) >= SNIFF_BYTES:
                    refuse_html(head, method, path)
                    sniffed = True
            sink(chunk)
        if declared is not None and count != declared:
            raise TruncatedBodyError(
                f"{method} {path}: body has {count} bytes, Content-Length said {declared}",
                method=method,
                path=path,
            )
        if not sniffed:
            refuse_html(head, method, path)
        return count

    def _redact(self, text: str) -> str:
        """Every configured secret (SMTP's too, pipeline.redaction), not only this client's."""
        return redact(text, self._secrets)


def _new_session() -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=_POOL_SIZE)  # max_retries=0: ours
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


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
