"""``ratedeck demo`` end to end, as a subprocess on a tmp data dir, twice."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from support.demo import SMALL_DEMO_TOML, query

pytestmark = pytest.mark.slow  # the full `ratedeck demo`: minutes

DEMO_TECH_PREFIXES = ("current", "021001", "021002")
DEMO_SMS_FOLDERS = ("demo_1", "demo_2")  # channel demo:1 / demo:2 in the landing zone
NOTICE_DAYS = 7
# "12 price changes" (voice only), "5 SMS price changes", "12 voice and 5 SMS price changes"
SUBJECT_COUNTS = re.compile(
    r"^ratedeck: (?:(?P<voice>\d+) voice and (?P<sms>\d+) SMS"
    r"|(?P<sms_only>\d+) SMS|(?P<voice_only>\d+)) price changes?\b"
)


def subject_counts(subject: str) -> tuple[int, int]:
    match = SUBJECT_COUNTS.match(subject)
    assert match, subject
    voice = match["voice"] or match["voice_only"] or 0
    sms = match["sms"] or match["sms_only"] or 0
    return int(voice), int(sms)


def notice_counts(data_dir: Path) -> tuple[int, int]:
    """(announced, short-notice increases) as the finance report counts them: announced is
    dated after the fetch that first saw it; a short-notice increase is an increase in a dated
    deck (or announced ahead) with less than report.notice_days of notice, zero included."""
    [(announced, short_notice)] = query(
        data_dir,
        "SELECT count(*) FILTER (WHERE changed_at > announced_at AND change_type <> 'withdrawn'),"
        " count(*) FILTER (WHERE change_type = 'increase' AND notice_days < ?"
        " AND (changed_at > announced_at OR stated_effective_at IS NOT NULL))"
        " FROM voice_rate_change",
        [NOTICE_DAYS],
    )
    return announced, short_notice


def test_demo_end_to_end(first_demo, demo_dir):
    result = first_demo.result()
    assert result.returncode == 0, result.stderr[-3000:]

    # one finance email, whose subject counts what the published warehouse holds
    [eml] = sorted((demo_dir / "outbox").glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    [(voice_changes, sms_changes)] = query(
        demo_dir,
        "SELECT (SELECT count(*) FROM voice_rate_change), (SELECT count(*) FROM sms_rate_change)",
    )
    assert subject_counts(message["subject"]) == (voice_changes, sms_changes)
    assert voice_changes > 0 and sms_changes > 0

    # raw downloads: one per tech prefix (and SMS channel) per market day
    for tech_prefix in DEMO_TECH_PREFIXES:
        assert len(list((demo_dir / "raw" / "voice" / tech_prefix).iterdir())) == 2
    for channel in DEMO_SMS_FOLDERS:
        assert len(list((demo_dir / "raw" / "sms" / channel).iterdir())) == 2
    # issue 13: "current" is the emulated account's default tech prefix 021001: one deck,
    # loaded once (as current, first in the settings), 021001 recorded as its alias
    snapshots = query(demo_dir, "SELECT tech_prefix, count(*) FROM voice_snapshot GROUP BY 1")
    assert dict(snapshots) == {"current": 2, "021002": 2}
    aliases = query(demo_dir, "SELECT tech_prefix, same_as FROM voice_deck_alias")
    assert aliases == [("021001", "current")] * 2
    assert "021001" not in message["subject"]
    assert re.search(r"^voice\s+021001\s+ok\b.*same deck as current \(sha256 ", result.stdout, re.M)

    # issue 13: the two market days are days, stamped by the demo clock from each day's start
    days = re.findall(
        r"^ratedeck demo: (day 1 \(baseline\)|day 2): market of (\S+) \(seed \d+\), "
        r"fetched as of (\S+) \d\d:\d\d:\d\d UTC \(demo clock\)$",
        result.stdout,
        re.M,
    )
    assert [(label, market, stamped == market) for label, market, stamped in days] == [
        ("day 1 (baseline)", days[0][1], True),
        ("day 2", days[1][1], True),
    ]
    day1, day2 = (date.fromisoformat(d[1]) for d in days)
    assert day2 - day1 == timedelta(days=1)
    fetched = query(
        demo_dir,
        "SELECT DISTINCT CAST(fetched_at AT TIME ZONE 'UTC' AS DATE) FROM voice_snapshot"
        " ORDER BY 1",
    )
    assert fetched == [(day1,), (day2,)]
    # the balance is fetched on day 0 too: what day 1's spend is measured from
    balances = query(
        demo_dir,
        "SELECT CAST(fetched_at AT TIME ZONE 'UTC' AS DATE) FROM balance_snapshot ORDER BY 1",
    )
    assert balances == [(day1 - timedelta(days=1),), (day1,), (day2,)]
    # a runway over a day of spending, not minutes
    [(window_days, avg_daily_spend, note)] = query(
        demo_dir, "SELECT window_days, avg_daily_spend, runway_note FROM balance_runway"
    )
    assert window_days >= 1 and avg_daily_spend is not None and note is None
    # independent decks: current and 021002 do not show the same changes
    tallies = query(
        demo_dir,
        "SELECT tech_prefix, list(change_type ORDER BY change_type) FROM voice_rate_change"
        " GROUP BY 1 ORDER BY 1",
    )
    assert len(tallies) == 2 and tallies[0][1] != tallies[1][1]

    # issue 8: at least one announced change and one short-notice increase
    announced, short_notice = notice_counts(demo_dir)
    assert announced >= 1 and short_notice >= 1
    assert "[SHORT NOTICE]" in message.get_body(("plain",)).get_content()

    # day 2's run summary counts the changes it detected; the "what changed" block agrees
    out = result.stdout
    total = voice_changes + sms_changes
    detected = f"{total} price change(s) detected ({voice_changes} voice, {sms_changes} SMS)"
    assert detected in out, out
    assert "what changed on day 2" in out
    assert re.search(rf"^voice changes\s+{voice_changes}\b", out, re.M), out
    assert re.search(rf"^SMS changes\s+{sms_changes}\b", out, re.M), out
    assert re.search(rf"^announced \(future-dated\)\s+{announced}\s+earliest effective", out, re.M)
    assert re.search(rf"^short-notice increases\s+{short_notice}\b", out, re.M), out
    assert f"finance email: {eml}" in out
    assert f"subject:       {message['subject']}" in out
    assert "Traceback" not in result.stderr


def test_demo_day_1_reconciles_and_day_2_does_not(first_demo, demo_dir):
    result = first_demo.result()
    assert result.returncode == 0, result.stderr[-3000:]
    days = query(
        demo_dir,
        "SELECT day, within_tolerance, difference FROM reconcile_daily ORDER BY day",
    )
    assert [(ok, diff == 0) for _, ok, diff in days] == [(True, True), (False, False)]
    (day1, _, _), (day2, _, difference) = days
    [(disputed,)] = query(
        demo_dir,
        "SELECT count(*) FROM reconcile_call WHERE class <> 'exact' AND call_day = ?",
        [day2],
    )
    [(disputed_day1,)] = query(
        demo_dir,
        "SELECT count(*) FROM reconcile_call WHERE class <> 'exact' AND call_day = ?",
        [day1],
    )
    assert disputed >= 30 and disputed_day1 == 0
    # the summary says what each day shows
    assert re.search(rf"^{day1}\s.*\byes\s+0$", result.stdout, re.M), result.stdout
    assert re.search(rf"^{day2}\s.*\bNO\s+{disputed}$", result.stdout, re.M), result.stdout
    # and so does the email: day 2 beyond tolerance with the money, day 1 within, the disputes
    [eml] = sorted((demo_dir / "outbox").glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    assert f"{day2}: the balance spent " in text and "beyond the 2% tolerance" in text
    assert f"Within the 2% tolerance: {day1}." in text
    assert f"Disputed calls: {disputed} call(s), +" in text
    names = [part.get_filename() for part in message.iter_attachments()]
    assert any(n.startswith("ratedeck-reconciliation-") for n in names), names
    assert difference > 0


def test_a_call_of_yesterday_can_be_costed(ratedeck, first_demo, demo_dir):
    """Issue 13: the history starts at the start of day 1 (yesterday), so past calls answer."""
    result = first_demo.result()
    assert result.returncode == 0, result.stderr[-3000:]
    day1 = re.search(r"day 1 \(baseline\): market of (\S+) ", result.stdout)[1]
    lookup = ratedeck(
        "lookup",
        "+353 89 412 3456",
        "--duration",
        "185",
        "--at",
        f"{day1}T09:30:00",
        cwd=demo_dir.parent,
        RATEDECK_DATA_DIR=str(demo_dir),
    )
    assert lookup.returncode == 0, lookup.stderr
    assert "(no match)" not in lookup.stdout
    assert re.search(r"^current\s+353894\s", lookup.stdout, re.M), lookup.stdout
    assert re.search(r"^021002\s+353894\s", lookup.stdout, re.M), lookup.stdout


def test_demo_again_wipes_its_own_data(ratedeck, first_demo, demo_dir):
    assert first_demo.result().returncode == 0
    config = demo_dir.parent / "small-demo.toml"
    config.write_text(SMALL_DEMO_TOML)

    result = ratedeck(
        "demo",
        "--json",
        "--deck-size",
        "400",
        "--config",
        str(config),
        cwd=demo_dir.parent,
        RATEDECK_DATA_DIR=str(demo_dir),
    )

    assert result.returncode == 0, result.stderr[-3000:]
    doc = json.loads(result.stdout)  # one JSON document and nothing else on stdout
    assert doc["ok"] is True
    assert [day["label"] for day in doc["days"]] == ["day 1 (baseline)", "day 2"]
    assert all(day["ok"] for day in doc["days"])
    changed = doc["what_changed"]
    assert changed["voice_total"] == doc["days"][1]["totals"]["voice_changes"] > 0
    assert changed["sms_total"] == 0
    assert changed["announced"] >= 1 and changed["short_notice_increases"] >= 1
    # the first run's data is gone: one tech prefix, two snapshots, one email
    assert query(demo_dir, "SELECT tech_prefix, count(*) FROM voice_snapshot GROUP BY 1") == [
        ("021001", 2)
    ]
    assert sorted(p.name for p in (demo_dir / "raw" / "voice").iterdir()) == ["021001"]
    assert not (demo_dir / "raw" / "sms").exists()
    [eml] = (demo_dir / "outbox").glob("*.eml")
    assert doc["locations"]["email"] == str(eml)
    assert doc["locations"]["warehouse"] == str(demo_dir / "warehouse.duckdb")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert changed["email_subject"] == message["subject"]
    assert subject_counts(message["subject"]) == (changed["voice_total"], 0)
