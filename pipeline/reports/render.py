"""Subject, HTML and plain text of the report, from its sections (jinja2 templates in
``templates/``; HTML autoescaped, so a destination name can never inject markup)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.reports import formatting as fmt
from pipeline.reports.model import CATEGORIES, CATEGORY_LABELS, ChangeRow, ChangeSection


@dataclass
class GroupSummary:
    group: str
    counts: Counter = field(default_factory=Counter)
    total: int = 0
    impact: Decimal | None = None
    short_notice: int = 0

    def add(self, row: ChangeRow) -> None:
        self.counts[row.category] += 1
        self.total += 1
        self.short_notice += row.short_notice
        if row.monthly_impact is not None:
            self.impact = (self.impact or Decimal(0)) + row.monthly_impact


@dataclass
class Listing:
    """The first ``top_n`` rows of a table and how many more the attachment holds."""

    rows: list[ChangeRow]
    more: int = 0


@dataclass
class SectionView:
    section: ChangeSection
    summaries: list[GroupSummary]
    total: GroupSummary
    up: Listing
    down: Listing
    impacts: Listing
    announced: Listing
    effects: Listing
    other: Listing


@dataclass
class Headline:
    total: GroupSummary
    largest_up: ChangeRow | None
    largest_down: ChangeRow | None
    has_traffic: bool


def section_view(section: ChangeSection, top_n: int) -> SectionView:
    rows = section.rows
    summaries = {group: GroupSummary(group) for group in section.groups}
    total = GroupSummary("Total")
    for row in rows:
        summaries[row.group].add(row)
        total.add(row)
    ups = sorted((r for r in rows if r.category == "up"), key=lambda r: -r.rank_pct)
    downs = sorted((r for r in rows if r.category == "down"), key=lambda r: r.rank_pct)
    impacts = sorted((r for r in rows if r.monthly_impact), key=lambda r: -abs(r.monthly_impact))
    announced = sorted(
        (r for r in rows if r.upcoming or r.change_type == "withdrawn"),
        key=lambda r: (r.effective_at, r.group, r.key),
    )
    effects = sorted(
        (r for r in rows if r.change_type in ("new", "removed")),
        key=lambda r: (-abs(r.change_pct) if r.change_pct is not None else 0, r.group, r.key),
    )
    other = [r for r in rows if r.category in ("billing", "renamed")]
    return SectionView(
        section=section,
        summaries=list(summaries.values()),
        total=total,
        up=_top(ups, top_n),
        down=_top(downs, top_n),
        impacts=_top(impacts, top_n),
        announced=Listing(announced),  # every announcement: they are few and time-critical
        effects=_top(effects, top_n),
        other=_top(other, top_n),
    )


def headline(views: list[SectionView]) -> Headline:
    total = GroupSummary("Total")
    for view in views:
        for row in view.section.rows:
            total.add(row)
    ups = [r for v in views for r in v.up.rows]
    downs = [r for v in views for r in v.down.rows]
    return Headline(
        total=total,
        largest_up=max(ups, key=lambda r: r.rank_pct, default=None),
        largest_down=min(downs, key=lambda r: r.rank_pct, default=None),
        has_traffic=any(v.section.has_traffic for v in views),
    )


def subject(sections: list[ChangeSection]) -> str:
    """``ratedeck: 12 price changes (5 up, 4 down, 3 new) on current, 021001``."""
    counts = Counter(row.category for s in sections for row in s.rows)
    total = sum(counts.values())
    parts = ", ".join(f"{counts[c]} {CATEGORY_LABELS[c]}" for c in CATEGORIES if counts[c])
    groups = ", ".join(g for s in sections for g in s.groups)
    return f"ratedeck: {fmt.plural(total, 'price change')} ({parts}) on {groups}"


def render_html(context: dict) -> str:
    return _environment().get_template("report.html").render(context)


def render_text(context: dict) -> str:
    return _environment().get_template("report.txt").render(context)


def template_context(
    sections: list[ChangeSection],
    *,
    created_at: datetime,
    top_n: int,
    currency: str,
    notice_days: int,
    reference_call_seconds: int,
    chart_cid: str | None,
    attachments: list[str],
) -> dict:
    views = [section_view(s, top_n) for s in sections]
    rows = [row for s in sections for row in s.rows]
    return {
        "price_decimals": fmt.decimals_needed(
            v for row in rows for v in (row.old_price, row.new_price)
        ),
        "cost_decimals": fmt.decimals_needed(
            v for row in rows for v in (row.old_call_cost, row.new_call_cost)
        ),
        "views": views,
        "headline": headline(views),
        "created_at": created_at,
        "currency": currency,
        "notice_days": notice_days,
        "reference_call_seconds": reference_call_seconds,
        "chart_cid": chart_cid,
        "attachments": attachments,
        "categories": CATEGORIES,
        "category_labels": CATEGORY_LABELS,
    }


def _top(rows: list[ChangeRow], top_n: int) -> Listing:
    return Listing(rows[:top_n], max(0, len(rows) - top_n))


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        price=fmt.price,
        pct=fmt.pct,
        money=fmt.money,
        minutes=fmt.minutes,
        when=fmt.when,
        days=fmt.days,
        plural=fmt.plural,
    )
    env.globals["direction_class"] = _direction_class
    return env


def _direction_class(value: Decimal | None) -> str:
    if value is None:
        return ""
    if value == 0:
        return "muted"
    return "up" if value > 0 else "down"
