"""The rules of lake maintenance that need no lake: the duration settings, and which snapshots expire."""

from __future__ import annotations

import datetime as dt

import pytest

from dagmesh.storage.lake_maintenance import (
    CLEANUP_DELAY_ENV,
    RETENTION_ENV,
    LakeMaintenanceError,
    MaintenancePolicy,
    Protection,
    describe_duration,
    parse_duration,
    snapshots_to_expire,
)

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 days", dt.timedelta(days=30)),
        ("1 day", dt.timedelta(days=1)),
        ("30d", dt.timedelta(days=30)),
        ("12 hours", dt.timedelta(hours=12)),
        ("90 min", dt.timedelta(minutes=90)),
        ("2 weeks", dt.timedelta(weeks=2)),
        (" 1.5 H ", dt.timedelta(hours=1.5)),
        ("0 seconds", dt.timedelta(0)),
    ],
)
def test_durations_are_a_number_and_a_unit(text, expected):
    assert parse_duration(text, RETENTION_ENV) == expected


@pytest.mark.parametrize("text", ["30", "days", "-1 day", "1 fortnight", "1 day 2 hours", ""])
def test_a_wrong_duration_names_the_setting(text):
    with pytest.raises(LakeMaintenanceError, match=f"{RETENTION_ENV}=.*not a duration"):
        parse_duration(text, RETENTION_ENV)


def test_durations_are_described_as_written():
    assert [
        describe_duration(parse_duration(t, RETENTION_ENV))
        for t in ("30 days", "1 day", "36 hours", "90 minutes", "0 s", "1.5 s")
    ] == ["30 days", "1 day", "36 hours", "90 minutes", "0 seconds", "1.5 seconds"]


def test_the_policy_defaults_to_30_days_and_a_day_and_reads_the_environment(monkeypatch):
    monkeypatch.delenv(RETENTION_ENV, raising=False)
    monkeypatch.delenv(CLEANUP_DELAY_ENV, raising=False)
    assert MaintenancePolicy.from_env() == MaintenancePolicy(
        retention=dt.timedelta(days=30), cleanup_delay=dt.timedelta(days=1)
    )
    monkeypatch.setenv(RETENTION_ENV, "7 days")
    monkeypatch.setenv(CLEANUP_DELAY_ENV, "2 hours")
    assert MaintenancePolicy.from_env() == MaintenancePolicy(
        retention=dt.timedelta(days=7), cleanup_delay=dt.timedelta(hours=2)
    )
    monkeypatch.setenv(CLEANUP_DELAY_ENV, "soon")
    with pytest.raises(LakeMaintenanceError, match=CLEANUP_DELAY_ENV):
        MaintenancePolicy.from_env()


def _aged(*days: float) -> list[tuple[int, dt.datetime]]:
    return [(i, NOW - dt.timedelta(days=d)) for i, d in enumerate(days)]


def test_snapshots_past_the_cutoff_expire_unless_the_log_needs_them():
    snapshots = _aged(50, 45, 40, 31, 29, 1)
    protection = Protection(snapshots={1: "latest publication of sales.legacy"})
    expire, kept = snapshots_to_expire(snapshots, protection, NOW - dt.timedelta(days=30))
    assert expire == [0, 2, 3]
    assert kept == {1: "latest publication of sales.legacy"}


def test_the_latest_snapshot_is_never_expired():
    snapshots = _aged(50, 40)
    expire, kept = snapshots_to_expire(snapshots, Protection(), NOW)
    assert expire == [0]
    assert kept == {1: "the lake's latest snapshot"}


def test_a_snapshot_at_the_cutoff_stays():
    cutoff = NOW - dt.timedelta(days=30)
    expire, _ = snapshots_to_expire([(0, cutoff), (1, cutoff), (2, NOW)], Protection(), cutoff)
    assert expire == []
