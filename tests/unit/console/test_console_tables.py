"""console.format_table: the one table renderer of the CLI (rich underneath). Same call as
before for every command: format_table(columns, rows) / print_table(columns, rows)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from pipeline import console


def test_decimals_are_plain_text_never_exponent_form():
    text = console.format_table(["price"], [(Decimal("0E-8"),), (Decimal("1.50000000"),)])
    assert text.splitlines()[2:] == ["0.00000000", "1.50000000"]
    assert console.cell_text(Decimal("1E+3")) == "1000"
    assert console.format_json({"p": Decimal("0E-8")}) == '{\n  "p": "0.00000000"\n}'


def test_text_is_left_aligned_even_when_it_looks_like_a_number_and_numbers_right():
    lines = console.format_table(
        ["tech_prefix", "calls"], [("021001", 5), ("1", 12345), (None, None)]
    ).splitlines()
    assert lines[0] == "tech_prefix  calls"
    assert lines[2] == "021001           5"
    assert lines[3] == "1            12345"


def test_a_header_rule_of_dashes_under_each_column():
    lines = console.format_table(["a", "bb"], [("x", 1)]).splitlines()
    assert set(lines[1]) == {"-", " "} and len(lines[1].split()) == 2


def test_wide_characters_line_up_in_terminal_cells():
    lines = console.format_table(["country", "n"], [("中国", 1), ("UK", 2)]).splitlines()
    assert {cell_len(line) for line in lines[2:]} == {cell_len(lines[0])}


def test_markup_like_text_is_printed_as_is():
    assert "[bold]x[/]" in console.format_table(["t"], [("[bold]x[/]",)])


def test_timestamps_and_empty_tables():
    moment = datetime(2026, 11, 5, 6, 0, tzinfo=UTC)
    assert console.format_table(["at"], [(moment,)]).splitlines()[2] == "2026-11-05 06:00:00+00:00"
    assert console.format_table(["a", "b"], []).splitlines()[0] == "a  b"


def test_print_table_keeps_its_call(capsys):
    console.print_table(["what", "count"], [["voice changes", 3]])
    assert capsys.readouterr().out.splitlines()[2] == "voice changes      3"


_ascii_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
_cells = st.one_of(
    st.none(),
    _ascii_text,
    st.integers(-(10**12), 10**12),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=4, max_value=10**9, min_value=-(10**9)
    ),
)


@settings(max_examples=500, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(
    st.lists(_ascii_text, min_size=n, max_size=n),
    st.lists(st.lists(_cells, min_size=n, max_size=n), max_size=6),
)))  # fmt: skip
def test_plain_ascii_tables_are_laid_out_exactly_as_rich_lays_them_out(table):
    """The fast path (no rich import) prints what rich prints, character for character."""
    columns, rows = table
    assert console.format_table(columns, rows) == console._rich_table(columns, rows)
