"""What importing a module drags in, measured in a fresh interpreter (a subprocess)."""

from __future__ import annotations

import subprocess
import sys


def test_diff_does_not_load_the_engine():
    """The report and Dagster paths import ``diff``: the engine (and pyarrow) stay unloaded."""
    probe = (
        "import sys, pipeline.analytics.diff; "
        "print(sorted(m for m in ('pyarrow', 'pipeline.analytics._engine') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
