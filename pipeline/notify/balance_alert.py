"""Low-balance alert: one email per downward crossing of ``balance.low_balance_threshold``.

A crossing is the first snapshot of a run of snapshots below the threshold (the balance went
from >= threshold, or from no earlier snapshot, to < threshold). Its email is sent once: the
``balance_alert_log`` table remembers each crossing and whether its email went out, so hourly
runs while the balance stays low send nothing more, a recovery followed by a new dip sends a
new email, and a failed send is retried on the next run.

The email is committed as pending (:mod:`pipeline.notify.pending`) before it is sent: if the
process dies after the server accepted it but before ``balance_alert_log`` says so, the next
run resends that same message (same bytes, same Message-ID) rather than a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

import duckdb

from pipeline import clock
from pipeline.notify import deliver, pending
from pipeline.notify.message import new_message
from pipeline.notify.subject import fitting_subject
from pipeline.redaction import configured_secrets, redact
from pipeline.settings import Settings
from pipeline.warehouse.balance import Runway, runway
from pipeline.warehouse.migrate import read_sql

# send(message, name) delivers one email; name is a file-system-safe id for an outbox file.
# Its return value describes the delivery (pipeline.notify.Sent, or any text).
Send = Callable[[EmailMessage, str], object]

log = logging.getLogger(__name__)
PURPOSE = "low-balance"

Status = Literal["no_data", "above_threshold", "already_sent", "sent", "failed"]


@dataclass(frozen=True)
class AlertOutcome:
    status: Status
    threshold: Decimal
    email: str | None = None
    balance: Decimal | None = None  # latest balance
    crossing_snapshot_id: int | None = None
    crossed_at: datetime | None = None
    attempts: int = 0  # send attempts for this crossing so far
    delivery: str | None = None  # where it went ('smtp smtp://host:port', 'outbox <path>')
    error: str | None = None  # one line, when status == 'failed'

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass(frozen=True)
class LowBalanceState:
    """The latest snapshot and, when it is below the threshold, the crossing that led there."""

    email: str
    snapshot_id: int
    fetched_at: datetime
    balance: Decimal
    sms_balance: Decimal
    temporary_credit: Decimal
    low: bool
    crossing_snapshot_id: int | None
    crossed_at: datetime | None
    crossing_balance: Decimal | None


def deliver_with(settings: Settings) -> Send:
    """The default sender: SMTP when ``smtp.host`` is set, else an .eml in the outbox."""

    def send(message: EmailMessage, name: str) -> object:
        return deliver(message, settings, name=name)

    return send


def check_low_balance(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    send: Send | None = None,
    *,
    now: datetime | None = None,
) -> AlertOutcome:
    """Send the low-balance email if the current crossing has not had one yet.

    ``con`` is a writable warehouse connection (the log is written there). A failed send is
    recorded (attempts, last_error) and reported as status 'failed'; it is never raised.
    """
    threshold = settings.balance.low_balance_threshold
    state = _current_state(con, threshold)
    if state is None:
        return AlertOutcome("no_data", threshold)
    current = state.crossing_snapshot_id if state.low else None
    resend_earlier_alerts(con, settings, send, current=current)
    latest = AlertOutcome("above_threshold", threshold, email=state.email, balance=state.balance)
    if not state.low:
        return latest
    base = replace(
        latest, crossing_snapshot_id=state.crossing_snapshot_id, crossed_at=state.crossed_at
    )
    logged = con.execute(
        "SELECT sent_at, attempts, delivery FROM balance_alert_log "
        "WHERE email = ? AND crossing_snapshot_id = ?",
        [state.email, state.crossing_snapshot_id],
    ).fetchall()
    if logged and logged[0][0] is not None:
        return replace(base, status="already_sent", attempts=logged[0][1], delivery=logged[0][2])
    moment = now or clock.utc_now()
    attempts = (logged[0][1] if logged else 0) + 1
    if not logged:
        _record_detection(con, state, threshold, moment)
    item = _pending_alert(con, state, settings)
    attempts = max(attempts, item.attempts)  # a crashed attempt never got to count itself
    outcome = _attempt(con, settings, send, item, state.crossing_snapshot_id, attempts, now)
    if isinstance(outcome, Exception):
        error = _error_line(outcome, settings)
        return replace(base, status="failed", attempts=attempts, error=error)
    return replace(base, status="sent", attempts=attempts, delivery=outcome)


def resend_earlier_alerts(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    send: Send | None = None,
    *,
    current: int | None = None,
) -> None:
    """Resend the pending alerts of crossings other than ``current`` (the balance recovered
    before the retry): each went out at most once more, as the same message."""
    for item in pending.pending(con, PURPOSE):
        crossing = _crossing_of(item.name)
        if crossing == current:
            continue
        logged = con.execute(
            "SELECT attempts FROM balance_alert_log WHERE crossing_snapshot_id = ?", [crossing]
        ).fetchall()
        item = pending.retry(con, item)
        attempts = max((logged[0][0] if logged else 0) + 1, item.attempts)
        log.warning("low-balance alert %s: resending the pending message", item.name)
        outcome = _attempt(con, settings, send, item, crossing, attempts, None)
        if isinstance(outcome, Exception):
            log.warning(
                "low-balance alert %s: %s",
                item.name,
                redact(str(outcome), configured_secrets(settings)),
            )


def _attempt(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    send: Send | None,
    item: pending.Pending,
    crossing: int | None,
    attempts: int,
    now: datetime | None,
) -> str | Exception:
    """Send ``item`` and record the outcome in balance_alert_log; the delivery text, or the
    exception of a failed send (recorded; retried next run)."""
    moment = now or clock.utc_now()
    try:
        result = _send_pending(item, settings, send)
    except Exception as exc:  # any failure: record it, retry next run
        with pending.transaction(con):
            pending.settle_failure(con, item, exc)
            con.execute(
                "UPDATE balance_alert_log SET attempts = ?, last_error = ? "
                "WHERE crossing_snapshot_id = ?",
                [attempts, _error_line(exc, settings), crossing],
            )
        return exc
    delivery = _describe_delivery(result)
    with pending.transaction(con):  # the alert is sent and no longer pending, together
        con.execute(
            "UPDATE balance_alert_log SET attempts = ?, sent_at = ?, delivery = ?, "
            "last_error = NULL WHERE crossing_snapshot_id = ?",
            [attempts, now or _sent_at(result, moment), delivery, crossing],
        )
        pending.forget(con, item)
    return delivery


def _error_line(exc: Exception, settings: Settings) -> str:
    """The failure as one line, secrets redacted (an empty message gives the class name)."""
    return pending.one_line(exc, text=redact(str(exc), configured_secrets(settings)))


def _crossing_of(name: str) -> int | None:
    """The crossing snapshot id in an alert's name ``low-balance-<id>``."""
    tail = name.removeprefix("low-balance-")
    return int(tail) if tail.isascii() and tail.isdigit() else None


