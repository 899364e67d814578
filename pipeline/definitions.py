"""The Dagster code location ``ratedeck`` (``dagster dev -w dagster_workspace.yaml``).

Lazy: importing this module reads no settings. Dagster calls ``defs`` when it loads the code
location; only then are ``ratedeck.toml`` (or ``$RATEDECK_CONFIG``) and the environment read,
because the partitions (tech prefixes, SMS channels) come from them. A bad settings file is then
the code location's load error, in one line.
"""

from __future__ import annotations

import dagster as dg

from pipeline.defs import build_definitions
from pipeline.settings import load_settings


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
