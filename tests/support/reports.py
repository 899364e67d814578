"""Helpers of the report tests: deck snapshots loaded through the real loader and a sample
history (the loopback SMTP server is support.smtp)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import duckdb

from pipeline.ingest.sms import normalize_sms_rates
from pipeline.warehouse.sms import ensure_reference, load_sms_snapshot
from pipeline.warehouse.voice import load_voice_snapshot
from support.bodies import ingest_result, sms_rates_json, voice_rate_frame

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # baseline snapshot
T1 = T0 + timedelta(days=1)  # second snapshot: the changes


@dataclass(frozen=True)
class Rate:
    prefix: str
    destination: str
    price: str
    initial: int = 1
    increment: int = 1
    effective_at: datetime | None = None  # future: a scheduled change


class DeckHistory:
    """Loads deck snapshots through the real loader (``load_voice_snapshot``), from canonical
    frames: what ingest would hand over for a downloaded deck."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def snapshot(self, tech_prefix: str, fetched_at: datetime, rates: list[Rate]) -> int:
        rows = voice_rate_frame(
            (r.prefix, r.destination, r.price, r.initial, r.increment, r.effective_at)
            for r in rates
        )
        digest = hashlib.sha256(repr((tech_prefix, fetched_at, rates)).encode()).hexdigest()
        result = ingest_result(rows)
        load = load_voice_snapshot(
            self.con,
            tech_prefix=tech_prefix,
            fetched_at=fetched_at,
            content_sha256=digest,
            raw_path=f"raw/{tech_prefix}/{digest[:8]}.csv",
            result=result,
        )
        return load.snapshot_id


