"""One phone number as text: moved to ``pipeline.ingest.phone`` (ingest must not import
analytics); re-exported here so callers keep working."""

from __future__ import annotations

from pipeline.ingest.phone import FLOAT_ARTEFACT as FLOAT_ARTEFACT
from pipeline.ingest.phone import FLOAT_ARTEFACT_PROBLEM as FLOAT_ARTEFACT_PROBLEM
from pipeline.ingest.phone import NOISE as NOISE
from pipeline.ingest.phone import BadNumberError as BadNumberError
from pipeline.ingest.phone import normalise_number as normalise_number
from pipeline.ingest.phone import number_problem as number_problem

__all__ = [
    "FLOAT_ARTEFACT",
    "FLOAT_ARTEFACT_PROBLEM",
    "NOISE",
    "BadNumberError",
    "normalise_number",
    "number_problem",
]
