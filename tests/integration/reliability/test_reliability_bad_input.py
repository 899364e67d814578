"""Bad input: hostile tech prefixes never reach the network or the file system, raw files stay
inside the landing zone, SQL is only ever parameterised, oversized or endless bodies stop at
``api.max_download_bytes``, and a deck of 10,000 bad rows is reported in counts, not in floods.
"""

from __future__ import annotations

import ast
import io
import itertools
import json
import logging
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.reliability import (
    TECH_PREFIX,
    dump_both,
    is_one_line,
    make_settings,
    query,
    temp_leftovers,
)

from pipeline.commpeak import (
    CommPeakClient,
    InvalidRequestError,
    ResponseTooLargeError,
    filename_from_content_disposition,
)
from pipeline.errors import ConfigError
from pipeline.landing import LandingError, LandingZone
from pipeline.orchestrate import run_pipeline
from pipeline.settings import load_settings
from pipeline.stages.voice import fetch_voice_deck, fetch_voice_decks

REPO = Path(__file__).resolve().parents[3]
HOSTILE = [
    "../customer",
    "021001/../x",
    "..",
    "021001/",
    "%2e%2e%2fcustomer",
    "021001?x=1",
    "021001#x",
    " 021001",
    "current/../customer",
    "0210\r\n01",
    "",
]


@pytest.mark.parametrize("bad", HOSTILE)
def test_settings_refuse_a_hostile_tech_prefix(bad, tmp_path):
    config = tmp_path / "ratedeck.toml"
    config.write_text(f"[voice]\ntech_prefixes = [{json.dumps(bad)}]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad tech prefix") as refused:
        load_settings(config, {})
    assert is_one_line(str(refused.value))
    with pytest.raises(ConfigError, match="bad tech prefix"):
        make_settings(tmp_path / "data", "http://127.0.0.1:9", voice={"tech_prefixes": [bad]})


@pytest.mark.parametrize("bad", [*HOSTILE, "021001\n"])
def test_client_and_stages_refuse_a_hostile_tech_prefix_before_any_request(bad, server, tmp_path):
    settings = make_settings(tmp_path / "data", server.url)
    with CommPeakClient.from_settings(settings) as client:
        for call in (
            lambda: client.download_rates(bad, tmp_path / "deck.csv"),
            lambda: client.rates(bad),
            lambda: client.search_rates(bad, "44"),
        ):
            with pytest.raises(InvalidRequestError, match="bad tech prefix"):
                call()
        with pytest.raises((InvalidRequestError, LandingError)):
            fetch_voice_deck(settings, client, bad)
    with pytest.raises(InvalidRequestError, match="bad tech prefix"):
        fetch_voice_decks(
            settings, lambda: CommPeakClient.from_settings(settings), [TECH_PREFIX, bad]
        )
    assert server.request_log == []
    assert not (tmp_path / "customer").exists() and not (tmp_path / "x").exists()
    landed = list((tmp_path / "data").rglob("*")) if (tmp_path / "data").exists() else []
    assert [p for p in landed if p.is_file()] == []


def test_raw_files_cannot_leave_the_landing_zone(tmp_path):
    data_dir = tmp_path / "data"
    zone = LandingZone(data_dir)
    when = datetime(2026, 11, 26, 6, tzinfo=UTC)
    landed = zone.store_bytes("voice", TECH_PREFIX, b"x", ext="csv", fetched_at=when)
    outside = tmp_path / "outside.csv"
    outside.write_text("secret")
    # a symlink planted in the zone pointing out of it
    (landed.path.parent / "20261126T060000.000000Z-0123456789abcdef.csv").symlink_to(outside)
    for relative in (
        "../outside.csv",
        "raw/../../outside.csv",
        "raw/voice/021001/../../../../outside.csv",
        str(outside),
        "raw/voice/021001/20261126T060000.000000Z-0123456789abcdef.csv",  # the symlink
        landed.relative_path + "\n",
    ):
        with pytest.raises(LandingError):
            zone.open_landed("voice", TECH_PREFIX, relative)
    staged_outside = tmp_path / ".incoming-x"
    staged_outside.write_bytes(b"x")
    with pytest.raises(LandingError):
        zone.store_file("voice", TECH_PREFIX, staged_outside, ext="csv", fetched_at=when)
    for source in ("../x", "a/b", "021001\n", "x\0y", "~root"):
        with pytest.raises(LandingError):
            zone.folder("voice", source)
    assert outside.read_text() == "secret"


