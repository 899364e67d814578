"""Email subjects that reach the reader as they were written: one unfolded line.

A header line is folded past 78 characters; "Subject: " takes 9. Python (3.11) folds a 70-77
character subject right after the colon, and a parser reads that back with a leading space.
Non-ASCII text is sent as RFC 2047 encoded words (``é`` becomes ``=?utf-8?q?=C3=A9?=``), so such
a subject folds at far fewer characters, and Python's folding between encoded words drops or
doubles a space. So a subject must be one line as the email package serialises it and read back
unchanged (:func:`fits`): an ASCII subject of at most ``SUBJECT_MAX`` characters always is.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

SUBJECT_MAX = 78 - len("Subject: ")

# marks a subject cut short; ASCII: an ellipsis would be an encoded word of some 20 characters
CUT = "..."


def fits(subject: str) -> bool:
    """Serialised as sent (``policy.default``) on one line, and parsed back unchanged."""
    message = EmailMessage()
    try:
        message["Subject"] = subject
    except ValueError:  # a line break: never one line
        return False
    header = message.as_bytes()
    parsed = BytesParser(policy=policy.default).parsebytes(header, headersonly=True)
    return header.count(b"\n") == 2 and parsed["Subject"] == subject  # the line + the blank one


def fitting_subject(*candidates: str) -> str:
    """The first candidate (most telling first) that :func:`fits`, else the last (the
    shortest): what a shorter one leaves out must be in the body."""
    return next((c for c in candidates if fits(c)), candidates[-1])


def shortened_subject(text: str) -> str:
    """``text`` when it fits, else its longest beginning that fits with ``CUT`` after it: put
    what matters most first, and all of it in the body."""
    if fits(text):
        return text
    # an ASCII subject is the longest a subject can be: no beginning longer than that fits
    for end in range(min(len(text), SUBJECT_MAX), 0, -1):
        cut = text[:end].rstrip() + CUT
        if fits(cut):
            return cut
    return CUT
