"""The ``ratedeck`` command. Each subcommand lives in ``pipeline/commands/<name>.py`` with
``add_arguments(parser)`` and ``run(args, settings) -> int``.

Exit codes: 0 success, 1 failed run, 2 bad usage or bad input. Errors are one line on stderr
(no traceback unless ``--debug``).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import logging
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from pipeline.errors import RatedeckError, os_error_line

COMMANDS = {
    "demo": "run the whole pipeline on the built-in emulator for two market days",
    "run": "one full pipeline run against the configured API",
    "lookup": "longest-prefix-match rate and cost of one call",
    "cost": "cost a CSV/Parquet file of calls",
    "cdr": "import and cost the customer's own call records (CDR files)",
    "diff": "price changes between snapshots",
    "report": "build (and with --send, mail) the price-change report",
    "sql": "run SQL against a read-only connection to the published warehouse",
    "emulator": "serve the built-in CommPeak emulator in the foreground",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(2, f"ratedeck: error: {message}\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the command named in ``argv`` is imported (keeps start-up fast)."""
    chosen = chosen_command(argv or [])
    common = _common_options(_Parser(add_help=False), defaults=True)
    # on the subcommands the same options must not reset what was given before the command
    # (`ratedeck --config F run`): their defaults are suppressed
    common_sub = _common_options(_Parser(add_help=False), defaults=False)
    parser = _Parser(
        prog="ratedeck",
        description="Rate-deck ETL and analytics for CommPeak customers: voice and SMS rate "
        "history in DuckDB, longest-prefix cost lookup, price-change reports for finance.",
        epilog="Exit codes: 0 success, 1 failed run, 2 bad usage or bad input.",
        parents=[common],
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, help_text in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text, parents=[common_sub])
        if name == chosen or argv is None:
            _command_module(name).add_arguments(sp)
            _nested_common_options(sp)
    return parser


def _nested_common_options(parser: argparse.ArgumentParser) -> None:
    """A command with actions of its own (``cdr import``) takes --config/--debug/--json after
    the action too, like every other command."""
    for action in parser._actions:  # argparse keeps a parser's sub-commands only here
        if isinstance(action, argparse._SubParsersAction):
            for nested in action.choices.values():
                _common_options(nested, defaults=False)


def _common_options(parser: _Parser, *, defaults: bool) -> _Parser:
    suppress: dict[str, Any] = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--config",
        metavar="FILE",
        **suppress,
        help="settings file (default: $RATEDECK_CONFIG, else ./ratedeck.toml, else built-in "
        "demo settings)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks", **suppress)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout", **suppress
    )
    return parser


class _VersionAction(argparse.Action):
    """``--version``: the package metadata is read only when asked (importlib.metadata costs
    every other command a few hundredths of a second)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any):
        kwargs.update(nargs=0, default=argparse.SUPPRESS)
        super().__init__(option_strings, dest, help="show the version and exit", **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> None:
        print(f"ratedeck {_version()}")  # on stdout, as argparse's own version action does
        parser.exit()


def _quick_start() -> None:
    """Before numpy is imported: its OpenBLAS starts a thread per core that spins for a
    while after import (0.12 CPU seconds measured here). ratedeck does no linear algebra,
    and on 2 cores those threads take CPU from the costing. A value the user set stands."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _version() -> str:
    """From the installed package's metadata (pyproject.toml), not a copy kept in the code."""
    from pipeline.version import installed_version

    return installed_version()


def _command_module(name: str):
    return importlib.import_module(f"pipeline.commands.{name}")


def main(argv: Sequence[str] | None = None) -> int:
    _quick_start()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        from pipeline.settings import load_settings

        settings = load_settings(args.config)
        return int(_command_module(args.command).run(args, settings) or 0)
    except RatedeckError as exc:
        if args.debug:
            raise
        print(f"ratedeck: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("ratedeck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `ratedeck diff | head`: the reader went away; not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # last resort: a full disk or a read-only folder no layer foresaw
        if args.debug:
            raise
        print(f"ratedeck: error: {os_error_line(exc)}", file=sys.stderr)
        return 1


def entry() -> NoReturn:
    """The installed ``ratedeck`` command (and ``python -m pipeline.cli``): ``main``, then
    the exit. After a command whose module says ``QUICK_EXIT = True`` (it reads, and writes
    only files it has closed), the process ends without the interpreter's teardown: freeing
    every module and object one by one took 0.11-0.17 s after costing 3M calls and 0.04 s
    after a lookup, for nothing the command still needed. The atexit handlers run first
    (logging, temporary files), and a thread still running gets the normal exit, which
    waits for it."""
    argv = sys.argv[1:]
    code = main(argv)
    if _quick_exit_allowed(argv):
        _exit_now(code)
    sys.exit(code)


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names (its first word that is one), if any."""
    return next((a for a in argv if a in COMMANDS), None)


def _quick_exit_allowed(argv: Sequence[str]) -> bool:
    chosen = chosen_command(argv)
    module = sys.modules.get(f"pipeline.commands.{chosen}") if chosen else None
    return bool(getattr(module, "QUICK_EXIT", False)) and threading.active_count() == 1


def _exit_now(code: int) -> NoReturn:
    atexit._run_exitfuncs()  # what an exit runs before the teardown: logging, temp files...
    for stream in (sys.stdout, sys.stderr):
        # the reader went away, or the stream is closed: nothing left to flush it to
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
