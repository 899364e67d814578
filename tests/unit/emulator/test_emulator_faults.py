from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.emulator.errors import FaultSpecError
from pipeline.emulator.faults import FAULTS, Fault, FaultPlan, parse_faults
from pipeline.errors import InputError

DOWNLOAD = "/rates/current/download"


def test_the_brief_spec_parses() -> None:
    faults = parse_faults("401,429:2,503:1,slow:3.5,reset:1,truncate,html,empty,bad-xls,404")
    assert [f.name for f in faults] == [
        "401", "429", "503", "slow", "reset", "truncate", "html", "empty", "bad-xls", "404"
    ]  # fmt: skip
    assert faults[0].remaining is None  # no count: always
    assert faults[1].remaining == 2
    assert faults[3] == Fault("slow", None, seconds=Decimal("3.5"))


def test_retry_after_times_and_path() -> None:
    (fault,) = parse_faults("429:2@0.01/download")
    assert (fault.remaining, fault.retry_after, fault.path) == (2, Decimal("0.01"), "/download")
    assert fault.retry_after_header == "0.01"
    assert parse_faults("429")[0].retry_after_header == "1"
    assert parse_faults("503:1@2")[0].retry_after_header == "2"
    assert parse_faults("503:1")[0].retry_after_header is None
    assert parse_faults("slow:0.5x3")[0] == Fault("slow", 3, seconds=Decimal("0.5"))
    assert parse_faults(" ") == [] and parse_faults(None) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bogus", "unknown fault 'bogus'"),
        ("429:x", "expected NAME"),
        ("slow", "slow needs seconds"),
        ("500@1", "Retry-After"),
        ("429:1.5", "whole number"),
        ("429:0", "count of 0"),
        ("429x2", "xTIMES is for slow"),
    ],
)
def test_bad_specs_are_one_line_input_errors(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message) as info:
        parse_faults(spec)
    assert isinstance(info.value, InputError) and info.value.exit_code == 2


def test_items_are_consumed_in_order_then_normal_service() -> None:
    plan = FaultPlan("429:2,503:1")
    got = [plan.take("/customer")[1] for _ in range(5)]
    assert [f.name if f else None for f in got] == ["429", "429", "503", None, None]
    assert not plan


def test_a_fault_without_count_is_permanent() -> None:
    plan = FaultPlan("500")
    assert all(plan.take("/customer")[1].name == "500" for _ in range(10))
    assert plan


def test_path_pattern_and_built_in_scopes() -> None:
    plan = FaultPlan("503:1/download,empty:1,404:1")
    assert plan.take("/customer")[1] is None  # none applies: nothing consumed
    assert plan.take(DOWNLOAD)[1].name == "503"
    assert plan.take("/rates/sms")[1] is None  # empty and 404 are for voice decks
    assert plan.take("/rates/021001")[1].name == "empty"
    assert plan.take("/rates/021001/search")[1].name == "404"
    assert plan.take(DOWNLOAD)[1] is None


def test_glob_path_pattern() -> None:
    plan = FaultPlan("500:1/rates/*/download")
    assert plan.take("/rates/current")[1] is None
    assert plan.take("/rates/021002/download")[1].name == "500"


def test_slow_delays_and_lets_the_next_item_decide() -> None:
    plan = FaultPlan("slow:0.2x1,429:1")
    delays, fault = plan.take("/customer")
    assert [d.seconds for d in delays] == [Decimal("0.2")] and fault.name == "429"
    assert plan.take("/customer") == ([], None)


def test_replace_at_run_time_and_bad_spec_keeps_the_old_plan() -> None:
    plan = FaultPlan("500")
    with pytest.raises(FaultSpecError):
        plan.replace("nope")
    assert plan.take("/customer")[1].name == "500"
    plan.replace(None)
    assert plan.take("/customer")[1] is None and plan.spec == ""


def test_every_fault_is_documented() -> None:
    assert set(FAULTS) == {
        "401", "404", "429", "500", "503", "slow", "reset", "truncate", "html", "empty",
        "collapse", "bad-xls",
    }  # fmt: skip