def test_a_server_proposed_file_name_is_ignored(static_server, tmp_path):
    """Content-Disposition asks for ../../../evil.csv: the deck still lands under raw/ with the
    zone's own time-and-hash name, and the proposed name is reduced to a bare file name."""
    hostile = 'attachment; filename="../../../evil.csv"'
    assert filename_from_content_disposition(hostile) == "evil.csv"
    deck = b"Destination,Prefix,Price,Billing Increments\nUK,44,0.01,1/1\n"
    server = static_server(lambda path: deck, {"Content-Disposition": hostile})
    settings = make_settings(tmp_path / "data", server.url)
    summary = run_pipeline(settings, ["voice"], report=False)
    assert summary.ok, [s.error for s in summary.failures]
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.csv"))
    assert len(files) == 1 and files[0].parts[:4] == ("data", "raw", "voice", TECH_PREFIX)
    assert not list(tmp_path.rglob("evil*"))
    (raw_path,) = query(settings.warehouse_path, "SELECT raw_path FROM wh.voice_snapshot")[0]
    assert raw_path.startswith(f"raw/voice/{TECH_PREFIX}/") and ".." not in raw_path


# -- SQL only with parameters ------------------------------------------------------------------

SQL_METHODS = {"execute", "executemany", "sql", "query"}
# (file, function): where a non-literal SQL text is fine, and why
SQL_ALLOWED = {
    # the analyst's own query, by design, on a read-only connection to the published file
    ("pipeline/commands/sql.py", "query_result"),
    # sql/ files and sql/queries templates filled with HistorySpec / SnapshotSpec identifiers,
    # each checked against a plain-identifier pattern and quoted (values stay $named parameters)
    ("pipeline/warehouse/history.py", "execute_named"),
    # migrations: the text of the repository's own sql/ files
    ("pipeline/warehouse/migrate.py", "apply_migrations"),
    # Dagster's Executor.execute(plan_context, execution_plan), wrapped: no SQL at all
    ("pipeline/defs/dead_runs.py", "execute"),
}


