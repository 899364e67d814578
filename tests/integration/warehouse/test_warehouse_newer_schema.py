"""A warehouse migrated by a newer ratedeck (a schema_migration row naming a migration this one
does not ship, and a column that migration added) is refused by every process that opens it,
writers and readers, before anything is written: one line, exit 2, and the published file and
the working copy stay byte for byte as they were (no view or macro put back, no raw copy
landed)."""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from support.cdr import DAY, HISTORY, asterisk_line, cdr_settings, insert_history, write_master

from pipeline.cli import main
from pipeline.defs import build_definitions
from pipeline.errors import RatedeckError
from pipeline.stages.cdr import cost_days, import_file
from pipeline.warehouse.db import Warehouse

FUTURE = "120_future.sql"
REFUSAL = f"warehouse was migrated by a newer ratedeck ({FUTURE}"


@pytest.fixture(scope="module")
def future_template(tmp_path_factory) -> Path:
    """A data dir with rates, one imported and costed CDR file, then migrated by 'a newer
    ratedeck': its migration row and the column it added to cdr_file, published."""
    root = tmp_path_factory.mktemp("future")
    settings = cdr_settings(root / "data")
    insert_history(settings, HISTORY)
    import_file(settings, write_master(root / "m.csv", [asterisk_line("a", "35312345", DAY, 60)]))
    assert [c.calls for c in cost_days(settings, None)] == [1]
    wh = Warehouse(settings)
    with duckdb.connect(str(wh.working_path)) as con:
        con.execute("ALTER TABLE cdr_file ADD COLUMN future_column INTEGER")
        con.execute("INSERT INTO schema_migration (name) VALUES (?)", [FUTURE])
        con.execute("CHECKPOINT")
    assert wh.publish()
    return root


def write_config(root: Path) -> Path:
    config = root / "ratedeck.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{root / "data"}"\n'
        '[voice]\ntech_prefixes = ["current", "021001"]\n'
        '[api]\nbase_url = "http://127.0.0.1:9"\n'
    )
    return config


@pytest.fixture
def future(future_template, tmp_path) -> Path:
    """A copy of the template for one test (the working copy a file of its own, as after a
    writer detached it)."""
    root = tmp_path / "copy"
    shutil.copytree(future_template, root, copy_function=shutil.copyfile)
    write_config(root)
    return root


