"""The report's chart, a PNG drawn with matplotlib's Agg canvas (no display, no pyplot state,
safe inside Dagster's worker threads).

With a traffic profile: the largest monthly impacts (voice). Without: how the price changes are
distributed (how many changes moved prices by how much), voice and SMS stacked apart. Values go
to matplotlib as floats: this is a picture only; every number in tables and attachments stays
exact. Names are external text: ``$`` is escaped so matplotlib never reads them as mathtext.
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal

from pipeline.reports import formatting as fmt
from pipeline.reports.model import ChangeRow

UP = "#c0392b"  # a price going up costs the customer: red
DOWN = "#1e8449"
UP_LIGHT = "#e8a49c"  # the second kind (SMS) in a stacked chart
DOWN_LIGHT = "#92c9a4"
GRID = "#d5dbe1"
TEXT = "#2c3e50"
CHART_WIDTH = 600  # CSS pixels the email shows the chart at (less on a phone: max-width 100%)
# Drawn 4.6 in wide at twice the CSS pixels (sharp on high-density screens); 9 pt labels stay
# about 9 px tall on a 360 px phone screen. Both charts are horizontal bars: a label has the
# whole left margin, so neighbours never run together.
FIGURE_WIDTH_IN = 4.6
DPI = 2 * CHART_WIDTH / FIGURE_WIDTH_IN
LABEL_PT = 9
LABEL_CHARS = 22


def change_chart(rows: Sequence[ChangeRow], *, currency: str, top_n: int = 10) -> bytes | None:
    impacts = [r for r in rows if r.monthly_impact]
    if impacts:
        # only voice has a traffic profile: say so when other kinds are in the report
        scope = "" if all(r.kind == "voice" for r in rows) else " of voice changes"
        return _impact_chart(impacts, currency=currency, top_n=top_n, scope=scope)
    moves: dict[str, list[Decimal]] = {}
    for r in rows:
        if r.category in ("up", "down") and r.rank_pct:
            moves.setdefault(r.kind, []).append(r.rank_pct)
    if moves:
        return _distribution_chart(moves)
    return None


def _impact_chart(
    rows: Sequence[ChangeRow], *, currency: str, top_n: int, scope: str = ""
) -> bytes:
    top = sorted(rows, key=lambda r: abs(_impact(r)), reverse=True)[:top_n]
    top.reverse()  # barh draws bottom-up: largest at the top
    several_groups = len({r.group for r in top}) > 1
    labels = [_impact_label(r, several_groups) for r in top]
    values = [_plot(_impact(r)) for r in top]
    figure, axes = _figure(height=0.8 + 0.3 * len(top))
    colours = [UP if v > 0 else DOWN for v in values]
    # by position, not by label: two clipped names can read the same
    bars = axes.barh(range(len(top)), values, color=colours, height=0.6)
    axes.set_yticks(range(len(top)), labels)
    for bar, row in zip(bars, top, strict=True):
        axes.annotate(
            fmt.money(_impact(row), signed=True),
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4 if _impact(row) > 0 else -4, 0),
            textcoords="offset points",
            ha="left" if _impact(row) > 0 else "right",
            va="center",
            fontsize=LABEL_PT - 1,
            color=TEXT,
        )
    axes.axvline(0, color=TEXT, linewidth=0.8)
    _title(figure, f"Largest monthly impacts{scope}\n({currency}, estimated)")
    _room_for_amounts(axes, values)
    axes.grid(axis="y", visible=False)
    axes.xaxis.get_major_locator().set_params(nbins=6)
    axes.xaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
    return _png(figure)


def _room_for_amounts(axes, values: list[float]) -> None:
    """Widen the x range on each side a bar points to: its amount is printed past its end."""
    low, high = min([*values, 0.0]), max([*values, 0.0])
    pad = 0.7 * ((high - low) or 1.0)
    axes.set_xlim(low - pad if low < 0 else 0, high + pad if high > 0 else 0)


def _impact_label(row: ChangeRow, with_group: bool) -> str:
    """``India - Mobile``; ``021002 · India - Mobile`` when the bars come from several tech
    prefixes (prefixes are in the table below the chart)."""
    label = f"{row.group} · {row.name}" if with_group else row.name
    return _text(fmt.clip(label, LABEL_CHARS))


# bucket edges in %: (-inf, -50], (-50, -20], ... (20, 50], (50, inf); 0 splits down from up
EDGES = (-50, -20, -10, -5, -2, 0, 2, 5, 10, 20, 50)


KIND_LABELS = {"voice": "voice (reference call)", "sms": "SMS (per message)"}


def _distribution_chart(pcts_by_kind: Mapping[str, Sequence[Decimal]]) -> bytes:
    """Bars of how many changes fell in each % bucket, increases at the top; a second kind
    stacks beside the first in a lighter shade."""
    size = len(EDGES) + 1
    labels = [_bucket_label(i) for i in range(size)]
    first_up = EDGES.index(0) + 1
    figure, axes = _figure(height=0.9 + 0.22 * size)
    bottom = [0] * size
    kinds = sorted(pcts_by_kind, key=lambda k: (k != "voice", k))
    for index, kind in enumerate(kinds):
        counts = [0] * size
        for p in pcts_by_kind[kind]:
            counts[bisect.bisect_left(EDGES, p)] += 1
        up, down = (UP, DOWN) if index == 0 else (UP_LIGHT, DOWN_LIGHT)
        colours = [up if i >= first_up else down for i in range(size)]
        axes.barh(
            labels,
            counts,
            left=bottom,
            color=colours,
            height=0.75,
            edgecolor="white",
            linewidth=0.6,
        )
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    for y, total in enumerate(bottom):
        if total:
            axes.annotate(
                str(total),
                (total, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=LABEL_PT - 1,
                color=TEXT,
            )
    if len(kinds) > 1:
        _legend(axes, kinds)
    title = "Price changes by size"
    title += "\n(% change; voice by the reference call)" if "voice" in kinds else " (% change)"
    _title(figure, title)
    axes.set_xlabel("changes", fontsize=LABEL_PT)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.margins(x=0.12)
    axes.grid(axis="y", visible=False)
    return _png(figure)


def _legend(axes, kinds: list[str]) -> None:
    """One entry per kind, each showing its down and up shade."""
    from matplotlib.legend_handler import HandlerTuple
    from matplotlib.patches import Patch

    shades = [(DOWN, UP), (DOWN_LIGHT, UP_LIGHT)]
    handles = [tuple(Patch(color=c) for c in shades[min(i, 1)]) for i in range(len(kinds))]
    axes.legend(
        handles,
        [KIND_LABELS.get(k, k) for k in kinds],
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0)},
        fontsize=LABEL_PT - 1,
        frameon=False,
        loc="lower right",
    )


def _bucket_label(index: int) -> str:
    if index == 0:
        return f"≤ {EDGES[0]}%"
    if index == len(EDGES):
        return f"> +{EDGES[-1]}%"
    low, high = (f"{e:+d}" if e else "0" for e in EDGES[index - 1 : index + 1])
    return f"{low}…{high}%"


def _figure(*, height: float):
    from matplotlib.figure import Figure  # heavy: only when a chart is drawn

    figure = Figure(figsize=(FIGURE_WIDTH_IN, height), dpi=DPI)
    axes = figure.add_subplot()
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="both", color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    axes.tick_params(labelsize=LABEL_PT, colors=TEXT)
    return figure, axes


def _title(figure, title: str) -> None:
    """At the figure's left edge, not the axes': the bar labels take half the width."""
    figure.suptitle(title, x=0.02, ha="left", fontsize=10, color=TEXT)


def _png(figure) -> bytes:
    out = io.BytesIO()
    figure.tight_layout()
    figure.savefig(out, format="png", facecolor="white")
    return out.getvalue()


def _text(label: str) -> str:
    """Literal text for matplotlib: an unescaped ``$`` pair would start mathtext."""
    return label.replace("$", r"\$")


def _impact(row: ChangeRow) -> Decimal:
    """A charted row's monthly impact (only rows that have one are charted)."""
    return row.monthly_impact or Decimal(0)


def _plot(value: Decimal) -> float:
    return float(value)  # drawing only
