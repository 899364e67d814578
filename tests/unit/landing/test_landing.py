from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from pipeline.landing import LandingError, LandingZone


def test_store_bytes_is_immutable_and_named_by_time_and_hash(tmp_path):
    zone = LandingZone(tmp_path)
    when = datetime(2026, 11, 26, 6, 0, 0, 123456, tzinfo=UTC)
    data = b"Destination,Prefix,Price,Billing Increments\nAfghanistan - Fixed,93,0.75,1/1"
    landed = zone.store_bytes("voice", "021001", data, ext="csv", fetched_at=when)
    sha = hashlib.sha256(data).hexdigest()
    assert landed.relative_path == f"raw/voice/021001/20261126T060000.123456Z-{sha[:16]}.csv"
    assert landed.sha256 == sha and landed.size_bytes == len(data)
    assert landed.read_bytes() == data
    assert not (landed.path.stat().st_mode & 0o222)  # read-only
    again = zone.store_bytes("voice", "021001", data, ext="csv", fetched_at=when)
    assert again.path == landed.path
    reopened = zone.open_landed("voice", "021001", landed.relative_path)
    assert reopened.fetched_at == when and reopened.sha256 == sha
    assert not list(landed.path.parent.glob(".incoming-*"))


@pytest.mark.parametrize("source", ["../customer", "021001/../x", "..", ".hidden", "a/b", ""])
def test_unsafe_sources_are_refused(tmp_path, source):
    with pytest.raises(LandingError):
        LandingZone(tmp_path).store_bytes(
            "voice", source, b"x", ext="csv", fetched_at=datetime.now(UTC)
        )
    assert not (tmp_path.parent / "customer").exists()


def test_open_landed_refuses_paths_outside_the_zone(tmp_path):
    (tmp_path / "secret.txt").write_text("x")
    with pytest.raises(LandingError):
        LandingZone(tmp_path).open_landed("voice", "current", "../secret.txt")
    with pytest.raises(LandingError):
        LandingZone(tmp_path).open_landed("voice", "current", "secret.txt")


def test_sms_channel_keys_become_safe_folder_names(tmp_path):
    landed = LandingZone(tmp_path).store_bytes(
        "sms", "acme:1", b"[]", ext="json", fetched_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert landed.relative_path.startswith("raw/sms/acme_1/")


def test_partials_left_by_a_killed_download_are_cleaned_only_when_stale(tmp_path):
    import os
    import time

    zone = LandingZone(tmp_path)
    folder = zone.folder("voice", "current")
    stale = [folder / ".incoming-abc", folder / ".incoming-abc.part"]
    fresh = folder / ".incoming-live"
    kept = folder / "20261126T060000.000000Z-0123456789abcdef.csv"
    for path in (*stale, fresh, kept):
        path.write_bytes(b"x")
    old = time.time() - 2 * 3600
    for path in (*stale, kept):
        os.utime(path, (old, old))
    new = zone.staging_file("voice", "current")
    assert not any(p.exists() for p in stale)
    assert fresh.exists() and kept.exists() and new.exists()
