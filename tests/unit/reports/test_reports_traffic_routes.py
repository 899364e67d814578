"""A traffic profile's tech_prefix column names the route of each row; a bad one is refused."""

from decimal import Decimal

import pytest

from pipeline.analytics.diff import read_traffic_profile
from pipeline.errors import InputError


def write(tmp_path, text: str):
    path = tmp_path / "traffic.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_without_tech_prefix_are_left_to_the_default_route(tmp_path):
    path = write(tmp_path, "number,minutes_per_month,tech_prefix\n353,1,\n44,2,021001\n")
    frame = read_traffic_profile(path, tech_prefixes=["current", "021001"])
    assert frame.select("tech_prefix", "minutes").rows() == [
        (None, Decimal("1")),
        ("021001", Decimal("2")),
    ]


def test_untracked_tech_prefix_is_refused_with_file_and_line(tmp_path):
    path = write(tmp_path, "number,minutes_per_month,tech_prefix\n353,1,\n44,2,021009\n")
    with pytest.raises(InputError) as info:
        read_traffic_profile(path, tech_prefixes=["current", "021001"])
    assert str(info.value) == (
        f"{path}: line 3: tech_prefix '021009' is not in voice.tech_prefixes ['current', '021001']"
    )


def test_malformed_tech_prefix_is_refused(tmp_path):
    path = write(tmp_path, "number,minutes_per_month,tech_prefix\n353,1,02-1001\n")
    with pytest.raises(InputError, match=r"line 2: tech_prefix '02-1001': must be 'current'"):
        read_traffic_profile(path)
