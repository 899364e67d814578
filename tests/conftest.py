"""Suite-wide fixtures. Area-specific fixtures live in each test folder's conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"

# Tests never talk to the real API or a real mail server, whatever the caller's environment says.
for _var in (
    "COMMPEAK_BASE_URL",
    "COMMPEAK_API_KEY",
    "RATEDECK_CONFIG",
    "RATEDECK_DATA_DIR",
    "RATEDECK_WAREHOUSE",
    "RATEDECK_SMTP_USER",
    "RATEDECK_SMTP_PASSWORD",
    "RATEDECK_POSTGRES_PASSWORD",
):
    os.environ.pop(_var, None)


@pytest.fixture
def realdata_dir() -> Path:
    """../shared/realdata (GPL-3.0 files are read from there, never copied); skip when absent."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not present")
    return REALDATA
