"""The report rendered to PNG by headless Chromium, and its layout measured there at a phone's
and a desktop's width (skipped where Chromium is not installed)."""

import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from support.reports import SAMPLE_TRAFFIC, T1, populate_sample, populate_sms_sample

from pipeline.reports import build_report, report_and_send
from pipeline.reports.render_png import BROWSERS, MIN_WINDOW_WIDTH, framed, main

pytestmark = pytest.mark.skipif(
    not any(shutil.which(b) for b in BROWSERS), reason="needs chromium (apt-get install chromium)"
)


@pytest.mark.slow  # starts chromium
def test_renders_the_outboxed_email_to_png(con, decks, settings, tmp_path, monkeypatch):
    populate_sample(decks)
    delivery = report_and_send(con, settings, now=T1 + timedelta(hours=1))
    out = tmp_path / "report.png"
    assert main(["--eml", delivery.target, "--out", str(out)]) == 0
    with Image.open(out) as image:
        width, height = image.size
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert width == 1200 and 1500 < height < 6000  # cropped below the content
    assert len(colours) > 20  # the page and its inline chart were drawn, not a blank window


@pytest.mark.slow  # starts chromium
def test_a_page_taller_than_the_window_is_shot_whole(con, decks, settings, tmp_path):
    populate_sample(decks)
    delivery = report_and_send(con, settings, now=T1 + timedelta(hours=1))
    out = tmp_path / "report.png"
    assert main(["--eml", delivery.target, "--out", str(out), "--height", "1200"]) == 0
    with Image.open(out) as image:
        assert image.height > 1500  # the window grew to the page, not cut at 1200 px


def test_missing_input_is_one_line_error(tmp_path, capsys):
    assert main(["--html", str(tmp_path / "nope.html")]) == 2
    assert "no such file" in capsys.readouterr().err


# Runs in the page after layout: every table that reaches past its card or the window, by the
# heading above it, into the outer page's data-overflow attribute (read with --dump-dom).
MEASURE = """<script>
window.addEventListener("load", () => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("table")].filter((table) => {
    const right = table.getBoundingClientRect().right;
    return right > table.closest(".card").getBoundingClientRect().right || right > width;
  });
  const heading = (t) => (t.previousElementSibling || t.parentElement.firstElementChild).textContent;
  parent.document.body.dataset.overflow = JSON.stringify(
    {width: width, page: document.documentElement.scrollWidth, tables: wide.map(heading)});
});
</script>"""


def overflow(page: Path, width: int, tmp_path: Path) -> dict:
    browser = next(shutil.which(b) for b in BROWSERS if shutil.which(b))
    measured = page.with_name(f"measure-{width}.html")
    measured.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    window = max(width, MIN_WINDOW_WIDTH)
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += [f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={window},900"]
    command += ["--dump-dom", framed(measured, width, tmp_path).as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout
    found = re.search(r"data-overflow=\"([^\"]*)\"", dom)
    assert found, dom[-500:]
    return json.loads(found[1].replace("&quot;", '"'))


def arial_metric_font() -> str | None:
    """The font fontconfig (hence Chromium) draws Arial with, when it has Arial's metrics: the
    widest font the email names. A bare Debian draws it with DejaVu Sans, about 10% wider,
    which no reader's phone or desktop uses for it; measured with that, the test would judge
    the machine's fonts, not the layout."""
    if not shutil.which("fc-match"):
        return None
    family = subprocess.run(
        ["fc-match", "-f", "%{family}", "Arial"], capture_output=True, text=True
    )
    names = family.stdout.split(",")
    return next((name for name in names if name in ("Arial", "Liberation Sans")), None)


@pytest.mark.skipif(
    arial_metric_font() is None,
    reason="needs an Arial-metric font to measure with (apt-get install fonts-liberation)",
)
def test_every_table_fits_a_phone_and_a_desktop_window(con, decks, sms, settings, tmp_path):
    populate_sample(decks)
    populate_sms_sample(sms)
    profile = tmp_path / "traffic.csv"
    profile.write_text(SAMPLE_TRAFFIC)
    settings = settings.with_overrides(report={"traffic_profile": profile})
    report = build_report(con, settings, now=T1 + timedelta(hours=1))
    report.write_files(tmp_path / "report")
    page = tmp_path / "report" / "report.html"
    for width in (400, 1400):
        measured = overflow(page, width, tmp_path)
        assert measured["width"] == width
        assert (measured["tables"], measured["page"]) == ([], width), width
