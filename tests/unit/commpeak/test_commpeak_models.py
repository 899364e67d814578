"""Turning parsed JSON into typed results: exact money, strict shapes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from pipeline.commpeak.models import (
    Customer,
    Rate,
    SmsRate,
    parse_customer,
    parse_rates,
    parse_sms_rates,
    parse_speech_result,
    parse_task_id,
)


def loads(text: str):
    return json.loads(text, parse_float=Decimal)


def test_customer_money_is_exact():
    doc = loads(
        '{"customer": {"email": "c@e.com", "balance": 69.64622, "sms_balance": 0.1,'
        ' "temporary_credit": 0}}'
    )
    assert parse_customer(doc) == Customer(
        "c@e.com", Decimal("69.64622"), Decimal("0.1"), Decimal(0)
    )


def test_rates_keep_leading_zeros_and_every_decimal():
    doc = loads('{"rates": [{"prefix": "0044", "destination": "UK", "price": 0.123456789012}]}')
    assert parse_rates(doc) == [Rate("0044", "UK", Decimal("0.123456789012"))]


def test_sms_codes_are_json_integers_and_a_rate_may_be_numeric_text():
    assert parse_sms_rates([{"mcc": 310, "mnc": 10, "rate": "0.0075"}]) == [
        SmsRate(310, 10, Decimal("0.0075"))
    ]


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [  # the API sends JSON integers; text was read as one, "010" and "01" losing their zeros
        ("mnc", "010", "text '010'"),  # a 3-digit MNC of MCC 310 read as 10
        ("mnc", "01", "text '01'"),
        ("mcc", "310", "text '310'"),
        ("mnc", " 1", "text ' 1'"),
    ],
)
def test_sms_codes_given_as_text_are_refused_not_read_as_integers(field, value, shown):
    row = {"mcc": 310, "mnc": 10, "rate": 1, field: value}
    with pytest.raises(ValueError) as caught:
        parse_sms_rates([{"mcc": 262, "mnc": 1, "rate": 1}, row])
    assert str(caught.value) == f"[1].{field}: expected a JSON integer, got {shown}"


@pytest.mark.parametrize(("field", "value"), [("mcc", 1000), ("mnc", -1), ("mnc", 10**20)])
def test_sms_codes_beyond_three_digits_are_refused(field, value):
    row = {"mcc": 310, "mnc": 10, "rate": 1, field: value}
    with pytest.raises(ValueError) as caught:
        parse_sms_rates([row])
    assert str(caught.value) == f"[0].{field}: out of range 0-999, got {value}"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"customer": {"email": "x", "balance": 1, "sms_balance": 1}},
            "missing field 'temporary_credit'",
        ),
        (
            {"customer": {"email": "x", "balance": True, "sms_balance": 1, "temporary_credit": 0}},
            "customer.balance: expected a number, got bool",
        ),
        (
            {"customer": {"email": "x", "balance": 1.5, "sms_balance": 1, "temporary_credit": 0}},
            "customer.balance: expected a number, got float",
        ),
        (
            {
                "customer": {
                    "email": "x",
                    "balance": "Infinity",
                    "sms_balance": 1,
                    "temporary_credit": 0,
                }
            },
            "not a finite number",
        ),
        (
            {"customer": {"email": "x", "balance": "ten", "sms_balance": 1, "temporary_credit": 0}},
            "not a number",
        ),
        ({"customer": []}, "customer: expected an object, got list"),
        ([], "body: expected an object, got list"),
    ],
)
def test_customer_shape_errors_name_the_field(doc, message):
    with pytest.raises(ValueError, match=message):
        parse_customer(doc)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"rates": {}}, "rates: expected a list"),
        (
            {"rates": [{"prefix": "44a", "destination": "UK", "price": 1}]},
            r"rates\[0\].prefix: expected digits",
        ),
        (
            {"rates": [{"prefix": "44", "destination": None, "price": 1}]},
            r"rates\[0\].destination: expected text",
        ),
        ({"rates": [{"prefix": "44", "destination": "UK"}]}, r"rates\[0\]: missing field 'price'"),
    ],
)
def test_rate_shape_errors_name_the_row(doc, message):
    with pytest.raises(ValueError, match=message):
        parse_rates(doc)


@pytest.mark.parametrize(
    "row",
    [
        {"mcc": 1.5, "mnc": 1, "rate": 1},
        {"mcc": True, "mnc": 1, "rate": 1},
        {"mcc": "-1", "mnc": 1, "rate": 1},
        {"mcc": None, "mnc": 1, "rate": 1},
    ],
)
def test_sms_codes_must_be_integers(row):
    with pytest.raises(ValueError, match=r"\[0\].mcc: expected a JSON integer, got "):
        parse_sms_rates([row])


def test_sms_rates_must_be_a_list():
    with pytest.raises(ValueError, match="body: expected a list"):
        parse_sms_rates({"rates": []})


def test_task_id_and_speech_result():
    assert parse_task_id({"task": {"id": 32421}}) == 32421
    with pytest.raises(ValueError, match="task.id"):
        parse_task_id({"task": {"id": "x"}})
    assert parse_speech_result({"id": 1}) == {"id": 1}
    with pytest.raises(ValueError):
        parse_speech_result([1])
