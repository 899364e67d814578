"""The carrier's call export -> billed calls + rejects (pure): exact money, UTC times, an
empty tech prefix is the default plan, every bad row a reject with its line and reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pipeline.emulator.cdr import CARRIER_HEADER
from pipeline.ingest.carrier import CarrierColumnNames, ingest_carrier
from pipeline.ingest.errors import NoValidRowsError

HEADER = ",".join(CARRIER_HEADER) + "\n"
GOOD = "id1,2026-11-01 02:53:04,,4857979843,Poland - Mobile,4857,89,90,0.0856,6/6,0.128400,USD\n"


def ingest(body: str, currency: str = "USD", **columns: str):
    return ingest_carrier(
        body.encode(), source="cdrs.csv", columns=CarrierColumnNames(**columns), currency=currency
    )


def test_a_portal_row_becomes_an_exact_billed_call():
    [row] = ingest(HEADER + GOOD).rows.to_dicts()
    assert row == {
        "row_number": 2,
        "call_id": "id1",
        "started_at": datetime(2026, 11, 1, 2, 53, 4, tzinfo=UTC),
        "tech_prefix": "current",
        "number": "4857979843",
        "destination": "Poland - Mobile",
        "prefix": "4857",
        "seconds": 89,
        "billed_seconds": 90,
        "rate": Decimal("0.0856"),
        "cost": Decimal("0.1284"),
        "currency": "USD",
    }


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (GOOD.replace("id1", ""), "call id: empty"),
        (GOOD.replace("4857979843", "48s79"), "number '48s79'"),
        (GOOD.replace(",,", ",cp,"), "tech prefix 'cp': must be empty or digits"),
        (GOOD.replace("02:53:04", "25:00:00"), "start time '2026-11-01 25:00:00'"),
        (GOOD.replace(",89,", ",-1,"), "seconds '-1': expected whole seconds"),
        (GOOD.replace("0.128400", "-0.1"), "cost '-0.1': expected an amount >= 0"),
        (GOOD.replace("0.0856", "0.123456789"), "rate '0.123456789': expected an amount"),
        # found by the property test: these crashed the import (decimal.InvalidOperation)
        (GOOD.replace("0.0856", "1E+30"), "rate '1E+30': expected an amount >= 0"),
        (GOOD.replace("0.0856", "sNaN"), "rate 'sNaN': expected an amount >= 0"),
    ],
)
def test_a_bad_row_is_a_reject_with_its_line(row, reason):
    result = ingest(HEADER + GOOD.replace("id1", "id0") + row)
    assert result.rows.height == 1
    [reject] = result.rejects.to_dicts()
    assert reject["row_number"] == 3 and reason in reject["reason"]


def test_a_file_of_only_bad_rows_is_refused_naming_the_first():
    with pytest.raises(NoValidRowsError, match=r"cdrs.csv: not one usable billed call .*row 2"):
        ingest(HEADER + GOOD.replace("0.0856", "x"))


def test_a_number_copied_from_a_web_page_is_its_digits():
    copied = GOOD.replace("4857979843", "\u200e+48\u00a057\u202f979\u200b843\u200f")
    [row] = ingest(HEADER + copied).rows.to_dicts()
    assert row["number"] == "4857979843"


def test_columns_are_mapped_by_name():
    body = HEADER.replace("Cost", "Charge") + GOOD
    [row] = ingest(body, cost="Charge").rows.to_dicts()
    assert row["cost"] == Decimal("0.1284")


def test_an_exponent_is_read_as_its_amount_with_eight_places():
    # "0E+100" passed the checks and then could not be stored (too large for Decimal128)
    body = HEADER + GOOD.replace("0.0856", "0E+100").replace("0.128400", "1.5E-3")
    [row] = ingest(body).rows.to_dicts()
    assert (row["rate"], row["cost"]) == (Decimal("0"), Decimal("0.0015"))


def test_a_start_outside_the_supported_days_is_a_reject():
    far = GOOD.replace("id1,2026-11-01 02:53:04", "id2,9999-12-31 23:59:59")
    early = GOOD.replace("id1,2026-11-01 02:53:04", "id3,1969-12-31 23:59:59")
    rejects = ingest(HEADER + GOOD + far + early).rejects
    assert rejects.select("row_number", "reason").rows() == [
        (3, "start time '9999-12-31 23:59:59': out of range (1970-01-01 to 9999-12-30, UTC)"),
        (4, "start time '1969-12-31 23:59:59': out of range (1970-01-01 to 9999-12-30, UTC)"),
    ]


def test_money_in_another_currency_than_the_accounts_is_a_reject():
    eur = GOOD.replace("id1,", "id2,").replace(",USD", ",EUR")
    euro_lower = GOOD.replace("id1,", "id3,").replace(",USD", ", eur ")  # the row-by-row path
    unnamed = GOOD.replace("id1,", "id4,").replace(",USD", ",")
    result = ingest(HEADER + GOOD + eur + euro_lower + unnamed)
    reason = "not the account's USD (report.currency); its money cannot be compared with our costs"
    assert result.rejects.select("row_number", "reason").rows() == [
        (3, f"currency 'EUR': {reason}"),
        (4, f"currency ' eur ': {reason}"),
    ]
    assert result.rows.select("call_id", "currency").rows() == [("id1", "USD"), ("id4", None)]
    in_euros = ingest(HEADER + eur, currency="EUR")
    assert in_euros.rows["currency"].to_list() == ["EUR"]


def test_a_row_with_more_fields_than_the_header_is_a_reject_the_rest_imports():
    """An unquoted comma in a destination ("Korea, Republic of") made polars refuse the whole
    export, naming no line: 0 calls. The row is a reject with its line; so is one of too few
    fields; an empty field too many loses nothing and is read."""
    korea = "w1,2026-11-01 02:53:04,,82212345678,Korea, Republic of - Fixed,82,60,60,0.0122,1/1,"
    short = "s1,2026-11-01 02:53:04,,4857979843,Poland - Mobile,4857,89\n"
    trailing = GOOD.replace("id1", "id9").replace("USD\n", "USD,\n")
    result = ingest(HEADER + GOOD + korea + "0.012200,USD\n" + short + trailing)
    assert result.rows["call_id"].to_list() == ["id1", "id9"]
    assert result.rejects.select("row_number", "reason").rows() == [
        (3, "13 fields, the header has 12: a comma in an unquoted field?"),
        (4, "billed seconds: empty"),
    ]
    assert result.total_rows == 4


def test_a_file_whose_every_row_is_too_wide_is_refused_naming_the_first():
    wide = GOOD.replace("Poland - Mobile", "Poland, Mobile")
    with pytest.raises(NoValidRowsError, match=r"row 2: 13 fields, the header has 12"):
        ingest(HEADER + wide + wide.replace("id1", "id2"))


@pytest.mark.parametrize("body", ["", "\n\n", "\ufeff", "\ufeff\r\n \r\n", HEADER])
def test_an_export_of_no_row_is_empty_not_refused(body):
    """A quiet day's export (docs/cdr.md#bad-rows): no bytes, blank lines, a byte-order mark
    alone (was: polars' "empty CSV", exit 2), or a header alone."""
    result = ingest(body)
    assert (result.rows.height, result.rejects.height, result.total_rows) == (0, 0, 0)


def test_a_blank_row_is_no_call_and_no_reject():
    """polars reads a blank line (or a spreadsheet's empty row) under the header as a row of
    nulls: it was a reject ("call id: empty"). The other rows keep their lines."""
    bad = GOOD.replace("id1", "id5").replace("0.128400", "x")
    body = GOOD + "\n" + "," * 11 + "\n" + " ,\t" + "," * 10 + "\r\n" + bad
    result = ingest(HEADER + body + GOOD.replace("id1", "id6") + "\n")
    assert result.rows.select("row_number", "call_id").rows() == [(2, "id1"), (7, "id6")]
    assert result.rejects.select("row_number", "reason").rows() == [
        (6, "cost 'x': expected a decimal amount")
    ]
    assert result.total_rows == 3


@pytest.mark.parametrize("blank", ["\n", "\n\n", "," * 11 + "\r\n" + "\n"])
def test_an_export_of_a_header_and_blank_rows_is_empty_not_refused(blank):
    """Was: every row a reject, the export refused ("not one usable billed call")."""
    result = ingest(HEADER + blank)
    assert (result.rows.height, result.rejects.height, result.total_rows) == (0, 0, 0)
