"""One leading ``00`` (the international call prefix) is removed, once, by every parser and
every path that prices a number: ``lookup`` (which normalised the number, then had the SQL
macros normalise its digits again, removing a second ``00``), ``cost`` and the SQL macros agree
on a table of numbers written with several zeros, and ``0000`` is the number ``00``, priced
nowhere, never a traceback."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support.lookup_warehouse import JAN, cost_with_command, standard_data_dir

from pipeline.analytics.numbers import BadNumberError
from pipeline.analytics.one_call import lookup_number
from pipeline.cli import main

AT = datetime(2026, 9, 1, tzinfo=UTC)
SECONDS = 61
HISTORY = [  # (prefix, destination, price, initial, increment)
    ("44", "UK fixed", "0.0106", 1, 1),
    ("4420", "London", "0.0125", 60, 60),
    ("0", "national zero", "0.5", 1, 1),
]
# (as written, its digits, the prefix that prices it, the cost of a SECONDS-long call)
NUMBERS = [
    ("0044 20 7946 0000", "442079460000", "4420", "0.025000"),
    ("+0044 20 7946 0000", "442079460000", "4420", "0.025000"),  # + goes, then one 00
    ("0 0 4 4 20", "4420", "4420", "0.025000"),
    ("00004420 7946 0000", "00442079460000", "0", "0.508333"),  # was 4420 in lookup only
    ("00 00 44 20 7946 0000", "00442079460000", "0", "0.508333"),
    ("0000", "00", "0", "0.508333"),  # was a traceback in lookup: lpm_digits('00')
    ("000", "0", "0", "0.508333"),
    ("00 0", "0", "0", "0.508333"),
    ("+00", None, None, None),  # nothing after the international prefix
    ("00", None, None, None),
]
GOOD = [row for row in NUMBERS if row[1] is not None]
BAD = [row[0] for row in NUMBERS if row[1] is None]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    history = [("current", *row, JAN, None) for row in HISTORY]
    return standard_data_dir(tmp_path_factory.mktemp("prefix_once") / "data", history)


@pytest.mark.parametrize(("raw", "digits", "prefix", "cost"), GOOD)
def test_lookup(con, raw, digits, prefix, cost):
    [result] = lookup_number(con, raw, tech_prefixes=["current"], duration_s=SECONDS, at=AT)
    assert (result.number, result.matched_prefix, str(result.cost)) == (digits, prefix, cost)


@pytest.mark.parametrize(("raw", "digits", "prefix", "cost"), GOOD)
def test_sql_macros(con, raw, digits, prefix, cost):
    assert con.execute("SELECT lpm_digits(?)", [raw]).fetchall() == [(digits,)]
    rate = con.execute("SELECT number, matched_prefix FROM lpm_rate(?, 'current', ?)", [raw, AT])
    assert rate.fetchall() == [(digits, prefix)]
    call_cost = con.execute("SELECT call_cost(?, ?, 'current', ?)", [raw, SECONDS, AT])
    assert str(call_cost.fetchone()[0]) == cost


def test_cost_command(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))

    costed = cost_with_command(tmp_path, [(raw, SECONDS) for raw, *_ in NUMBERS])

    assert costed.select("number", "matched_prefix", "cost").rows() == [
        (raw, prefix, cost) for raw, _, prefix, cost in GOOD
    ]
    rejects = pl.read_csv(tmp_path / "costed.rejects.csv", infer_schema=False)
    assert rejects["number"].to_list() == BAD


@pytest.mark.parametrize("raw", BAD)
def test_nothing_after_the_international_prefix_is_refused_alike(con, raw):
    words = re.escape(f"bad number '{raw}': no digits")
    with pytest.raises(BadNumberError, match=words):
        lookup_number(con, raw, tech_prefixes=["current"], duration_s=SECONDS, at=AT)
    with pytest.raises(duckdb.InvalidInputException, match=words):
        con.execute("SELECT lpm_digits(?)", [raw])


def test_lookup_cli_prices_0000_on_its_digits(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))

    code = main(["--json", "lookup", "0000", "--at", AT.isoformat(), "--duration", "61"])

    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert '"number": "00"' in out and '"matched_prefix": "0"' in out
