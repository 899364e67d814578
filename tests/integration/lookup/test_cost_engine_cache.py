"""The engine cache of ``ratedeck cost`` (``pipeline/analytics/_engine_cache.py``): costing from
it is costing from a fresh build is the brute-force reference, and it is never used for a
warehouse other than the one it was built from, nor for moments its versions do not cover."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support.lookup_reference import Version, reference_billed, reference_cost, reference_match
from support.lookup_warehouse import JUN, STANDARD_HISTORY, costed_rows, insert_versions

from pipeline.analytics import epoch_us
from pipeline.analytics._engine_cache import EngineCache, warehouse_key
from pipeline.analytics.costing import cost_file, version_window
from pipeline.analytics.lookup import text_categories
from pipeline.analytics.numbers import normalise_number
from pipeline.cli import main

LATER = datetime(2026, 9, 1, tzinfo=UTC)
MARCH = "2026-03-01 12:00"
# numbers across the deck's prefixes, at moments before and after the June price change
NUMBERS = ["44", "4420 1", "+44 20 79 1", "4491", "33", "00442079555", "449"]


@pytest.fixture
def warehouse(data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the lookup warehouse (tests here replace it, as a publish does)."""
    path = tmp_path / "data" / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copy(data_dir / "warehouse.duckdb", path)
    return path


class Opener:
    """A connection opener that counts how often the warehouse was opened."""

    def __init__(self, path: Path):
        self.path, self.opened, self._cons = path, 0, []

    def __call__(self) -> duckdb.DuckDBPyConnection:
        self.opened += 1
        self._cons.append(duckdb.connect(str(self.path), read_only=True))
        return self._cons[-1]

    def close(self) -> None:
        for con in self._cons:
            con.close()


def _calls(path: Path, started_at: str | None) -> Path:
    pl.DataFrame(
        {
            "number": NUMBERS * 3,
            "duration": [str(d) for d in range(0, 3 * len(NUMBERS) * 37, 37)],
            "started_at": [started_at] * (3 * len(NUMBERS)),
        }
    ).write_csv(path)
    return path


def _cost(warehouse: Path, source: Path, out: Path, cache: EngineCache | None) -> tuple[str, int]:
    """The costed CSV's text and how often the warehouse was opened."""
    opener = Opener(warehouse)
    try:
        cost_file(
            opener, source, out, rejects=out.with_suffix(".rejects.csv"), now=LATER, cache=cache
        )
    finally:
        opener.close()
    return out.read_text(), opener.opened


def _cache(warehouse: Path) -> EngineCache:
    return EngineCache(warehouse.parent / "state" / "engine_cache", warehouse)


def _reference(path: Path) -> list[tuple[str, str | None, Decimal | None]]:
    """(tech_prefix, matched prefix, cost) per call and tech prefix, by brute force."""
    decks: dict[str, list[Version]] = {}
    for tp, prefix, destination, price, a, b, start, end in STANDARD_HISTORY:
        version = Version(prefix, destination, Decimal(price), a, b, start, end)
        decks.setdefault(tp, []).append(version)
    rows = []
    for call in pl.read_csv(path, infer_schema=False).iter_rows(named=True):
        at = datetime.fromisoformat(call["started_at"]).replace(tzinfo=UTC)
        for tp in ("current", "021001"):
            hit = reference_match(decks[tp], normalise_number(call["number"]), at)
            if hit is None:
                rows.append((tp, None, None))
                continue
            billed = reference_billed(int(call["duration"]), hit.initial, hit.increment)
            rows.append((tp, hit.prefix, reference_cost(hit.price, billed, 6)))
    return rows


@pytest.mark.parametrize("started_at", [MARCH, "2026-07-01 08:00"])
def test_cost_from_the_cache_is_a_fresh_build_is_brute_force(warehouse, tmp_path, started_at):
    source = _calls(tmp_path / "calls.csv", started_at)
    fresh, fresh_opened = _cost(warehouse, source, tmp_path / "fresh.csv", None)
    first, first_opened = _cost(warehouse, source, tmp_path / "first.csv", _cache(warehouse))
    cached, cached_opened = _cost(warehouse, source, tmp_path / "cached.csv", _cache(warehouse))
    assert fresh == first == cached
    assert (fresh_opened, first_opened, cached_opened) == (1, 1, 0)  # the last: from the cache
    assert costed_rows(tmp_path / "cached.csv") == _reference(source)