def _pending_alert(
    con: duckdb.DuckDBPyConnection, state: LowBalanceState, settings: Settings
) -> pending.Pending:
    """This crossing's email as recorded before an earlier, interrupted attempt (resent as it
    was: same bytes, same Message-ID), or a new one committed as pending before sending."""
    name = f"low-balance-{state.crossing_snapshot_id}"
    earlier = [p for p in pending.pending(con, PURPOSE) if p.name == name]
    if earlier:
        log.warning("low-balance alert %s: resending the pending message", name)
        return pending.retry(con, earlier[0])
    message = build_alert_message(state, settings, runway(con, state.email))
    return pending.begin(
        con, name=name, purpose=PURPOSE, message=message, created_at=clock.utc_now()
    )


def _send_pending(item: pending.Pending, settings: Settings, send: Send | None) -> object:
    if send is None:
        return pending.deliver_pending(item, settings)
    # a custom sender takes a message: the recorded bytes, parsed back
    return send(message_from_bytes(item.raw, policy=policy.default), item.name)


def build_alert_message(
    state: LowBalanceState, settings: Settings, run: Runway | None
) -> EmailMessage:
    currency = settings.report.currency
    threshold = settings.balance.low_balance_threshold
    message = new_message()
    message["Subject"] = _subject(state, currency, threshold)
    message["From"] = settings.smtp.sender
    message["To"] = ", ".join(settings.report.recipients)
    message["Date"] = format_datetime(clock.utc_now())
    # one id per crossing: a resend of this crossing's alert is recognisably the same email
    domain = settings.smtp.sender.rpartition("@")[2].strip(" >") or "ratedeck.invalid"
    message["Message-ID"] = f"<ratedeck-low-balance-{state.crossing_snapshot_id}@{domain}>"
    message["X-Ratedeck-Alert"] = f"low-balance; crossing={state.crossing_snapshot_id}"
    message.set_content(_body(state, currency, threshold, run))
    return message


