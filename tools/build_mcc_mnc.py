"""Rebuilds ``pipeline/reference/mcc_mnc.csv`` from the public MCC/MNC lists in ../shared/realdata.

    python tools/build_mcc_mnc.py [--realdata DIR] [--out FILE]

Sources (see pipeline/reference/LICENSES.md): ``pbakondy_mcc-mnc-list.json`` (Wikipedia, richer:
brand, operator, status) first, ``musalbas_mcc-mnc-table.csv`` (mcc-mnc.com) for the pairs
Wikipedia lacks. One output row per published (mcc, mnc) text pair.

Rules, because the CommPeak API gives MCC and MNC as integers (mnc 1 may be "01" or "001"):
- A published pair repeated with differing names: the winner is the first by
  (Operational first, Wikipedia before mcc-mnc.com, country = the MCC's home country,
  has a brand, then iso/network text). ``ambiguous`` is set when the winning source itself
  lists the pair under more than one network or country.
- ``preferred`` marks exactly one row per integer pair (mcc_int, mnc_int): the row whose MNC
  digit count is the usual one for its MCC (most common among the MCC's pairs; a tie goes to
  2 digits, the E.212 default), then Operational, then the text. When several texts share
  an integer pair (e.g. 310 "06" and "006") all of them are flagged ``ambiguous``.
Join rule for API values: ``mcc_int = mcc AND mnc_int = mnc AND preferred``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REALDATA = REPO_ROOT.parent / "shared" / "realdata"
DEFAULT_OUT = REPO_ROOT / "pipeline" / "reference" / "mcc_mnc.csv"
WIKIPEDIA_FILE = "pbakondy_mcc-mnc-list.json"
MCCMNC_COM_FILE = "musalbas_mcc-mnc-table.csv"
SOURCE_RANK = {"wikipedia": 0, "mcc-mnc.com": 1}
COLUMNS = [
    "mcc",
    "mnc",
    "mcc_int",
    "mnc_int",
    "iso",
    "country",
    "network",
    "brand",
    "operator",
    "status",
    "source",
    "preferred",
    "ambiguous",
]


@dataclass(frozen=True)
class Record:
    mcc: str
    mnc: str
    iso: str
    country: str
    network: str
    brand: str
    operator: str
    status: str
    source: str
    ambiguous: bool = False
    preferred: bool = False

    @property
    def int_pair(self) -> tuple[int, int]:
        return int(self.mcc), int(self.mnc)


def is_code(mcc: str, mnc: str) -> bool:
    """Only real codes: 3-digit MCC, 2- or 3-digit MNC (drops ranges, '?', 5-digit extensions)."""
    return len(mcc) == 3 and mcc.isdigit() and len(mnc) in (2, 3) and mnc.isdigit()


def _text(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def read_wikipedia(path: Path) -> list[Record]:
    records = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        mcc, mnc = _text(item.get("mcc")), _text(item.get("mnc"))
        if not is_code(mcc, mnc):
            continue
        brand, operator = _text(item.get("brand")), _text(item.get("operator"))
        records.append(
            Record(
                mcc=mcc,
                mnc=mnc,
                iso=_text(item.get("countryCode")).upper(),
                country=_text(item.get("countryName")) or _text(item.get("type")),
                network=brand or operator,
                brand=brand,
                operator=operator,
                status=_text(item.get("status")),
                source="wikipedia",
            )
        )
    return records


def read_mccmnc_com(path: Path) -> list[Record]:
    records = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            mcc, mnc = _text(row["MCC"]), _text(row["MNC"])
            if not is_code(mcc, mnc):
                continue
            iso = _text(row["ISO"]).upper()
            records.append(
                Record(
                    mcc=mcc,
                    mnc=mnc,
                    iso="" if iso == "N/A" else iso,
                    country=_text(row["Country"]),
                    network=_text(row["Network"]),
                    brand="",
                    operator=_text(row["Network"]),
                    status="",
                    source="mcc-mnc.com",
                )
            )
    return records


def home_iso_by_mcc(records: list[Record]) -> dict[str, str]:
    """The country an MCC belongs to: the most common ISO among its records (ties: A-Z)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in records:
        if r.iso:
            counts[r.mcc][r.iso] += 1
    return {mcc: min(c, key=lambda iso: (-c[iso], iso)) for mcc, c in counts.items()}


def pick_published_pair(group: list[Record], home_iso: str) -> Record:
    def rank(r: Record) -> tuple:
        return (
            r.status != "Operational",
            SOURCE_RANK[r.source],
            r.iso != home_iso,
            not r.brand,
            r.iso,
            r.network,
            r.operator,
        )

    winner = min(group, key=rank)
    same_source = [r for r in group if r.source == winner.source]
    disagree = (
        len({(r.network.casefold(), r.iso) for r in same_source}) > 1
        or len({r.country for r in same_source}) > 1
    )
    return replace(winner, ambiguous=disagree)


def usual_mnc_digits(rows: list[Record]) -> dict[str, int]:
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    for r in rows:
        counts[r.mcc][len(r.mnc)] += 1
    # a tie goes to 2 digits: the E.212 default (3 digits is the NANP/India exception)
    return {mcc: 3 if c[3] > c[2] else 2 for mcc, c in counts.items()}


def mark_preferred(rows: list[Record]) -> list[Record]:
    usual = usual_mnc_digits(rows)
    by_int: dict[tuple[int, int], list[Record]] = defaultdict(list)
    for r in rows:
        by_int[r.int_pair].append(r)
    out: list[Record] = []
    for group in by_int.values():
        chosen = min(
            group, key=lambda r: (len(r.mnc) != usual[r.mcc], r.status != "Operational", r.mnc)
        )
        shared = len(group) > 1
        out.extend(
            replace(r, preferred=r is chosen, ambiguous=r.ambiguous or shared) for r in group
        )
    return sorted(out, key=lambda r: (r.mcc, r.mnc))


def build_rows(realdata: Path) -> list[Record]:
    records = read_wikipedia(realdata / WIKIPEDIA_FILE) + read_mccmnc_com(
        realdata / MCCMNC_COM_FILE
    )
    home = home_iso_by_mcc(records)
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        groups[(r.mcc, r.mnc)].append(r)
    picked = [pick_published_pair(g, home.get(mcc, "")) for (mcc, _), g in groups.items()]
    return mark_preferred(picked)


def to_csv(rows: list[Record]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.mcc,
                r.mnc,
                int(r.mcc),
                int(r.mnc),
                r.iso,
                r.country,
                r.network,
                r.brand,
                r.operator,
                r.status,
                r.source,
                str(r.preferred).lower(),
                str(r.ambiguous).lower(),
            ]
        )
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realdata", type=Path, default=DEFAULT_REALDATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for name in (WIKIPEDIA_FILE, MCCMNC_COM_FILE):
        if not (args.realdata / name).is_file():
            print(f"build_mcc_mnc: {args.realdata / name}: not found", file=sys.stderr)
            return 2
    rows = build_rows(args.realdata)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_csv(rows), encoding="utf-8")
    ambiguous = sum(r.ambiguous for r in rows)
    print(f"{args.out}: {len(rows)} pairs, {ambiguous} flagged ambiguous")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
