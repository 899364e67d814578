"""The exception hierarchy the rest of ratedeck catches."""

from __future__ import annotations

import pytest

from pipeline.commpeak import errors
from pipeline.errors import RatedeckError


@pytest.mark.parametrize(
    ("cls", "parent"),
    [
        (errors.CommPeakError, RatedeckError),
        (errors.InvalidRequestError, errors.CommPeakError),
        (errors.TransportError, errors.CommPeakError),
        (errors.ConnectError, errors.TransportError),
        (errors.RequestTimeout, errors.TransportError),
        (errors.HTTPStatusError, errors.CommPeakError),
        (errors.AuthenticationError, errors.HTTPStatusError),
        (errors.NotFoundError, errors.HTTPStatusError),
        (errors.RateLimitedError, errors.HTTPStatusError),
        (errors.ServerError, errors.HTTPStatusError),
        (errors.BadResponseError, errors.CommPeakError),
        (errors.UnexpectedContentError, errors.BadResponseError),
        (errors.TruncatedBodyError, errors.BadResponseError),
        (errors.ResponseTooLargeError, errors.BadResponseError),
    ],
)
def test_hierarchy(cls, parent):
    assert issubclass(cls, parent)


def test_exit_codes():
    assert errors.InvalidRequestError("x").exit_code == 2
    assert errors.ServerError("x", status=500).exit_code == 1
    assert errors.ConnectError("x").exit_code == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.HTTPStatusError),
        (401, errors.AuthenticationError),
        (403, errors.HTTPStatusError),
        (404, errors.NotFoundError),
        (429, errors.RateLimitedError),
        (500, errors.ServerError),
        (599, errors.ServerError),
    ],
)
def test_status_error_class(status, cls):
    assert errors.status_error_class(status) is cls


def test_attributes():
    exc = errors.RateLimitedError(
        "GET /customer: 429 Too Many Requests",
        retry_after=3.0,
        status=429,
        server_text="",
        method="GET",
        path="/customer",
    )
    assert (exc.status, exc.retry_after, exc.method, exc.path) == (429, 3.0, "GET", "/customer")
    assert str(exc) == "GET /customer: 429 Too Many Requests"
