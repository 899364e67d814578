"""Issue 13: "current" is the account's default tech prefix, so ``["current", "021001"]``
downloads one deck twice when 021001 is the default. The deck is loaded once; the second name
is recorded as an alias, warned about in one line, and never counted twice."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import pytest
from pydantic import SecretStr

from pipeline.emulator import EmulatorServer, Market
from pipeline.orchestrate import run_pipeline
from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse

DAY1 = date(2026, 11, 2)
TECH_PREFIXES = ["current", "021001", "021002"]
API_KEY = "alias-test-key"


@pytest.mark.slow  # two Dagster pipeline runs
def test_a_deck_served_under_two_tech_prefixes_is_loaded_once(tmp_path):
    market = Market(7, DAY1, 200, TECH_PREFIXES, effective_dates=True, default_tech_prefix="021001")
    settings = Settings().with_overrides(
        paths={"data_dir": str(tmp_path / "data")},
        voice={"tech_prefixes": TECH_PREFIXES},
        sms={"channels": []},
        smtp={"host": None},
    )
    instance = dg.DagsterInstance.ephemeral()
    with EmulatorServer(market, api_key=API_KEY, market_date=DAY1) as server:
        settings = settings.with_overrides(api={"base_url": server.url, "max_retries": 0})
        secrets = settings.secrets.model_copy(update={"api_key": SecretStr(API_KEY)})
        settings = settings.model_copy(update={"secrets": secrets})
        day1 = run_pipeline(settings, ["voice"], instance=instance)
        server.set_market_date(DAY1 + timedelta(days=1))
        day2 = run_pipeline(settings, ["voice"], instance=instance)
    assert day1.ok and day2.ok

    with Warehouse(settings).reader() as con:
        snapshots = con.execute(
            "SELECT tech_prefix, count(*) FROM voice_snapshot GROUP BY 1 ORDER BY 1"
        ).fetchall()
        aliases = con.execute(
            "SELECT a.tech_prefix, a.same_as, a.content_sha256 = s.content_sha256"
            " FROM voice_deck_alias a JOIN voice_snapshot s USING (snapshot_id)"
            " ORDER BY a.fetched_at"
        ).fetchall()
        changes = dict(
            con.execute("SELECT tech_prefix, count(*) FROM voice_rate_change GROUP BY 1").fetchall()
        )
    assert snapshots == [("021002", 2), ("current", 2)]  # 021001 is current's deck
    assert aliases == [("021001", "current", True)] * 2
    assert set(changes) == {"current", "021002"} and all(changes.values())

    # one line per alias in the run's steps, nothing loaded for it
    [step] = [s for s in day2.steps if s.partition == "021001"]
    history = step.metadata["voice_rate_history"]
    assert history["alias_of"] == "current" and history["rows"] == 0 and history["changes"] == 0
    assert history["change_types"].startswith("same deck as current (sha256 ")
    # the finance email counts each change once
    [report] = [s for s in day2.steps if s.area == "report"]
    sent = report.metadata["price_change_report"]
    assert sent["changes"] == sum(changes.values())
    assert "021001" not in sent["subject"]
