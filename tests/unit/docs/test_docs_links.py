"""The README stays a ten-minute read, and README.md and docs/*.md never point nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
README_MAX_LINES = 200

FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def prose(markdown: str) -> str:
    """The text links can live in: fenced blocks and inline code are examples, not links."""
    return INLINE_CODE.sub("", FENCE.sub("", markdown))


def anchor_of(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every anchor a page offers; a repeated heading gets -1, -2... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        slug = anchor_of(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def broken_links(page: Path, root: Path) -> list[str]:
    """One line per relative link of `page` whose file (or heading anchor) does not exist."""
    problems = []
    for target in LINK.findall(prose(page.read_text(encoding="utf-8"))):
        if EXTERNAL.match(target):
            continue
        path_part, _, fragment = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.is_relative_to(root.resolve()) or not dest.exists():
            problems.append(f"{page.name}: link to {target}: no such file in the repository")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest.read_text()):
            problems.append(
                f"{page.name}: link to {target}: {dest.name} has no heading #{fragment}"
            )
    return problems


def test_readme_is_a_ten_minute_read() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_every_relative_link_points_to_an_existing_file(page: Path) -> None:
    assert broken_links(page, REPO) == []


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_no_page_names_a_design_document_the_repository_lacks(page: Path) -> None:
    if (REPO / "DESIGN.md").exists():
        pytest.skip("DESIGN.md is in the repository")
    assert "design.md" not in page.read_text(encoding="utf-8").lower()


def test_the_readme_links_every_docs_page() -> None:
    readme = prose((REPO / "README.md").read_text(encoding="utf-8"))
    linked = {Path(target.partition("#")[0]).name for target in LINK.findall(readme)}
    unlinked = [p.name for p in sorted((REPO / "docs").glob("*.md")) if p.name not in linked]
    assert unlinked == []


def test_the_checker_finds_a_missing_file_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Real heading\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#real-heading) [gone](missing.md) [bad](other.md#no-such)\n"
        "`[code](missing-too.md)` [out](../outside.md) [web](https://example.com/x.md)\n"
        "```\n[fenced](missing-three.md)\n```\n"
    )
    assert broken_links(page, tmp_path) == [
        "page.md: link to missing.md: no such file in the repository",
        "page.md: link to other.md#no-such: other.md has no heading #no-such",
        "page.md: link to ../outside.md: no such file in the repository",
    ]


def test_anchors_follow_githubs_rules() -> None:
    markdown = (
        "# `ratedeck diff` and `ratedeck report`\n## Faults (`--faults SPEC`)\n## Notes\n## Notes\n"
    )
    assert anchors(markdown) == {
        "ratedeck-diff-and-ratedeck-report",
        "faults---faults-spec",
        "notes",
        "notes-1",
    }
