"""Issue 16.5 against a real warehouse: the carrier's export imported once (landing zone,
sha256, rejects with row numbers), and reconcile_call finds exactly the discrepancies the
emulated carrier made (its manifest), call by call, with the money exact."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from support.cdr import query
from support.reconcile import carrier_market, load_market_day, market_settings

from pipeline.errors import InputError
from pipeline.stages.reconcile import import_carrier_file

DAY = date(2026, 11, 3)
CLASS_OF = {
    "early_price": "price_differs",
    "extra_seconds": "duration_differs",
    "missing_on_carrier": "missing_theirs",
    "missing_on_customer": "missing_ours",
}


@pytest.fixture(scope="module")
def reconciled(tmp_path_factory):
    market = carrier_market()
    data = tmp_path_factory.mktemp("reconcile")
    settings = market_settings(data / "data", market)
    manifest = load_market_day(settings, market, DAY, data / "in")
    return settings, manifest


def test_reconciliation_finds_exactly_the_manifest(reconciled):
    settings, manifest = reconciled
    rows = query(
        settings,
        "SELECT class, our_call_id, their_call_id, number, started_at, cost_difference "
        "FROM reconcile_call WHERE class <> 'exact' AND call_day = ?",
        [DAY],
    )
    expected = Counter(CLASS_OF[d["kind"]] for d in manifest["discrepancies"])
    assert Counter(r[0] for r in rows) == expected
    assert len(rows) == len(manifest["discrepancies"]) >= 8
    found = {(r[0], r[3], r[4].isoformat()): r[5] for r in rows}
    for d in manifest["discrepancies"]:
        key = (CLASS_OF[d["kind"]], d["number"], d["start"])
        ours = Decimal(0) if d["kind"] == "missing_on_customer" else Decimal(d["expected_cost"])
        assert found[key] == Decimal(d["billed_cost"]) - ours, d


def test_every_other_call_is_exact_and_counts_add_up(reconciled):
    settings, manifest = reconciled
    [(exact, ours, theirs)] = query(
        settings,
        "SELECT count(*) FILTER (WHERE class = 'exact'), count(our_call_id), "
        "count(their_call_id) FROM reconcile_call WHERE call_day = ?",
        [DAY],
    )
    [(billable,)] = query(
        settings, "SELECT count(*) FROM cdr_call WHERE billable AND call_day = ?", [DAY]
    )
    [(billed,)] = query(settings, "SELECT count(*) FROM carrier_call WHERE call_day = ?", [DAY])
    kinds = Counter(d["kind"] for d in manifest["discrepancies"])
    assert ours == billable and theirs == billed
    assert exact == billable - kinds["missing_on_carrier"] - kinds["extra_seconds"] - sum(
        1 for d in manifest["discrepancies"] if d["kind"] == "early_price"
    )


def test_a_price_difference_names_the_prefix_both_rates_and_dates(reconciled):
    settings, manifest = reconciled
    early = [d for d in manifest["discrepancies"] if d["kind"] == "early_price"]
    rows = query(
        settings,
        "SELECT number, prefix, our_rate, their_rate, strftime(their_rate_valid_from, '%Y-%m-%d'),"
        " our_rate_valid_from FROM reconcile_call WHERE class = 'price_differs' ORDER BY started_at",
    )
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (
            d["number"],
            d["prefix"],
            Decimal(d["price_in_force"]),
            Decimal(d["price_billed"]),
            d["effective_date"],
        )
        for d in early
    ]
    assert all(r[5] is not None for r in rows)


def test_a_duration_difference_says_by_how_much(reconciled):
    settings, manifest = reconciled
    extra = {d["number"]: d["extra_seconds"] for d in manifest["discrepancies"]
             if d["kind"] == "extra_seconds"}  # fmt: skip
    rows = query(
        settings,
        "SELECT number, seconds_difference FROM reconcile_call WHERE class = 'duration_differs'",
    )
    assert dict(rows) == extra


def test_reimporting_the_export_changes_nothing(reconciled, tmp_path):
    settings, _ = reconciled
    [(path,)] = query(settings, "SELECT raw_path FROM carrier_file")
    copy = tmp_path / "again.csv"
    copy.write_bytes((settings.data_dir / path).read_bytes())
    again = import_carrier_file(settings, copy)
    assert again.replayed
    assert query(settings, "SELECT count(*) FROM carrier_file") == [(1,)]


def test_bad_rows_are_rejected_with_their_row_numbers(tmp_path):
    market = carrier_market()
    settings = market_settings(tmp_path / "data", market)
    header = "Call ID,Start Time (UTC),Tech Prefix,Destination Number,Destination,Prefix,"
    header += "Duration,Billed Seconds,Rate,Billing Increments,Cost,Currency\n"
    good = "a1,2026-11-01 10:00:00,021001,4420794000,UK,44,60,60,0.1,60/60,0.100000,USD\n"
    bad = "a2,2026-11-01 10:01:00,021001,4420794000,UK,44,60,60,cheap,60/60,0.1,USD\n"
    path = tmp_path / "cdrs.csv"
    more = "".join(good.replace("a1", f"b{n}") for n in range(4))
    path.write_text(header + good + bad + more)
    imported = import_carrier_file(settings, path)
    assert (imported.calls, imported.rejects) == (5, 1)
    assert imported.rejects_preview == ((3, "rate 'cheap': expected a decimal amount"),)
    assert query(settings, "SELECT kind, row_number FROM ingest_reject") == [("carrier", 3)]


def test_a_file_without_a_mapped_column_is_one_line_naming_it(tmp_path):
    market = carrier_market()
    settings = market_settings(tmp_path / "data", market, columns={"cost": "Charge"})
    path = tmp_path / "cdrs.csv"
    path.write_text("Call ID,Cost\nx,1\n")
    with pytest.raises(InputError, match=r"cdrs.csv: .*no column 'Start Time \(UTC\)'"):
        import_carrier_file(settings, path)


def test_cli_imports_a_carrier_export_and_refuses_a_bad_one(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "ratedeck.toml"
    config.write_text('[paths]\ndata_dir = "data"\n[reconcile.columns]\ncost = "Charge"\n')
    header = "Call ID,Start Time (UTC),Tech Prefix,Destination Number,Destination,Prefix,"
    header += "Duration,Billed Seconds,Rate,Billing Increments,Charge,Currency\n"
    good = "a1,2026-11-01 10:00:00,,4420794000,UK,44,60,60,0.1,60/60,0.100000,USD\n"
    path = tmp_path / "cdrs.csv"
    path.write_text(header + good)
    assert main(["--config", str(config), "cdr", "import", "--carrier", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "1 call(s) added, 0 already imported or repeated in the file, 0 conflicting (same call "
        "id, other values), 0 rejected; " in out
    )
    assert "days 2026-11-01" in out
    bad = tmp_path / "other.csv"
    bad.write_text(header.replace("Charge", "Cost") + good)
    assert main(["--config", str(config), "cdr", "import", "--carrier", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "other.csv" in err and "no column 'Charge'" in err and "\n" not in err
