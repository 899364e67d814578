from decimal import Decimal

import pytest

from pipeline.reports import formatting as fmt


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.16170000"), "0.1617"),
        (Decimal("0.12345678"), "0.12345678"),
        (Decimal("1"), "1.0000"),
        (Decimal("100.5"), "100.5000"),
        (Decimal("-0.00500000"), "-0.0050"),
        (Decimal("0E-8"), "0.0000"),
        (None, ""),
    ],
)
def test_price_keeps_exact_digits_with_at_least_four_decimals(value, expected):
    assert fmt.price(value) == expected


def test_price_pads_to_a_common_width_without_changing_the_value():
    width = fmt.decimals_needed([Decimal("0.0120"), Decimal("0.029295"), None])
    assert width == 6
    assert fmt.price(Decimal("0.0120"), width) == "0.012000"
    assert Decimal(fmt.price(Decimal("0.0120"), width)) == Decimal("0.0120")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.2124"), "+2.21%"),
        (Decimal("-19.1500"), "-19.15%"),
        (Decimal("0.005"), "+0.01%"),  # half-up
        (Decimal("-0.005"), "-0.01%"),
        (Decimal("0"), "0.00%"),
        (Decimal("1234.5"), "+1,234.50%"),
    ],
)
def test_pct_is_signed_and_rounded_half_up(value, expected):
    assert fmt.pct(value) == expected


def test_money_rounds_half_up_with_thousands_separator():
    assert fmt.money(Decimal("1234.565")) == "1,234.57"
    assert fmt.money(Decimal("-33.6000000000")) == "-33.60"
    assert fmt.money(Decimal("52.9"), signed=True) == "+52.90"
    assert fmt.money(Decimal("0"), signed=True) == "0.00"


@pytest.mark.parametrize("value", [Decimal("-0.00408"), Decimal("-0.004632"), Decimal("-0.0049")])
def test_a_negative_amount_that_rounds_to_zero_has_no_sign(value):
    # the 31-day demo's 2026-11-16 email said "-0.00 USD/month" for an impact of -0.00408
    assert fmt.money(value) == "0.00"
    assert fmt.money(value, signed=True) == "0.00"
    assert fmt.pct(value) == "0.00%"
    assert fmt.money(Decimal("-0.005"), signed=True) == "-0.01"  # half-up: not zero


@pytest.mark.parametrize("text", ["=1+1", "+44", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_quotes_formula_triggers(text):
    assert fmt.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Ireland", "UK Mobile - Jersey", "a=b", ""])
def test_neutralise_leaves_plain_text(text):
    assert fmt.neutralise(text) == text
