"""Layers depend one way (docs/development.md): ingest is pure and sits below the warehouse and
analytics, so no module of ``pipeline.ingest`` may import ``pipeline.warehouse`` or
``pipeline.analytics`` (number normalisation lives in ``pipeline.ingest.phone`` /
``number_columns`` and analytics re-exports it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

INGEST = Path(__file__).resolve().parents[3] / "pipeline" / "ingest"
HIGHER = ("pipeline.warehouse", "pipeline.analytics", "pipeline.stages", "pipeline.defs")


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted(INGEST.glob("*.py")), ids=lambda p: p.name)
def test_ingest_imports_no_higher_layer(path):
    higher = [m for m in _imported_modules(path) if m.startswith(HIGHER)]
    assert higher == []


def test_analytics_still_exports_the_number_rules():
    from pipeline.analytics import numbers
    from pipeline.ingest import phone as ingest_phone

    assert numbers.number_problem is ingest_phone.number_problem
    assert numbers.normalise_number is ingest_phone.normalise_number
    assert numbers.number_problem("+44 (20) 7946-0018") == ("442079460018", None)
