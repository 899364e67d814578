"""A number dialled as tech prefix + 00 + number is stored normalised (docs/cdr.md#formats):
021001 then 00353873333333 is the number 353873333333 on route 021001, as lookup and cost
read it, so the carrier's 353873333333 pairs with it in the reconciliation. Calls an earlier
import stored with the 00 keep it, and a grown file brings them again as repeats, not as
conflicts: only the rule changed, not the call."""

from __future__ import annotations

from datetime import timedelta

from support.cdr import DAY, asterisk_line, query, write_master

from pipeline.emulator.cdr import CARRIER_HEADER
from pipeline.stages.cdr import cost_days, import_file
from pipeline.stages.reconcile import import_carrier_file
from pipeline.warehouse.db import Warehouse

DIALLED = "02100100353873333333"  # tech prefix 021001, then the number as dialled
NUMBER = "353873333333"
NINE = DAY + timedelta(hours=9)
OURS = asterisk_line("o1", DIALLED, NINE, 60)
LATER = asterisk_line("o2", "021001353873333334", NINE + timedelta(hours=1), 30)


def carrier_export(tmp_path):
    """The carrier's record of the call: its number without the 00, 021001's price of 353
    (support.cdr.HISTORY: 0.04 a minute, 30/30)."""
    row = ["t1", "2026-12-01 09:00:00", "021001", NUMBER, "Ireland", "353", "60", "60", "0.04",
           "30/30", "0.040000", "USD"]  # fmt: skip
    path = tmp_path / "theirs.csv"
    path.write_text(",".join(CARRIER_HEADER) + "\n" + ",".join(row) + "\n")
    return path


def test_the_number_after_a_tech_prefix_is_stored_normalised_and_reconciles(settings, tmp_path):
    imported = import_file(settings, write_master(tmp_path / "Master.csv", [OURS]))
    assert (imported.calls, imported.rejects) == (1, 0)
    stored = query(settings, "SELECT dialled, tech_prefix, number FROM cdr_call")
    assert stored == [(DIALLED, "021001", NUMBER)]
    import_carrier_file(settings, carrier_export(tmp_path))
    cost_days(settings)
    reconciled = query(
        settings,
        "SELECT class, number, our_call_id, their_call_id, our_cost, their_cost "
        "FROM reconcile_calls(DATE '2026-12-01', DATE '2026-12-01')",
    )
    assert [(r[0], r[1], r[2], r[3]) for r in reconciled] == [("exact", NUMBER, "o1", "t1")]
    assert reconciled[0][4] == reconciled[0][5]
    profile = query(settings, "SELECT DISTINCT number FROM cdr_cost")
    assert profile == [(NUMBER,)]


def stored_as_before(settings) -> None:
    """What imports until this release stored: the number after the tech prefix with its 00."""
    with Warehouse(settings).writer() as con:
        con.execute("UPDATE cdr_call SET number = '00' || number WHERE dialled LIKE '02100100%'")
    assert query(settings, "SELECT number FROM cdr_call WHERE call_id = 'o1'") == [("00" + NUMBER,)]


def test_a_call_stored_with_the_00_is_repeated_by_a_grown_file_not_a_conflict(settings, tmp_path):
    first = import_file(settings, write_master(tmp_path / "Master.csv", [OURS]))
    stored_as_before(settings)
    again = import_file(settings, write_master(tmp_path / "copy.csv", [OURS]))
    assert again.replayed  # the same bytes: nothing changes
    grown = import_file(settings, write_master(tmp_path / "Master.csv", [OURS, LATER]))
    assert (grown.calls, grown.duplicates, grown.conflicts, grown.rejects) == (1, 1, 0, 0)
    assert query(settings, "SELECT call_id, file_id, number FROM cdr_call ORDER BY call_id") == [
        ("o1", first.file_id, "00" + NUMBER),  # the stored call stands, as it was
        ("o2", grown.file_id, "353873333334"),
    ]
    assert query(settings, "SELECT count(*) FROM ingest_reject") == [(0,)]


def test_a_corrected_call_stored_with_the_00_conflicts_on_what_changed_only(settings, tmp_path):
    import_file(settings, write_master(tmp_path / "Master.csv", [OURS]))
    stored_as_before(settings)
    corrected = asterisk_line("o1", DIALLED, NINE, 61)
    again = import_file(settings, write_master(tmp_path / "Master.csv", [corrected]))
    assert (again.calls, again.conflicts) == (0, 1)
    assert again.rejects_preview == (
        (
            1,
            "call o1 is already stored with duration 63 s, 60 billed seconds (from Master.csv "
            "row 1); this file says duration 64 s, 61 billed seconds: the stored call stands",
        ),
    )
