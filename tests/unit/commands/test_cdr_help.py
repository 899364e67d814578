"""``ratedeck cdr ACTION --help`` describes each action as docs/commands.md does, and says
what ``status`` really prints (one row per UTC day, not files)."""

from __future__ import annotations

import argparse

import pytest

from pipeline.cli import build_parser
from pipeline.commands import cdr

# the columns of queries/cdr_status.sql, as the help words them
STATUS_COLUMNS = ("calls", "billable", "costed", "unmatched", "total cost", "last costed")


def _actions() -> dict[str, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser()
    cdr.add_arguments(parser)
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return found[0].choices


@pytest.mark.parametrize("action", ["import", "cost", "status"])
def test_every_action_has_a_description_in_its_help(action):
    parser = _actions()[action]
    assert parser.description and len(parser.description) > 80, parser.description
    assert parser.description.split(".")[0] in " ".join(parser.format_help().split())


def test_file_has_help():
    files = next(a for a in _actions()["import"]._actions if a.dest == "files")
    assert files.help and "[cdr] format" in files.help and "--carrier" in files.help


def test_status_says_what_it_prints():
    description = _actions()["status"].description
    summary = build_parser(["cdr"]).format_help()  # the real parser builds
    assert summary and description.startswith("One row per UTC day")
    assert [c for c in STATUS_COLUMNS if c not in description] == []
    assert "files" not in description
