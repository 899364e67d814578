"""Terminal output shared by the commands: tables, JSON, progress (only on a terminal)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: never a float
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, default=_json_default, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def format_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned text table (works in pipes and logs, unlike box drawing)."""
    text_rows = [[_cell(v) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in text_rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]
    numeric = [
        all(_looks_numeric(r[i]) for r in text_rows if r[i]) and any(r[i] for r in text_rows)
        for i in range(len(columns))
    ]

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    lines = [fmt(columns), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in text_rows]
    return "\n".join(lines)


def _looks_numeric(text: str) -> bool:
    try:
        Decimal(text)
    except Exception:
        return False
    return True


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    print(format_table(columns, rows))


def is_terminal() -> bool:
    return sys.stderr.isatty()


def progress(description: str, total: int | None = None):
    """A rich progress bar on stderr when it is a terminal; a no-op otherwise."""
    return _Progress(description, total)


class _Progress:
    def __init__(self, description: str, total: int | None) -> None:
        self.description, self.total = description, total
        self._progress = None
        self._task = None

    def __enter__(self) -> _Progress:
        if is_terminal():
            from rich.console import Console
            from rich.progress import Progress

            self._progress = Progress(console=Console(stderr=True), transient=True)
            self._progress.__enter__()
            self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def advance(self, amount: float = 1, description: str | None = None) -> None:
        if self._progress is not None:
            kwargs = {"description": description} if description else {}
            self._progress.update(self._task, advance=amount, **kwargs)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
