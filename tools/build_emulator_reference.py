"""Maintainer tool: regenerate the emulator's committed reference tables.

    .venv/bin/python tools/build_emulator_reference.py ../shared/realdata

Writes ``pipeline/reference/emulator_numbering_plan.csv`` (prefix -> destination) and
``pipeline/reference/emulator_mcc_mnc.csv`` (SMS networks). The market reads only these files at
run time, so an upgrade of ``phonenumbers`` never silently changes the emulated market.

Sources (see ``pipeline/reference/LICENSES-emulator.md``):
- calling codes, regions, mobile operator ranges and fixed area codes: ``phonenumbers``
  metadata (Apache-2.0, a port of Google's libphonenumber);
- country display names: ``datasets/country-codes`` (ODC PDDL);
- MCC/MNC pairs: ``musalbas/mcc-mnc-table`` (MIT).
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import phonenumbers
from phonenumbers.carrierdata import CARRIER_DATA
from phonenumbers.geodata import GEOCODE_DATA

from pipeline.emulator.reference import (
    AREA,
    MCC_MNC_FILE,
    MCC_MNC_HEADER,
    MOBILE,
    NUMBERING_HEADER,
    NUMBERING_PLAN_FILE,
    OPERATOR,
    ROOT,
)

# Non-geographic codes worth carrying in a wholesale deck (others are freephone/premium).
NON_GEOGRAPHIC = {
    "870": ("Satellite", "Satellite - Inmarsat"),
    "881": ("Satellite", "Satellite - Global Mobile"),
    "882": ("International Networks", "International Networks"),
    "883": ("International Networks", "International Networks"),
}
NAME_OVERRIDES = {
    "GB": "United Kingdom",
    "US": "United States",
    "BA": "Bosnia and Herzegovina",
    "CI": "Ivory Coast",
    "CG": "Congo",
    "CD": "Congo DR",
    "XK": "Kosovo",
    "AC": "Ascension",
    "TA": "Tristan da Cunha",
}
MAX_AREA_DIGITS = 3  # national digits of a fixed area code (4420 London, 3531 Dublin)


def country_names(country_codes_csv: Path) -> dict[str, str]:
    names: dict[str, str] = {}
    with country_codes_csv.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            iso = row["ISO3166-1-Alpha-2"].strip()
            name = row["CLDR display name"].strip() or row["official_name_en"].strip()
            if iso and name:
                names[iso] = name.replace(" & ", " and ")
    names.update(NAME_OVERRIDES)
    return names


def fix_mojibake(text: str) -> str:
    if "Ã" not in text:
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def expand_leading_digits(pattern: str, max_len: int = 5) -> list[str]:
    """The shortest digit strings that start with a match of ``pattern`` (``8[024]9|8001``)."""
    regex = re.compile(f"(?:{pattern})")
    found: list[str] = []
    frontier = [""]
    for _ in range(max_len):
        nxt: list[str] = []
        for stem in frontier:
            for d in "0123456789":
                s = stem + d
                (found if regex.match(s) else nxt).append(s)
        frontier = nxt
    return found


def canada_area_codes() -> list[str]:
    codes = []
    for npa in range(200, 1000):
        number = phonenumbers.parse(f"+1{npa}2345678")
        if phonenumbers.region_code_for_number(number) == "CA":
            codes.append(str(npa))
    return codes


def roots(names: dict[str, str]) -> dict[str, tuple[str, str]]:
    """prefix -> (country, destination) for every calling code and shared-code territory."""
    out: dict[str, tuple[str, str]] = {}
    for cc, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()):
        code = str(cc)
        if regions == ("001",):
            if code in NON_GEOGRAPHIC:
                out[code] = NON_GEOGRAPHIC[code]
            continue
        main, *others = regions
        out[code] = (names[main], f"{names[main]} - Fixed")
        for region in others:
            meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
            if region == "CA":
                subs = canada_area_codes()
            elif meta is not None and meta.leading_digits:
                subs = expand_leading_digits(meta.leading_digits)
            else:
                continue  # shares the main country's numbers: not separately priced
            for sub in subs:
                out[code + sub] = (names[region], f"{names[region]} - Fixed")
    return out


def longest_root(prefix: str, root_prefixes: set[str]) -> str | None:
    for n in range(len(prefix), 0, -1):
        if prefix[:n] in root_prefixes:
            return prefix[:n]
    return None


def calling_code(prefix: str) -> str:
    for n in (1, 2, 3):
        if int(prefix[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return prefix[:n]
    raise ValueError(prefix)


def english(names: dict[str, str]) -> str:
    name = fix_mojibake((names.get("en") or next(iter(names.values()))).strip())
    name = name.replace(" - ", " ")  # " - " separates the parts of a destination name
    return name.title() if name.islower() else name


def mobile_rows(root_map: dict[str, tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Mobile groups (``35389 Ireland - Mobile``) and operator ranges (``3538994 ... - Lycatel``)."""
    root_prefixes = set(root_map)
    operators: dict[str, str] = {}
    groups: dict[str, str] = {}
    for key, carrier in CARRIER_DATA.items():
        root = longest_root(key, root_prefixes)
        if root is None or key == root:
            continue
        operator = english(carrier)
        country, root_destination = root_map[root]
        geographic = calling_code(key) not in NON_GEOGRAPHIC
        label = f"{country} - Mobile" if geographic else root_destination.split(" - ")[0]
        operators[key] = f"{label} - {operator}"
        group_len = max(len(calling_code(key)) + 2, len(root) + 1)
        if geographic and len(key) > group_len:
            groups.setdefault(key[:group_len], label)
    rows = [(p, dest, MOBILE) for p, dest in groups.items() if p not in operators]
    rows += [(p, dest, OPERATOR) for p, dest in operators.items()]
    return rows


