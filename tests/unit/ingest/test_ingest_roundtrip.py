"""Property: any valid generated deck round-trips exactly, whatever its format."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ingest.voice import normalize_voice_deck

HEADER = ["Destination", "Prefix", "Price", "Billing Increments", "Effective Date"]

names = (
    st.text(
        alphabet=st.one_of(
            st.characters(categories=["L", "N", "P"], max_codepoint=0x2FFF), st.just(" ")
        ),
        min_size=1,
        max_size=24,
    )
    .map(str.strip)
    .filter(bool)
)
prefixes = st.text(alphabet="0123456789", min_size=1, max_size=15)
# Decimal(18, 8); at most 15 significant digits so a spreadsheet's float holds it exactly
prices = st.decimals(
    min_value=0, max_value=Decimal("9999999999.99999999"), places=8, allow_nan=False
).filter(lambda price: len(price.normalize().as_tuple().digits) <= 15)
seconds = st.integers(min_value=1, max_value=3600)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)
rate_rows = st.lists(
    st.tuples(names, prefixes, prices, seconds, seconds, moments),
    min_size=1,
    max_size=20,
    unique_by=lambda row: row[1],
)


def price_text(price: Decimal, trim: bool) -> str:
    return format(price.normalize() if trim else price, "f")


def expected_rows(rows) -> list[tuple]:
    return [
        (line, prefix, name, price, first, sub, moment.replace(tzinfo=UTC), None)
        for line, (name, prefix, price, first, sub, moment) in enumerate(rows, start=2)
    ]


@settings(max_examples=40, deadline=None)
@given(
    rows=rate_rows,
    delimiter=st.sampled_from([",", ";", "\t"]),
    trim=st.booleans(),
    crlf=st.booleans(),
)
def test_csv_round_trip(decks, rows, delimiter: str, trim: bool, crlf: bool) -> None:
    text_rows = []
    for name, prefix, price, first, sub, moment in rows:
        written = price_text(price, trim)
        if delimiter == ";":
            written = written.replace(".", ",")
        text_rows.append([name, prefix, written, f"{first}/{sub}", moment.isoformat(sep=" ")])
    data = decks.csv([HEADER, *text_rows], delimiter=delimiter, line_end="\r\n" if crlf else "\n")
    result = normalize_voice_deck(data, source="generated.csv")
    assert result.rejects.height == 0
    assert result.rows.rows() == expected_rows(rows)


@settings(max_examples=15, deadline=None)
@given(rows=rate_rows, xls=st.booleans(), numeric=st.booleans())
def test_spreadsheet_round_trip(decks, rows, xls: bool, numeric: bool) -> None:
    sheet_rows = []
    for name, prefix, price, first, sub, moment in rows:
        as_number = numeric and not prefix.startswith("0")
        sheet_rows.append(
            [
                name,
                float(prefix) if as_number else prefix,
                float(price) if numeric else price_text(price, True),
                f"{first}/{sub}",
                moment,
            ]
        )
    write = decks.xls if xls else decks.xlsx
    result = normalize_voice_deck(write({"Rates": [HEADER, *sheet_rows]}), source="generated")
    assert result.rejects.height == 0
    assert result.rows.rows() == expected_rows(rows)
