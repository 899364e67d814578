"""The root of ratedeck's exception hierarchy.

Every boundary (CommPeak client, ingest, warehouse, analytics input, notify) has its own
subclasses in its own package; the CLI maps any ``RatedeckError`` to ``exit_code`` and a
one-line message (``str(exc)``). Messages must never contain a secret.
"""

from __future__ import annotations


class RatedeckError(Exception):
    """Base class: a failure the user should see as one line, not a traceback."""

    exit_code: int = 1


class ConfigError(RatedeckError):
    """Bad settings: unknown key, bad tech prefix, bad URL, missing secret."""

    exit_code = 2


class InputError(RatedeckError):
    """Bad user input (a number with letters, an unreadable calls file...)."""

    exit_code = 2


class RunFailed(RatedeckError):
    """A pipeline run failed; the message says which step and why."""

    exit_code = 1
