"""Sending one email over SMTP (smtplib): plain, STARTTLS or implicit TLS, with timeouts."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from pydantic import SecretStr

from pipeline.notify.errors import (
    NotifyConfigError,
    SmtpAuthError,
    SmtpConnectError,
    SmtpRejectedError,
)
from pipeline.settings import SmtpSettings, is_loopback_host


def smtp_target(smtp: SmtpSettings) -> str:
    scheme = "smtps" if smtp.ssl else "smtp"
    return f"{scheme}://{smtp.host}:{smtp.port}"


def send_smtp(
    message: EmailMessage,
    smtp: SmtpSettings,
    *,
    user: SecretStr | None = None,
    password: SecretStr | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> str:
    """Hand ``message`` to the SMTP server; returns the target (``smtp://host:port``).

    Every recipient must be accepted: a partial refusal raises SmtpRejectedError (the report
    is then retried as a whole rather than silently missing a reader).
    """
    if not smtp.host:
        raise NotifyConfigError("smtp: no host configured")
    target = smtp_target(smtp)
    encrypted = smtp.ssl or smtp.starttls
    if (user or password) and not encrypted and not is_loopback_host(smtp.host):
        raise NotifyConfigError(
            f"{target}: refusing to send SMTP credentials without TLS: "
            "set smtp.starttls = true or smtp.ssl = true"
        )
    context = ssl_context or ssl.create_default_context()
    try:
        with _connect(smtp, context) as client:
            if smtp.starttls:
                client.starttls(context=context)
                client.ehlo()
            if user or password:
                _login(client, target, user, password)
            refused = client.send_message(message)
    except (SmtpAuthError, NotifyConfigError):
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        raise SmtpRejectedError(
            f"{target}: every recipient refused: {_reply_summary(exc.recipients)}", target=target
        ) from None
    except smtplib.SMTPSenderRefused as exc:
        raise SmtpRejectedError(
            f"{target}: sender refused: {exc.smtp_code} {_text(exc.smtp_error)}", target=target
        ) from None
    except smtplib.SMTPDataError as exc:
        raise SmtpRejectedError(
            f"{target}: message refused: {exc.smtp_code} {_text(exc.smtp_error)}", target=target
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise SmtpConnectError(f"{target}: {exc}", target=target) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpConnectError(f"{target}: {_describe(exc)}", target=target) from None
    if refused:
        raise SmtpRejectedError(
            f"{target}: some recipients refused: {_reply_summary(refused)}", target=target
        )
    return target


def _connect(smtp: SmtpSettings, context: ssl.SSLContext) -> smtplib.SMTP:
    if smtp.ssl:
        return smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
    return smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)


def _login(
    client: smtplib.SMTP, target: str, user: SecretStr | None, password: SecretStr | None
) -> None:
    if not (user and password):
        raise NotifyConfigError(
            "smtp: set both RATEDECK_SMTP_USER and RATEDECK_SMTP_PASSWORD, or neither"
        )
    try:
        client.login(user.get_secret_value(), password.get_secret_value())
    except smtplib.SMTPAuthenticationError as exc:
        # the server's reply could in theory echo what it was sent: keep only its code
        raise SmtpAuthError(f"{target}: login refused ({exc.smtp_code})", target=target) from None
    except smtplib.SMTPNotSupportedError:
        raise SmtpAuthError(
            f"{target}: the server offers no AUTH (is TLS required first?)", target=target
        ) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


def _reply_summary(replies: dict) -> str:
    return "; ".join(
        f"{rcpt}: {code} {_text(text)}" for rcpt, (code, text) in sorted(replies.items())
    )


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())
