"""Email subjects that reach the reader as they were written: one unfolded line.

A header line is folded past 78 characters; "Subject: " takes 9. Python (3.11) folds a 70-77
character subject right after the colon, and a parser reads that back with a leading space:
a subject of at most ``SUBJECT_MAX`` characters is never folded at all.
"""

from __future__ import annotations

SUBJECT_MAX = 78 - len("Subject: ")


def fitting_subject(*candidates: str) -> str:
    """The first candidate (most telling first) of at most ``SUBJECT_MAX`` characters, else the
    last (the shortest): what a shorter one leaves out must be in the body."""
    return next((c for c in candidates if len(c) <= SUBJECT_MAX), candidates[-1])
