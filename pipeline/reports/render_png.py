"""Render a report's HTML to a PNG in headless Chromium (to look at it, or for the docs).

    python -m pipeline.reports.render_png [--eml FILE | --html FILE] [--out PNG] [--width PX]

Without --eml/--html: the newest .eml in the outbox, else the newest report.html under the
reports folder (``ratedeck report``). Inline images (cid:) of an .eml are written beside a
temporary copy of its HTML. Chromium cannot size the window to the page, so a page taller
than the window is shot again in a window twice as tall (up to MAX_HEIGHT). Its headless
window is never narrower than 500 px: a narrower --width (a phone: 400) shows the page in a
frame that wide, whose width the page's media queries see. The screenshot is cropped below
the last content row and stored with a palette, to stay small. Needs ``chromium`` (Debian:
``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import email
import shutil
import subprocess
import sys
import tempfile
from email import policy
from email.message import EmailMessage
from html import escape
from pathlib import Path

from PIL import Image, ImageChops  # Pillow comes with matplotlib

from pipeline.errors import ConfigError, InputError, RatedeckError
from pipeline.settings import Settings, load_settings

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH = 1200
MIN_WINDOW_WIDTH = 500  # Chromium's headless window is never narrower (a narrower page: framed)
TIMEOUT_S = 90
MAX_HEIGHT = 24000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.reports.render_png")
    inputs = parser.add_mutually_exclusive_group()
    inputs.add_argument("--eml", type=Path, help="a report email (.eml)")
    inputs.add_argument("--html", type=Path, help="a report.html written by `ratedeck report`")
    parser.add_argument("--out", type=Path, help="PNG to write (default: beside the input)")
    parser.add_argument(
        "--width",
        type=int,
        default=WIDTH,
        help=f"window width in pixels (default {WIDTH}; 400 shows a phone's layout)",
    )
    parser.add_argument(
        "--height",
        type=int,
        default=6000,
        help="first window height in pixels (grown while the page is taller; cropped after)",
    )
    parser.add_argument("--config", help="settings file (to find the outbox/reports folders)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        source, default_out = _input(args, settings)
        out = args.out or default_out
        with tempfile.TemporaryDirectory(prefix="ratedeck-render-") as tmp:
            page = _prepare(source, Path(tmp)) if source.suffix == ".eml" else source
            render(page, out, width=args.width, height=args.height, work_dir=Path(tmp))
    except RatedeckError as exc:
        print(f"render_png: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(out)
    return 0


def render(
    html_path: Path, out: Path, *, width: int = WIDTH, height: int = 6000, work_dir: Path
) -> Path:
    """Screenshot ``html_path`` ``width`` px wide; crop and palette-compress it into ``out``."""
    page = framed(html_path, width, work_dir)
    window = (max(width, MIN_WINDOW_WIDTH), height)
    shot = _screenshot(page, window=window, work_dir=work_dir, width=width)
    while _reaches_bottom(shot) and window[1] < MAX_HEIGHT:
        window = (window[0], min(window[1] * 2, MAX_HEIGHT))
        shot = _screenshot(page, window=window, work_dir=work_dir, width=width)
    out.parent.mkdir(parents=True, exist_ok=True)
    _compact(shot, out)
    return out


def framed(html_path: Path, width: int, work_dir: Path) -> Path:
    """``html_path`` itself, or below MIN_WINDOW_WIDTH a page showing it in a frame ``width``
    px wide: the frame is the viewport its media queries see. The frame grows to the page's
    height once loaded; its relative links (chart.png) resolve beside ``html_path``."""
    if width >= MIN_WINDOW_WIDTH:
        return html_path
    base = f'<base href="{html_path.resolve().parent.as_uri()}/">'
    content = html_path.read_text(encoding="utf-8").replace("<head>", "<head>" + base, 1)
    grow = (
        "const page = this.contentDocument;"
        "this.style.height = page.documentElement.scrollHeight + 'px';"
        "document.body.style.background = getComputedStyle(page.body).backgroundColor;"
    )
    frame = work_dir / f"framed-{width}.html"
    frame.write_text(
        '<!DOCTYPE html><html><body style="margin: 0">'
        f'<iframe style="display: block; border: 0; width: {width}px; height: 100vh" '
        f'onload="{escape(grow)}" srcdoc="{escape(content)}"></iframe></body></html>',
        encoding="utf-8",
    )
    return frame


def _screenshot(html_path: Path, *, window: tuple[int, int], work_dir: Path, width: int) -> Path:
    """A ``window`` sized shot of the page, cut to its left ``width`` pixels."""
    browser = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if browser is None:
        raise ConfigError("no chromium found: install it (apt-get install -y chromium)")
    shot = work_dir / "screenshot.png"
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={work_dir / 'profile'}",
        f"--screenshot={shot}",
        f"--window-size={window[0]},{window[1]}",
        html_path.resolve().as_uri(),
    ]
    try:
        subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=True)
    except subprocess.TimeoutExpired:
        raise RatedeckError(
            f"chromium took more than {TIMEOUT_S} s to render {html_path}"
        ) from None
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
        raise RatedeckError(f"chromium failed on {html_path}: {' '.join(last)}") from None
    if not shot.exists():
        raise RatedeckError(f"chromium wrote no screenshot for {html_path}")
    if width < window[0]:
        with Image.open(shot) as image:
            image.crop((0, 0, width, image.height)).save(shot)
    return shot


def _input(args: argparse.Namespace, settings: Settings) -> tuple[Path, Path]:
    if args.eml or args.html:
        path = args.eml or args.html
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        return path, path.with_suffix(".png")
    emls = sorted(settings.outbox_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime)
    if emls:
        return emls[-1], settings.reports_dir / f"{emls[-1].stem}.png"
    pages = sorted(settings.reports_dir.glob("*/report.html"), key=lambda p: p.stat().st_mtime)
    if pages:
        return pages[-1], pages[-1].with_suffix(".png")
    raise InputError(
        f"no report found in {settings.outbox_dir} or {settings.reports_dir}: "
        "run `ratedeck report` (or --send) first, or pass --eml/--html"
    )


def _prepare(eml_path: Path, work_dir: Path) -> Path:
    """The .eml's HTML as a file, its inline images beside it (cid: -> file name)."""
    message = email.message_from_bytes(eml_path.read_bytes(), policy=policy.default)
    if not isinstance(message, EmailMessage):
        raise InputError(f"{eml_path}: not an email message")
    body = message.get_body(preferencelist=("html",))
    if body is None:
        raise InputError(f"{eml_path}: no HTML part")
    html = body.get_content()
    for index, part in enumerate(message.walk()):
        cid = (part.get("Content-ID") or "").strip("<> ")
        if not cid or part.get_content_maintype() != "image":
            continue
        name = f"inline-{index}.{part.get_content_subtype()}"
        payload = part.get_payload(decode=True)  # bytes: an image part is never multipart
        (work_dir / name).write_bytes(payload if isinstance(payload, bytes) else b"")
        html = html.replace(f"cid:{cid}", name)
    page = work_dir / "report.html"
    page.write_text(html, encoding="utf-8")
    return page


def _reaches_bottom(shot: Path) -> bool:
    """Content in the last rows of the window: the page goes on below it. The page itself
    ends in 40 px of background (footer and page padding); the gap between cards is 16 px."""
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
    return _content_box(rgb)[3] >= rgb.height - 32


def _content_box(rgb) -> tuple[int, int, int, int]:
    """The box around everything that differs from the page background (bottom-right pixel
    of the body, outside the centred column)."""
    background = Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height - 1)))
    return ImageChops.difference(rgb, background).getbbox() or (0, 0, rgb.width, 0)


def _compact(shot: Path, out: Path) -> None:
    """Crop the empty bottom of the window and store with a 256-colour palette."""
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
    bottom = _content_box(rgb)[3]
    if bottom:
        rgb = rgb.crop((0, 0, rgb.width, min(rgb.height, bottom + 24)))
    rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
