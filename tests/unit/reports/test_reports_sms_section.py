"""SMS rows, how counts and subjects name the kinds, the chart's handling of external names."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pipeline.commands.diff import selected_kinds
from pipeline.errors import InputError
from pipeline.reports.chart import change_chart
from pipeline.reports.model import ChangeRow, ChangeSection
from pipeline.reports.render import count_phrase, price_units, subject
from pipeline.reports.sms import sms_row

WHEN = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def sms_record(**extra) -> dict:
    return {
        "change_id": "abc",
        "channel": "demo:1",
        "mcc": 272,
        "mnc": 1,
        "network_code": "272-01",
        "country": "Ireland",
        "network": "Vodafone",
        "known": True,
        "mcc_country": None,
        "change_type": "increase",
        "old_rate": Decimal("0.04200000"),
        "new_rate": Decimal("0.04620000"),
        "rate_change": Decimal("0.00420000"),
        "rate_change_pct": Decimal("10.0000"),
        "changed_at": WHEN,
        "snapshot_id": 3,
        **extra,
    }


def row(kind: str, group: str, category: str = "up", **extra) -> ChangeRow:
    values = dict(
        kind=kind,
        change_id=f"{kind}-{group}-{category}",
        group=group,
        key="44",
        name="UK",
        change_type={"up": "increase", "down": "decrease"}.get(category, category),
        category=category,
        old_price=Decimal("0.01"),
        new_price=Decimal("0.02"),
        change_pct=Decimal("100"),
        effective_at=WHEN,
        announced_at=WHEN,
        notice_days=None,
        upcoming=False,
        short_notice=False,
    )
    return ChangeRow(**{**values, **extra})


def section(kind: str, rows: list[ChangeRow]) -> ChangeSection:
    sms = kind == "sms"
    return ChangeSection(
        kind=kind,
        title="SMS" if sms else "Voice",
        group_label="Channel" if sms else "Tech prefix",
        key_label="MCC-MNC" if sms else "Prefix",
        name_label="Country – network" if sms else "Destination",
        rows=tuple(rows),
        columns=(),
        records=(),
        subject_prefix="SMS " if sms else "",
        count_label="SMS" if sms else "voice",
        price_unit="per message" if sms else "per minute",
    )


def test_sms_row_of_a_known_network():
    r = sms_row(sms_record(), now=WHEN)
    assert (r.kind, r.group, r.key, r.name) == ("sms", "demo:1", "272-01", "Ireland – Vodafone")
    assert (r.category, r.old_price, r.new_price) == ("up", Decimal("0.042"), Decimal("0.0462"))
    assert r.rank_pct == Decimal("10") and not r.unknown_network and not r.short_notice


def test_unknown_networks_keep_their_country_when_the_mcc_is_known():
    unknown = dict(country=None, network=None, known=False, network_code="272-99")
    r = sms_row(sms_record(**unknown, mcc_country="Ireland", mnc=99), now=WHEN)
    assert r.unknown_network and r.name == "Ireland"
    assert r.effect == "MCC 272 MNC 99 is not in the MCC/MNC reference"
    new = sms_row(sms_record(**unknown, change_type="new", old_rate=None), now=WHEN)
    assert new.name == "unknown country" and new.category == "new"
    assert new.effect.startswith("new: now offered at 0.0462; MCC 272 MNC 1 is not in")


def test_counts_name_the_kinds():
    voice = section("voice", [row("voice", "current"), row("voice", "021001", "down")])
    sms = section("sms", [row("sms", "demo:1"), row("sms", "demo:2", "new")])
    one_sms = section("sms", [row("sms", "demo:1")])
    assert count_phrase([voice]) == "2 price changes"  # voice alone, as before SMS existed
    assert count_phrase([one_sms]) == "1 SMS price change"
    assert count_phrase([voice, sms]) == "2 voice and 2 SMS price changes"
    # the groups do not fit on the subject's one line beside the counts: the counts stay
    assert subject([voice, sms], currency="USD") == (
        "ratedeck: 2 voice and 2 SMS price changes (2 up, 1 down)"
    )
    assert subject([one_sms], currency="USD") == (
        "ratedeck: 1 SMS price change (1 up) on SMS demo:1"
    )
    assert price_units([voice], "USD") == "USD per minute"
    assert price_units([voice, sms], "EUR") == "EUR (voice per minute, SMS per message)"


def test_chart_draws_names_with_dollar_signs_literally():
    # matplotlib would parse "$...$" as mathtext, and fail on this one
    hostile = row("voice", "current", name=r"Evil $\frac{a$ b", monthly_impact=Decimal("12.5"))
    assert change_chart([hostile], currency="USD").startswith(b"\x89PNG")


def test_chart_stacks_voice_and_sms():
    rows = [row("voice", "current"), row("sms", "demo:1", "down", change_pct=Decimal("-3"))]
    assert change_chart(rows, currency="USD").startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("kind", "tech_prefix", "channel", "expected"),
    [
        (None, None, None, ("voice", "sms")),
        (None, "current", None, ("voice",)),
        (None, None, "demo:1", ("sms",)),
        (None, "current", "demo:1", ("voice", "sms")),
        ("all", "current", None, ("voice", "sms")),
        ("sms", None, "demo:1", ("sms",)),
    ],
)
def test_diff_kinds_follow_the_filters(kind, tech_prefix, channel, expected):
    assert selected_kinds(kind, tech_prefix=tech_prefix, channel=channel) == expected


def test_diff_filter_of_the_other_kind_is_refused():
    with pytest.raises(InputError, match="--channel filters SMS"):
        selected_kinds("voice", tech_prefix=None, channel="demo:1")
