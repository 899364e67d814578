"""`ratedeck sql QUERY [--json]` on the published warehouse, read-only."""

from __future__ import annotations

import json

import pytest

from pipeline import cli as ratedeck_cli


@pytest.fixture
def cli(populated, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # no ./ratedeck.toml
    monkeypatch.delenv("RATEDECK_CONFIG", raising=False)
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RATEDECK_WAREHOUSE", str(populated.published_path))
    # only this command: the real main() path without importing the other commands' modules
    monkeypatch.setattr(ratedeck_cli, "COMMANDS", {"sql": ratedeck_cli.COMMANDS["sql"]})

    def run(*argv: str) -> tuple[int, str, str]:
        code = ratedeck_cli.main(["sql", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_prints_an_aligned_table(cli):
    code, out, err = cli(
        "SELECT prefix, price FROM voice_rate_current WHERE tech_prefix = 'current' ORDER BY prefix"
    )
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["prefix", "price"]
    assert [line.split() for line in lines[2:]] == [
        ["1", "0.01000000"],
        ["33", "0.03000000"],
        ["44", "0.12000000"],
        ["4420", "0.30000000"],
        ["49", "0.04000000"],
    ]


def test_json_keeps_decimals_exact(cli):
    code, out, _ = cli(
        "SELECT prefix, price, valid_to FROM voice_rate_current WHERE tech_prefix = '021001'",
        "--json",
    )
    assert code == 0
    assert json.loads(out) == {
        "columns": ["prefix", "price", "valid_to"],
        "rows": [{"prefix": "44", "price": "0.50000000", "valid_to": None}],
    }


def test_several_statements_print_the_last(cli):
    code, out, _ = cli("SET VARIABLE p = '49'; SELECT getvariable('p') AS p", "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"p": "49"}]


def test_sql_error_is_one_line_exit_2(cli):
    code, out, err = cli("SELECT nope FROM voice_rate")
    assert code == 2 and out == ""
    assert err.startswith("ratedeck: error: SQL error: Binder Error")
    assert err.count("\n") == 1


def test_writing_is_refused(cli, populated):
    code, _, err = cli("DELETE FROM voice_rate")
    assert code == 2 and "read-only" in err
    with populated.reader() as con:
        assert con.execute("SELECT count(*) FROM voice_rate").fetchall()[0][0] > 0


def test_no_warehouse_yet(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("RATEDECK_WAREHOUSE", str(tmp_path / "missing.duckdb"))
    code, out, err = cli("SELECT 1")
    assert code == 2 and out == ""
    assert "no warehouse yet" in err and "ratedeck demo" in err
