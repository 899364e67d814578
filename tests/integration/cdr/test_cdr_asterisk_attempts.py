"""Asterisk with ``loguniqueid=yes`` writes one CDR per Dial attempt, every one under party A's
uniqueid: a failover dialplan (trunk 1 FAILED, then CommPeak ANSWERED) writes two records of
one uniqueid. Each attempt is its own call (docs/cdr.md#formats): the uniqueid's first attempt
in the file keeps the uniqueid, a later attempt to another channel is ``uniqueid|dstchannel``;
a re-export of the same attempt with other values is still a conflict."""

from __future__ import annotations

from pathlib import Path

from support.cdr import query

from pipeline.stages.cdr import import_file

# the auditor's failover: the same uniqueid u50, trunk1 FAILED, then commpeak ANSWERED
FAILED = (
    '"","1001","0210029168123456","from-internal","x","PJSIP/1001-a1","PJSIP/trunk1-1","Dial",'
    '"x","2026-12-08 17:00:00","","2026-12-08 17:00:03",3,0,"FAILED","DOCUMENTATION","u50",""'
)
ANSWERED = (
    '"","1001","0210029168123456","from-internal","x","PJSIP/1001-a1","PJSIP/commpeak-2",'
    '"Dial","x","2026-12-08 17:00:03","2026-12-08 17:00:10","2026-12-08 17:01:00",57,50,'
    '"ANSWERED","DOCUMENTATION","u50",""'
)
LATER = (
    '"","1001","0210029168123456","from-internal","x","PJSIP/1001-a2","PJSIP/commpeak-3",'
    '"Dial","x","2026-12-08 18:00:00","2026-12-08 18:00:05","2026-12-08 18:01:00",60,55,'
    '"ANSWERED","DOCUMENTATION","u51",""'
)


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def calls(settings) -> list[tuple]:
    sql = "SELECT call_id, disposition, billsec, billable FROM cdr_call ORDER BY started_at"
    return query(settings, sql)


def test_each_dial_attempt_of_a_failover_is_its_own_call(settings, tmp_path):
    done = import_file(settings, write(tmp_path / "failover.csv", FAILED, ANSWERED))
    assert (done.calls, done.duplicates, done.conflicts, done.rejects) == (2, 0, 0, 0)
    assert calls(settings) == [
        ("u50", "FAILED", 0, False),
        ("u50|PJSIP/commpeak-2", "ANSWERED", 50, True),
    ]
    # the file grown by a call: its attempts repeat, only the new call is added
    grown = import_file(settings, write(tmp_path / "grown.csv", FAILED, ANSWERED, LATER))
    assert (grown.calls, grown.duplicates, grown.conflicts) == (1, 2, 0)
    assert [call_id for call_id, *_ in calls(settings)] == ["u50", "u50|PJSIP/commpeak-2", "u51"]


def test_a_grown_file_recognises_the_first_attempt_stored_before(settings, tmp_path):
    # an earlier import stored the failed attempt under the bare uniqueid (as releases before
    # this one did); the grown file brings the answered attempt, nothing twice
    import_file(settings, write(tmp_path / "first.csv", FAILED))
    grown = import_file(settings, write(tmp_path / "grown.csv", FAILED, ANSWERED))
    assert (grown.calls, grown.duplicates, grown.conflicts) == (1, 1, 0)
    assert [call_id for call_id, *_ in calls(settings)] == ["u50", "u50|PJSIP/commpeak-2"]


def test_a_re_export_of_an_attempt_with_other_values_is_a_conflict(settings, tmp_path):
    import_file(settings, write(tmp_path / "failover.csv", FAILED, ANSWERED))
    corrected = ANSWERED.replace("57,50", "62,55")
    again = import_file(settings, write(tmp_path / "reexport.csv", FAILED, corrected))
    assert (again.calls, again.duplicates, again.conflicts) == (0, 1, 1)
    assert again.rejects_preview == (
        (
            2,
            "call u50|PJSIP/commpeak-2 is already stored with duration 57 s, 50 billed "
            "seconds (from failover.csv row 2); this file says duration 62 s, 55 billed "
            "seconds: the stored call stands",
        ),
    )
