"""Re-renders docs/sample-report.png from the sample history of the report tests (voice with an
announced change and a short-notice increase, a traffic profile, and SMS changes).

    .venv/bin/python tests/integration/reports/render_sample_report.py [OUT.png]

Needs chromium. Works in a temporary folder; nothing under data/ is touched.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

# run as a script: make tests/ (the shared `support` package) importable, as pytest does
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from support.reports import (
    SAMPLE_TRAFFIC,
    T1,
    DeckHistory,
    SmsHistory,
    populate_sample,
    populate_sms_sample,
)

from pipeline.reports import report_and_send
from pipeline.reports.render_png import main as render_png
from pipeline.settings import load_settings
from pipeline.warehouse.db import Warehouse

REPO = Path(__file__).resolve().parents[3]


def main(out: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="ratedeck-sample-") as tmp:
        traffic = Path(tmp) / "traffic.csv"
        traffic.write_text(SAMPLE_TRAFFIC)
        settings = load_settings(env={}).with_overrides(
            paths={"data_dir": Path(tmp) / "data"},
            voice={"tech_prefixes": ["current", "021001"]},
            report={"traffic_profile": traffic},
            smtp={"host": None},
        )
        with Warehouse(settings).writer() as con:
            populate_sample(DeckHistory(con))
            populate_sms_sample(SmsHistory(con))
        delivery = report_and_send(Warehouse(settings), settings, now=T1 + timedelta(hours=1))
        print(delivery.subject)
        return render_png(["--eml", delivery.target, "--out", str(out), "--width", "1400"])


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "sample-report.png"
    sys.exit(main(target))
