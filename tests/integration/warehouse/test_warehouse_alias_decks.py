"""A tech prefix whose deck is an alias (``voice_deck_alias``: its downloads were another's very
deck, stored once) has that deck in the analysts' views and examples too, by the one rule the
LPM macros, ``lookup`` and ``cost`` apply (``voice_deck_aliases()``): ``voice_rate_current``
and ``voice_rate_at`` list it under the alias, with ``rated_on`` naming the deck, and
``deck_as_of.sql`` and ``price_history.sql`` show the deck's rows. They were empty, exit 0."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.commands.sql import run_query
from pipeline.warehouse.db import Warehouse

EXAMPLES = Path(__file__).resolve().parents[3] / "sql" / "examples"
ALIAS = "021009"


@pytest.fixture(scope="module")
def aliased(populated: Warehouse, tmp_path_factory: pytest.TempPathFactory, now) -> Warehouse:
    """The populated warehouse (conftest.py) where ALIAS's download was current's deck."""
    root = tmp_path_factory.mktemp("aliased")
    shutil.copy(populated.published_path, root / "warehouse.duckdb")
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute(
            "INSERT INTO voice_deck_alias VALUES (?, 'current', 1, ?, 'ab12', 'raw/voice/x.csv')",
            [ALIAS, now - timedelta(days=1)],
        )
    return Warehouse(root / "warehouse.duckdb", root / "state")


def rows(warehouse: Warehouse, query: str) -> list[tuple]:
    return [tuple(row) for row in run_query(warehouse, query)[1]]


def test_voice_rate_current_lists_the_alias_on_its_deck(aliased):
    query = (
        "SELECT prefix, price, rated_on FROM voice_rate_current WHERE tech_prefix = '{}' ORDER BY 1"
    )
    current = rows(aliased, query.format("current"))

    assert current and all(rated_on == "current" for *_, rated_on in current)
    assert rows(aliased, query.format(ALIAS)) == current
    # an own deck is rated on itself, and no alias is listed under the deck it shares
    decks = rows(
        aliased, "SELECT DISTINCT tech_prefix, rated_on FROM voice_rate_current ORDER BY 1"
    )
    assert decks == [("021001", "021001"), (ALIAS, "current"), ("current", "current")]


def test_voice_rate_at_lists_the_alias_on_its_deck(aliased):
    query = (
        "SELECT prefix, price, valid_from, rated_on FROM voice_rate_at(now() - INTERVAL 5 DAY)"
        " WHERE tech_prefix = '{}' ORDER BY 1"
    )
    current = rows(aliased, query.format("current"))
    assert len(current) == 4
    assert rows(aliased, query.format(ALIAS)) == current


@pytest.mark.parametrize(
    ("name", "variables"),
    [
        ("deck_as_of.sql", "SET VARIABLE tech_prefix = '{}';"),
        ("price_history.sql", "SET VARIABLE tech_prefix = '{}'; SET VARIABLE prefix = '4420';"),
    ],
)
def test_examples_show_the_alias_its_deck(aliased, name, variables):
    example = (EXAMPLES / name).read_text()
    current = rows(aliased, variables.format("current") + example)

    assert current
    assert rows(aliased, variables.format(ALIAS) + example) == current


def test_a_tech_prefix_neither_own_nor_alias_has_no_rows(aliased):
    assert rows(aliased, "SELECT * FROM voice_rate_current WHERE tech_prefix = '999'") == []
