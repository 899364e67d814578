"""Terminal output shared by the commands: tables, JSON, progress (only on a terminal)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID  # at run time, only once a bar is shown


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return decimal_text(value)  # exact: never a float
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# one encoder: a command writing a document a row at a time (ratedeck sql) encodes each row with it
JSON_ENCODER = json.JSONEncoder(default=_json_default, indent=2, ensure_ascii=False)


def format_json(document: Any) -> str:
    return JSON_ENCODER.encode(document)


def print_json(document: Any) -> None:
    sys.stdout.write(format_json(document) + "\n")


def decimal_text(value: Decimal) -> str:
    """Plain decimal text keeping the value's scale: 0E-8 -> 0.00000000, never exponent form."""
    return format(value, "f")


def cell_text(value: Any) -> str:
    """How a value reads in a table or CSV cell."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


# box lines (top, head, head rule, ...): only a rule of dashes under each header, plain text
# that works in pipes and logs
_HEADER_RULE = "    \n    \n -  \n    \n    \n    \n    \n    \n"
_UNLIMITED = 1_000_000  # columns never wrap or get cut; the terminal scrolls sideways


def format_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An aligned text table (rendered by rich): numbers right-aligned, text (prefixes such as
    021001 included) left-aligned; widths measured in terminal cells, so wide characters line up.

    A table of printable ASCII (every table the commands print about rates and calls) is laid
    out here, exactly as rich lays it out (a test holds them equal): importing rich costs a
    command about 0.05 s, a tenth of `ratedeck cost`'s start-up."""
    listed = [list(r) for r in rows]
    return _plain_table(columns, listed) or _rich_table(columns, listed)


def _plain_table(columns: Sequence[str], rows: list[list[Any]]) -> str | None:
    """rich's layout of this table, or ``None`` unless every cell is printable ASCII (one
    character, one terminal cell) and there is a row and no empty column: cells padded to their column's width,
    two spaces between columns, a rule of dashes as wide as each column and its right padding."""
    header = [str(name) for name in columns]
    cells = [[cell_text(v) for v in row] for row in rows]
    if not rows or not all(_printable_ascii(t) for t in (*header, *(c for r in cells for c in r))):
        return None
    widths = [max(len(text) for text in column) for column in zip(header, *cells, strict=True)]
    if not all(widths):
        return None  # an empty column: rich gives it a width of its own
    numeric = [_is_numeric_column([r[i] for r in rows]) for i in range(len(header))]

    def line(texts: Sequence[str]) -> str:
        justified = (
            text.rjust(width) if right else text.ljust(width)
            for text, width, right in zip(texts, widths, numeric, strict=True)
        )
        return "  ".join(justified).rstrip()

    rule = " ".join("-" * (w + (i < len(widths) - 1)) for i, w in enumerate(widths))
    return "\n".join([line(header), rule, *(line(row) for row in cells)])


def _printable_ascii(text: str) -> bool:
    """One terminal cell per character, and no edge spaces (rich trims those its own way)."""
    return text.isascii() and text.isprintable() and text == text.strip(" ")


def _rich_table(columns: Sequence[str], rows: list[list[Any]]) -> str:
    from rich.box import Box  # imported here: rich is slow to import, most commands print no table
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=Box(_HEADER_RULE, ascii=True),
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        highlight=False,
    )
    for i, name in enumerate(columns):
        numeric = _is_numeric_column([r[i] for r in rows])
        table.add_column(Text(str(name)), justify="right" if numeric else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(cell_text(v)) for v in row))
    buffer = io.StringIO()
    Console(
        file=buffer, width=_UNLIMITED, color_system=None, markup=False, emoji=False, highlight=False
    ).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def _is_numeric_column(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in present
    )


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
        self._live: tuple[Progress, TaskID] | None = None  # the bar and its task, on a terminal

    def __enter__(self) -> _Progress:
        if is_terminal():
            from rich.console import Console
            from rich.progress import Progress

            progress = Progress(console=Console(stderr=True), transient=True)
            progress.__enter__()
            self._live = (progress, progress.add_task(self.description, total=self.total))
        return self

    def advance(self, amount: float = 1, description: str | None = None) -> None:
        if self._live is not None:
            progress, task = self._live
            progress.update(task, advance=amount, description=description or None)

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live[0].__exit__(*exc)
