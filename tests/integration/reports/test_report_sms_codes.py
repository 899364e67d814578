"""MCC and MNC are text as the networks publish them, end to end: sms_rate, sms_rate_change,
`ratedeck diff`'s rows and the email's attachment show 272-02 as '272' and '02', never 2. The
history stays keyed by the API's integers, so change ids do not move, and a warehouse made
before (integer columns) is migrated with its rows back-filled the same way."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta

import duckdb
from support.migrations import apply_schema_before
from support.reports import T0, T1, SmsHistory

from pipeline.analytics.diff import sms_changes
from pipeline.reports import build_report, send_report
from pipeline.warehouse.migrate import apply_migrations, sql_files

REPAIR = "107_sms_mnc_all_digits.sql"
DIGITS_REPAIR = "109_sms_unknown_mnc_digits.sql"
KNOWN = (272, 2)  # Ireland, "3": published as 272-02
UNKNOWN = (999, 5)  # in no reference


def test_codes_are_published_text_everywhere(con, settings, sms):
    sms.snapshot("acme:1", T0, {KNOWN: "0.0400", UNKNOWN: "0.0500"})
    sms.snapshot("acme:1", T1, {KNOWN: "0.0450", UNKNOWN: "0.0550"})

    stored = con.execute(
        "SELECT DISTINCT mcc, mnc, mcc_int, mnc_int FROM sms_rate ORDER BY mcc_int"
    ).fetchall()
    assert stored == [("272", "02", 272, 2), ("999", "05", 999, 5)]
    view = con.execute("SELECT mcc, mnc FROM sms_rate_change ORDER BY mcc_int").fetchall()
    assert view == [("272", "02"), ("999", "05")]
    diff = sms_changes(con)
    assert diff.select("mcc", "mnc", "network_code").rows() == [
        ("272", "02", "272-02"),
        ("999", "05", "999-05"),
    ]

    report = build_report(con, settings, now=T1)
    [attachment] = [a for a in report.attachments if a.filename.startswith("ratedeck-sms")]
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode("utf-8-sig"))))
    assert [(r["mcc"], r["mnc"]) for r in rows] == [("272", "02"), ("999", "05")]


def test_an_unknown_pair_has_as_many_mnc_digits_as_its_mcc_publishes(con, settings, sms):
    # US MCCs publish 3-digit MNCs (310-010, 311-010): an unknown (311, 7) read 311-07, as if
    # a 2-digit network; MCCs publishing 2 digits (272, Ireland) keep 2
    pairs = {(311, 7): "0.0500", (310, 2): "0.0600", (272, 77): "0.0700", UNKNOWN: "0.0800"}
    sms.snapshot("acme:1", T0, pairs)
    sms.snapshot("acme:1", T1, {pair: "0.0900" for pair in pairs})

    stored = con.execute(
        "SELECT DISTINCT mcc, mnc, known FROM sms_rate ORDER BY mcc_int, mnc_int"
    ).fetchall()
    assert stored == [
        ("272", "77", False),
        ("310", "002", False),
        ("311", "007", False),
        ("999", "05", False),  # the test MCC: as many 2- as 3-digit codes, so 2
    ]
    assert sms_changes(con)["network_code"].to_list() == [
        "272-77",
        "310-002",
        "311-007",
        "999-05",
    ]
    report = build_report(con, settings, now=T1)
    [attachment] = [a for a in report.attachments if a.filename.startswith("ratedeck-sms")]
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode("utf-8-sig"))))
    assert [(r["mcc"], r["mnc"]) for r in rows] == [
        ("272", "77"),
        ("310", "002"),
        ("311", "007"),
        ("999", "05"),
    ]


def test_change_ids_hash_the_api_integers(con, sms):
    sms.snapshot("acme:1", T0, {KNOWN: "0.0400"})
    sms.snapshot("acme:1", T1, {KNOWN: "0.0450"})

    [(change_id, snapshot_id)] = con.execute(
        "SELECT change_id, snapshot_id FROM sms_rate_change"
    ).fetchall()
    stamp = T1.strftime("%Y-%m-%dT%H:%M:%S.%f")
    expected = hashlib.md5(f"acme:1|272|2|increase|{stamp}|{snapshot_id}".encode()).hexdigest()
    assert change_id == expected  # as before MNCs became text: reported ids stay reported


def test_a_warehouse_with_integer_codes_is_migrated(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    apply_schema_before(con, "070")  # the schema as it was before 070
    con.execute(
        "INSERT INTO mcc_mnc VALUES ('272', '02', 272, 2, 'IE', 'Ireland', '3', '3', '3',"
        " 'Operational', 'wikipedia', true, false)"
    )
    con.execute(
        "INSERT INTO sms_rate (channel, mcc, mnc, rate, known, valid_from, valid_to,"
        " first_seen_at, first_snapshot_id) VALUES"
        " ('acme:1', 272, 2, 0.04, true, ?, NULL, ?, 1), ('acme:1', 999, 5, 0.05, false, ?, ?, ?, 1),"
        " ('acme:1', 9, 210, 0.06, false, ?, NULL, ?, 1)",
        [T0, T0, T0, T0 + timedelta(days=1), T0, T0, T0],
    )

    # 070 and every later migration, in name order
    assert apply_migrations(con) == sorted(p.name for p in sql_files("schema") if p.name >= "070")

    rows = con.execute(
        "SELECT mcc, mnc, mcc_int, mnc_int, rate, valid_to FROM sms_rate ORDER BY mcc_int"
    ).fetchall()
    assert [r[:4] for r in rows] == [
        ("009", "210", 9, 210),  # every digit, not lpad's '21'
        ("272", "02", 272, 2),
        ("999", "05", 999, 5),
    ]
    assert [r[5] for r in rows] == [None, None, T0 + timedelta(days=1)]  # history untouched
    con.close()


def test_mncs_stored_cut_to_two_digits_are_repaired_and_stay_reported(con, settings):
    """A warehouse loaded before the fix stored an unknown pair's MNC cut to 2 digits
    (lpad('210', 2, '0') = '21') and may have reported its changes. The repair gives the text
    every digit; change ids hash the integers, so nothing is reported again, and the next list
    finds the versions it loaded (the text is a value of the history), not new ones."""
    sms = SmsHistory(con)
    sms.snapshot("acme:1", T0, {(9, 210): "0.0500", (9, 21): "0.0600"})
    sms.snapshot("acme:1", T1, {(9, 210): "0.0550", (9, 21): "0.0600"})
    # as the loader before the fix stored them, in a warehouse that has not run the repair yet
    con.execute("UPDATE sms_rate SET mnc = lpad(CAST(mnc_int AS VARCHAR), 2, '0')")
    con.execute("DELETE FROM schema_migration WHERE name = ?", [REPAIR])
    report = build_report(con, settings, now=T1)
    assert report is not None
    send_report(con, settings, report)
    [(reported_id, label)] = con.execute(
        "SELECT change_id, mcc || '-' || mnc FROM sms_rate_change"
        " JOIN report_change USING (change_id) WHERE kind = 'sms'"
    ).fetchall()
    assert label == "009-21"  # reported under the cut label

    assert apply_migrations(con) == [REPAIR]

    assert con.execute(
        "SELECT mnc_int, mnc, count(*) FROM sms_rate GROUP BY ALL ORDER BY mnc_int"
    ).fetchall() == [(21, "21", 1), (210, "210", 2)]
    assert con.execute("SELECT change_id, mnc FROM sms_rate_change").fetchall() == [
        (reported_id, "210")
    ]
    assert build_report(con, settings, now=T1) is None  # nothing to report again

    sms.snapshot("acme:1", T1 + timedelta(days=1), {(9, 210): "0.0550", (9, 21): "0.0600"})
    assert con.execute("SELECT count(*) FROM sms_rate").fetchall() == [(3,)]  # no split
    assert sms_changes(con, unreported_only=True).is_empty()


def test_unknown_mncs_stored_with_two_digits_are_repaired_and_stay_reported(con, settings, sms):
    """A warehouse loaded before the fix stored (311, 7) as 311-07 and may have reported its
    change. The repair gives it 3 digits without moving a change id or splitting a version."""
    sms.snapshot("acme:1", T0, {(311, 7): "0.0500", (272, 77): "0.0600"})
    sms.snapshot("acme:1", T1, {(311, 7): "0.0550", (272, 77): "0.0600"})
    # as the loader before the fix stored them, in a warehouse that has not run the repair yet
    con.execute("UPDATE sms_rate SET mnc = printf('%02d', mnc_int)")
    con.execute("DELETE FROM schema_migration WHERE name = ?", [DIGITS_REPAIR])
    send_report(con, settings, build_report(con, settings, now=T1))
    [(reported_id, label)] = con.execute(
        "SELECT change_id, mcc || '-' || mnc FROM sms_rate_change"
        " JOIN report_change USING (change_id) WHERE kind = 'sms'"
    ).fetchall()
    assert label == "311-07"  # reported under the 2-digit label

    assert apply_migrations(con) == [DIGITS_REPAIR]

    assert con.execute(
        "SELECT mcc || '-' || mnc, count(*) FROM sms_rate GROUP BY ALL ORDER BY 1"
    ).fetchall() == [("272-77", 1), ("311-007", 2)]
    assert con.execute("SELECT change_id, mnc FROM sms_rate_change").fetchall() == [
        (reported_id, "007")
    ]
    assert build_report(con, settings, now=T1) is None  # nothing to report again

    sms.snapshot("acme:1", T1 + timedelta(days=1), {(311, 7): "0.0550", (272, 77): "0.0600"})
    assert con.execute("SELECT count(*) FROM sms_rate").fetchall() == [(3,)]  # no split
    assert sms_changes(con, unreported_only=True).is_empty()