def area_rows(
    root_map: dict[str, tuple[str, str]], mobile_prefixes: set[str]
) -> list[tuple[str, str, str]]:
    """Fixed area codes (``4420 United Kingdom - London``) that do not overlap mobile ranges."""
    root_prefixes = set(root_map)
    mobile_stems = {p[:n] for p in mobile_prefixes for n in range(1, len(p) + 1)}
    rows = []
    for key in sorted(GEOCODE_DATA):
        root = longest_root(key, root_prefixes)
        if root is None or key == root or calling_code(key) in NON_GEOGRAPHIC:
            continue
        if len(key) - len(calling_code(key)) > MAX_AREA_DIGITS or key in mobile_stems:
            continue
        if any(key[:n] in mobile_prefixes for n in range(1, len(key))):
            continue
        country = root_map[root][0]
        area = english(GEOCODE_DATA[key]).split(",")[0].strip()
        if not area or area == country:
            continue
        rows.append((key, f"{country} - {area}", AREA))
    return _drop_repeated_names(rows)


def _drop_repeated_names(rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """An area nested in a same-named area adds nothing (``44114`` under ``4411`` Sheffield)."""
    by_prefix = {r[0]: r for r in rows}
    kept = []
    for row in rows:
        parents = (by_prefix.get(row[0][:n]) for n in range(len(row[0]) - 1, 0, -1))
        if not any(p is not None and p[1] == row[1] for p in parents):
            kept.append(row)
    return kept


def numbering_plan(country_codes_csv: Path) -> list[tuple[str, str, str]]:
    names = country_names(country_codes_csv)
    root_map = roots(names)
    rows = [(p, dest, ROOT) for p, (_country, dest) in root_map.items()]
    mobile = mobile_rows(root_map)
    rows += mobile
    rows += area_rows(root_map, {r[0] for r in mobile})
    rows.sort(key=lambda r: r[0])
    prefixes = [r[0] for r in rows]
    if len(set(prefixes)) != len(prefixes):
        raise SystemExit("duplicate prefixes in the numbering plan")
    return rows


def mcc_mnc(musalbas_csv: Path) -> list[tuple[int, int, str]]:
    """Distinct (mcc, mnc) as the API gives them (integers: ``01`` and ``001`` are one pair)."""
    seen: dict[tuple[int, int], tuple[int, int, str]] = {}
    with musalbas_csv.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pair = (int(row["MCC"]), int(row["MNC"]))
            seen.setdefault(pair, (*pair, row["ISO"].upper()))
    return sorted(seen.values())


# written into the checkout's package folder (not an installed copy)
SOURCE_TREE = Path(__file__).resolve().parents[1] / "pipeline" / "reference"


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(argv: list[str]) -> int:
    realdata = Path(argv[0] if argv else "../shared/realdata")
    plan = numbering_plan(realdata / "datasets_country-codes.csv")
    write_csv(SOURCE_TREE / NUMBERING_PLAN_FILE.name, NUMBERING_HEADER, plan)
    networks = mcc_mnc(realdata / "musalbas_mcc-mnc-table.csv")
    write_csv(SOURCE_TREE / MCC_MNC_FILE.name, MCC_MNC_HEADER, networks)
    print(f"{NUMBERING_PLAN_FILE}: {len(plan)} prefixes; {MCC_MNC_FILE}: {len(networks)} networks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
