"""The Dagster ``Definitions`` object, loaded by ``dagster dev -w dagster_workspace.yaml``.

Settings are read once at load time (``ratedeck.toml`` / environment, as for the CLI), because
the partitions (tech prefixes, SMS channels) come from them.
"""

from __future__ import annotations

from pipeline.defs import build_definitions
from pipeline.settings import load_settings

defs = build_definitions(load_settings())
