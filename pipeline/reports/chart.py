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
    labels = [_text(f"{r.group} · {r.key} {r.name}"[:42]) for r in top]
    values = [_plot(_impact(r)) for r in top]
    figure, axes = _figure(height=0.9 + 0.32 * len(top))
    bars = axes.barh(labels, values, color=[UP if v > 0 else DOWN for v in values], height=0.6)
    for bar, row in zip(bars, top, strict=True):
        axes.annotate(
            fmt.money(_impact(row), signed=True),
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4 if _impact(row) > 0 else -4, 0),
            textcoords="offset points",
            ha="left" if _impact(row) > 0 else "right",
            va="center",
            fontsize=8,
            color=TEXT,
        )
    axes.axvline(0, color=TEXT, linewidth=0.8)
    axes.set_title(
        f"Largest estimated monthly impacts{scope} ({currency})", loc="left", fontsize=11
    )
    axes.margins(x=0.18)
    return _png(figure)


# bucket edges in %: (-inf, -50], (-50, -20], ... (20, 50], (50, inf); 0 splits down from up
EDGES = (-50, -20, -10, -5, -2, 0, 2, 5, 10, 20, 50)


KIND_LABELS = {"voice": "voice (reference call)", "sms": "SMS (per message)"}


def _distribution_chart(pcts_by_kind: Mapping[str, Sequence[Decimal]]) -> bytes:
    """Bars of how many changes fell in each % bucket; a second kind stacks on top in a
    lighter shade."""
    size = len(EDGES) + 1
    labels = [_bucket_label(i) for i in range(size)]
    first_up = EDGES.index(0) + 1
    figure, axes = _figure(height=2.6)
    bottom = [0] * size
    kinds = sorted(pcts_by_kind, key=lambda k: (k != "voice", k))
    for index, kind in enumerate(kinds):
        counts = [0] * size
        for p in pcts_by_kind[kind]:
            counts[bisect.bisect_left(EDGES, p)] += 1
        up, down = (UP, DOWN) if index == 0 else (UP_LIGHT, DOWN_LIGHT)
        colours = [up if i >= first_up else down for i in range(size)]
        axes.bar(
            labels,
            counts,
            bottom=bottom,
            color=colours,
            width=0.75,
            edgecolor="white",
            linewidth=0.6,
        )
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    for x, total in enumerate(bottom):
        if total:
            axes.annotate(
                str(total),
                (x, total),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color=TEXT,
            )
    if len(kinds) > 1:
        _legend(axes, kinds)
    title = "Price changes by size (% change"
    title += "; voice by the reference call)" if "voice" in kinds else ")"
    axes.set_title(title, loc="left", fontsize=11)
    axes.set_ylabel("changes", fontsize=9)
    axes.tick_params(axis="x", labelsize=7.5)  # 12 bucket labels side by side
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.margins(y=0.15)
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
        fontsize=8,
        frameon=False,
        loc="upper left",
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

    figure = Figure(figsize=(8.6, height), dpi=110)
    axes = figure.add_subplot()
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="both", color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    axes.tick_params(labelsize=8, colors=TEXT)
    return figure, axes


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
