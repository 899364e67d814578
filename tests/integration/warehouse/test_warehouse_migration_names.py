"""Migration names are forever: a warehouse records each migration it applied by file name,
so a renamed migration makes every later ratedeck refuse that warehouse as "migrated by a
newer ratedeck" (it happened on main: ``FORMER_NAMES``). A warehouse recording a former name
opens, writers and readers alike, and nothing is applied twice."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.warehouse.migrate import (
    FORMER_NAMES,
    apply_migrations,
    known_migrations,
    recorded_migrations,
    refuse_newer_schema,
)

# every migration release 0.2.0 ships: a later release keeps each of these names
RELEASED = [
    "001_voice.sql",
    "020_report.sql",
    "040_sms.sql",
    "050_balance.sql",
    "060_pending_delivery.sql",
    "060_report_setting.sql",
    "065_voice_deck_alias.sql",
    "070_sms_code_text.sql",
    "080_catalog_comments.sql",
    "090_cdr.sql",
    "095_reconcile.sql",
    "098_voice_rate_no_index.sql",
    "099_cdr_billable_freeswitch.sql",
    "100_cdr_cost_no_key.sql",
    "101_call_tables_no_key.sql",
    "102_duplicate_count_comments.sql",
    "103_call_named_by_record.sql",
    "104_cdr_call_conflicts.sql",
    "105_cdr_day.sql",
    "106_carrier_call_conflicts.sql",
    "107_sms_mnc_all_digits.sql",
    "108_cdr_call_correction.sql",
    "109_sms_unknown_mnc_digits.sql",
    "110_refused_rows_keep_price.sql",
    "111_schema_migration_version.sql",
    "112_report_dispute.sql",
    "113_cdr_conflict_dismissal.sql",
    "114_cdr_rejects_refused_before.sql",
]


def test_no_released_migration_is_renamed_or_removed() -> None:
    missing = sorted(set(RELEASED) - set(known_migrations()))
    assert missing == [], (
        f"{missing}: a released migration was renamed or removed; warehouses record these "
        "names. Put it back, or map the old name in migrate.FORMER_NAMES"
    )


def test_former_names_map_to_shipped_migrations() -> None:
    shipped = set(known_migrations())
    assert set(FORMER_NAMES.values()) <= shipped
    assert not set(FORMER_NAMES) & shipped


@pytest.mark.parametrize("former", sorted(FORMER_NAMES))
def test_a_warehouse_recording_a_former_name_opens_and_applies_nothing_again(
    tmp_path: Path, former: str
) -> None:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        assert apply_migrations(con) == known_migrations()
        con.execute(
            "UPDATE schema_migration SET name = ? WHERE name = ?", [former, FORMER_NAMES[former]]
        )
    with duckdb.connect(str(path), read_only=True) as reader:
        refuse_newer_schema(reader, recorded_migrations(reader))  # a reader: no refusal
    with duckdb.connect(str(path)) as con:
        assert apply_migrations(con) == []  # a writer: no refusal, nothing applied twice
