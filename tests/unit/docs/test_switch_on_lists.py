"""Every schedule and sensor starts stopped, so a deployment does only what its operator
switches on: each page section that says what to switch on names every schedule and sensor
the definitions have (with SMS channels and the CDR feed configured). An auditor followed
deploy.md literally, and finance never got an email: `report_after_loads` was in no list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.defs import build_definitions
from pipeline.settings import Settings

DOCS = Path(__file__).resolve().parents[3] / "docs"
# (page, heading of the section that lists what to switch on, the text it starts with or None)
SWITCH_ON_LISTS = [
    ("deploy.md", "Switching on the schedules and sensors", None),
    ("deploy.md", "docker compose", "Then `docker compose up -d`"),
    ("deploy.md", "Kubernetes: Dagster's Helm chart", "- Switch on the same schedules"),
    ("deploy.md", "Alerts", "- Switch on the sensors"),
    ("dagster.md", "Deployment: PostgreSQL and separate processes", "Then switch on"),
]


def automation_names(tmp_path: Path) -> list[str]:
    settings = Settings().with_overrides(
        paths={"data_dir": str(tmp_path)},
        sms={"channels": [{"username": "acme", "id": "1"}]},
        cdr={"folder": str(tmp_path)},
    )
    defs = build_definitions(settings)
    return sorted([s.name for s in defs.schedules] + [s.name for s in defs.sensors])


def section(page: str, heading: str) -> str:
    text = (DOCS / page).read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{page}: no section '## {heading}'"
    return match[1]


def paragraph(text: str, start: str) -> str:
    """The paragraph or list item that begins with ``start``."""
    at = text.index(start)
    ends = [text.find(mark, at + 1) for mark in ("\n\n", "\n- ")]
    return text[at : min((end for end in ends if end != -1), default=len(text))]


def test_the_definitions_have_the_automation_the_lists_cover(tmp_path):
    names = automation_names(tmp_path)
    assert "report_after_loads" in names and "cdr_files" in names
    assert len(names) == 9


@pytest.mark.parametrize(("page", "heading", "start"), SWITCH_ON_LISTS)
def test_every_switch_on_list_names_every_schedule_and_sensor(tmp_path, page, heading, start):
    text = section(page, heading)
    if start is not None:
        text = paragraph(text, start)
    missing = [name for name in automation_names(tmp_path) if f"`{name}`" not in text]
    assert missing == [], f"{page} '{heading}' does not say to switch on {missing}"