def _subject(state: LowBalanceState, currency: str, threshold: Decimal) -> str:
    """One unfolded line: the account, then the threshold, are left out when it is too long
    (both are in the body)."""
    low = f"Low CommPeak balance: {money(state.balance)} {currency}"
    below = f" is below {money(threshold)} {currency}"
    account = f", account {state.email}"
    return fitting_subject(f"{low}{below}{account}", f"{low}{account}", f"{low}{below}", low)


def money(amount: Decimal) -> str:
    """At least 2 decimals, no trailing zeros beyond: 42.50000000 -> 42.50, 1.23456 -> 1.23456."""
    text = format(amount.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _money_or_dash(amount: Decimal | None) -> str:
    return "-" if amount is None else money(amount)


def _body(state: LowBalanceState, currency: str, threshold: Decimal, run: Runway | None) -> str:
    lines = [
        f"The CommPeak account {state.email} is below the low-balance threshold.",
        "",
        f"Balance:           {money(state.balance)} {currency} "
        f"(threshold {money(threshold)} {currency})",
        f"SMS balance:       {money(state.sms_balance)} {currency}",
        f"Temporary credit:  {money(state.temporary_credit)} {currency}",
        f"Fell below at:     {_utc(state.crossed_at)} "
        f"(balance then {_money_or_dash(state.crossing_balance)} {currency})",
        f"Latest snapshot:   {_utc(state.fetched_at)}",
    ]
    if run is not None and run.avg_daily_spend is not None and run.window_days is not None:
        lines.append(
            f"Average spend:     {money(run.avg_daily_spend)} {currency}/day "
            f"over the last {run.window_days.normalize():f} day(s)"
        )
    if run is not None and run.days_left is not None:
        lines.append(f"Runway:            about {run.days_left} day(s) at that rate")
    lines += ["", "You get this email once per crossing; top up to clear it.", "-- ratedeck"]
    return "\n".join(lines) + "\n"


def _current_state(con: duckdb.DuckDBPyConnection, threshold: Decimal) -> LowBalanceState | None:
    rows = con.execute(
        read_sql("queries/balance_low_crossing.sql"), {"threshold": threshold}
    ).fetchall()
    return LowBalanceState(*rows[0]) if rows else None


def _record_detection(
    con: duckdb.DuckDBPyConnection, state: LowBalanceState, threshold: Decimal, moment: datetime
) -> None:
    con.execute(
        "INSERT INTO balance_alert_log (email, crossing_snapshot_id, crossed_at, balance, "
        "threshold, detected_at, attempts) VALUES (?, ?, ?, ?, ?, ?, 0)",
        [
            state.email,
            state.crossing_snapshot_id,
            state.crossed_at,
            state.crossing_balance,
            threshold,
            moment,
        ],
    )


def _describe_delivery(result: object) -> str:
    transport, target = getattr(result, "transport", None), getattr(result, "target", None)
    if transport and target:
        return f"{transport} {target}"
    return str(result) if result is not None else "sent"


def _sent_at(result: object, moment: datetime) -> datetime:
    sent_at = getattr(result, "sent_at", None)
    return sent_at if isinstance(sent_at, datetime) else moment


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
