"""The built-in CommPeak emulator: a seeded market served over loopback HTTP, with faults.

from pipeline.emulator import EmulatorServer, Market

with EmulatorServer(Market(seed=7, start_date=date(2026, 11, 1)), faults="429:1") as server:
    ...  # server.url, API key "emulator-key"; server.set_market_date(...) moves the market
"""

from pipeline.emulator.errors import EmulatorError, FaultSpecError
from pipeline.emulator.faults import Fault, FaultPlan, parse_faults
from pipeline.emulator.market import DeckRow, Market, MarketDay, SmsRate
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
    "DeckRow",
    "EmulatorError",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "FaultSpecError",
    "Market",
    "MarketDay",
    "RequestRecord",
    "SmsRate",
    "parse_faults",
    "render_deck",
]
