"""One place that scrubs secrets out of text a server sent us.

A relay or an API that echoes what it received (a password in an SMTP reply, the API key in
an HTTP error body) must not put it on stderr, in ``report_log.error``, in Dagster's run
storage or in an exception. Every message built from a server's text goes through
:func:`redact` with the secrets the caller was configured with: :func:`configured_secrets`
gives all of ``settings.secrets`` (every SecretStr field, present and future) and the forms
they travel in (base64 for SMTP AUTH LOGIN, the AUTH PLAIN blob of user and password).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from pydantic import SecretStr

REDACTED = "***"
_MIN_LENGTH = 3  # shorter "secrets" would blank out ordinary words and digits

Secret = SecretStr | str | None


def configured_secrets(settings: object) -> tuple[str, ...]:
    """Every secret of ``settings.secrets``, in every form a server might echo."""
    secrets = getattr(settings, "secrets", None)
    if secrets is None:
        return ()
    values = [getattr(secrets, name) for name in type(secrets).model_fields]
    login = login_forms(
        getattr(secrets, "smtp_user", None), getattr(secrets, "smtp_password", None)
    )
    return tuple(sorted(secret_forms(*values) | set(login)))


def login_forms(user: Secret, password: Secret) -> tuple[str, ...]:
    """An SMTP login: user, password, each base64-encoded, and the AUTH PLAIN blob."""
    forms = secret_forms(user, password)
    user_text, password_text = _plain(user), _plain(password)
    if user_text and password_text:
        forms.add(base64.b64encode(f"\0{user_text}\0{password_text}".encode()).decode())
    return tuple(sorted(forms))


def secret_forms(*secrets: Secret) -> set[str]:
    """The secrets as given and base64-encoded (AUTH LOGIN sends each part so)."""
    forms = set()
    for secret in secrets:
        value = _plain(secret)
        if value and len(value) >= _MIN_LENGTH:
            forms |= {value, base64.b64encode(value.encode()).decode()}
    return forms


def redact(text: str, secrets: Iterable[Secret]) -> str:
    """``text`` with each of ``secrets`` (and its base64 form) replaced by ``***``."""
    known = secret_forms(*secrets)
    for secret in sorted(known, key=len, reverse=True):  # longest first: no partial leftovers
        text = text.replace(secret, REDACTED)
    return text


def redact_exception(exc: BaseException, secrets: Iterable[Secret]) -> None:
    """Scrub ``exc.args`` (what str() and repr() show) and its text attributes in place."""
    secrets = list(secrets)
    exc.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in exc.args)
    for name in ("server_text", "target"):
        value = getattr(exc, name, None)
        if isinstance(value, str):
            setattr(exc, name, redact(value, secrets))


def _plain(secret: Secret) -> str | None:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return (secret.strip() or None) if isinstance(secret, str) else None
