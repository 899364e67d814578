"""The CommPeak client: one method per endpoint, its headers, and the parsed result.

Arguments are checked in ``_arguments``, requests go through ``_transport``; every endpoint
is ``_scrubbed``, so no error leaves with a secret in it.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import requests
from pydantic import SecretStr

from pipeline.commpeak._arguments import (
    checked_base_url,
    checked_phone_prefix,
    checked_secret,
    checked_tech_prefix,
    recognize_form,
    sms_params,
)
from pipeline.commpeak._transport import DEFAULT_MAX_DOWNLOAD_BYTES, Transport
from pipeline.commpeak._wire import decode_json, keep_non_finite, refuse_non_finite
from pipeline.commpeak.errors import CommPeakError, InvalidRequestError, UnexpectedContentError
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
    sms_rate_rows,
)
from pipeline.redaction import configured_secrets, redact_exception

if TYPE_CHECKING:
    from pipeline.settings import Settings

T = TypeVar("T")

VENDOR_ACCEPT = "application/vnd.commpeak.com; version=1,"
JSON_TYPE = "application/json"
DOWNLOAD_TYPES = {"csv": "text/csv", "xls": "application/vnd.ms-excel"}


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
        base_url = checked_base_url(base_url)
        self._api_key = checked_secret(api_key, "API key")
        self._recognition_token = checked_secret(recognition_token, "recognition token")
        # what errors are scrubbed of: this client's secrets and every other configured one
        self._secrets = (self._api_key, self._recognition_token, *secrets)
        self._transport = Transport(
            base_url,
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
            max_download_bytes=max_download_bytes,
            session=session,
            sleep=sleep,
            rng=rng,
            secrets=self._secrets,
        )

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
        return self._transport.base_url

    @property
    def timeout_s(self) -> float:
        return self._transport.timeout_s

    @property
    def max_retries(self) -> int:
        return self._transport.max_retries

    @property
    def backoff_s(self) -> float:
        return self._transport.backoff_s

    @property
    def max_backoff_s(self) -> float:
        return self._transport.max_backoff_s

    @property
    def max_download_bytes(self) -> int:
        return self._transport.max_download_bytes

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"api_key={'set' if self._api_key else 'missing'}, "
            f"recognition_token={'set' if self._recognition_token else 'missing'})"
        )

    def close(self) -> None:
        self._transport.close()

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
        path = f"/rates/{checked_tech_prefix('GET', '/rates/{tech_prefix}', tech_prefix)}"
        return _parse("GET", path, self._get_json(path)[1], parse_rates)

    @_scrubbed
    def search_rates(self, tech_prefix: str, prefix: str) -> list[Rate]:
        """``GET /rates/{tech_prefix}/search?prefix=``: rates whose prefix starts with ``prefix``."""
        template = "/rates/{tech_prefix}/search"
        path = f"/rates/{checked_tech_prefix('GET', template, tech_prefix)}/search"
        params = {"prefix": checked_phone_prefix(template, prefix)}
        doc = self._get_json(path, params=params)[1]
        return _parse("GET", path, doc, parse_rates)

    @_scrubbed
    def download_rates(
        self, tech_prefix: str, dest: Path, *, fmt: Literal["csv", "xls"] = "csv"
    ) -> Download:
        """``GET /rates/{tech_prefix}/download`` streamed to ``dest`` (replaced atomically)."""
        template = "/rates/{tech_prefix}/download"
        path = f"/rates/{checked_tech_prefix('GET', template, tech_prefix)}/download"
        if fmt not in DOWNLOAD_TYPES:
            raise InvalidRequestError(
                f"GET {template}: bad format {fmt!r}: expected csv or xls",
                method="GET",
                path=template,
            )
        dest = Path(dest)
        headers = self._api_headers("GET", path, DOWNLOAD_TYPES[fmt])
        return self._transport.request(
            "GET",
            path,
            headers=headers,
            handle=lambda r: self._transport.save_download(r, path, dest),
        )

    @_scrubbed
    def sms_rates(self, username: str, id: str) -> list[SmsRate]:
        """``GET /rates/sms?username=&id=``: rates per MCC/MNC for one SMS channel.

        Every row typed: one unusable row (a null rate, an MNC range) raises
        ``UnexpectedContentError``. The pipeline reads ``sms_rates_raw`` instead.
        """
        return _parse("GET", "/rates/sms", self._get_sms_rates(username, id)[1], parse_sms_rates)

    @_scrubbed
    def sms_rates_raw(self, username: str, id: str) -> bytes:
        """``GET /rates/sms`` as the server sent it (landing zone), after checking its shape
        only: a JSON list of objects. Ingest judges each row and refuses a bad one alone."""
        raw, doc = self._get_sms_rates(username, id)
        _parse("GET", "/rates/sms", doc, sms_rate_rows)
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
        form = recognize_form(languages, remote_identifier, parse_channel, webhook_url, task_type)
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

        return _parse("POST", path, decode_json("POST", path, send_once()), parse_task_id)

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
        raw = self._transport.request(
            "GET", path, headers=headers, handle=lambda r: self._transport.read_json(r, path)
        )
        return _parse("GET", path, decode_json("GET", path, raw), parse_speech_result)

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

    def _get_sms_rates(self, username: str, id: str) -> tuple[bytes, Any]:
        # NaN in one row is that row's problem (a reject), not the whole list's
        params = sms_params(username, id)
        return self._get_json("/rates/sms", params=params, parse_constant=keep_non_finite)

    def _get_json(
        self,
        path: str,
        params: dict[str, str] | None = None,
        parse_constant: Callable[[str], Any] = refuse_non_finite,
    ) -> tuple[bytes, Any]:
        headers = self._api_headers("GET", path, JSON_TYPE)
        raw = self._transport.request(
            "GET",
            path,
            headers=headers,
            params=params,
            handle=lambda r: self._transport.read_json(r, path),
        )
        return raw, decode_json("GET", path, raw, parse_constant=parse_constant)

    def _send_form(self, path: str, headers: dict, form: dict, part: tuple) -> bytes:
        return self._transport.request(
            "POST",
            path,
            headers=headers,
            data=form,
            files={"recording": part},
            handle=lambda r: self._transport.read_json(r, path, method="POST"),
        )


def _parse(method: str, path: str, doc: Any, parser: Callable[[Any], T]) -> T:
    try:
        return parser(doc)
    except ValueError as exc:
        raise UnexpectedContentError(
            f"{method} {path}: unexpected JSON: {exc}", method=method, path=path
        ) from None
