"""``ratedeck report [--send]``: the price-change report of every change not yet reported.

Without ``--send``: written to ``<reports_dir>/<UTC time>/`` (report.html, chart.png,
report.txt, CSV and XLSX) from the published warehouse; nothing is marked as reported.
With ``--send``: mailed over SMTP (or written to the outbox as .eml when no SMTP host is set)
and its changes marked reported, in the warehouse writer.
"""

from __future__ import annotations

import argparse

from pipeline import clock, console
from pipeline.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--send",
        action="store_true",
        help="mail the report (or write it to the outbox) and mark its changes reported",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.warehouse.db import Warehouse

    warehouse = Warehouse(settings)
    if args.send:
        warehouse.require_existing()  # its writer would start an empty one
        return _send(args, settings, warehouse)
    from pipeline.reports import build_report

    now = clock.utc_now()  # the clock build_report reads by default
    with warehouse.reader() as con:
        report = build_report(con, settings, now=now)
    if report is None:
        return _nothing(args)
    directory = settings.reports_dir / now.strftime("%Y%m%dT%H%M%SZ")
    paths = report.write_files(directory)
    if args.json:
        console.print_json(
            {
                "subject": report.subject,
                "change_count": report.change_count,
                "directory": directory,
                "files": paths,
            }
        )
    else:
        print(report.subject)
        for path in paths:
            print(path)
    return 0


def _send(args: argparse.Namespace, settings: Settings, warehouse) -> int:
    from pipeline.reports import report_and_send

    delivery = report_and_send(warehouse, settings)
    if delivery is None:
        return _nothing(args)
    if args.json:
        console.print_json(
            {
                "report_id": delivery.report_id,
                "status": delivery.status,
                "target": delivery.target,
                "message_id": delivery.message_id,
                "subject": delivery.subject,
                "recipients": list(delivery.recipients),
                "change_count": delivery.change_count,
                "sent_at": delivery.sent_at,
            }
        )
    else:
        print(f"{delivery.subject}")
        print(f"{delivery.status} to {', '.join(delivery.recipients)} via {delivery.target}")
    return 0


def _nothing(args: argparse.Namespace) -> int:
    if args.json:
        console.print_json({"subject": None, "change_count": 0})
    else:
        print("no unreported price changes: no report")
    return 0
