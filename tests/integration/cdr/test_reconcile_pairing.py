"""Which of our calls is which of the carrier's (docs/cdr.md#call-by-call-reconcile_call): on
one number, starts within reconcile.match_tolerance_s, each call once, as many pairs as
possible, then the least total start difference. Held to a brute force over every way to pair
small random days, and to a maximum matching on a flood of calls to one number."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from support.cdr import DAY, HISTORY, asterisk_line, cdr_settings, insert_history, query
from support.cdr import write_master as write_calls
from support.reconcile import carrier_export, carrier_line

from pipeline.settings import Settings
from pipeline.stages.cdr import import_file
from pipeline.stages.reconcile import import_carrier_file

TEN = DAY + timedelta(hours=10)
IRELAND = "353871111111"  # HISTORY: 353 at 0.05 a minute, 1/1
Call = tuple[str, str, datetime, int]  # call id, number, start, seconds


def tolerance_settings(data_dir: Path, tolerance: int) -> Settings:
    settings = cdr_settings(data_dir).with_overrides(reconcile={"match_tolerance_s": tolerance})
    insert_history(settings, HISTORY)
    return settings


def import_calls(settings: Settings, folder: Path, ours: list[Call], theirs: list[Call]) -> None:
    """Our calls as the switch's Master.csv, theirs as the carrier's export, at the deck's
    rate."""
    lines = [asterisk_line(call_id, number, start, seconds)
             for call_id, number, start, seconds in ours]  # fmt: skip
    import_file(settings, write_calls(folder / "ours.csv", lines))
    rows = [
        carrier_line(call_id, start, number, seconds, seconds, "0.05",
                     f"{Decimal('0.05') * seconds / 60:.6f}")
        for call_id, number, start, seconds in theirs
    ]  # fmt: skip
    import_carrier_file(settings, carrier_export(folder / "theirs.csv", *rows))


def pairs(settings: Settings) -> list[tuple[str | None, str | None]]:
    return query(
        settings,
        "SELECT our_call_id, their_call_id FROM reconcile_call ORDER BY started_at, 1, 2",
    )


def at(seconds: int) -> datetime:
    return TEN + timedelta(seconds=seconds)


def test_a_call_whose_closest_candidate_is_taken_pairs_with_the_next(settings, tmp_path):
    # the carrier's clock is a second ahead: o2's closest is t1 (1 s before it, as t2 is 1 s
    # after), which pairs with o1; o2 and t2 are still the same call
    ours = [("o1", IRELAND, at(0), 1), ("o2", IRELAND, at(2), 90)]
    theirs = [("t1", IRELAND, at(1), 1), ("t2", IRELAND, at(3), 90)]
    import_calls(settings, tmp_path, ours, theirs)
    assert pairs(settings) == [("o1", "t1"), ("o2", "t2")]
    classes = query(settings, "SELECT DISTINCT class FROM reconcile_call")
    assert classes == [("price_differs",)]  # not costed: pairs, but no rate of ours


def test_one_more_pair_wins_over_a_closer_one(settings, tmp_path):
    # o2 and t1 start together, but pairing them leaves o1 and t2 alone: o1-t1 and o2-t2,
    # each 2 s apart (the tolerance), pair all four
    ours = [("o1", IRELAND, at(0), 60), ("o2", IRELAND, at(2), 60)]
    theirs = [("t1", IRELAND, at(2), 60), ("t2", IRELAND, at(4), 60)]
    import_calls(settings, tmp_path, ours, theirs)
    assert pairs(settings) == [("o1", "t1"), ("o2", "t2")]


def test_of_two_candidates_the_closer_pairs(settings, tmp_path):
    # the carrier did not bill o1 (1 s): its 90 s call is o2's, not o1's, a second earlier
    ours = [("o1", IRELAND, at(0), 1), ("o2", IRELAND, at(1), 90)]
    theirs = [("t2", IRELAND, at(1), 90)]
    import_calls(settings, tmp_path, ours, theirs)
    assert pairs(settings) == [("o1", None), ("o2", "t2")]


def test_equally_close_candidates_pair_the_earlier_calls(settings, tmp_path):
    ours = [("o1", IRELAND, at(0), 60), ("o2", IRELAND, at(2), 60)]
    theirs = [("t1", IRELAND, at(1), 60)]
    import_calls(settings, tmp_path, ours, theirs)
    assert pairs(settings) == [("o1", "t1"), ("o2", None)]


def random_number(rng: random.Random, number: str, base: datetime, tolerance: int):
    """A few calls of ours to ``number`` and the carrier's: most of ours billed, starts moved
    by up to the tolerance and a little beyond, some not billed, a few billed that we never
    made; starts often within the tolerance of each other, sometimes the same second."""
    spread = 2 * tolerance + 4
    ours = [base + timedelta(seconds=rng.randrange(spread)) for _ in range(rng.randrange(6))]
    theirs = [
        start + timedelta(seconds=rng.randint(-tolerance - 2, tolerance + 2))
        for start in ours
        if rng.random() < 0.75
    ]
    theirs += [base + timedelta(seconds=rng.randrange(spread)) for _ in range(rng.randrange(3))]
    return (
        [(f"o{number}-{n}", number, start, 60) for n, start in enumerate(ours)],
        [(f"t{number}-{n}", number, start, 60) for n, start in enumerate(theirs)],
    )


def best_pairing(ours: list[Call], theirs: list[Call], tolerance: int) -> tuple[int, int]:
    """By brute force over every way to pair: the most pairs, and with that many the least
    total start difference (seconds)."""

    def gap(o: Call, t: Call) -> int:
        return abs(int((o[2] - t[2]).total_seconds()))

    def best(k: int, free: frozenset[int]) -> tuple[int, int]:  # (pairs, -total)
        if k == len(ours):
            return (0, 0)
        options = [best(k + 1, free)]
        for n in free:
            if gap(ours[k], theirs[n]) <= tolerance:
                more, less = best(k + 1, free - {n})
                options.append((more + 1, less - gap(ours[k], theirs[n])))
        return max(options)

    count, minus_total = best(0, frozenset(range(len(theirs))))
    return count, -minus_total


@pytest.mark.parametrize(("seed", "tolerance"), [(1, 2), (2, 5), (3, 0), (4, 1)])
def test_pairing_is_the_best_a_brute_force_finds(tmp_path, seed, tolerance):
    settings = tolerance_settings(tmp_path / "data", tolerance)
    rng = random.Random(seed)
    ours: dict[str, list[Call]] = {}
    theirs: dict[str, list[Call]] = {}
    for k in range(160):
        number = f"3538{k:08d}"
        # every 8th number just before midnight: pairs and calls across it, on both days
        base = DAY + timedelta(days=1, seconds=-tolerance - 3) if k % 8 == 0 else at(60 * k)
        ours[number], theirs[number] = random_number(rng, number, base, tolerance)
    import_calls(settings, tmp_path, sum(ours.values(), []), sum(theirs.values(), []))

    rows = query(
        settings,
        "SELECT number, our_call_id, their_call_id FROM reconcile_call "
        "WHERE our_call_id IS NOT NULL AND their_call_id IS NOT NULL",
    )
    start = {c[0]: c for calls in (*ours.values(), *theirs.values()) for c in calls}
    found: dict[str, tuple[int, int]] = dict.fromkeys(ours, (0, 0))
    for number, our_id, their_id in rows:
        o, t = start[our_id], start[their_id]
        assert o[1] == t[1] == number  # the same number
        gap = abs(int((o[2] - t[2]).total_seconds()))
        assert gap <= tolerance, (our_id, their_id)
        count, total = found[number]
        found[number] = (count + 1, total + gap)
    best = {n: best_pairing(ours[n], theirs[n], tolerance) for n in ours}
    assert found == best
    assert sum(count for count, _ in best.values()) > 150  # the days had pairs to find
    assert_each_call_once(settings, ours, theirs)
    assert_the_macro_gives_the_view_s_rows(settings)


def assert_each_call_once(settings: Settings, ours: dict, theirs: dict) -> None:
    counted = query(
        settings,
        "SELECT count(our_call_id), count(DISTINCT our_call_id), count(their_call_id), "
        "count(DISTINCT their_call_id) FROM reconcile_call",
    )
    billed = sum(len(calls) for calls in theirs.values())
    made = sum(len(calls) for calls in ours.values())
    assert counted == [(made, made, billed, billed)]


def assert_the_macro_gives_the_view_s_rows(settings: Settings) -> None:
    view = query(settings, "SELECT * FROM reconcile_call ORDER BY ALL")
    for day in (DAY.date(), DAY.date() + timedelta(days=1)):
        some = query(settings, "SELECT * FROM reconcile_calls(?, ?) ORDER BY ALL", [day, day])
        assert some == [r for r in view if r[0] == day]


def maximum_matching(ours: list[datetime], theirs: list[datetime], tolerance: int) -> int:
    """The most pairs there are (augmenting paths, Kuhn's algorithm)."""
    partner: dict[int, int] = {}
    candidates = [
        [t for t, start in enumerate(theirs) if abs((mine - start).total_seconds()) <= tolerance]
        for mine in ours
    ]

    def augment(o: int, seen: set[int]) -> bool:
        for t in candidates[o]:
            if t in seen:
                continue
            seen.add(t)
            if t not in partner or augment(partner[t], seen):
                partner[t] = o
                return True
        return False

    return sum(augment(o, set()) for o in range(len(ours)))


def test_a_flood_of_calls_to_one_number_pairs_as_many_as_can_be(settings, tmp_path):
    """600 calls a second apart, the carrier's clock 1 s ahead, some not billed, some billed
    twice: one long chain, each call within the tolerance (2 s) of the next."""
    rng = random.Random(5)
    ours = [at(k + rng.choice([0, 0, 1])) for k in range(600)]
    theirs = [start + timedelta(seconds=1) for start in ours if rng.random() < 0.9]
    theirs += [at(rng.randrange(600)) for _ in range(30)]
    import_calls(
        settings,
        tmp_path,
        [(f"o{n}", IRELAND, start, 60) for n, start in enumerate(ours)],
        [(f"t{n}", IRELAND, start, 60) for n, start in enumerate(theirs)],
    )
    [(paired, within)] = query(
        settings,
        "SELECT count(*), bool_and(abs(date_diff('second', o.started_at, t.started_at)) <= 2) "
        "FROM reconcile_call r JOIN cdr_call o ON o.call_id = r.our_call_id "
        "JOIN carrier_call t ON t.call_id = r.their_call_id",
    )
    assert within and paired == maximum_matching(ours, theirs, 2) > 500
