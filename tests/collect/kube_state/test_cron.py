"""CronJob schedules: the next run after a time, and schedules that do not parse."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kubesight.collect.kube_state._cron import CronError, parse


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


@pytest.mark.parametrize(("schedule", "tz", "after", "want"), [
    ("0 * * * *", None, "2024-05-02T09:00:00Z", "2024-05-02T10:00:00Z"),
    ("0 * * * *", None, "2024-05-02T09:59:59Z", "2024-05-02T10:00:00Z"),
    ("*/15 * * * *", None, "2024-05-02T09:07:30Z", "2024-05-02T09:15:00Z"),
    ("30 2 * * 1-5", None, "2024-05-03T03:00:00Z", "2024-05-06T02:30:00Z"),       # Friday -> Monday
    ("0 0 1,15 * *", None, "2024-05-02T00:00:00Z", "2024-05-15T00:00:00Z"),
    ("0 0 13 * 5", None, "2024-05-02T00:00:00Z", "2024-05-03T00:00:00Z"),         # the 13th OR a Friday
    ("0 12 * JAN,jul SUN", None, "2024-05-02T00:00:00Z", "2024-07-07T12:00:00Z"),
    ("5/20 * * * *", None, "2024-05-02T09:26:00Z", "2024-05-02T09:45:00Z"),
    ("@hourly", None, "2024-05-02T09:00:00Z", "2024-05-02T10:00:00Z"),
    ("@daily", None, "2024-05-02T09:00:00Z", "2024-05-03T00:00:00Z"),
    ("@weekly", None, "2024-05-02T09:00:00Z", "2024-05-05T00:00:00Z"),
    ("@yearly", None, "2024-05-02T09:00:00Z", "2025-01-01T00:00:00Z"),
    ("0 9 * * *", "Europe/Berlin", "2024-05-02T08:00:00Z", "2024-05-03T07:00:00Z"),  # CEST, UTC+2
    ("CRON_TZ=America/New_York 0 9 * * *", None, "2024-01-10T15:00:00Z", "2024-01-11T14:00:00Z"),
    ("@every 1h30m", None, "2024-05-02T09:00:00.500000Z", "2024-05-02T10:30:00Z"),
    ("0 0 30 2 *", None, "2024-05-02T00:00:00Z", None),                           # never
])
def test_next_run(schedule: str, tz: str | None, after: str, want: str | None) -> None:
    got = parse(schedule, tz).next_after(_t(after))
    if want is None:
        assert got is None
    else:
        assert got is not None and got.astimezone(UTC) == _t(want)


@pytest.mark.parametrize(("schedule", "tz"), [
    ("", None), ("61 * * * *", None), ("* * * *", None), ("* * * * * *", None), ("@fortnightly", None),
    ("0 0 * * 7", None), ("*/0 * * * *", None), ("a * * * *", None), ("5-1 * * * *", None),
    ("0 * * * *", "Mars/Olympus"), ("@every soon", None),
])
def test_invalid_schedules(schedule: str, tz: str | None) -> None:
    with pytest.raises(CronError):
        parse(schedule, tz)


def _cronjob_families(spec: dict[str, object], status: dict[str, object] | None = None) -> set[str]:
    from kubesight.collect.kube_state.collector import KubeStateOptions
    from kubesight.collect.kube_state.workloads import cronjob

    obj = {"metadata": {"name": "c", "namespace": "n", "creationTimestamp": "2024-05-02T09:00:00Z"},
           "spec": spec, "status": status or {}}
    return set(cronjob(obj, KubeStateOptions().validated()))


def test_cronjob_schedule_invalid_and_suspended() -> None:
    assert {"kube_cronjob_schedule_invalid"} & _cronjob_families({"schedule": "every day"})
    assert "kube_cronjob_next_schedule_time" not in _cronjob_families({"schedule": "every day"})
    bad_zone = _cronjob_families({"schedule": "0 * * * *", "timeZone": "Nowhere/Town"})
    assert "kube_cronjob_schedule_invalid" in bad_zone
    ok = _cronjob_families({"schedule": "0 * * * *"})
    assert "kube_cronjob_next_schedule_time" in ok and "kube_cronjob_schedule_invalid" not in ok
    assert "kube_cronjob_next_schedule_time" not in _cronjob_families({"schedule": "0 * * * *", "suspend": True})