def fingerprint(root: Path) -> dict[str, str]:
    """Every file under the data dir but the lock files, by its sha256."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((root / "data").rglob("*"))
        if path.is_file() and path.suffix not in {".lock", ".wanted"}
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--no-report"],
        ["cdr", "import", "{calls}"],
        ["cdr", "import", "--carrier", "{calls}"],
        ["cdr", "cost"],
        ["cdr", "cost", "--day", "2026-12-01", "--recost", "--why", "test"],
        ["cdr", "status"],
        ["lookup", "+353 1 234 5678"],
        ["cost", "{costs}"],
        ["cost", "--no-cache", "{costs}"],
        ["sql", "SELECT count(*) FROM voice_rate"],
        ["diff"],
        ["report"],
        ["report", "--send"],
    ],
    ids=" ".join,
)
def test_every_command_refuses_and_leaves_every_file_as_it_was(argv, future, capsys, monkeypatch):
    monkeypatch.setenv("COMMPEAK_API_KEY", "test-key")
    calls = write_master(
        future / "new.csv", [asterisk_line("b", "35312345", DAY + timedelta(hours=2), 30)]
    )
    costs = future / "calls.csv"
    costs.write_text("number,duration\n35312345,60\n")
    before = fingerprint(future)

    args = [a.format(calls=calls, costs=costs) for a in argv]
    code = main(["--config", str(future / "ratedeck.toml"), *args])

    out, err = capsys.readouterr()
    assert code == 2, err
    assert err.startswith("ratedeck: error: ") and err.count("\n") == 1, err
    assert REFUSAL in err
    assert "upgrade ratedeck, or restore the backup taken before the upgrade" in err
    assert fingerprint(future) == before
    assert not (future / "calls.costed.csv").exists()


@pytest.mark.parametrize(
    "argv", [["cdr", "cost"], ["cdr", "correct", "--why", "test"]], ids=" ".join
)
def test_a_command_that_publishes_refuses_a_newer_published_file_over_an_older_working_copy(
    argv, future, capsys
):
    """Only the published file says a newer ratedeck migrated it (the working copy is older,
    e.g. restored): a command whose writer would publish over it refuses first."""
    working = Warehouse(cdr_settings(future / "data")).working_path
    with duckdb.connect(str(working)) as con:
        con.execute("DELETE FROM schema_migration WHERE name = ?", [FUTURE])
        con.execute("CHECKPOINT")
    before = fingerprint(future)

    code = main(["--config", str(future / "ratedeck.toml"), *argv])

    _, err = capsys.readouterr()
    assert code == 2, err
    assert REFUSAL in err and err.count("\n") == 1
    assert fingerprint(future) == before


def test_the_writer_refuses_before_replacing_views_or_macros(future):
    settings = cdr_settings(future / "data")
    wh = Warehouse(settings)
    with duckdb.connect(str(wh.working_path)) as con:  # the newer release's own view text
        con.execute("CREATE OR REPLACE VIEW voice_rate_current AS SELECT 'newer' AS marker")
    before = fingerprint(future)

    with pytest.raises(RatedeckError, match=r"warehouse was migrated by a newer") as refused:
        with wh.writer():
            pytest.fail("the writer opened")
    assert refused.value.exit_code == 2

    assert fingerprint(future) == before
    with duckdb.connect(str(wh.working_path), read_only=True) as con:
        assert con.execute("SELECT marker FROM voice_rate_current").fetchall() == [("newer",)]


def test_a_dagster_asset_refuses(future):
    (future / "inbox").mkdir()
    settings = cdr_settings(
        future / "data", folder=str(future / "inbox"), partitions_start="2026-11-01"
    )
    defs = build_definitions(settings)
    before = fingerprint(future)

    result = dg.materialize(
        [*defs.assets],
        selection=dg.AssetSelection.assets("cdr_costs"),
        partition_key="2026-12-01",
        instance=dg.DagsterInstance.ephemeral(),
        resources=defs.resources,
        raise_on_error=False,
    )

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert REFUSAL in str(failure.step_failure_data.error.cause or failure.step_failure_data.error)
    assert fingerprint(future) == before


def test_an_older_warehouse_is_migrated_as_before(future_template, tmp_path):
    """The refusal is about migrations this ratedeck does not know, nothing else: a warehouse
    without the newer row opens and writes as it always did."""
    root = tmp_path / "copy"
    shutil.copytree(future_template, root, copy_function=shutil.copyfile)
    wh = Warehouse(cdr_settings(root / "data"))
    with duckdb.connect(str(wh.working_path)) as con:
        con.execute("DELETE FROM schema_migration WHERE name = ?", [FUTURE])
        con.execute("DELETE FROM schema_migration WHERE starts_with(name, 'derived-sql ')")
    with wh.writer() as con:
        [(count,)] = con.execute("SELECT count(*) FROM cdr_call").fetchall()
    assert count == 1
    with wh.reader() as con:
        assert con.execute(
            "SELECT count(*) FROM schema_migration WHERE name = ?", [FUTURE]
        ).fetchall() == [(0,)]


def test_engines_a_newer_ratedeck_cached_are_not_used(future, capsys, monkeypatch):
    """``ratedeck cost`` served by the engine cache opens no DuckDB: engines the newer ratedeck
    cached for the warehouse it migrated (same engine code) must be a miss here."""
    from pipeline.analytics import _engine_cache
    from pipeline.warehouse import migrate

    costs = future / "calls.csv"
    costs.write_text("number,duration\n35312345,60\n")
    argv = ["--config", str(future / "ratedeck.toml"), "cost", str(costs)]
    with monkeypatch.context() as newer:  # the newer ratedeck ships the migration
        shipped = [*migrate.known_migrations(), FUTURE]
        newer.setattr(migrate, "known_migrations", lambda: shipped)
        newer.setattr(_engine_cache, "known_migrations", lambda: shipped, raising=False)
        assert main(argv) == 0, capsys.readouterr().err
    (future / "calls.costed.csv").unlink()
    capsys.readouterr()

    assert main(argv) == 2
    assert REFUSAL in capsys.readouterr().err
    assert not (future / "calls.costed.csv").exists()


def test_the_cdr_sensor_leaves_the_files_for_a_ratedeck_that_can_load_them(future):
    """A refused file is not the file's fault: unlike a bad file, it stays out of the cursor,
    so the ratedeck that can load the warehouse imports it."""
    inbox = future / "inbox"
    inbox.mkdir()
    write_master(inbox / "m2.csv", [asterisk_line("c", "35312345", DAY, 20)])
    settings = cdr_settings(future / "data", folder=str(inbox), settle_s=0)
    defs = build_definitions(settings)
    before = fingerprint(future)

    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(
            instance=instance, cursor=None, definitions=defs, resources=defs.resources
        )
        tick = defs.resolve_sensor_def("cdr_files")(context)

    assert not tick.run_requests
    assert "m2.csv" not in (tick.cursor or "")
    assert fingerprint(future) == before
