"""One place that scrubs secrets out of text a server sent us.

A relay or an API that echoes what it received (a password in an SMTP reply, the API key in
an HTTP error body) must not put it on stderr, in ``report_log.error``, in Dagster's run
storage or in an exception. Every message built from a server's text goes through
:func:`redact`, which knows every secret this process was configured with: each component
that is handed a secret registers it with :func:`remember` (the CommPeak client, SMTP
delivery, and ``remember_settings`` for all of ``settings.secrets``).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable

from pydantic import SecretStr

REDACTED = "***"
_MIN_LENGTH = 3  # shorter "secrets" would blank out ordinary words and digits
_known: set[str] = set()
_guard = threading.Lock()


def remember(*secrets: SecretStr | str | None) -> None:
    """Add secrets (and the forms they travel in) to what :func:`redact` scrubs."""
    values = [_plain(s) for s in secrets]
    forms = {form for value in values if value for form in _forms(value)}
    with _guard:
        _known.update(form for form in forms if len(form) >= _MIN_LENGTH)


def remember_login(user: SecretStr | str | None, password: SecretStr | str | None) -> None:
    """An SMTP login: the user, the password, and the AUTH PLAIN blob made of both."""
    remember(user, password)
    user_text, password_text = _plain(user), _plain(password)
    if user_text and password_text:
        blob = f"\0{user_text}\0{password_text}".encode()
        remember(base64.b64encode(blob).decode())


def remember_settings(settings: object) -> None:
    """Every secret field of ``settings.secrets`` (all SecretStr fields, present and future)."""
    secrets = getattr(settings, "secrets", None)
    if secrets is None:
        return
    values = [getattr(secrets, name) for name in type(secrets).model_fields]
    remember(*(v for v in values if isinstance(v, SecretStr)))
    remember_login(getattr(secrets, "smtp_user", None), getattr(secrets, "smtp_password", None))


def redact(text: str, extra: Iterable[SecretStr | str | None] = ()) -> str:
    """``text`` with every known secret (and each of ``extra``) replaced by ``***``."""
    with _guard:
        known = set(_known)
    known.update(form for s in extra if (v := _plain(s)) for form in _forms(v))
    for secret in sorted(known, key=len, reverse=True):  # longest first: no partial leftovers
        if len(secret) >= _MIN_LENGTH:
            text = text.replace(secret, REDACTED)
    return text


def redact_exception(exc: BaseException, extra: Iterable[SecretStr | str | None] = ()) -> None:
    """Scrub ``exc.args`` (what str() and repr() show) and its text attributes in place."""
    extra = list(extra)
    exc.args = tuple(redact(a, extra) if isinstance(a, str) else a for a in exc.args)
    for name in ("server_text", "target"):
        value = getattr(exc, name, None)
        if isinstance(value, str):
            setattr(exc, name, redact(value, extra))


def _plain(secret: SecretStr | str | None) -> str | None:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret.strip() or None if isinstance(secret, str) else None


def _forms(value: str) -> set[str]:
    """The secret as sent (AUTH LOGIN sends each part base64-encoded)."""
    return {value, base64.b64encode(value.encode()).decode()}
