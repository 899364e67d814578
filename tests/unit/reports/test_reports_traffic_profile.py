from decimal import Decimal

import pytest

from pipeline.analytics.diff import read_traffic_profile
from pipeline.errors import InputError


def write(tmp_path, text: str):
    path = tmp_path / "traffic.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_numbers_are_normalised_and_minutes_exact(tmp_path):
    path = write(
        tmp_path,
        "number,minutes_per_month\n+353 (89) 123-4567,1200.5\n0044 7700 900123,30\n\n",
    )
    frame = read_traffic_profile(path)
    assert frame.to_dicts() == [
        {"line": 2, "tech_prefix": None, "key": "353891234567", "minutes": Decimal("1200.5")},
        {"line": 3, "tech_prefix": None, "key": "447700900123", "minutes": Decimal("30")},
    ]


def test_prefix_column_and_optional_tech_prefix(tmp_path):
    path = write(tmp_path, "\ufeffprefix,minutes_per_month,tech_prefix\n35389,10,021001\n44,5,\n")
    frame = read_traffic_profile(path)
    assert frame["key"].to_list() == ["35389", "44"]
    assert frame["tech_prefix"].to_list() == ["021001", None]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("destination,minutes_per_month\nx,1\n", "needs a 'number' or 'prefix' column"),
        ("number,minutes\n353,1\n", "needs a 'number' or 'prefix' column"),
        ("number,minutes_per_month\n353,1\n3538,lots\n", "line 3: minutes_per_month 'lots'"),
        ("number,minutes_per_month\n353,-1\n", "line 2: minutes_per_month '-1': must be >= 0"),
        ("number,minutes_per_month\n353,NaN\n", "line 2: minutes_per_month 'NaN'"),
        ("number,minutes_per_month\n353,1.1234567\n", "at most 6 decimals"),
        (
            "number,minutes_per_month\n35x3,1\n",
            "line 2: number/prefix '35x3': letters are not allowed",
        ),
        ("number,minutes_per_month\n353.0,1\n", "spreadsheet float"),
        ("number,minutes_per_month\n353,1,extra\n", "line 2: more fields than the header"),
    ],
)
def test_malformed_profile_names_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_traffic_profile(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_profile_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="traffic profile not found"):
        read_traffic_profile(tmp_path / "nope.csv")