class SmsHistory:
    """Loads SMS rate lists the production way: JSON text as the API writes it, parsed by
    ``normalize_sms_rates``, loaded by ``load_sms_snapshot`` (names from ``mcc_mnc``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def snapshot(
        self, channel: str, fetched_at: datetime, rates: dict[tuple[int, int], str]
    ) -> int:
        """``rates``: {(mcc, mnc): "0.0450"}, written into the JSON as number literals."""
        body = sms_rates_json(rates)
        digest = hashlib.sha256(
            body + channel.encode() + fetched_at.isoformat().encode()
        ).hexdigest()
        result = normalize_sms_rates(body, source=f"sms/{channel}.json")
        load = load_sms_snapshot(
            self.con,
            channel=channel,
            fetched_at=fetched_at,
            content_sha256=digest,
            raw_path=f"raw/sms/{digest[:8]}.json",
            result=result,
        )
        return load.snapshot_id

    def add_network(self, mcc: int, mnc: int, country: str, network: str) -> None:
        """A row of the external MCC/MNC reference (as a rebuilt reference file would bring it):
        names in the warehouse come from data nobody here controls."""
        ensure_reference(self.con)
        self.con.execute(
            "INSERT INTO mcc_mnc VALUES (?, ?, ?, ?, 'XX', ?, ?, ?, ?, 'Operational', "
            "'wikipedia', true, false)",
            [f"{mcc:03d}", f"{mnc:02d}", mcc, mnc, country, network, network, network],
        )


# A small but realistic history: two tech prefixes, a baseline and a day of changes of every
# kind (used by the end-to-end report tests and to render docs/sample-report.png).
SAMPLE_BASE = [
    Rate("1", "USA", "0.0060"),
    Rate("33", "France", "0.0120"),
    Rate("336", "France Mobile", "0.0380"),
    Rate("34", "Spain", "0.0110"),
    Rate("346", "Spain Mobile", "0.0350"),
    Rate("39", "Italy", "0.0150"),
    Rate("387", "Bosnia & Herzegovina", "0.0850"),
    Rate("44", "United Kingdom", "0.0100"),
    Rate("447", "UK Mobile", "0.0310"),
    Rate("4477", "UK Mobile - Vodafone", "0.0330"),
    Rate("49", "Germany", "0.0120"),
    Rate("4915", "Germany Mobile", "0.0450"),
    Rate("55", "Brazil", "0.0210"),
    Rate("63", "Philippines", "0.1200"),
    Rate("639", "Philippines Mobile", "0.1650"),
    Rate("7", "Russia", "0.0290"),
    Rate("91", "India", "0.0095"),
    Rate("234", "Nigeria", "0.0900"),
    Rate("2348", "Nigeria Mobile", "0.1102"),
    Rate("353", "Ireland", "0.0500"),
    Rate("35389", "Ireland Mobile", "0.1582"),
    Rate("3538994", "Ireland Mobile - Premium", "0.2100"),
]
SAMPLE_CHANGED = {
    "1": Rate("1", "USA", "0.0052"),
    "33": Rate("33", "France", "0.0135"),
    "346": Rate("346", "Spain Mobile", "0.0310"),
    "39": Rate("39", "Italy", "0.0139"),
    "4477": Rate("4477", "UK Mobile - Vodafone", "0.0342"),
    "4915": Rate("4915", "Germany Mobile", "0.0480"),
    "639": Rate("639", "Philippines Mobile", "0.1650", 60, 60),
    "7": Rate("7", "Russian Federation", "0.0290"),
    "91": Rate("91", "India", "0.0118"),
    "2348": Rate("2348", "Nigeria Mobile", "0.1240"),
    "35389": Rate("35389", "Ireland Mobile", "0.1617"),
}
SAMPLE_TRAFFIC = """number,minutes_per_month
+1 212 555 0100,42000
33 1 4020 5000,5200
+34 612 345 678,8300
0039 06 1234 5678,3100
+44 7700 900123,2500
+44 7789 123456,12400
+49 151 2345 6789,6100
+63 917 123 4567,1800
+91 98200 12345,23000
+234 803 123 4567,2600
+353 89 123 4567,900
+353 89 941 2345,400
"""


def populate_sample(decks: DeckHistory) -> None:
    decks.snapshot("current", T0, SAMPLE_BASE)
    day_two = [SAMPLE_CHANGED.get(r.prefix, r) for r in SAMPLE_BASE if r.prefix != "3538994"]
    day_two += [
        Rate("447911", "UK Mobile - Jersey", "0.2500"),
        Rate("49", "Germany", "0.0150", effective_at=T1 + timedelta(days=3)),
        Rate("55", "Brazil", "0.0240", effective_at=T1 + timedelta(days=10)),
    ]
    decks.snapshot("current", T1, day_two)
    wholesale = [Rate(r.prefix, r.destination, _scaled(r.price, "0.9")) for r in SAMPLE_BASE[:12]]
    decks.snapshot("021001", T0, wholesale)
    changed = [
        Rate(r.prefix, r.destination, _scaled(r.price, "1.05"))
        if r.prefix in ("33", "44", "447")
        else r
        for r in wholesale
    ]
    decks.snapshot("021001", T1, changed)


# SMS: two channels of the demo account; a baseline and a day of changes (names from the real
# MCC/MNC reference; 272-99 and 100-01 are in no reference: "unknown network").
SMS_BASE = {
    "demo:1": {
        (272, 1): "0.0420",  # Ireland, Vodafone
        (272, 2): "0.0395",  # Ireland, 3
        (234, 15): "0.0310",  # United Kingdom, Vodafone UK
        (234, 10): "0.0305",  # United Kingdom, O2 (UK)
        (262, 1): "0.0650",  # Germany, Telekom
        (208, 1): "0.0480",  # France, Orange
        (208, 10): "0.0470",  # France, SFR
        (272, 99): "0.0400",  # Ireland, unknown MNC
    },
    "demo:2": {(234, 15): "0.0290", (262, 2): "0.0610"},
}
SMS_CHANGED = {
    "demo:1": {
        (272, 1): "0.0462",  # +10%
        (272, 2): "0.0395",
        (234, 15): "0.0279",  # -10%
        (234, 10): "0.0305",
        (262, 1): "0.0715",  # +10%
        (208, 10): "0.0470",  # 208-01 removed
        (272, 99): "0.0520",  # +30%, unknown network
        (100, 1): "0.1000",  # new, unknown network (MCC 100 is not assigned)
        (262, 3): "0.0590",  # new: Germany, O2
    },
    "demo:2": {(234, 15): "0.0290", (262, 2): "0.0580"},  # -4.92%
}


def populate_sms_sample(sms: SmsHistory) -> None:
    for channel, rates in SMS_BASE.items():
        sms.snapshot(channel, T0, rates)
    for channel, rates in SMS_CHANGED.items():
        sms.snapshot(channel, T1, rates)


def _scaled(price: str, factor: str) -> str:
    return str((Decimal(price) * Decimal(factor)).quantize(Decimal("0.0001")))
