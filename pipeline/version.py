"""The installed ratedeck's version: from its package metadata (``version`` in pyproject.toml),
not a copy kept in the code. Read only when needed: importlib.metadata costs a few hundredths
of a second."""

from __future__ import annotations


def installed_version() -> str:
    """``0.2.0``, or what says it is not installed (a source tree never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ratedeck")
    except PackageNotFoundError:
        return "unknown (not installed)"
