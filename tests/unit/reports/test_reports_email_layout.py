"""The finance email's subject (one unfolded line, money first) and how its tables stay short:
announced changes cut to the top N, long destinations clipped."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy

from pipeline.notify.subject import SUBJECT_MAX
from pipeline.reports.formatting import clip
from pipeline.reports.model import ChangeRow, ChangeSection, Report
from pipeline.reports.render import (
    render_html,
    render_text,
    section_view,
    subject,
    template_context,
)

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
LONG_NAME = "Bangladesh - Bajitpur/Bhairabbazar/Itna/Kotiadhi"


def change(index: int, category: str = "up", **extra) -> ChangeRow:
    """A voice change; ``index`` makes its prefix and its size (``index`` %) distinct."""
    pct = Decimal(index) if category == "up" else -Decimal(index)
    values = dict(
        kind="voice",
        change_id=f"c{index}",
        group="021001",
        key=f"{880 + index}",
        name=f"Destination {index}",
        change_type={"up": "increase", "down": "decrease"}.get(category, category),
        category=category,
        old_price=Decimal("0.1000"),
        new_price=Decimal("0.1000") * (1 + pct / 100),
        change_pct=pct,
        effective_at=NOW - timedelta(hours=1),
        announced_at=NOW - timedelta(hours=1),
        notice_days=None,
        upcoming=False,
        short_notice=False,
    )
    return ChangeRow(**{**values, **extra})


def announced(index: int, days_ahead: int, **extra) -> ChangeRow:
    return change(
        index,
        effective_at=NOW + timedelta(days=days_ahead),
        notice_days=Decimal(days_ahead),
        upcoming=True,
        **extra,
    )


def voice(rows: list[ChangeRow], *, traffic: bool = False) -> ChangeSection:
    return ChangeSection(
        kind="voice",
        title="Voice",
        group_label="Tech prefix",
        key_label="Prefix",
        name_label="Destination",
        rows=tuple(rows),
        columns=(),
        records=(),
        has_traffic=traffic,
        count_label="voice",
    )


def report_of(title: str) -> Report:
    return Report(
        created_at=NOW,
        subject=title,
        sender="ratedeck@example.com",
        recipients=("finance@example.com",),
        text="text",
        html="<p>html</p>",
        chart_png=None,
        chart_cid="chart",
        attachments=(),
        sections=(),
    )


def rendered(rows: list[ChangeRow]) -> tuple[str, str]:
    """The HTML and plain text of a voice report of ``rows``, 15 rows a table."""
    context = template_context(
        [voice(rows)],
        created_at=NOW,
        top_n=15,
        currency="USD",
        notice_days=7,
        reference_call_seconds=150,
        chart_cid=None,
        attachments=["changes.xlsx"],
    )
    context["subject"] = "ratedeck: a subject"
    return render_html(context), render_text(context)


def test_subject_carries_the_monthly_impact_of_a_traffic_profile():
    rows = [change(i, monthly_impact=Decimal("20.5")) for i in range(1, 31)]
    rows += [change(i, "down", monthly_impact=Decimal("-0.0125")) for i in range(31, 58)]
    title = subject([voice(rows, traffic=True)], currency="USD")
    # 30 x 20.5 - 27 x 0.0125 = 614.6625, shown half-up; the up/down counts did not fit
    assert title == "ratedeck: 57 price changes on 021001, +614.66 USD/month"
    assert len(title) <= SUBJECT_MAX


def test_a_monthly_impact_that_rounds_to_zero_is_unsigned_in_subject_and_headline():
    rows = [
        change(1, monthly_impact=Decimal("0.001")),
        change(2, "down", monthly_impact=Decimal("-0.00508")),
    ]
    title = subject([voice(rows, traffic=True)], currency="USD")
    assert title.endswith(", 0.00 USD/month")  # the impact is -0.00408
    context = template_context(
        [voice(rows, traffic=True)], created_at=NOW, top_n=15, currency="USD", notice_days=7,
        reference_call_seconds=150, chart_cid=None, attachments=[],
    )  # fmt: skip
    context["subject"] = title
    for body in (render_html(context), render_text(context)):
        assert "-0.00" not in body


def test_subject_without_traffic_counts_moves_only():
    rows = [change(1), change(2), change(3), change(4), change(5, "down")]
    rows += [change(6, "removed"), change(7, "billing"), change(8, "billing")]
    assert subject([voice(rows)], currency="USD") == (
        "ratedeck: 8 price changes (4 up, 1 down) on 021001"
    )


def test_subject_drops_details_before_the_money_to_stay_on_one_line():
    groups = ["current", "021001", "021002", "021003", "021004", "021005"]
    rows = [change(i, group=groups[i % 6]) for i in range(1, 120)]
    rows += [change(i, "down", group="current") for i in range(120, 160)]
    costly = [replace(row, monthly_impact=Decimal("-1234.5")) for row in rows]
    title = subject([voice(costly, traffic=True)], currency="EUR")
    assert title == "ratedeck: 159 price changes (119 up, 40 down), -196,285.50 EUR/month"
    costlier = [replace(row, monthly_impact=Decimal("-98765.4")) for row in rows]
    title = subject([voice(costlier, traffic=True)], currency="EUR")
    assert title == "ratedeck: 159 price changes, -15,703,698.60 EUR/month"


def test_a_subject_is_one_header_line_that_parses_back_unchanged():
    """The demo's 77-character subject was folded right after "Subject:" and read back with a
    leading space; every subject now fits the header line."""
    rows = [change(1), change(2), change(3), change(4), change(5, "down")]
    rows += [change(6, "removed"), change(7, "billing"), change(8, "billing")]
    title = subject([voice(rows)], currency="USD")
    raw = report_of(title).to_message().as_bytes()
    assert f"Subject: {title}".encode() in raw.splitlines()
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == title


def test_announced_changes_show_the_most_pressing_top_n_by_date():
    rows = [announced(i, days_ahead=1 + i % 20) for i in range(1, 55)]
    rows.append(announced(2, days_ahead=3, change_id="short", short_notice=True))
    rows.append(announced(1, days_ahead=9, change_id="gone", change_type="withdrawn"))
    rows.append(change(99))  # in force already: not an announcement
    view = section_view(voice(rows), top_n=5)
    shown = view.announced.rows
    assert view.announced.more == 56 - 5
    # short notice first, then the withdrawal, then the largest moves (54, 53, 52 %)
    assert {r.change_id for r in shown} == {"short", "gone", "c54", "c53", "c52"}
    assert [r.effective_at for r in shown] == sorted(r.effective_at for r in shown)


def test_the_email_lists_the_top_n_announcements_and_points_to_the_rest():
    html, text = rendered([announced(i, days_ahead=1 + i % 20) for i in range(1, 58)])
    table = html.split("<h3>Announced changes")[1].split("<h3>")[0]
    assert table.startswith(": the 15 most pressing of 57 (")
    assert table.count("<tr>") == 1 + 15  # the header and the top 15
    assert "… and 42 more in the attached spreadsheet." in table
    text = text.split("Announced changes")[1].split("Largest increases")[0]
    assert text.count(" notice) 021001 ") == 15
    assert "... and 42 more in the attached spreadsheet." in text


def test_a_long_destination_is_clipped_with_its_full_name_as_title():
    assert clip(LONG_NAME) == "Bangladesh - Bajitpur/Bhair…"
    assert len(clip(LONG_NAME)) == 28
    assert clip("India - Mobile") == "India - Mobile"
    html, _ = rendered([change(1, name=LONG_NAME)])
    assert f'<td title="{LONG_NAME}"><span class="name">Bangladesh - Bajitpur/Bhair…</span>' in html
