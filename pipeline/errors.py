"""The root of ratedeck's exception hierarchy.

Every boundary (CommPeak client, ingest, warehouse, analytics input, notify) has its own
subclasses in its own package; the CLI maps any ``RatedeckError`` to ``exit_code`` and a
one-line message (``str(exc)``). Messages must never contain a secret.
"""

from __future__ import annotations

import os
import re

# how Rust libraries (polars) word an OSError: "Permission denied (os error 13): /x.tmp"
_RUST_OS_ERROR = re.compile(r"\(os error (?P<errno>\d+)\)(?:: (?P<path>.+))?")


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


def os_error_reason(exc: OSError) -> str:
    """What went wrong, without the file name: ``No space left on device``. polars raises
    OSErrors with no ``strerror``, its errno only inside the message."""
    if exc.strerror:
        return exc.strerror
    rust = _RUST_OS_ERROR.search(str(exc))
    if rust:
        return os.strerror(int(rust["errno"]))
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def os_error_path(exc: OSError) -> str | None:
    """The file an OSError is about, if it says (polars: only inside its message)."""
    if exc.filename:
        return str(exc.filename)
    rust = _RUST_OS_ERROR.search(str(exc))
    return rust["path"] if rust else None


def os_error_line(exc: OSError) -> str:
    """``<file>: <what went wrong>``, e.g. ``data/raw/x: No space left on device``."""
    path, reason = os_error_path(exc), os_error_reason(exc)
    return f"{path}: {reason}" if path else reason
