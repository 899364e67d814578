"""Test-only driver, run as a child process: one report run or one low-balance check, against
the test's warehouse and SMTP server. The test's SMTP handler SIGKILLs this process once it has
accepted the message, before the ledger commit: the lost-acknowledgement crash.

    python delivery_crash_driver.py report|alert DATA_DIR SMTP_PORT
"""

from __future__ import annotations

import sys

from pipeline.settings import Settings, load_settings


def driver_settings(data_dir: str, port: int) -> Settings:
    return load_settings(env={}).with_overrides(
        paths={"data_dir": data_dir},
        voice={"tech_prefixes": ["current", "021001"]},
        balance={"low_balance_threshold": "50"},
        report={"recipients": ["finance@example.com", "cfo@example.com"]},
        smtp={"host": "127.0.0.1", "port": port, "starttls": False},
    )


def main(mode: str, data_dir: str, port: str) -> int:
    settings = driver_settings(data_dir, int(port))
    if mode == "report":
        from pipeline.reports.send import report_and_send
        from pipeline.warehouse.db import Warehouse

        report_and_send(Warehouse(settings), settings)
    elif mode == "alert":
        from pipeline.stages.balance import alert_on_low_balance

        alert_on_low_balance(settings)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    return 0  # not reached when the test's server kills us


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
