"""Sending one email over SMTP (smtplib): plain, STARTTLS or implicit TLS, with timeouts.

The message goes as exact bytes (:func:`send_raw`), so a resend after a crash is identical to
the first attempt. Every error text that carries a server reply is scrubbed of every known
secret (:mod:`pipeline.redaction`): a relay may echo the password in any reply.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import getaddresses

from pydantic import SecretStr

from pipeline.notify.errors import (
    DeliveryError,
    NotifyConfigError,
    SmtpAuthError,
    SmtpConnectError,
    SmtpRejectedError,
)
from pipeline.redaction import login_forms, redact_exception
from pipeline.settings import SmtpSettings, is_loopback_host


def smtp_target(smtp: SmtpSettings) -> str:
    scheme = "smtps" if smtp.ssl else "smtp"
    return f"{scheme}://{smtp.host}:{smtp.port}"


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """(MAIL FROM, RCPT TO) as smtplib's send_message derives them from the headers."""
    sender = message["Sender"] or message["From"]
    [(_, mail_from)] = getaddresses([str(sender)])
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    return mail_from, [address for _, address in getaddresses(fields) if address]


def send_smtp(
    message: EmailMessage,
    smtp: SmtpSettings,
    *,
    user: SecretStr | None = None,
    password: SecretStr | None = None,
    ssl_context: ssl.SSLContext | None = None,
    secrets: tuple[str, ...] = (),
) -> str:
    """Hand ``message`` to the SMTP server; returns the target (``smtp://host:port``)."""
    mail_from, rcpt_to = envelope(message)
    return send_raw(
        message.as_bytes(),
        mail_from,
        rcpt_to,
        smtp,
        user=user,
        password=password,
        ssl_context=ssl_context,
        secrets=secrets,
    )


def send_raw(
    raw: bytes,
    mail_from: str,
    rcpt_to: list[str],
    smtp: SmtpSettings,
    *,
    user: SecretStr | None = None,
    password: SecretStr | None = None,
    ssl_context: ssl.SSLContext | None = None,
    secrets: tuple[str, ...] = (),
) -> str:
    """Send ``raw`` (an RFC 5322 message) as it is; returns the target.

    Every recipient must be accepted before DATA: one refusal sends nothing (RSET) and raises
    SmtpRejectedError, so a report reaches all its readers or none. Error texts are scrubbed
    of the login and of ``secrets`` (every other configured secret).
    """
    try:
        return _send(raw, mail_from, rcpt_to, smtp, user, password, ssl_context)
    except (DeliveryError, NotifyConfigError) as exc:
        redact_exception(exc, (*login_forms(user, password), *secrets))
        raise


def _send(raw, mail_from, rcpt_to, smtp, user, password, ssl_context) -> str:
    host = smtp.host
    if not host:
        raise NotifyConfigError("smtp: no host configured")
    target = smtp_target(smtp)
    encrypted = smtp.ssl or smtp.starttls
    if (user or password) and not encrypted and not is_loopback_host(host):
        raise NotifyConfigError(
            f"{target}: refusing to send SMTP credentials without TLS: "
            "set smtp.starttls = true or smtp.ssl = true"
        )
    context = ssl_context or ssl.create_default_context()
    in_data = False  # from DATA on, a broken dialogue may still have delivered the message
    try:
        with _connect(smtp, host, context) as client:
            if smtp.starttls:
                client.starttls(context=context)
                client.ehlo()
            if user or password:
                _login(client, target, user, password)
            _envelope(client, mail_from, rcpt_to)
            in_data = True
            code, reply = client.data(_crlf(raw))
            if code != 250:  # the final reply: a definite refusal
                in_data = False
                raise smtplib.SMTPDataError(code, reply)
    except (SmtpAuthError, NotifyConfigError):
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        every = "every recipient" if len(exc.recipients) == len(rcpt_to) else "recipients"
        raise SmtpRejectedError(
            f"{target}: {every} refused: {_reply_summary(exc.recipients)}", target=target
        ) from None
    except smtplib.SMTPSenderRefused as exc:
        raise SmtpRejectedError(
            f"{target}: sender refused: {exc.smtp_code} {_text(exc.smtp_error)}", target=target
        ) from None
    except smtplib.SMTPDataError as exc:  # a definite refusal: nothing was delivered
        raise SmtpRejectedError(
            f"{target}: message refused: {exc.smtp_code} {_text(exc.smtp_error)}", target=target
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise SmtpConnectError(f"{target}: {exc}", target=target) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpConnectError(
            f"{target}: {_describe(exc)}", target=target, possibly_delivered=in_data
        ) from None
    return target


def _envelope(client: smtplib.SMTP, mail_from: str, rcpt_to: list[str]) -> None:
    """MAIL FROM and every RCPT TO; any refusal resets the transaction (raises)."""
    client.ehlo_or_helo_if_needed()
    code, reply = client.mail(mail_from)
    if code != 250:
        _reset(client)
        raise smtplib.SMTPSenderRefused(code, reply, mail_from)
    refused = {}
    for recipient in rcpt_to:
        code, reply = client.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if refused or not rcpt_to:
        _reset(client)
        raise smtplib.SMTPRecipientsRefused(refused)


def _crlf(raw: bytes) -> bytes:
    """SMTP's line ending (the stored message and the .eml keep the generator's ``\\n``)."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


def _reset(client: smtplib.SMTP) -> None:
    try:
        client.rset()
    except smtplib.SMTPServerDisconnected:
        pass


def _connect(smtp: SmtpSettings, host: str, context: ssl.SSLContext) -> smtplib.SMTP:
    if smtp.ssl:
        return smtplib.SMTP_SSL(host, smtp.port, timeout=smtp.timeout_s, context=context)
    return smtplib.SMTP(host, smtp.port, timeout=smtp.timeout_s)


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
        # the server's reply could echo what it was sent: keep only its code
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
    return " ".join((str(exc) or type(exc).__name__).split())


def _reply_summary(replies: dict) -> str:
    return "; ".join(
        f"{rcpt}: {code} {_text(text)}" for rcpt, (code, text) in sorted(replies.items())
    )


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())
