"""docs/settings.md shows every key with its default: its TOML block is read as a settings file
and held against the models' defaults, and a key it shows commented out (an example value)
must be one that is unset by default."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

from pipeline.settings import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "settings.md"
SECTION = re.compile(r"^\[([\w.]+)\]", re.M)
COMMENTED_KEY = re.compile(r"^# (\w+) = ")


def toml_block() -> str:
    return re.search(r"^```toml\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)[1]


def flat(tree: dict, prefix: str = "") -> dict[str, object]:
    """{"smtp.port": 587, ...}: every leaf of a nested dict under its dotted key."""
    leaves: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            leaves |= flat(value, f"{prefix}{key}.")
        else:
            leaves[f"{prefix}{key}"] = value.isoformat() if isinstance(value, date) else value
    return leaves


def commented_keys(block: str) -> list[str]:
    """The dotted keys the block shows commented out (`# key = example`)."""
    section, found = "", []
    for line in block.splitlines():
        if header := SECTION.match(line):
            section = header[1]
        elif key := COMMENTED_KEY.match(line):
            found.append(f"{section}.{key[1]}")
    return found


def same(shown: object, default: object) -> bool:
    """A TOML value against a model default dumped as JSON (Decimal and Path as text)."""
    if isinstance(shown, int | float) and not isinstance(shown, bool):
        try:
            return float(shown) == float(default)
        except (TypeError, ValueError):
            return False
    return shown == default


def test_every_key_shown_has_its_default():
    defaults = flat(Settings().model_dump(mode="json"))
    shown = flat(tomllib.loads(toml_block()))
    assert sorted(shown.keys() - defaults.keys()) == []  # no key the models do not have
    wrong = {k: (v, defaults[k]) for k, v in shown.items() if not same(v, defaults[k])}
    assert wrong == {}


def test_every_key_is_shown_and_only_an_unset_one_commented_out():
    defaults = flat(Settings().model_dump(mode="json"))
    block = toml_block()
    commented = commented_keys(block)
    assert {k for k in commented if defaults.get(k, "missing") is not None} == set()
    assert sorted(defaults.keys() - flat(tomllib.loads(block)).keys() - set(commented)) == []
    # the unset keys the page explains: none of them may slip back in as a "default"
    assert {"smtp.host", "dagster.postgres_url", "cdr.columns.call_id"} <= set(commented)


def test_the_comparison_sees_a_wrong_default():
    defaults = flat(Settings().model_dump(mode="json"))
    assert not same(95, defaults["report.reference_call_seconds"])
    assert not same("4420", defaults["cdr.columns.number"])
    assert not same(5, defaults["voice.schedule"])  # a number where the default is text
    assert same(2, defaults["reconcile.tolerance_pct"])  # a Decimal, dumped as text
    assert commented_keys('[cdr.columns]\n# call_id = "x"\n[smtp]\nport = 1\n') == [
        "cdr.columns.call_id"
    ]
