"""Errors of the built-in emulator (a bad fault spec or date is bad input: exit code 2)."""

from __future__ import annotations

from pipeline.errors import InputError, RatedeckError


class EmulatorError(RatedeckError):
    """The emulator could not start (port taken, bad host...)."""


class FaultSpecError(InputError, ValueError):
    """A ``--faults`` spec that does not parse; the message names the bad item."""
