"""Fixtures of the CDR integration tests."""

from __future__ import annotations

import pytest
from support.cdr import HISTORY, cdr_settings, insert_history


@pytest.fixture
def settings(tmp_path):
    """Settings of a data dir whose warehouse holds HISTORY's rates (modules that need a CDR
    folder or other settings define their own)."""
    settings = cdr_settings(tmp_path / "data")
    insert_history(settings, HISTORY)
    return settings