def _safe_text(node: ast.expr, assigned: dict[str, list[ast.expr]]) -> bool:
    """SQL text that cannot carry data: a literal, a file read from sql/, a module constant,
    or a variable only ever assigned such things (plus literal suffixes)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "read_sql":
        return all(isinstance(a, ast.Constant) for a in node.args)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return (
            node.value.id.isupper() or node.value.id.startswith("_") and node.value.id[1:].isupper()
        )
    if isinstance(node, ast.Name):
        if node.id.isupper():
            return True
        values = assigned.get(node.id, [])
        return bool(values) and all(_safe_text(v, assigned) for v in values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _safe_text(node.left, assigned) and _safe_text(node.right, assigned)
    if isinstance(node, ast.IfExp):  # one of two safe texts
        return _safe_text(node.body, assigned) and _safe_text(node.orelse, assigned)
    return False


def _calls_in(source: str, relative: str) -> list[tuple[str, str, int, ast.Call, dict]]:
    calls = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        assigned: dict[str, list[ast.expr]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                assigned.setdefault(node.target.id, []).append(node.value)
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_METHODS
                and node.args
            ):
                calls.append((relative, function.name, node.lineno, node, assigned))
    return calls


def _offenders(calls) -> list[str]:
    return [
        f"{file}:{line} in {function}(): {ast.unparse(call.args[0])[:80]}"
        for file, function, line, call, assigned in calls
        if (file, function) not in SQL_ALLOWED and not _safe_text(call.args[0], assigned)
    ]


def _sql_calls() -> list[tuple[str, str, int, ast.Call, dict]]:
    calls = []
    for path in sorted((REPO / "pipeline").rglob("*.py")):
        relative = str(path.relative_to(REPO))
        calls += _calls_in(path.read_text(encoding="utf-8"), relative)
    return calls


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("def f(con, t): con.execute(f'SELECT * FROM x WHERE a = {t}')", True),
        ("def f(con, t): con.execute('SELECT * FROM x WHERE a = %s' % t)", True),
        ("def f(con, t): con.sql('SELECT {}'.format(t))", True),
        ("def f(con, t):\n    q = 'SELECT ' + t\n    con.execute(q)", True),
        ("def f(con, t):\n    q = 'SELECT 1'\n    q += f' AND {t}'\n    con.execute(q)", True),
        ("def f(con, t): con.execute('SELECT * FROM x WHERE a = ?', [t])", False),
        ("def f(con, t): con.execute(read_sql('queries/x.sql'), [t])", False),
        ("def f(con, t): con.execute('ROLLBACK' if t else 'COMMIT')", False),
        ("def f(con, t): con.execute('SELECT 1' if t else f'SELECT {t}')", True),
        (
            "def f(con, t):\n    q = 'SELECT 1'\n    q += ' WHERE a = ?'\n    con.sql(q, params=[t])",
            False,
        ),
    ],
)
def test_the_sql_scan_tells_formatting_from_parameters(source, flagged):
    assert bool(_offenders(_calls_in(source, "example.py"))) is flagged


def test_sql_text_is_never_built_from_values():
    calls = _sql_calls()
    assert len(calls) > 30  # the scan does see the code base
    sites = {(file, function) for file, function, *_ in calls}
    assert SQL_ALLOWED <= sites, f"stale allowlist entries: {SQL_ALLOWED - sites}"
    assert _offenders(calls) == []


def test_ruff_finds_no_sql_built_by_string_formatting():
    ruff = Path(sys.executable).with_name("ruff")
    checked = subprocess.run(
        [str(ruff), "check", "--select", "S608", "--no-cache", "pipeline"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout


# -- size limit ---------------------------------------------------------------------------------


def test_a_huge_deck_stops_at_the_size_limit(server, data_dir, dagster_instance):
    settings = make_settings(data_dir, server.url, api={"max_download_bytes": 4096})
    before = dump_both(settings)
    summary = run_pipeline(settings, ["voice"], instance=dagster_instance)
    (failure,) = summary.failures
    assert is_one_line(failure.error)
    assert "exceeds the limit of 4096 bytes" in failure.error
    assert dump_both(settings) == before
    assert temp_leftovers(data_dir) == []


def test_an_endless_body_stops_at_the_size_limit(static_server, tmp_path):
    limit = 256 * 1024
    endless = itertools.repeat(b"Country,12345,0.01,1/1\n" * 2000)  # 46 KB chunks, for ever
    server = static_server(lambda path: endless)
    settings = make_settings(tmp_path / "data", server.url, api={"max_download_bytes": limit})
    with CommPeakClient.from_settings(settings) as client:
        with pytest.raises(ResponseTooLargeError, match=f"exceeds the limit of {limit} bytes"):
            fetch_voice_deck(settings, client, TECH_PREFIX)
    assert len(server.requests) == 1  # a too-large body is not retried
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert files == []  # neither the partial download nor a staging file is kept


# -- 10,000 rejects -------------------------------------------------------------------------


def reject_deck(good: int = 2000, bad: int = 10_000) -> bytes:
    lines = ["Destination,Prefix,Price,Billing Increments"]
    lines += [f"Good {i},{1_000_000 + i},0.0{i % 9 + 1},1/1" for i in range(good)]
    for i in range(bad):
        if i % 3 == 0:
            lines.append(f"Bad {i},12x{i},0.01,1/1")
        else:
            lines.append(f"Bad {i},{2_000_000 + i},{'abc' if i % 2 else '-'},1/1")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("max_reject_fraction", [0.05, 1.0])
@pytest.mark.slow  # 12,000 rows (10,000 bad) through a run
def test_ten_thousand_rejects_are_counted_not_flooded(
    max_reject_fraction, static_server, tmp_path, caplog, capfd
):
    body = reject_deck()
    server = static_server(lambda path: body)
    settings = make_settings(
        tmp_path / "data", server.url, voice={"max_reject_fraction": max_reject_fraction}
    )
    with caplog.at_level(logging.DEBUG):
        summary = run_pipeline(settings, ["voice"])

    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) < 60, len(messages)
    assert max(map(len, messages)) < 500
    assert not any("12x" in m or "Bad 1" in m for m in messages)  # no reject is logged
    out, err = capfd.readouterr()
    assert len(out.splitlines()) + len(err.splitlines()) < 20
    if max_reject_fraction < 1:  # refused: one line with the counts and the top reasons
        (failure,) = summary.failures
        assert is_one_line(failure.error)
        assert "10000 of 12000 rows rejected" in failure.error
        assert "price: not a number (6666), prefix: contains letters (3334)" in failure.error
        assert not settings.warehouse_path.exists() or query(
            settings.warehouse_path, "SELECT count(*) FROM wh.ingest_reject"
        ) == [(0,)]
    else:  # accepted: every reject is kept in the warehouse, with its reason
        assert summary.ok, [s.error for s in summary.failures]
        kept = query(
            settings.warehouse_path,
            "SELECT count(*), count(DISTINCT row_number), count(reason) FROM wh.ingest_reject",
        )
        assert kept == [(10_000, 10_000, 10_000)]
        assert query(settings.warehouse_path, "SELECT row_count FROM wh.voice_snapshot") == [
            (2000,)
        ]


# -- a stray quote ------------------------------------------------------------------------------


@pytest.mark.slow  # two pipeline runs
def test_a_stray_quote_fails_the_deck_and_leaves_the_warehouse_as_it_was(static_server, tmp_path):
    """One '"' opening a field and another closing it 35 lines later would merge those rows
    into one destination (and report their prefixes to finance as removed)."""
    rows = ["Destination,Prefix,Price,Billing Increments"]
    rows += [f"Land {i},{1000 + i},0.0{i % 9 + 1},1/1" for i in range(62)]
    body = {"deck": ("\n".join(rows) + "\n").encode()}
    server = static_server(lambda path: body["deck"])
    settings = make_settings(tmp_path / "data", server.url)
    assert run_pipeline(settings, ["voice"]).ok
    before = dump_both(settings)

    rows[10] = '"' + rows[10]
    rows[45] = rows[45].replace(",", '",', 1)
    body["deck"] = ("\n".join(rows) + "\n").encode()
    summary = run_pipeline(settings, ["voice"])

    (failure,) = summary.failures
    assert is_one_line(failure.error)
    assert re.search(
        rf"raw/voice/{TECH_PREFIX}/[^ ]+\.csv: line 11: "
        "a quoted field runs over line ends to line 46",
        failure.error,
    ), failure.error
    assert dump_both(settings) == before


# -- spreadsheet inflation ----------------------------------------------------------------------


def xlsx_deck(rows: int) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Destination", "Prefix", "Price", "Billing Increments"])
    for i in range(rows):
        sheet.append([f"Land {i}", 1000 + i, 0.01, "1/1"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.slow  # a pipeline run
def test_a_workbook_inflating_past_the_setting_fails_the_deck(static_server, tmp_path):
    """A download sniffed as XLSX is bounded by [voice] max_inflated_bytes before parsing."""
    body = xlsx_deck(300)
    server = static_server(lambda path: body)
    settings = make_settings(
        tmp_path / "data", server.url, voice={"format": "xls", "max_inflated_bytes": 4096}
    )
    summary = run_pipeline(settings, ["voice"])
    (failure,) = summary.failures
    assert is_one_line(failure.error)
    assert re.search(
        r"\.xls: the workbook would inflate to [0-9,]+ bytes, over the limit of 4,096 "
        r"\(\[voice\] max_inflated_bytes\); refused$",
        failure.error,
    ), failure.error
    assert not settings.warehouse_path.exists() or query(
        settings.warehouse_path, "SELECT count(*) FROM wh.voice_snapshot"
    ) == [(0,)]
