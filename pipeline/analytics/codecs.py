"""The Parquet codecs ``ratedeck cost`` offers. Apart from ``costing`` so that the command's
argument parser can list them without importing polars."""

from __future__ import annotations

# snappy: Parquet's usual codec (see docs/benchmarks.md for what the others cost)
COMPRESSIONS = ("snappy", "lz4", "zstd", "uncompressed")
DEFAULT_COMPRESSION = "snappy"
