"""The report rendered to PNG by headless Chromium (skipped where Chromium is not installed)."""

import shutil
from datetime import timedelta

import pytest
from PIL import Image
from support.reports import T1, populate_sample

from pipeline.reports import report_and_send
from pipeline.reports.render_png import BROWSERS, main

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
