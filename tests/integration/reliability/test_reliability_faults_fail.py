"""Fault matrix, part 1: faults that must fail the run cleanly.

For each fault the emulator injects (or a transient one that never stops): the pipeline runs
in-process (``run_pipeline``), the voice step fails with ONE line naming the cause, nothing is
printed as a traceback, every table of the published warehouse AND of the working copy is
unchanged, no half-written file is left, and the next clean run succeeds.
"""

from __future__ import annotations

import pytest
from support.reliability import (
    TECH_PREFIX,
    dump_both,
    is_one_line,
    make_settings,
    pipeline_noise,
    snapshot_count,
    temp_leftovers,
)

from pipeline.orchestrate import run_pipeline

# id, emulator fault spec, settings overrides, words the one-line error must contain
FAILING = [
    ("401", "401", {}, ["401 Unauthorized", "Access denied"]),
    ("404", "404", {}, ["404 Not Found"]),
    ("truncated-body", "truncate", {}, ["closed before the body was complete"]),
    ("html-with-200", "html", {}, ["expected a rate deck", "text/html"]),
    ("empty-deck", "empty", {}, ["raw/voice/021001/", "no data rows"]),
    ("malformed-xls", "bad-xls", {"voice": {"format": "xls"}}, [".xls: not a rate deck"]),
    ("row-count-collapse", "collapse", {}, ["row_count_not_collapsed", "rows against"]),
    ("429-never-ends", "429@0.01", {}, ["429 Too Many Requests"]),
    ("503-never-ends", "503", {}, ["503 Service Unavailable"]),
    ("reset-never-ends", "reset", {}, ["connection failed"]),
    ("slow-beyond-timeout-always", "slow:0.5", {"api": {"timeout_s": 0.2}}, ["timed out"]),
    ("too-large", None, {"api": {"max_download_bytes": 2000}}, ["exceeds the limit"]),
]


def assert_failed_cleanly(summary, words: list[str]) -> str:
    assert not summary.ok
    assert [(s.area, s.partition) for s in summary.failures] == [("voice", TECH_PREFIX)]
    error = summary.failures[0].error
    assert is_one_line(error), error
    for word in words:
        assert word in error, error
    return error


@pytest.mark.parametrize(
    ("spec", "overrides", "words"),
    [pytest.param(spec, over, words, id=name) for name, spec, over, words in FAILING],
)
@pytest.mark.slow  # two pipeline runs per fault
def test_fault_fails_cleanly_and_next_run_succeeds(
    spec, overrides, words, server, data_dir, dagster_instance, capfd
):
    settings = make_settings(data_dir, server.url, **overrides)
    before = dump_both(settings)
    snapshots = snapshot_count(settings)
    server.set_faults(spec)

    summary = run_pipeline(settings, ["voice"], instance=dagster_instance)

    error = assert_failed_cleanly(summary, words)
    assert dump_both(settings) == before, f"a table changed after: {error}"
    assert temp_leftovers(data_dir) == []
    assert pipeline_noise(capfd.readouterr().err) == []
    if spec is not None:
        assert any(r.fault for r in server.request_log), "the fault was not exercised"

    server.set_faults(None)
    clean = run_pipeline(make_settings(data_dir, server.url), ["voice"], instance=dagster_instance)
    assert clean.ok, [s.error for s in clean.failures]
    assert snapshot_count(settings) == snapshots + 1


def test_unknown_tech_prefix_fails_cleanly(server, data_dir, dagster_instance):
    """A configured tech prefix the API does not know: a real 404, nothing changes."""
    settings = make_settings(data_dir, server.url, voice={"tech_prefixes": ["021099"]})
    before = dump_both(settings)

    summary = run_pipeline(settings, ["voice"], instance=dagster_instance)

    assert [(s.area, s.partition) for s in summary.failures] == [("voice", "021099")]
    error = summary.failures[0].error
    assert is_one_line(error) and "/rates/021099/download: 404 Not Found" in error
    assert dump_both(settings) == before
    assert temp_leftovers(data_dir) == []
    assert not (data_dir / "raw" / "voice" / "021099").exists() or not any(
        (data_dir / "raw" / "voice" / "021099").iterdir()
    )
    clean = run_pipeline(make_settings(data_dir, server.url), ["voice"], instance=dagster_instance)
    assert clean.ok


def test_one_failing_partition_does_not_stop_the_others(server, data_dir, dagster_instance):
    """A fault on one tech prefix's path fails that step only; the other loads."""
    settings = make_settings(data_dir, server.url, voice={"tech_prefixes": [TECH_PREFIX, "021099"]})
    snapshots = snapshot_count(settings)
    summary = run_pipeline(settings, ["voice"], instance=dagster_instance)
    assert [(s.partition, s.ok) for s in summary.steps if s.area == "voice"] == [
        (TECH_PREFIX, True),
        ("021099", False),
    ]
    assert snapshot_count(settings) == snapshots + 1
