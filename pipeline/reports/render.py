"""Subject, HTML and plain text of the report, from its sections (jinja2 templates in
``templates/``; HTML autoescaped, so a destination name can never inject markup)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.notify.subject import fitting_subject
from pipeline.reports import formatting as fmt
from pipeline.reports.chart import CHART_WIDTH
from pipeline.reports.model import CATEGORIES, CATEGORY_LABELS, ChangeRow, ChangeSection


@dataclass
class GroupSummary:
    group: str
    counts: Counter = field(default_factory=Counter)
    total: int = 0
    impact: Decimal | None = None
    short_notice: int = 0
    unknown_networks: int = 0

    def add(self, row: ChangeRow) -> None:
        self.counts[row.category] += 1
        self.total += 1
        self.short_notice += row.short_notice
        self.unknown_networks += row.unknown_network
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
    price_decimals: int  # one width per section: SMS and voice prices differ in scale
    summaries: list[GroupSummary]
    total: GroupSummary
    up: Listing
    down: Listing
    impacts: Listing
    announced: Listing
    effects: Listing
    other: Listing


@dataclass
class Highlight:
    """One "Largest increase: ..." line of the headline."""

    label: str  # "Largest increase", or "Largest SMS increase" beside another section
    direction: str  # up | down
    row: ChangeRow
    view: SectionView


@dataclass
class Headline:
    total: GroupSummary
    count_phrase: str  # "18 price changes", "12 voice and 5 SMS price changes"
    highlights: list[Highlight]
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
    impacts = sorted(
        (r for r in rows if r.monthly_impact), key=lambda r: -abs(r.monthly_impact or Decimal(0))
    )
    effects = sorted(
        (r for r in rows if r.change_type in ("new", "removed")),
        key=lambda r: (-abs(r.change_pct) if r.change_pct is not None else 0, r.group, r.key),
    )
    other = [r for r in rows if r.category in ("billing", "renamed")]
    return SectionView(
        section=section,
        price_decimals=fmt.decimals_needed(v for r in rows for v in (r.old_price, r.new_price)),
        summaries=list(summaries.values()),
        total=total,
        up=_top(ups, top_n),
        down=_top(downs, top_n),
        impacts=_top(impacts, top_n),
        announced=_announced(rows, top_n),
        effects=_top(effects, top_n),
        other=_top(other, top_n),
    )


def headline(views: list[SectionView]) -> Headline:
    total = GroupSummary("Total")
    for view in views:
        for row in view.section.rows:
            total.add(row)
    several = len(views) > 1
    highlights = []
    for view in views:
        kind = f" {view.section.count_label}" if several else ""
        # the listings are sorted largest first
        for direction, listing, word in (
            ("up", view.up, "increase"),
            ("down", view.down, "decrease"),
        ):
            if listing.rows:
                label = f"Largest{kind} {word}"
                highlights.append(Highlight(label, direction, listing.rows[0], view))
    return Headline(
        total=total,
        count_phrase=count_phrase([v.section for v in views]),
        highlights=highlights,
        has_traffic=any(v.section.has_traffic for v in views),
    )


def count_phrase(sections: list[ChangeSection]) -> str:
    """``18 price changes`` (voice only), ``5 SMS price changes``,
    ``12 voice and 5 SMS price changes``."""
    present = [s for s in sections if s.rows]
    total = sum(len(s.rows) for s in present)
    noun = "price change" if total == 1 else "price changes"
    if len(present) == 1 and present[0].kind == "voice":
        return f"{total} {noun}"
    counted = [f"{len(s.rows)} {s.count_label}".rstrip() for s in present]
    listed = ", ".join(counted[:-1]) + " and " + counted[-1] if len(counted) > 1 else counted[0]
    return f"{listed} {noun}"


def subject(sections: list[ChangeSection], *, currency: str) -> str:
    """One unfolded line (:func:`pipeline.notify.subject.fits`) that keeps the money:
    ``ratedeck: 8 price changes (4 up, 1 down) on 021001, +1,234.56 USD/month``. What does not
    fit is dropped in turn: the up/down counts beside the list of tech prefixes and channels,
    the list, the counts, the voice/SMS split. Every category and group is in the body."""
    money = _impact_phrase(sections, currency)
    counted = f"ratedeck: {count_phrase(sections)}"
    moves = _moves_phrase(sections)
    groups = ", ".join(f"{s.subject_prefix}{g}" for s in sections for g in s.groups)
    total = sum(len(s.rows) for s in sections)
    return fitting_subject(
        f"{counted}{moves} on {groups}{money}",
        f"{counted} on {groups}{money}",
        f"{counted}{moves}{money}",
        f"{counted}{money}",
        f"ratedeck: {fmt.plural(total, 'price change')}{money}",
    )


def _moves_phrase(sections: list[ChangeSection]) -> str:
    """`` (4 up, 1 down)``: the counts that move the bill."""
    counts = Counter(row.category for s in sections for row in s.rows)
    moves = [f"{counts[c]} {c}" for c in ("up", "down") if counts[c]]
    return f" ({', '.join(moves)})" if moves else ""


def _impact_phrase(sections: list[ChangeSection], currency: str) -> str:
    """``, +1,234.56 USD/month`` with a traffic profile, else nothing."""
    impacts = [
        row.monthly_impact
        for s in sections
        if s.has_traffic
        for row in s.rows
        if row.monthly_impact is not None
    ]
    if not impacts:
        return ""
    return f", {fmt.money(sum(impacts, Decimal(0)), signed=True)} {currency}/month"


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
        "cost_decimals": fmt.decimals_needed(
            v for row in rows for v in (row.old_call_cost, row.new_call_cost)
        ),
        "views": views,
        "price_units": price_units(sections, currency),
        "headline": headline(views),
        "created_at": created_at,
        "currency": currency,
        "notice_days": notice_days,
        "reference_call_seconds": reference_call_seconds,
        "chart_cid": chart_cid,
        "chart_width": CHART_WIDTH,
        "attachments": attachments,
        "categories": CATEGORIES,
        "category_labels": CATEGORY_LABELS,
        "reconciliation": None,  # build.py fills it when calls are costed or billed
        "ahead_line": None,  # build.py: the calls dated after the report's day, if any
    }


def price_units(sections: list[ChangeSection], currency: str) -> str:
    """``USD per minute``; with SMS: ``USD (voice per minute, SMS per message)``."""
    if len(sections) == 1:
        return f"{currency} {sections[0].price_unit}"
    units = ", ".join(f"{s.count_label} {s.price_unit}" for s in sections)
    return f"{currency} ({units})"


def _announced(rows: tuple[ChangeRow, ...], top_n: int) -> Listing:
    """The ``top_n`` most pressing announcements (short-notice increases, withdrawals, then the
    largest moves), shown by effective date: a deck can announce dozens at once."""
    announced = [r for r in rows if r.upcoming or r.change_type == "withdrawn"]
    pressing = sorted(
        announced,
        key=lambda r: (not r.short_notice, r.change_type != "withdrawn", -abs(r.rank_pct)),
    )
    listing = _top(pressing, top_n)
    listing.rows.sort(key=lambda r: (r.effective_at, r.group, r.key))
    return listing


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
        clip=fmt.clip,
    )
    env.globals["direction_class"] = _direction_class
    return env


def _direction_class(value: Decimal | None) -> str:
    if value is None:
        return ""
    if value == 0:
        return "muted"
    return "up" if value > 0 else "down"