def test_an_engine_is_not_used_outside_the_window_of_its_versions(warehouse, tmp_path):
    after_june = _calls(tmp_path / "july.csv", "2026-07-01 08:00")
    march = _calls(tmp_path / "march.csv", MARCH)
    _cost(warehouse, after_june, tmp_path / "july.csv.out.csv", _cache(warehouse))
    text, opened = _cost(warehouse, march, tmp_path / "march.out.csv", _cache(warehouse))
    assert opened == 1  # March is before the June change: that engine does not cover it
    assert costed_rows(tmp_path / "march.out.csv") == _reference(march)
    again, opened_again = _cost(warehouse, march, tmp_path / "again.csv", _cache(warehouse))
    assert (again, opened_again) == (text, 0)  # now both windows are cached


def test_the_window_is_bounded_by_the_nearest_version_changes(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        march = epoch_us(datetime(2026, 3, 1, tzinfo=UTC))
        assert version_window(con, "current", (march, march)) == (-(2**62), epoch_us(JUN) - 1)
        july = epoch_us(datetime(2026, 7, 1, tzinfo=UTC))
        assert version_window(con, "current", (july, july)) == (epoch_us(JUN), 2**62)
        assert version_window(con, "021001", (march, july)) == (-(2**62), 2**62)


def _republish(warehouse: Path, rows: list[tuple]) -> None:
    """What publishing does: a new file renamed over the published one."""
    new = warehouse.with_name("next.duckdb")
    shutil.copy(warehouse, new)
    with duckdb.connect(str(new)) as con:
        insert_versions(con, rows)
    os.replace(new, warehouse)


def test_a_publish_makes_the_cache_stale(warehouse, tmp_path):
    source = _calls(tmp_path / "calls.csv", "2026-07-01 08:00")
    before, _ = _cost(warehouse, source, tmp_path / "before.csv", _cache(warehouse))
    old_key = warehouse_key(warehouse)
    _republish(warehouse, [("current", "4491", "UK 91", "0.5", 1, 1, JUN, None)])
    assert warehouse_key(warehouse) != old_key
    after, opened = _cost(warehouse, source, tmp_path / "after.csv", _cache(warehouse))
    fresh, _ = _cost(warehouse, source, tmp_path / "fresh.csv", None)
    assert opened == 1 and after == fresh != before  # the new prefix 4491 is used at once
    assert "4491" in pl.read_csv(tmp_path / "after.csv")["matched_prefix"].cast(str).to_list()
    names = os.listdir(warehouse.parent / "state" / "engine_cache")
    assert names and not [name for name in names if name.startswith(str(old_key))]


def test_a_real_publish_makes_the_cache_stale(warehouse, tmp_path):
    """Through the warehouse's own writer and publish (the working copy becomes the published
    file), not a simulation: the next run reads the warehouse and sees the new price."""
    from pipeline.warehouse.db import Warehouse

    source = _calls(tmp_path / "calls.csv", "2026-07-01 08:00")
    before, _ = _cost(warehouse, source, tmp_path / "before.csv", _cache(warehouse))
    old_key = warehouse_key(warehouse)
    with Warehouse(warehouse, warehouse.parent / "state").writer() as con:
        insert_versions(con, [("current", "4491", "UK 91", "0.5", 1, 1, JUN, None)])
    assert warehouse_key(warehouse) not in (old_key, None)
    after, opened = _cost(warehouse, source, tmp_path / "after.csv", _cache(warehouse))
    fresh, _ = _cost(warehouse, source, tmp_path / "fresh.csv", None)
    assert opened == 1 and after == fresh != before


def test_no_cache_while_a_wal_holds_data_the_file_lacks(warehouse):
    assert warehouse_key(warehouse) is not None
    warehouse.with_name(warehouse.name + ".wal").write_bytes(b"not checkpointed")
    assert warehouse_key(warehouse) is None
    cache = _cache(warehouse)
    assert cache.catalog() is None
    # nor is anything written (it was, as "None.catalog.json", sweeping the other files away)
    cache.save_catalog(["current"], {}, {})
    cache.save_text_categories(["current"], ["44"], ["UK"])
    folder = warehouse.parent / "state" / "engine_cache"
    assert not folder.exists() or not os.listdir(folder)


def test_the_output_text_categories_are_cached_per_set_of_tech_prefixes(warehouse, tmp_path):
    source = _calls(tmp_path / "calls.csv", MARCH)
    _cost(warehouse, source, tmp_path / "out.csv", _cache(warehouse))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        listed = text_categories(con, ["current", "021001"])
    assert _cache(warehouse).text_categories(["current", "021001"]) == listed
    assert "Gone" in listed[1]  # withdrawn versions too: an engine for an older span has it
    assert _cache(warehouse).text_categories(["current"]) is None  # another set, not costed


def test_an_unreadable_cache_file_is_a_miss_not_an_error(warehouse, tmp_path):
    source = _calls(tmp_path / "calls.csv", MARCH)
    good, _ = _cost(warehouse, source, tmp_path / "good.csv", _cache(warehouse))
    folder = warehouse.parent / "state" / "engine_cache"
    for path in folder.iterdir():
        path.write_bytes(b"\x80\x05garbage")
    again, opened = _cost(warehouse, source, tmp_path / "again.csv", _cache(warehouse))
    assert (again, opened) == (good, 1)


def test_a_file_published_while_costing_is_not_cached_under_the_old_key(warehouse, tmp_path):
    source = _calls(tmp_path / "calls.csv", MARCH)
    cache = _cache(warehouse)  # key taken; the warehouse changes before it is read
    _republish(warehouse, [("current", "4491", "UK 91", "0.5", 1, 1, JUN, None)])
    _cost(warehouse, source, tmp_path / "out.csv", cache)
    assert not (warehouse.parent / "state" / "engine_cache").exists()


def test_ratedeck_cost_from_the_cache_loads_no_duckdb(warehouse, tmp_path):
    """The second run of the command reads the cache: DuckDB is not even imported."""
    source = _calls(tmp_path / "calls.csv", MARCH)
    probe = (
        "import sys\n"
        "from pipeline.cli import main\n"
        f"code = main(['cost', {str(source)!r}, '--out', {str(tmp_path / 'o.parquet')!r}])\n"
        "print(code, 'duckdb' in sys.modules)\n"
    )
    env = {**os.environ, "RATEDECK_DATA_DIR": str(warehouse.parent)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
        ).stdout.splitlines()[-1]
        for _ in range(2)
    ]
    assert runs == ["0 True", "0 False"]


