"""``ratedeck emulator``: serve the built-in CommPeak emulator in the foreground (Ctrl-C stops).

Point the pipeline at it with ``COMMPEAK_BASE_URL=<printed URL>`` and the printed API key.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from pipeline import console
from pipeline.errors import ConfigError, InputError
from pipeline.settings import Settings

DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"loopback port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        help='faults to inject, e.g. "429:2@0.5,503:1/download,slow:3.5" (see docs/client-and-emulator.md)',
    )
    parser.add_argument("--seed", type=int, help="market seed (default: settings emulator.seed)")
    parser.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        help="market day to serve (default: settings emulator.start_date)",
    )
    parser.add_argument(
        "--deck-size",
        type=int,
        metavar="N",
        help="prefixes per tech prefix on the first day (default: settings emulator.deck_size)",
    )
    parser.add_argument(
        "--effective-dates",
        action="store_true",
        default=None,
        help="serve an Effective Date column with announced (future-dated) changes",
    )


def _parse_date(text: str, what: str, error: type[Exception]) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise error(f"{what}: expected a date YYYY-MM-DD, got {text!r}") from None


def _tech_prefixes(settings: Settings) -> tuple[str, ...]:
    from pipeline.emulator.market import DEFAULT_TECH_PREFIXES

    extra = [tp for tp in settings.voice.tech_prefixes if tp not in DEFAULT_TECH_PREFIXES]
    return (*DEFAULT_TECH_PREFIXES, *extra)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.emulator.errors import EmulatorError
    from pipeline.emulator.faults import FaultPlan
    from pipeline.emulator.market import Market
    from pipeline.emulator.server import (
        DEFAULT_API_KEY,
        DEFAULT_RECOGNITION_TOKEN,
        EmulatorServer,
    )

    conf = settings.emulator
    faults = FaultPlan(args.faults)  # bad input fails before the market is built
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port: {args.port} is not a port number (0-65535)")
    deck_size = args.deck_size if args.deck_size is not None else conf.deck_size
    if deck_size < 1:
        raise InputError(f"--deck-size: must be at least 1, got {deck_size}")
    start = _parse_date(conf.start_date, f"{settings.source}: emulator.start_date", ConfigError)
    served = _parse_date(args.date, "--date", InputError) if args.date else start
    effective_dates = conf.effective_dates if args.effective_dates is None else True
    seed = args.seed if args.seed is not None else conf.seed
    market = Market(
        seed=seed,
        start_date=min(start, served),  # an earlier --date starts the market's history there
        deck_size=deck_size,
        tech_prefixes=_tech_prefixes(settings),
        effective_dates=effective_dates,
    )
    secrets = settings.secrets
    api_key = secrets.api_key.get_secret_value() if secrets.api_key else DEFAULT_API_KEY
    token = (
        secrets.recognition_token.get_secret_value()
        if secrets.recognition_token
        else DEFAULT_RECOGNITION_TOKEN
    )
    server = EmulatorServer(
        market, api_key, token, port=args.port, faults=faults, market_date=served
    )
    try:
        server.start()
    except EmulatorError as exc:  # a busy port: the user's choice of --port, so exit 2
        raise InputError(
            f"--port {args.port}: {exc} (another port, or --port 0 for a free one)"
        ) from None
    try:
        with _requests_logged_to_stderr():
            _announce(
                args,
                server,
                market,
                from_env=(bool(secrets.api_key), bool(secrets.recognition_token)),
            )
            _wait_for_ctrl_c()
    except KeyboardInterrupt:
        print("ratedeck emulator: stopped", file=sys.stderr)
    finally:
        server.stop()
    return 0


def _wait_for_ctrl_c() -> None:
    """Sleep in short slices until KeyboardInterrupt. Not ``Event().wait()``: once polars (or
    another native library) has started threads, the kernel may hand SIGINT to one of them,
    and Python only raises KeyboardInterrupt when the main thread next wakes up."""
    while True:
        time.sleep(0.2)


def _announce(args: argparse.Namespace, server, market, from_env: tuple[bool, bool]) -> None:
    """The URL and the credentials to use; a key from the environment is never echoed."""
    from pipeline.emulator.server import DEFAULT_API_KEY, DEFAULT_RECOGNITION_TOKEN

    key_env, token_env = from_env
    api_key = None if key_env else DEFAULT_API_KEY
    token = None if token_env else DEFAULT_RECOGNITION_TOKEN
    if args.json:
        console.print_json(
            {
                "url": server.url,
                "api_key": api_key,
                "api_key_source": "COMMPEAK_API_KEY" if key_env else "default",
                "recognition_token": token,
                "market_date": server.market_date,
                "seed": market.seed,
                "deck_size": market.deck_size,
                "tech_prefixes": list(market.tech_prefixes),
                "effective_dates": market.effective_dates,
                "faults": server.faults.spec,
            }
        )
        sys.stdout.flush()
        return
    print(
        f"CommPeak emulator on {server.url}: market day {server.market_date}, seed {market.seed}, "
        f"{market.deck_size} prefixes per deck, tech prefixes {', '.join(market.tech_prefixes)}"
        + (", with effective dates" if market.effective_dates else ""),
    )
    print(f"  export COMMPEAK_BASE_URL={server.url}")
    print(
        "  COMMPEAK_API_KEY: the one already in your environment"
        if key_env
        else f"  export COMMPEAK_API_KEY={api_key}"
    )
    if not token_env:
        print(f"  export COMMPEAK_RECOGNITION_TOKEN={token}")
    print(f"faults: {server.faults.spec or 'none'}")
    print("Ctrl-C stops.", flush=True)


@contextmanager
def _requests_logged_to_stderr() -> Iterator[None]:
    """One line per request on stderr while the server serves (unless logging already shows
    them); the handler goes when the command ends, so a run in-process leaves none behind
    bound to a stream that may be closed by then."""
    logger = logging.getLogger("pipeline.emulator.server")
    if logger.getEffectiveLevel() <= logging.INFO:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
