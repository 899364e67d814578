"""Exceptions raised by the CommPeak client (modelled on httpx's ``_exceptions.py``).

Hierarchy::

    RatedeckError                      (pipeline.errors; exit code 1)
    └── CommPeakError                  any failure talking to the CommPeak API
        ├── InvalidRequestError        refused before sending: bad tech prefix, missing key... (exit 2)
        ├── TransportError             no usable HTTP answer
        │   ├── ConnectError           could not connect, or the connection was reset/closed
        │   └── RequestTimeout         connect or read timed out
        ├── HTTPStatusError            an answer with a non-2xx status (``status``, ``server_text``)
        │   ├── AuthenticationError    401 (e.g. "HTTP Token: Access denied.")
        │   ├── NotFoundError          404 (e.g. unknown tech prefix)
        │   ├── RateLimitedError       429 (``retry_after`` seconds, when the server said)
        │   └── ServerError            5xx
        └── BadResponseError           a 2xx answer whose body cannot be used
            ├── UnexpectedContentError HTML page, not JSON, JSON of the wrong shape
            ├── TruncatedBodyError     fewer bytes than announced, or a broken chunked body
            └── ResponseTooLargeError  more bytes than ``max_download_bytes``

Every message is one line and names the method and endpoint path (never the full URL, its
query or any header), e.g. ``GET /rates/021009/download: 404 Not Found: unknown tech prefix``.
No message, attribute or repr ever contains the API key or the recognition token.
"""

from __future__ import annotations

from pipeline.errors import RatedeckError


class CommPeakError(RatedeckError):
    """Base class of every CommPeak client failure."""

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None):
        super().__init__(message)
        self.method = method
        self.path = path


class InvalidRequestError(CommPeakError):
    """The request was refused before anything was sent (bad argument or missing credential)."""

    exit_code = 2


class TransportError(CommPeakError):
    """The server could not be reached, or the connection broke before an HTTP status arrived."""


class ConnectError(TransportError):
    """Connection refused, reset or closed by the peer."""


class RequestTimeout(TransportError):
    """No connection, or no bytes, within ``timeout_s``."""


class HTTPStatusError(CommPeakError):
    """The server answered with a status outside 2xx."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        server_text: str = "",
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message, method=method, path=path)
        self.status = status
        self.server_text = server_text


class AuthenticationError(HTTPStatusError):
    """401: the API key (or recognition token) was refused."""


class NotFoundError(HTTPStatusError):
    """404: e.g. an unknown tech prefix or speech task."""


class RateLimitedError(HTTPStatusError):
    """429: too many requests; ``retry_after`` is the server's wait in seconds, if it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(HTTPStatusError):
    """5xx: the server failed (retried for GET requests)."""


class BadResponseError(CommPeakError):
    """A 2xx answer whose body is unusable."""


class UnexpectedContentError(BadResponseError):
    """An HTML page, a body that is not JSON, or JSON that does not have the documented shape."""


class TruncatedBodyError(BadResponseError):
    """The body ended before ``Content-Length`` bytes, or its chunked encoding broke."""


class ResponseTooLargeError(BadResponseError):
    """The body is larger than ``max_download_bytes``; nothing was kept."""


def status_error_class(status: int) -> type[HTTPStatusError]:
    """The most specific class for an HTTP status outside 2xx."""
    if status == 401:
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return ServerError
    return HTTPStatusError