@pytest.fixture
def ratedeck(warehouse: Path, tmp_path: Path, monkeypatch, capsys):
    """The CLI in-process against the private warehouse; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(warehouse.parent))

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse: usage errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_no_cache_neither_reads_nor_writes_it(ratedeck, warehouse, tmp_path):
    source = _calls(tmp_path / "calls.csv", MARCH)
    assert ratedeck("cost", str(source), "--out", "a.csv", "--no-cache")[0] == 0
    assert not (warehouse.parent / "state" / "engine_cache").exists()
    assert ratedeck("cost", str(source), "--out", "b.csv")[0] == 0
    assert (warehouse.parent / "state" / "engine_cache").is_dir()
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()


@pytest.mark.parametrize(
    ("option", "codec"),
    [([], "SNAPPY"), (["--compression", "zstd"], "ZSTD"), (["--compression", "lz4"], "LZ4_RAW"),
     (["--compression", "uncompressed"], "UNCOMPRESSED")],
)  # fmt: skip
def test_compression_is_the_parquet_codec(ratedeck, tmp_path, option, codec):
    source = _calls(tmp_path / "calls.csv", MARCH)
    assert ratedeck("cost", str(source), "--out", "out.parquet", *option)[0] == 0
    with duckdb.connect() as con:
        codecs = con.execute(
            "SELECT DISTINCT compression FROM parquet_metadata(?)", [str(tmp_path / "out.parquet")]
        ).fetchall()
    assert codecs == [(codec,)]
    assert pl.read_parquet(tmp_path / "out.parquet").height == 2 * len(NUMBERS) * 3


def test_an_unknown_compression_is_a_usage_error(ratedeck, tmp_path):
    source = _calls(tmp_path / "calls.csv", MARCH)
    code, out, err = ratedeck("cost", str(source), "--out", "o.parquet", "--compression", "gzip")
    assert (code, out) == (2, "")
    assert "argument --compression: invalid choice: 'gzip'" in err
    assert not (tmp_path / "o.parquet").exists()


def test_an_engine_file_others_can_write_is_never_unpickled(tmp_path):
    """Unpickling runs code: a cache file that group or others can write is a miss."""
    from pipeline.analytics._engine_cache import _private

    path = tmp_path / "x.engine"
    path.write_bytes(b"not a pickle")
    os.chmod(path, 0o600)
    with open(path, "rb") as handle:
        assert _private(handle.fileno())
    os.chmod(path, 0o666)
    with open(path, "rb") as handle:
        assert not _private(handle.fileno())
