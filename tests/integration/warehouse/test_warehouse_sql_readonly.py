"""`ratedeck sql` cannot modify anything ratedeck owns: every write path DuckDB offers is
refused before any statement runs (one line, exit 2) and the files stay byte for byte the same.
Reading the analyst's own files stays possible."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from pipeline.warehouse.db import Warehouse


@pytest.fixture
def own(populated, tmp_path) -> Warehouse:
    """A private copy of the populated warehouse (published file + working copy) to attack."""
    data = tmp_path / "data"
    shutil.copytree(populated.state_dir, data / "state")
    shutil.copyfile(populated.published_path, data / "warehouse.duckdb")
    return Warehouse(data / "warehouse.duckdb", data / "state")


@pytest.fixture
def cli(own, sql_cli_on):
    return sql_cli_on(own)


def fingerprint(root) -> dict[str, str]:
    """Every file under root with its sha256: what 'nothing changed' means."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


ATTACKS = {
    "copy over the published file": "COPY (SELECT 1) TO '{published}'",
    "copy over the working copy": "COPY (SELECT 1) TO '{working}' (FORMAT csv)",
    "copy into data/": "COPY (SELECT * FROM voice_rate) TO '{data}/raw/x.csv'",
    "copy to an analyst file": "COPY (SELECT 1 AS x) TO '{tmp}/mine.csv'",
    "attach the working copy and empty the history": (
        "ATTACH '{working}' AS w2; DELETE FROM w2.voice_rate; DELETE FROM w2.report_change"
    ),
    "detach and re-attach the published file read-write": (
        "DETACH warehouse; ATTACH '{published}' AS w; DELETE FROM w.voice_rate"
    ),
    "use memory then re-attach": "USE memory; DETACH warehouse; ATTACH '{published}' AS w",
    "export the database into data/": "EXPORT DATABASE '{data}/export'",
    "install an extension": "INSTALL httpfs",
    "load an extension": "LOAD httpfs",
    "switch external access back on": "SET enable_external_access = true",
    "unlock the configuration": "SET lock_configuration = false",
    "reset the lock": "RESET lock_configuration",
    "a setting via pragma": "PRAGMA enable_profiling",
    "checkpoint": "CHECKPOINT",
    "call": "CALL pragma_version()",
    "create a table": "CREATE TABLE memory.main.x AS SELECT 1",
    "create a persistent secret": "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')",
    "delete": "DELETE FROM voice_rate",
    "update": "UPDATE report_change SET sent_at = NULL",
    "drop": "DROP TABLE voice_rate",
    "a transaction": "BEGIN",
    "explain analyze runs the copy": "EXPLAIN ANALYZE COPY (SELECT 1) TO '{published}'",
    "a refused statement after harmless ones": (
        "SET VARIABLE p = '44'; SELECT 1; COPY (SELECT 1) TO '{published}'"
    ),
}


@pytest.mark.parametrize("sql", ATTACKS.values(), ids=ATTACKS.keys())
def test_writes_are_refused_and_nothing_changes(cli, own, tmp_path, sql):
    query = sql.format(
        published=own.published_path,
        working=own.working_path,
        data=own.published_path.parent,
        tmp=tmp_path,
    )
    before = fingerprint(tmp_path)
    code, out, err = cli(query)
    assert (code, out) == (2, "")
    assert err.startswith("ratedeck: error: ratedeck sql is read-only: statement ")
    assert err.count("\n") == 1
    assert fingerprint(tmp_path) == before


def test_the_refusal_names_the_statement(cli):
    code, _, err = cli("SELECT 1; COPY (SELECT 1) TO 'x.csv'")
    assert code == 2
    assert "statement 2 (COPY) refused" in err and "--out FILE" in err


def test_set_of_a_setting_is_refused_but_set_variable_runs(cli):
    code, _, err = cli("SET threads = 1")
    assert code == 2 and "statement 1 (SET of a setting) refused" in err
    code, out, _ = cli("SET VARIABLE p = '49'; RESET VARIABLE p; SELECT getvariable('p') AS p")
    assert code == 0 and out.splitlines()[0].strip() == "p"


def test_reading_the_analysts_own_files_is_allowed(cli, tmp_path):
    (tmp_path / "calls.csv").write_text("number,seconds\n4420123,60\n4930111,5\n")
    code, out, err = cli(
        "SELECT c.number, r.prefix FROM read_csv('calls.csv', types={'number': 'VARCHAR'}) c "
        "JOIN voice_rate_current r ON c.number LIKE r.prefix || '%' "
        "WHERE r.tech_prefix = 'current' ORDER BY c.number, length(r.prefix) DESC",
        "--json",
    )
    assert code == 0, err
    assert '"4420123"' in out and '"4420"' in out


def test_explain_of_a_query_runs(cli):
    code, out, err = cli("EXPLAIN SELECT count(*) FROM voice_rate")
    assert code == 0 and "explain_key" in out, err


def test_the_published_file_and_working_copy_stay_usable(cli, own):
    attack = ATTACKS["attach the working copy and empty the history"]
    assert cli(attack.format(working=own.working_path))[0] == 2
    with own.working_reader() as con:
        assert con.execute("SELECT count(*) FROM voice_rate").fetchall()[0][0] > 0
    with own.reader() as con:
        assert con.execute("SELECT count(*) FROM voice_rate").fetchall()[0][0] > 0
