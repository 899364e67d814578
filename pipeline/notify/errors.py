"""Exceptions raised while delivering an email.

Hierarchy::

    RatedeckError                    (pipeline.errors; exit code 1)
    └── NotifyError                  any failure of the notify layer
        ├── NotifyConfigError        settings that cannot work, e.g. credentials over plain
        │                            text to a remote host (exit 2); nothing was sent
        └── DeliveryError            the message was not delivered (``target`` says where to)
            ├── SmtpConnectError     no connection, TLS failure, timeout, dropped connection
            ├── SmtpAuthError        the server refused the credentials
            ├── SmtpRejectedError    the server refused the sender, recipients or message
            └── OutboxError          the .eml file could not be written

Messages are one line and name the target (``smtp://host:port`` or a path). Server replies
are included, scrubbed by :func:`pipeline.redaction.redact` of every configured secret (a relay
may echo the password it was sent).

``possibly_delivered`` says whether the server may have accepted the message all the same (a
timeout or a dropped connection after DATA began): such a message stays pending and is resent
byte for byte; a definite refusal, or a failure before DATA, leaves nothing delivered.
"""

from __future__ import annotations

from pipeline.errors import RatedeckError


class NotifyError(RatedeckError):
    """Base class of every notify failure."""


class NotifyConfigError(NotifyError):
    """The delivery settings cannot work as configured; nothing was attempted."""

    exit_code = 2


class DeliveryError(NotifyError):
    """The message was not delivered; nothing may be marked as sent."""

    def __init__(self, message: str, *, target: str, possibly_delivered: bool = False) -> None:
        super().__init__(message)
        self.target = target
        self.possibly_delivered = possibly_delivered


class SmtpConnectError(DeliveryError):
    """Could not connect, negotiate TLS or finish the SMTP dialogue in time."""


class SmtpAuthError(DeliveryError):
    """The SMTP server refused the login."""


class SmtpRejectedError(DeliveryError):
    """The SMTP server refused the sender, every recipient, or the message."""


class OutboxError(DeliveryError):
    """The .eml file could not be written to the outbox folder."""
