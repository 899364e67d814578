"""New email messages whose Message-ID is sent on one line, as ratedeck records it.

Python's email package (3.11) folds a header right after its colon when its value is a single
token too long to follow the colon within 78 characters but not longer than 77: a Message-ID of
67-77 characters (every run-failure alert from ``ratedeck@example.com``, whose id carries a
36-character run id) went out as ``Message-ID:`` and `` <...>`` on the next line. A parser reads
that back with a leading space (Python's does), so the id a recipient's tools saw was not the
one ``report_log`` and ``pending_delivery`` keep: matching a received email, or a resend after
a crash, against them by Message-ID failed. An id has no whitespace to fold at, so its header
is written as one line, whatever its length (the ids ratedeck makes stay far below the
998-character limit of a line).
"""

from __future__ import annotations

from email import headerregistry, policy
from email.message import EmailMessage
from email.policy import Policy


class OneLineMessageIDHeader(headerregistry.MessageIDHeader):
    """Message-ID as ``Message-ID: <id>``: never folded. The id is ASCII: ratedeck makes it
    from its own name and the ``smtp.sender`` domain, which the settings keep to ASCII."""

    name: str  # BaseHeader's, which the registry adds as a base class

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def _header_factory() -> headerregistry.HeaderRegistry:
    registry = headerregistry.HeaderRegistry()
    # typeshed wants a BaseHeader; the registry adds that base itself (as for the stdlib's own
    # MessageIDHeader, no BaseHeader either)
    registry.map_to_type("message-id", OneLineMessageIDHeader)  # type: ignore[arg-type]
    return registry


# policy.default (what a parser reads back with) but for the Message-ID header
MAIL_POLICY = policy.default.clone(header_factory=_header_factory())


def new_message() -> EmailMessage:
    """An empty message for ratedeck to send: every email it builds starts here."""
    return EmailMessage(policy=MAIL_POLICY)


__all__ = ["MAIL_POLICY", "OneLineMessageIDHeader", "new_message"]
