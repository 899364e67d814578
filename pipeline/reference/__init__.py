"""Committed reference tables, shipped inside the package and read with importlib.resources.

The maintainer scripts in ``tools/`` rebuild them; attribution in ``LICENSES.md`` (mcc_mnc.csv)
and ``LICENSES-emulator.md`` (the emulator's numbering plan and networks).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

__all__ = ["reference_file"]


def reference_file(name: str) -> Traversable:
    """One committed reference file, e.g. ``reference_file("mcc_mnc.csv")``."""
    return files(__name__) / name
