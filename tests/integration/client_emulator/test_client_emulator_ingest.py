"""Decks the client downloads fine but ingest must refuse (or shrink): the empty deck, the
malformed XLS, the collapsed deck. Errors are one line naming the downloaded file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.commpeak import CommPeakClient
from pipeline.emulator import EmulatorServer, MarketDay
from pipeline.emulator.faults import COLLAPSE_KEEP_EVERY
from pipeline.ingest.errors import IngestError, NoValidRowsError, UnrecognisedFormatError
from pipeline.ingest.voice import normalize_voice_deck


@pytest.mark.parametrize("fmt", ["csv", "xls"])
def test_empty_deck_downloads_but_ingest_refuses_it(
    emulator: EmulatorServer, client: CommPeakClient, tmp_path: Path, fmt: str
) -> None:
    emulator.set_faults("empty")
    dest = tmp_path / f"current.{fmt}"
    download = client.download_rates("current", dest, fmt=fmt)
    assert download.size_bytes == dest.stat().st_size > 0  # a header, nothing under it
    with pytest.raises(NoValidRowsError) as caught:
        normalize_voice_deck(dest.read_bytes(), source=str(dest))
    assert str(caught.value) == f"{dest}: no data rows under the header"
    assert caught.value.exit_code == 2


def test_empty_json_rate_list_is_an_empty_list(
    emulator: EmulatorServer, client: CommPeakClient
) -> None:
    emulator.set_faults("empty")
    assert client.rates("current") == []


def test_malformed_xls_downloads_but_ingest_refuses_it_in_one_line(
    emulator: EmulatorServer, client: CommPeakClient, tmp_path: Path
) -> None:
    emulator.set_faults("bad-xls")
    dest = tmp_path / "current.xls"
    download = client.download_rates("current", dest, fmt="xls")
    assert download.content_type == "application/vnd.ms-excel"
    with pytest.raises(UnrecognisedFormatError) as caught:
        normalize_voice_deck(dest.read_bytes(), source=str(dest))
    message = str(caught.value)
    assert message.startswith(f"{dest}: ") and "XLS" in message and "\n" not in message
    assert isinstance(caught.value, IngestError) and caught.value.exit_code == 2


def test_collapsed_deck_ingests_a_twentieth(
    emulator: EmulatorServer, client: CommPeakClient, market_day: MarketDay, tmp_path: Path
) -> None:
    emulator.set_faults("collapse")
    dest = tmp_path / "current.csv"
    client.download_rates("current", dest)
    result = normalize_voice_deck(dest.read_bytes(), source=str(dest))
    kept = market_day.voice_deck("current")[::COLLAPSE_KEEP_EVERY]
    assert result.rows["prefix"].to_list() == [r.prefix for r in kept]
