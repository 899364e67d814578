"""A call the switch gave no id is named by its record, not by its file (docs/cdr.md#formats):
the raw text of its own fields plus its occurrence among identical records of the file
(``#1``, ``#2``). Asterisk's Master.csv is append-only and has no uniqueid by default, so a
grown file imported again adds only its new calls; a changed [cdr] timezone names them the
same; calls named by file and row before this release are recognised in a grown file."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from support.cdr import DAY, HISTORY, cdr_settings, insert_history, query, write_master

from pipeline.stages.cdr import cost_days, import_file
from pipeline.warehouse.db import Warehouse

LONDON = "442079460001"
DUBLIN = "35315551234"


def master_line(dialled: str, start, billsec: int, channel: str = "PJSIP/1001-00000001") -> str:
    """A Master.csv line as Asterisk writes it by default: 16 fields, no uniqueid."""
    stamp = start.strftime("%Y-%m-%d %H:%M:%S")
    fields = ["", "1001", dialled, "from-internal", "Alice <1001>", channel, "PJSIP/cp-2"]
    fields += ["Dial", f"PJSIP/{dialled}@cp", stamp, stamp, stamp]
    fields += [str(billsec + 3), str(billsec), "ANSWERED", "DOCUMENTATION"]
    return ",".join(f'"{f}"' for f in fields) + "\n"


NINE = DAY + timedelta(hours=9)
DAY_ONE = [
    master_line(LONDON, NINE, 60, "PJSIP/1001-00000001"),
    master_line(DUBLIN, NINE + timedelta(minutes=5), 125, "PJSIP/1002-00000003"),
    master_line(LONDON, NINE + timedelta(hours=3), 31, "PJSIP/1001-00000005"),
]
DAY_TWO = [
    master_line(LONDON, NINE + timedelta(days=1), 61, "PJSIP/1001-00000007"),
    master_line(DUBLIN, NINE + timedelta(days=1, hours=1), 90, "PJSIP/1003-00000009"),
]


def day_costs(settings) -> list[tuple]:
    sql = (
        "SELECT strftime(call_day, '%Y-%m-%d'), count(*), sum(cost) FROM cdr_cost "
        "GROUP BY 1 ORDER BY 1"
    )
    return query(settings, sql)


def test_a_grown_master_csv_adds_only_its_new_calls(settings, tmp_path):
    first = import_file(settings, write_master(tmp_path / "Master.csv", DAY_ONE))
    assert (first.calls, first.duplicates) == (3, 0)
    cost_days(settings)
    before = day_costs(settings)
    assert [(day, calls) for day, calls, _ in before] == [("2026-12-01", 3)]

    grown = import_file(settings, write_master(tmp_path / "Master.csv", DAY_ONE + DAY_TWO))
    assert (grown.calls, grown.duplicates) == (2, 3)
    cost_days(settings)
    after = day_costs(settings)
    assert after[0] == before[0]  # the old day: the same calls, the same money
    assert [(day, calls) for day, calls, _ in after] == [("2026-12-01", 3), ("2026-12-02", 2)]
    assert query(settings, "SELECT count(*) FROM cdr_call") == [(5,)]


def test_two_identical_records_are_two_calls_and_stay_two_when_the_file_grows(settings, tmp_path):
    twice = [master_line(LONDON, NINE, 60), master_line(LONDON, NINE, 60)]
    first = import_file(settings, write_master(tmp_path / "Master.csv", twice))
    assert (first.calls, first.duplicates) == (2, 0)
    grown = twice + [master_line(LONDON, NINE, 60), *DAY_TWO]  # a third, then another day
    again = import_file(settings, write_master(tmp_path / "Master.csv", grown))
    assert (again.calls, again.duplicates) == (3, 2)
    ids = [call_id for (call_id,) in query(settings, "SELECT call_id FROM cdr_call")]
    assert len(ids) == len(set(ids)) == 5
    counted = query(settings, "SELECT count(*) FROM cdr_call WHERE call_day = DATE '2026-12-01'")
    assert counted == [(3,)]
    cost_days(settings)
    [(calls, total)] = query(
        settings, "SELECT count(*), sum(cost) FROM cdr_cost WHERE call_day = DATE '2026-12-01'"
    )
    assert (calls, total) == (3, 3 * Decimal("0.300000"))  # 442079: 0.3 a minute, 30/6


def test_a_changed_timezone_between_two_imports_still_dedupes(tmp_path):
    kolkata = cdr_settings(tmp_path / "data", timezone="Asia/Kolkata")
    insert_history(kolkata, HISTORY)
    import_file(kolkata, write_master(tmp_path / "Master.csv", DAY_ONE))
    utc = cdr_settings(tmp_path / "data", timezone="UTC")
    grown = import_file(utc, write_master(tmp_path / "Master.csv", DAY_ONE + DAY_TWO))
    assert (grown.calls, grown.duplicates) == (2, 3)
    assert query(utc, "SELECT count(*) FROM cdr_call") == [(5,)]


def test_the_record_key_is_readable_and_the_same_for_every_read(settings, tmp_path):
    import_file(settings, write_master(tmp_path / "Master.csv", DAY_ONE[:1]))
    [(call_id,)] = query(settings, "SELECT call_id FROM cdr_call")
    assert call_id == "2026-12-01 09:00:00|PJSIP/1001-00000001|PJSIP/cp-2#1"


def test_calls_named_by_file_and_row_before_are_recognised_in_the_grown_file(settings, tmp_path):
    """A warehouse of an older ratedeck named these calls <sha256[:16]>:<row>."""
    first = import_file(settings, write_master(tmp_path / "Master.csv", DAY_ONE))
    with_old_ids = (
        "UPDATE cdr_call c SET call_id = left(f.content_sha256, 16) || ':' || c.row_number "
        "FROM cdr_file f WHERE f.file_id = c.file_id"
    )
    with Warehouse(settings).writer() as con:
        con.execute(with_old_ids)
    assert query(settings, "SELECT count(*) FROM cdr_call WHERE call_id LIKE '%:_'") == [(3,)]
    assert first.calls == 3
    grown = import_file(settings, write_master(tmp_path / "Master.csv", DAY_ONE + DAY_TWO))
    assert (grown.calls, grown.duplicates) == (2, 3)
    assert query(settings, "SELECT count(*) FROM cdr_call") == [(5,)]


def test_generic_and_freeswitch_files_without_ids_are_named_by_record(tmp_path):
    generic = cdr_settings(tmp_path / "data", format="generic")
    insert_history(generic, HISTORY)
    header = "number,seconds,started_at\n"
    rows = [f"{LONDON},60,2026-12-01 09:00:00\n", f"{DUBLIN},30,2026-12-01 09:01:00\n"]
    path = tmp_path / "calls.csv"
    path.write_text(header + rows[0])
    import_file(generic, path)
    path.write_text(header + "".join(rows))
    grown = import_file(generic, path)
    assert (grown.calls, grown.duplicates) == (1, 1)
    ids = query(generic, "SELECT call_id FROM cdr_call ORDER BY row_number")
    assert ids == [
        ("2026-12-01 09:00:00|442079460001|60|#1",),
        ("2026-12-01 09:01:00|35315551234|30|#1",),
    ]

    freeswitch = cdr_settings(tmp_path / "fs", format="freeswitch")
    line = (
        '"Alice","1001","{n}","default","{t}","{t}","{t}","{d}","{b}","NORMAL_CLEARING","","",'
        '"","PCMA","PCMA"\n'
    )
    first = line.format(n=LONDON, t="2026-12-01 09:00:00", d=63, b=60)
    second = line.format(n=DUBLIN, t="2026-12-01 10:00:00", d=93, b=90)
    fs_path = tmp_path / "fs.csv"
    fs_path.write_text(first)
    import_file(freeswitch, fs_path)
    fs_path.write_text(first + second)
    grown = import_file(freeswitch, fs_path)
    assert (grown.calls, grown.duplicates) == (1, 1)


# the auditor's call, without uniqueid (Asterisk's default), and its re-export corrected
REEXPORTED = (
    '"","1001","0210029168123456","from-internal","x","PJSIP/1001-00000007","PJSIP/cp","Dial",'
    '"x","2026-12-08 11:00:00","2026-12-08 11:00:05","2026-12-08 11:01:10",{seconds},'
    '"ANSWERED","BILLING"\n'
)


def test_a_corrected_re_export_of_a_call_without_uniqueid_is_a_conflict(settings, tmp_path):
    """Channel, dstchannel and start name one Dial attempt: the same attempt with other
    seconds is the switch correcting it, named and refused, not a second call."""
    day = import_file(
        settings, write_master(tmp_path / "day.csv", [REEXPORTED.format(seconds="65,60")])
    )
    assert day.calls == 1
    again = import_file(settings, write_master(tmp_path / "reexport.csv", [REEXPORTED.format(seconds="70,65")]))  # fmt: skip
    assert (again.calls, again.duplicates, again.conflicts) == (0, 0, 1)
    assert again.rejects_preview == (
        (
            1,
            "call 2026-12-08 11:00:00|PJSIP/1001-00000007|PJSIP/cp#1 is already stored with "
            "duration 65 s, 60 billed seconds (from day.csv row 1); this file says duration "
            "70 s, 65 billed seconds: the stored call stands",
        ),
    )
    assert query(settings, "SELECT billsec FROM cdr_call") == [(60,)]


def test_calls_named_by_their_former_record_text_are_recognised_in_the_grown_file(
    settings, tmp_path
):
    """Until this release an Asterisk call without uniqueid was named by start, dst,
    duration, billsec, disposition and channel: a grown file repeats those calls."""
    import_file(settings, write_master(tmp_path / "Master.csv", DAY_ONE))
    former = (
        "UPDATE cdr_call SET call_id = strftime(timezone('UTC', started_at), "
        "'%Y-%m-%d %H:%M:%S') || '|' || dialled || '|' || duration_seconds || '|' || billsec "
        "|| '|ANSWERED|' || split_part(call_id, '|', 2) || '#1'"
    )
    with Warehouse(settings).writer() as con:
        con.execute(former)
    [(stored,)] = query(settings, "SELECT call_id FROM cdr_call WHERE row_number = 1")
    assert stored == "2026-12-01 09:00:00|442079460001|63|60|ANSWERED|PJSIP/1001-00000001#1"
    grown = import_file(settings, write_master(tmp_path / "Master.csv", DAY_ONE + DAY_TWO))
    assert (grown.calls, grown.duplicates, grown.conflicts) == (2, 3, 0)
    assert query(settings, "SELECT count(*) FROM cdr_call") == [(5,)]
