"""Smoke test of the load benchmark (``python -m benchmarks.bench_load``), tiny: 2 tech prefixes
of 500 prefixes; plus the bounded concurrency of ``fetch_voice_decks`` it relies on."""

from __future__ import annotations

import json
import threading

import pytest
from support.reliability import API_KEY, MARKET_START, make_settings

from benchmarks.bench_load import main, tech_prefix_ids
from pipeline.commpeak import CommPeakClient
from pipeline.emulator import EmulatorServer, Market
from pipeline.stages.voice import fetch_voice_decks


@pytest.mark.slow  # the load benchmark, tiny
def test_bench_load_runs_tiny_and_reports_every_phase(capsys):
    assert main(["--tech-prefixes", "2", "--deck-size", "500", "--concurrency", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    phases = {phase["name"]: phase for phase in report["phases"]}
    assert list(phases) == ["warm_up", "fetch_sequential", "fetch_concurrent", "normalise", "load"]
    assert all(p["seconds"] >= 0 and p["peak_rss_mb"] > 0 for p in phases.values())
    assert report["snapshots"] == 2
    assert 900 <= report["rows_loaded"] <= 1100  # ~500 rows a deck
    assert report["fetch_speedup"] > 0 and report["bytes_fetched"] > 0


def test_fetch_voice_decks_lands_every_deck_with_bounded_concurrency(tmp_path, monkeypatch):
    ids = tech_prefix_ids(6)
    assert ids[0] == "021001" and ids[-1] == "021006"
    market = Market(seed=3, start_date=MARKET_START, deck_size=50, tech_prefixes=tuple(ids))
    in_flight, peak, lock = [0], [0], threading.Lock()
    both_started = threading.Barrier(2, timeout=60)  # the first two downloads meet here
    download = CommPeakClient.download_rates

    started: list[str] = []

    def counting(self, tech_prefix, *args, **kwargs):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            started.append(tech_prefix)
            first_two = len(started) <= 2
        try:
            if first_two:  # proves two downloads are in flight together
                both_started.wait()
            return download(self, tech_prefix, *args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(CommPeakClient, "download_rates", counting)
    with EmulatorServer(market, api_key=API_KEY) as server:
        settings = make_settings(tmp_path / "data", server.url, voice={"tech_prefixes": ids})
        landed = fetch_voice_decks(
            settings, lambda: CommPeakClient.from_settings(settings), ids, concurrency=2
        )
        assert len(server.request_log) == len(ids)
    assert sorted(landed) == ids
    assert all(f.relative_path.startswith(f"raw/voice/{tp}/") for tp, f in landed.items())
    assert all(f.path.is_file() for f in landed.values())
    assert peak[0] == 2  # two at once (they met at the barrier), never more


def test_bench_load_simulates_market_days(capsys):
    assert main(["--days", "3", "--tech-prefixes", "2", "--deck-size", "300", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    days = report["history"]
    assert [d["day"] for d in days] == [1, 2, 3]
    assert days[0]["market_date"] < days[1]["market_date"] < days[2]["market_date"]
    assert days[0]["changes"] == 0 and sum(d["changes"] for d in days) > 0  # the market moves
    assert days[0]["rates_stored"] < days[-1]["rates_stored"]
    assert report["run_ratio"] == days[-1]["run_s"] / days[0]["run_s"]
    # between runs: the published file and the working copy (the same bytes), nothing else
    last = days[-1]
    assert 1.9 * last["published_mb"] <= last["on_disk_mb"] <= 2.1 * last["published_mb"]
    assert report["size_ratio"] == last["published_mb"] / report["compact_mb"]
