"""One version per release: pyproject.toml's, which uv.lock (the project is locked too) and
the deployment page's Helm values repeat; a release that bumps one bumps them all."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def project_version() -> str:
    with open(REPO / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def test_the_lock_names_the_project_at_its_version():
    with open(REPO / "uv.lock", "rb") as handle:
        packages = tomllib.load(handle)["package"]
    [ratedeck] = [p for p in packages if p["name"] == "ratedeck"]
    assert ratedeck["version"] == project_version()


def test_the_deployment_page_tags_images_with_the_version():
    page = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    tags = re.findall(r'repository: registry\.example\.com/ratedeck, tag: "([^"]+)"', page)
    assert tags == [project_version()]
    assert not re.search(r"ratedeck[:-]\d+\.\d+\.\d+", page)  # no other literal version


def test_the_contract_changes_have_a_heading_for_this_release():
    page = (REPO / "docs" / "development.md").read_text(encoding="utf-8")
    contract = page[page.index("## Contract changes") :]
    headings = re.findall(r"^### (\d+\.\d+\.\d+)\b", contract, flags=re.MULTILINE)
    assert headings and headings[-1] == project_version()
