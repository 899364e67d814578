"""A small, strict client for the CommPeak REST API (every endpoint of the Postman collection).

Import from this package; its private modules are ``_client`` (endpoints), ``_arguments``
(checks before a request), ``_transport`` (requests, attempts, bodies, downloads) and ``_wire``
(Retry-After, Content-Disposition, server text, JSON).

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

from pipeline.commpeak._client import VENDOR_ACCEPT, CommPeakClient
from pipeline.commpeak._transport import DEFAULT_MAX_DOWNLOAD_BYTES
from pipeline.commpeak._wire import (
    filename_from_content_disposition,
    looks_like_html,
    parse_retry_after,
    sanitize_filename,
)
from pipeline.commpeak.errors import (
    AuthenticationError,
    BadResponseError,
    CommPeakError,
    ConnectError,
    HTTPStatusError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    RequestTimeout,
    ResponseTooLargeError,
    ServerError,
    TransportError,
    TruncatedBodyError,
    UnexpectedContentError,
)
from pipeline.commpeak.models import Customer, Download, Rate, SmsRate

__all__ = [
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "VENDOR_ACCEPT",
    "AuthenticationError",
    "BadResponseError",
    "CommPeakClient",
    "CommPeakError",
    "ConnectError",
    "Customer",
    "Download",
    "HTTPStatusError",
    "InvalidRequestError",
    "NotFoundError",
    "Rate",
    "RateLimitedError",
    "RequestTimeout",
    "ResponseTooLargeError",
    "ServerError",
    "SmsRate",
    "TransportError",
    "TruncatedBodyError",
    "UnexpectedContentError",
    "filename_from_content_disposition",
    "looks_like_html",
    "parse_retry_after",
    "sanitize_filename",
]
