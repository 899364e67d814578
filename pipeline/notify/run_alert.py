"""The data engineers' alert for a failed Dagster run: one email per run, naming the job, the
partition, the one-line cause and a link to the run in the Dagster UI.

Sent to ``[alerts] recipients`` (not finance) through :func:`pipeline.notify.deliver_raw`: SMTP
when ``smtp.host`` is set, else an ``.eml`` in the outbox. The alert is kept
(:mod:`pipeline.notify.pending_alerts`) before it is sent and forgotten once delivered: one
that was not delivered (SMTP down, the sender killed) is resent by the sensor
``retry_pending_alerts``. The cause is scrubbed of every configured secret: it is built from
an exception text, which may quote a server's reply. The subject is one line
(:mod:`pipeline.notify.subject`): the job and the partition, then as much of the cause as fits;
the body has all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from pipeline import clock
from pipeline.notify import Sent
from pipeline.notify.message import new_message
from pipeline.notify.pending_alerts import deliver_or_keep
from pipeline.notify.subject import shortened_subject
from pipeline.redaction import configured_secrets, redact
from pipeline.settings import Settings


@dataclass(frozen=True)
class FailedRun:
    run_id: str
    job: str
    partition: str | None
    cause: str  # one line


def run_link(settings: Settings, run_id: str) -> str:
    return f"{settings.dagster.webserver_url}/runs/{run_id}"


def build_run_failure_message(run: FailedRun, settings: Settings) -> EmailMessage:
    cause = redact(run.cause, configured_secrets(settings))
    what = f"{run.job} {run.partition}" if run.partition else run.job
    message = new_message()
    message["Subject"] = shortened_subject(f"ratedeck run failed: {what}: {cause}")
    message["From"] = settings.smtp.sender
    message["To"] = ", ".join(settings.alerts.recipients)
    message["Date"] = format_datetime(clock.utc_now())
    # one id per run: a second delivery of the same failure is recognisably the same email
    domain = settings.smtp.sender.rpartition("@")[2] or "ratedeck.invalid"
    message["Message-ID"] = f"<ratedeck-run-failure-{run.run_id}@{domain}>"
    message["X-Ratedeck-Alert"] = f"run-failure; run={run.run_id}"
    message.set_content(
        "\n".join(
            [
                f"The Dagster run of {what} failed.",
                "",
                f"Cause:  {cause}",
                f"Run:    {run_link(settings, run.run_id)}",
                "",
                "The next scheduled run tries again; the warehouse keeps every snapshot that",
                "loaded before the failure.",
            ]
        )
    )
    return message


def send_run_failure_alert(run: FailedRun, settings: Settings) -> Sent | None:
    """The alert's delivery; None when another sender is delivering this run's alert."""
    message = build_run_failure_message(run, settings)
    return deliver_or_keep(message, settings, name=f"run-failure-{run.run_id}")
