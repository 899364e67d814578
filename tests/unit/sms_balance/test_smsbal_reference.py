"""The committed mcc_mnc reference: build rules, the committed CSV, loading into DuckDB."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.warehouse.sms import MCC_MNC_CSV, ensure_reference
from tools.build_mcc_mnc import (
    COLUMNS,
    DEFAULT_OUT,
    MCCMNC_COM_FILE,
    WIKIPEDIA_FILE,
    build_rows,
    main,
    to_csv,
)


def committed_rows() -> list[dict[str, str]]:
    with MCC_MNC_CSV.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def wiki(mcc, mnc, brand, status="Operational", iso="DE", country="Germany", operator=None):
    return {
        "type": "National",
        "countryName": country,
        "countryCode": iso,
        "mcc": mcc,
        "mnc": mnc,
        "brand": brand,
        "operator": operator,
        "status": status,
        "bands": None,
        "notes": None,
    }


def write_sources(folder: Path, wikipedia: list[dict], mccmnc_com: list[list[str]]) -> Path:
    (folder / WIKIPEDIA_FILE).write_text(json.dumps(wikipedia), encoding="utf-8")
    with (folder / MCCMNC_COM_FILE).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["MCC", "MCC (int)", "MNC", "MNC (int)", "ISO", "Country", "Country Code", "Network"]
        )
        writer.writerows(mccmnc_com)
    return folder


def by_pair(rows) -> dict[tuple[str, str], object]:
    return {(r.mcc, r.mnc): r for r in rows}


def test_committed_csv_shape_and_join_rule():
    rows = committed_rows()
    assert list(rows[0]) == COLUMNS
    assert len(rows) > 3000
    assert len({(r["mcc"], r["mnc"]) for r in rows}) == len(rows)
    assert all(len(r["mcc"]) == 3 and len(r["mnc"]) in (2, 3) for r in rows)
    assert all(int(r["mnc"]) == int(r["mnc_int"]) for r in rows)
    # exactly one preferred row per integer pair: the API's integers never match twice
    preferred = Counter((r["mcc_int"], r["mnc_int"]) for r in rows if r["preferred"] == "true")
    all_pairs = {(r["mcc_int"], r["mnc_int"]) for r in rows}
    assert set(preferred) == all_pairs and set(preferred.values()) == {1}


def test_committed_csv_two_and_three_digit_mncs():
    rows = {(r["mcc"], r["mnc"]): r for r in committed_rows()}
    # US MCC 310 publishes 3-digit MNCs; "006" (Verizon) wins over mcc-mnc.com's "06"
    assert rows[("310", "006")]["preferred"] == "true"
    assert rows[("310", "06")]["preferred"] == "false"
    assert rows[("310", "006")]["ambiguous"] == rows[("310", "06")]["ambiguous"] == "true"
    # Germany is 2-digit and unambiguous
    assert rows[("262", "01")]["network"] == "Telekom"
    assert rows[("262", "01")]["preferred"] == "true"
    assert rows[("262", "01")]["ambiguous"] == "false"
    # a tie in digit counts (test network 001: "01" and "001") goes to 2 digits
    assert rows[("001", "01")]["preferred"] == "true"


def test_committed_csv_repeated_pair_prefers_operational_and_home_country():
    rows = {(r["mcc"], r["mnc"]): r for r in committed_rows()}
    # 270-77: listed for BE (Unknown) and LU (Operational, Tango): Operational wins
    assert (rows[("270", "77")]["iso"], rows[("270", "77")]["network"]) == ("LU", "Tango")
    # 234-50 (JT): GG, JE and GB all Operational: the MCC's home country (GB) wins
    assert rows[("234", "50")]["iso"] == "GB"
    assert rows[("234", "50")]["ambiguous"] == "true"


@pytest.mark.realdata
def test_committed_csv_is_what_the_builder_makes(realdata_dir):
    assert to_csv(build_rows(realdata_dir)) == MCC_MNC_CSV.read_text(encoding="utf-8")
    assert DEFAULT_OUT == MCC_MNC_CSV


def test_builder_rules_on_small_sources(tmp_path):
    write_sources(
        tmp_path,
        [
            wiki("262", "01", "Telekom"),
            wiki("262", "02", "Vodafone", status="Not operational"),
            wiki("262", "02", "Vodafone D2"),
            wiki("262", "002", "Odd", status="Unknown"),
            wiki("262", "100 - 190", "range"),  # not a code: dropped
            wiki("262", "50144", "long"),  # 5 digits: dropped
            wiki("262", "?", "unknown"),
        ],
        [
            ["262", "610", "01", "31", "de", "Germany", "49", "T-Mobile"],  # Wikipedia wins
            ["262", "610", "77", "1919", "de", "Germany", "49", "E-Plus"],  # fills the gap
            ["262", "610", "77", "1919", "de", "Germany", "49", "Telefonica"],
        ],
    )
    rows = by_pair(build_rows(tmp_path))
    assert sorted(rows) == [("262", "002"), ("262", "01"), ("262", "02"), ("262", "77")]
    assert (rows[("262", "01")].network, rows[("262", "01")].source) == ("Telekom", "wikipedia")
    assert rows[("262", "02")].network == "Vodafone D2"  # Operational over Not operational
    assert rows[("262", "02")].ambiguous  # the same source names it twice differently
    assert rows[("262", "02")].preferred and not rows[("262", "002")].preferred
    assert rows[("262", "002")].ambiguous
    assert rows[("262", "77")].source == "mcc-mnc.com"
    assert rows[("262", "77")].network == "E-Plus"  # deterministic: A-Z among equals
    assert rows[("262", "77")].ambiguous


def test_build_script_writes_the_csv(tmp_path, capsys):
    write_sources(tmp_path, [wiki("262", "01", "Telekom")], [])
    out = tmp_path / "out" / "mcc_mnc.csv"
    assert main(["--realdata", str(tmp_path), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines() == [
        ",".join(COLUMNS),
        "262,01,262,1,DE,Germany,Telekom,Telekom,,Operational,wikipedia,true,false",
    ]
    assert "1 pairs" in capsys.readouterr().out
    assert main(["--realdata", str(tmp_path / "missing"), "--out", str(out)]) == 2


def test_ensure_reference_loads_once_and_reloads_on_change(con, tmp_path):
    assert ensure_reference(con) is True
    count = con.execute("SELECT count(*) FROM mcc_mnc").fetchall()[0][0]
    assert count == len(committed_rows())
    assert con.execute(
        "SELECT mnc, network FROM mcc_mnc WHERE mcc_int = 310 AND mnc_int = 6 AND preferred"
    ).fetchall() == [("006", "Verizon")]
    assert ensure_reference(con) is False  # same sha: nothing to do

    changed = tmp_path / "mcc_mnc.csv"
    changed.write_text(
        ",".join(COLUMNS) + "\n001,01,1,1,,Test,T,T,,Operational,wikipedia,true,false\n",
        encoding="utf-8",
    )
    assert ensure_reference(con, changed) is True
    assert con.execute("SELECT mcc, mnc, iso FROM mcc_mnc").fetchall() == [("001", "01", "")]
