"""``ratedeck run``: missing credentials fail before the first request; the summary shows the
balance rather than an alert status."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from support.cli_errors import API_KEY, MARKET_DAY

pytestmark = pytest.mark.slow  # `ratedeck run` in a subprocess against the emulator


def test_run_without_an_api_key_fails_before_any_request(ratedeck, emulator, tmp_path):
    data_dir = tmp_path / "data"
    result = ratedeck(
        "run", cwd=tmp_path, RATEDECK_DATA_DIR=str(data_dir), COMMPEAK_BASE_URL=emulator.url
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "ratedeck: error: no API key: set COMMPEAK_API_KEY (needed by voice, sms, balance)"
    ]
    assert emulator.request_log == []
    assert not data_dir.exists()  # no Dagster home, no state: nothing was started


def test_run_summary_shows_the_balance_and_the_threshold(ratedeck, emulator, market, tmp_path):
    balance = market.day(MARKET_DAY).customer()["balance"]
    assert Decimal("100") < balance < Decimal("1234.5")  # what the thresholds below rely on
    whole, _, frac = f"{balance:f}".partition(".")
    shown = f"{int(whole):,}.{frac.rstrip('0').ljust(2, '0')}"
    config = tmp_path / "ratedeck.toml"
    notes = []
    for threshold in ("100", "1234.5"):
        config.write_text(f'[balance]\nlow_balance_threshold = "{threshold}"\n')
        result = ratedeck(
            "run",
            "--select",
            "balance",
            cwd=tmp_path,
            RATEDECK_DATA_DIR=str(tmp_path / "data"),
            COMMPEAK_BASE_URL=emulator.url,
            COMMPEAK_API_KEY=API_KEY,
        )
        assert result.returncode == 0, result.stderr
        notes.append(re.search(r"^balance\s+ok\s+(.*)$", result.stdout, re.M).group(1))

    assert notes == [
        f"balance {shown} USD (alert threshold 100.00)",
        f"balance {shown} USD (alert threshold 1,234.50): low-balance alert sent",
    ]
