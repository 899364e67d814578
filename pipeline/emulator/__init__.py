"""The built-in CommPeak emulator: a seeded market served over loopback HTTP, with faults.

from pipeline.emulator import EmulatorServer, Market

with EmulatorServer(Market(seed=7, start_date=date(2026, 11, 1)), faults="429:1") as server:
    ...  # server.url, API key "emulator-key"; server.set_market_date(...) moves the market

The market's calls (``market.day(d).calls()``), the files both sides of them would write
(``write_switch_cdrs``, ``write_carrier_cdrs``, ``GET /cdrs``) and the discrepancies the carrier
was told to make (``Market(..., discrepancies=Discrepancies(...))``, ``write_manifest``).
"""

from pipeline.emulator.carrier import CallDay, CarrierCall, Discrepancies, Discrepancy
from pipeline.emulator.cdr import (
    manifest,
    render_carrier_cdrs,
    render_switch_cdrs,
    write_carrier_cdrs,
    write_manifest,
    write_switch_cdrs,
)
from pipeline.emulator.errors import EmulatorError, FaultSpecError
from pipeline.emulator.faults import Fault, FaultPlan, parse_faults
from pipeline.emulator.market import DeckRow, Ledger, Market, MarketDay, SmsRate
from pipeline.emulator.server import (
    DEFAULT_API_KEY,
    DEFAULT_RECOGNITION_TOKEN,
    EmulatorServer,
    RequestRecord,
)
from pipeline.emulator.xls import render_deck

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_RECOGNITION_TOKEN",
    "CallDay",
    "CarrierCall",
    "DeckRow",
    "Discrepancies",
    "Discrepancy",
    "EmulatorError",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "FaultSpecError",
    "Ledger",
    "Market",
    "MarketDay",
    "RequestRecord",
    "SmsRate",
    "manifest",
    "parse_faults",
    "render_carrier_cdrs",
    "render_deck",
    "render_switch_cdrs",
    "write_carrier_cdrs",
    "write_manifest",
    "write_switch_cdrs",
]
