"""What a price-change report is made of.

A report is a list of :class:`ChangeSection` (voice, SMS: the same shape, each with its own
``kind``, rows and attachment columns), rendered once into subject, HTML, text, chart and
attachments (a CSV per section, one XLSX with a sheet per section). Sending is
:mod:`pipeline.reports.send`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Literal

from pipeline.notify.message import new_message

ColumnKind = Literal[
    "text", "price", "pct", "cost", "money", "minutes", "days", "int", "date", "datetime", "bool"
]
# categories, in the order the subject and summaries list them
CATEGORIES = ("up", "down", "new", "removed", "billing", "renamed", "withdrawn")
CATEGORY_LABELS = {
    "up": "up",
    "down": "down",
    "new": "new",
    "removed": "removed",
    "billing": "billing only",
    "renamed": "renamed",
    "withdrawn": "withdrawn",
}


@dataclass(frozen=True)
class ChangeRow:
    """One change as the report shows it, whatever the kind (voice or SMS)."""

    kind: str  # report_change.kind: voice | sms
    change_id: str
    group: str  # tech prefix (voice) or channel (SMS)
    key: str  # prefix (voice) or mcc-mnc (SMS)
    name: str  # destination (voice) or country/network (SMS)
    change_type: str  # as the *_rate_change view says
    category: str  # one of CATEGORIES: how the change moves the bill
    old_price: Decimal | None  # effective before (a new prefix: its parent's price)
    new_price: Decimal | None  # effective after (a removed prefix: its parent's price)
    change_pct: Decimal | None  # old -> new price, exact to 4 decimals
    effective_at: datetime
    announced_at: datetime
    notice_days: Decimal | None
    upcoming: bool  # takes effect after the report's time
    short_notice: bool  # an announced increase with less notice than report.notice_days
    old_billing: str = ""  # "60/60"
    new_billing: str = ""
    old_call_cost: Decimal | None = None  # reference call
    new_call_cost: Decimal | None = None
    call_change_pct: Decimal | None = None
    monthly_minutes: Decimal | None = None  # with a traffic profile
    monthly_impact: Decimal | None = None
    effect: str = ""  # longest-prefix effect or other explanation, plain text
    parent: str = ""  # new/removed: the prefix that billed / will bill these numbers
    unknown_network: bool = False  # SMS: (mcc, mnc) not in the MCC/MNC reference

    @property
    def rank_pct(self) -> Decimal:
        """What "largest increase" sorts by: the reference call when known, else the price."""
        value = self.call_change_pct if self.call_change_pct is not None else self.change_pct
        return value if value is not None else Decimal(0)


@dataclass(frozen=True)
class Column:
    """An attachment column: header, field of the detail record, how to format it."""

    header: str
    field: str
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class ChangeSection:
    kind: str  # voice | sms
    title: str  # "Voice"
    group_label: str  # "Tech prefix"
    key_label: str  # "Prefix"
    name_label: str  # "Destination"
    rows: tuple[ChangeRow, ...]
    columns: tuple[Column, ...]  # attachment layout over ``records``
    records: tuple[dict, ...]  # full detail per change, for the attachments
    has_traffic: bool = False
    notes: tuple[str, ...] = ()  # footnotes: reference call, traffic profile...
    subject_prefix: str = ""  # how a group is named beside others in the subject: "SMS "
    count_label: str = ""  # how counts name the kind: "12 voice and 5 SMS price changes"
    price_unit: str = "per minute"  # what a price is for: "per minute", "per message"

    @property
    def groups(self) -> list[str]:
        return sorted({row.group for row in self.rows}, key=_group_order)


@dataclass(frozen=True)
class Attachment:
    filename: str
    maintype: str
    subtype: str
    data: bytes


@dataclass(frozen=True)
class Report:
    created_at: datetime
    subject: str
    sender: str
    recipients: tuple[str, ...]
    text: str
    html: str  # references the chart as cid:<chart_cid>
    chart_png: bytes | None
    chart_cid: str
    attachments: tuple[Attachment, ...]
    sections: tuple[ChangeSection, ...]
    # the days of disputed calls it carries: (call_day, digest, calls, cost_difference)
    dispute_keys: tuple[tuple[date, str, int, Decimal], ...] = ()
    message_id: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "message_id", f"<{self.digest}@{_domain(self.sender)}>")

    @property
    def change_keys(self) -> list[tuple[str, str]]:
        return [(row.kind, row.change_id) for s in self.sections for row in s.rows]

    @property
    def change_count(self) -> int:
        return sum(len(s.rows) for s in self.sections)

    @property
    def digest(self) -> str:
        """Names the change set: the same changes give the same Message-ID and file name, so a
        resend after a crash between sending and recording is recognisable as a duplicate."""
        keys = "\n".join(sorted(f"{kind}:{cid}" for kind, cid in self.change_keys))
        return "ratedeck-report-" + hashlib.sha256(keys.encode()).hexdigest()[:24]

    def to_message(self) -> EmailMessage:
        message = new_message()
        message["Subject"] = self.subject
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = format_datetime(self.created_at)
        message["Message-ID"] = self.message_id
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        if self.chart_png:
            html_part = list(message.iter_parts())[1]  # [text, html]
            html_part.add_related(
                self.chart_png,
                maintype="image",
                subtype="png",
                cid=f"<{self.chart_cid}>",
                disposition="inline",
                filename="chart.png",
            )
        for item in self.attachments:
            message.add_attachment(
                item.data, maintype=item.maintype, subtype=item.subtype, filename=item.filename
            )
        return message

    def write_files(self, directory: Path) -> list[Path]:
        """report.html (+ chart.png) and the attachments, for reading without sending."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        html = self.html
        if self.chart_png:
            (directory / "chart.png").write_bytes(self.chart_png)
            written.append(directory / "chart.png")
            html = html.replace(f'src="cid:{self.chart_cid}"', 'src="chart.png"')
        (directory / "report.html").write_text(html, encoding="utf-8")
        (directory / "report.txt").write_text(self.text, encoding="utf-8")
        written[:0] = [directory / "report.html", directory / "report.txt"]
        for item in self.attachments:
            (directory / item.filename).write_bytes(item.data)
            written.append(directory / item.filename)
        return written


def _domain(address: str) -> str:
    domain = address.rpartition("@")[2].strip(" >")
    return domain or "ratedeck.invalid"


def _group_order(group: str) -> tuple[int, str]:
    """'current' first, then tech prefixes as text."""
    return (0 if group == "current" else 1, group)
