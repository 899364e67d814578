"""Pure ingest of the SMS rate list and the /customer balance (bytes in, exact values out)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from pipeline.ingest.balance import BalanceRecord, normalize_customer
from pipeline.ingest.errors import IngestError, NoValidRowsError, UnrecognisedFormatError
from pipeline.ingest.frames import KEYED_REJECT_SCHEMA, SMS_RATE_SCHEMA
from pipeline.ingest.sms import normalize_sms_rates

POSTMAN_SMS = (
    b'[\n    {\n        "rate": 0.05,\n        "mcc": 10,\n        "mnc": 210\n    },\n'
    b'    {\n        "rate": 0.05,\n        "mcc": 9,\n        "mnc": 210\n    }\n]'
)
POSTMAN_CUSTOMER = (
    b'{\n    "customer": {\n        "email": "customer@email.com",\n'
    b'        "balance": 69.64622,\n        "sms_balance": 99.63218,\n'
    b'        "temporary_credit": 0\n    }\n}'
)


def sms(rows: list) -> bytes:
    return json.dumps(rows).encode()


def reasons(result) -> dict[int, str]:
    return dict(zip(result.rejects["row_number"], result.rejects["reason"], strict=True))


def test_postman_example_parses_exactly():
    result = normalize_sms_rates(POSTMAN_SMS, source="sms/test:1")
    assert result.rows.schema == SMS_RATE_SCHEMA
    assert result.rows.to_dicts() == [
        {"row_number": 1, "mcc": 10, "mnc": 210, "rate": Decimal("0.05")},
        {"row_number": 2, "mcc": 9, "mnc": 210, "rate": Decimal("0.05")},
    ]
    assert result.rejects.is_empty() and result.rejects.schema == KEYED_REJECT_SCHEMA
    assert (result.source_format, result.total_rows) == ("json", 2)


def test_rates_are_decimal_from_the_json_text_never_float():
    # 0.1 + 0.2 style values and 8 decimals survive exactly
    body = b'[{"rate": 0.12345678, "mcc": 262, "mnc": 1}, {"rate": 1E-8, "mcc": 262, "mnc": 2}]'
    result = normalize_sms_rates(body, source="s")
    assert result.rows["rate"].to_list() == [Decimal("0.12345678"), Decimal("0.00000001")]


def test_empty_list_is_valid_with_a_note():
    result = normalize_sms_rates(b"[]", source="s")
    assert result.rows.is_empty() and result.rejects.is_empty()
    assert result.total_rows == 0
    assert result.notes == ["empty SMS rate list: the channel has no rates"]


def test_bad_rows_are_rejected_with_reasons():
    body = (
        b'[{"rate": 0.05, "mcc": 262, "mnc": 1},'
        b' {"mcc": 262, "mnc": 2},'
        b' {"rate": null, "mcc": 262, "mnc": 3},'
        b' {"rate": -0.01, "mcc": 262, "mnc": 4},'
        b' {"rate": 0.05, "mcc": 262.5, "mnc": 5},'
        b' {"rate": 0.05, "mcc": "262", "mnc": 6},'
        b' {"rate": 0.05, "mcc": 262, "mnc": 1000},'
        b' {"rate": 0.123456789, "mcc": 262, "mnc": 8},'
        b' {"rate": "0.05", "mcc": 262, "mnc": 9},'
        b' {"rate": true, "mcc": 262, "mnc": 10},'
        b' {"rate": NaN, "mcc": 262, "mnc": 11},'
        b' "junk"]'
    )
    result = normalize_sms_rates(body, source="s")
    assert result.rows["row_number"].to_list() == [1]
    assert reasons(result) == {
        2: "rate: missing",
        3: "rate: null",
        4: "rate: negative '-0.01'",
        5: "mcc: not a JSON integer '262.5'",
        6: """mcc: not a JSON integer '"262"'""",
        7: "mnc: out of range 0-999 '1000'",
        8: "rate: more than 8 decimal places; refusing to round '0.123456789'",
        9: """rate: not a JSON number '"0.05"'""",
        10: "rate: not a JSON number 'true'",
        11: "rate: not a JSON number 'NaN'",
        12: """row: not a JSON object '"junk"'""",
    }
    raw = dict(zip(result.rejects["row_number"], result.rejects["raw"], strict=True))
    assert json.loads(raw[4]) == {"rate": "-0.01", "mcc": "262", "mnc": "4"}
    assert json.loads(raw[12]) == {"value": '"junk"'}
    assert result.total_rows == 12


def test_zero_rate_is_a_rate():
    result = normalize_sms_rates(sms([{"rate": 0, "mcc": 262, "mnc": 1}]), source="s")
    assert result.rows["rate"].to_list() == [Decimal("0")]


def test_duplicates_identical_refused_as_repeats_conflicting_rejected():
    body = sms(
        [
            {"rate": 0.05, "mcc": 262, "mnc": 1},
            {"rate": 0.05, "mcc": 262, "mnc": 1},
            {"rate": 0.02, "mcc": 262, "mnc": 2},
            {"rate": 0.03, "mcc": 262, "mnc": 2},
            {"rate": 0.04, "mcc": 262, "mnc": 3},
        ]
    )
    result = normalize_sms_rates(body, source="s")
    assert result.rows.select("row_number", "mnc").rows() == [(1, 1), (5, 3)]
    expected = "conflicting duplicate: mcc 262 mnc 2 has rates 0.02, 0.03 (rows 3, 4)"
    assert reasons(result) == {2: "duplicate of row 1", 3: expected, 4: expected}
    assert result.notes == []
    assert (result.repeat_count, result.counted_rejects) == (1, 2)
    assert result.reject_fraction == 2 / 4  # the repeat counts neither as a reject nor a row


def test_a_list_with_no_usable_row_is_refused_keeping_the_reasons():
    with pytest.raises(NoValidRowsError, match=r"^s: not one usable SMS rate in 2 row") as info:
        normalize_sms_rates(sms([{"rate": -1, "mcc": 1, "mnc": 1}, {"mcc": 1}]), source="s")
    assert info.value.result.rejects.height == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!DOCTYPE html><html><body>Maintenance</body></html>", "an HTML page, not JSON"),
        (b"", "empty body"),
        (b'{"error": "nope"}', "expected a JSON list of SMS rates, got a JSON dict"),
        (b'[{"rate": 0.05,', "not valid JSON (line 1"),
        (b"\xff\xfe[]", "not UTF-8 text"),
        (b"HTTP Token: Access denied.", "not valid JSON"),
    ],
)
def test_unusable_bodies_raise_the_ingest_format_error(body, message):
    with pytest.raises(UnrecognisedFormatError) as info:
        normalize_sms_rates(body, source="raw/sms/acme_1/x.json")
    assert str(info.value).startswith("raw/sms/acme_1/x.json: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_customer_postman_example():
    record = normalize_customer(POSTMAN_CUSTOMER, source="c")
    assert record == BalanceRecord(
        email="customer@email.com",
        balance=Decimal("69.64622"),
        sms_balance=Decimal("99.63218"),
        temporary_credit=Decimal("0"),
    )
    assert all(
        isinstance(v, Decimal)
        for v in (record.balance, record.sms_balance, record.temporary_credit)
    )


def test_customer_negative_and_zero_balances_are_kept():
    body = b'{"customer": {"email": "a@b.c", "balance": -3.5, "sms_balance": 0, "temporary_credit": 10}}'
    record = normalize_customer(body, source="c")
    assert (record.balance, record.sms_balance) == (Decimal("-3.5"), Decimal("0"))


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b"<html></html>", UnrecognisedFormatError, "c: an HTML page, not JSON"),
        (b"[]", UnrecognisedFormatError, 'expected a JSON object {"customer"'),
        (b'{"balance": 1}', UnrecognisedFormatError, "got an object with balance"),
        (
            b'{"customer": {"balance": 1, "sms_balance": 1, "temporary_credit": 0}}',
            IngestError,
            "c: customer.email: missing or not text",
        ),
        (
            b'{"customer": {"email": "a@b", "balance": 1.123456789, "sms_balance": 1, '
            b'"temporary_credit": 0}}',
            IngestError,
            "c: customer.balance: more than 8 decimal places; refusing to round '1.123456789'",
        ),
        (
            b'{"customer": {"email": "a@b", "balance": 1, "temporary_credit": 0}}',
            IngestError,
            "c: customer.sms_balance: missing",
        ),
    ],
)
def test_customer_bad_bodies(body, error, message):
    with pytest.raises(error, match=None) as info:
        normalize_customer(body, source="c")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("normalize", "body", "key"),
    [
        (normalize_sms_rates, b'[{"rate": 0.05, "rate": 9.99, "mcc": 1, "mnc": 2}]', "rate"),
        (normalize_customer, b'{"customer": {"email": "a@b"}, "customer": {}}', "customer"),
    ],
)
def test_a_duplicate_json_key_is_refused_not_last_one_wins(normalize, body, key):
    with pytest.raises(UnrecognisedFormatError) as info:
        normalize(body, source="raw/sms/acme_1/x.json")
    assert str(info.value) == f"raw/sms/acme_1/x.json: duplicate key {key!r} in a JSON object"


@pytest.mark.parametrize(
    ("rate", "reason"),
    [
        ("1e999999999", "rate: more than 10 digits before the point '1E+999999999'"),
        ("-1e999999999", "rate: more than 10 digits before the point '-1E+999999999'"),
        ("1e-999999999", "rate: more than 8 decimal places; refusing to round '1E-999999999'"),
        ("9" * 5000, "rate: more than 10 digits before the point '" + "9" * 39 + "…'"),
        ("Infinity", "rate: not a JSON number 'Infinity'"),
        ("-Infinity", "rate: not a JSON number '-Infinity'"),
    ],
)
def test_extreme_numbers_are_rejects_with_a_reason(rate, reason):
    body = f'[{{"rate": {rate}, "mcc": 1, "mnc": 1}}, {{"rate": 0.1, "mcc": 1, "mnc": 2}}]'
    result = normalize_sms_rates(body.encode(), source="s")
    assert reasons(result) == {1: reason}
    assert result.rows["mnc"].to_list() == [2]


def test_customer_balance_overflow_is_a_one_line_error():
    body = b'{"customer": {"email": "a@b", "balance": 1e999999999, "sms_balance": 0, "temporary_credit": 0}}'
    with pytest.raises(IngestError) as info:
        normalize_customer(body, source="c.json")
    assert str(info.value) == (
        "c.json: customer.balance: more than 10 digits before the point '1E+999999999'"
    )
