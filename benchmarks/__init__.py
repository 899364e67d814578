"""Reproducible performance scripts: ``python -m benchmarks.<name>``."""

from __future__ import annotations

import argparse
from collections.abc import Mapping


def apply_quick(args: argparse.Namespace, sizes: Mapping[str, object]) -> None:
    """``--quick``: a benchmark's small sizes (a smoke run) over what the command line said."""
    if args.quick:
        for name, value in sizes.items():
            setattr(args, name, value)
