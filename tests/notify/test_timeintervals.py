"""time_intervals as Alertmanager's timeinterval package evaluates them."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kubesight.notify.timeintervals import parse_intervals

UTC = ZoneInfo("UTC")


def at(s: str, tz: str = "UTC") -> float:
    return datetime.fromisoformat(s).replace(tzinfo=ZoneInfo(tz)).timestamp()


CASES = [
    # (interval, instant, contained)
    ({"times": [{"start_time": "09:00", "end_time": "17:00"}]}, "2024-03-04 09:00", True),
    ({"times": [{"start_time": "09:00", "end_time": "17:00"}]}, "2024-03-04 17:00", False),  # end exclusive
    ({"times": [{"start_time": "22:00", "end_time": "24:00"}]}, "2024-03-04 23:59", True),
    ({"weekdays": ["monday:friday"]}, "2024-03-04 12:00", True),  # a Monday
    ({"weekdays": ["monday:friday"]}, "2024-03-03 12:00", False),  # a Sunday
    ({"weekdays": ["sunday"]}, "2024-03-03 12:00", True),
    ({"days_of_month": ["-1"]}, "2024-02-29 12:00", True),  # last day of a leap February
    ({"days_of_month": ["-1"]}, "2024-02-28 12:00", False),
    ({"days_of_month": ["1:5", "-3:-1"]}, "2024-04-29 00:00", True),
    ({"days_of_month": ["1:5"]}, "2024-04-06 00:00", False),
    ({"months": ["january:march", "12"]}, "2024-12-01 00:00", True),
    ({"months": ["january:march"]}, "2024-04-01 00:00", False),
    ({"years": ["2023:2024"]}, "2024-04-01 00:00", True),
    ({"years": ["2025"]}, "2024-04-01 00:00", False),
    ({"weekdays": ["saturday", "sunday"], "times": [{"start_time": "10:00", "end_time": "11:00"}]},
     "2024-03-02 10:30", True),
    ({"weekdays": ["saturday", "sunday"], "times": [{"start_time": "10:00", "end_time": "11:00"}]},
     "2024-03-02 11:30", False),
]


@pytest.mark.parametrize(("raw", "instant", "expected"), CASES)
def test_contains(raw: dict[str, object], instant: str, expected: bool) -> None:
    (ti,) = parse_intervals([raw], "t")
    assert ti.contains(at(instant)) is expected


def test_location_shifts_the_day() -> None:
    (ti,) = parse_intervals([{"times": [{"start_time": "09:00", "end_time": "10:00"}],
                              "location": "Asia/Tokyo"}], "t")
    assert ti.contains(at("2024-03-04 09:30", "Asia/Tokyo"))
    assert not ti.contains(at("2024-03-04 09:30", "UTC"))


@pytest.mark.parametrize(("raw", "where"), [
    ({"times": [{"start_time": "9:00", "end_time": "10:00"}]}, "t[0].times[0].start_time"),
    ({"times": [{"start_time": "09:00", "end_time": "25:00"}]}, "t[0].times[0].end_time"),
    ({"weekdays": ["friday:monday"]}, "t[0].weekdays[0]"),
    ({"days_of_month": ["0"]}, "t[0].days_of_month[0]"),
    ({"months": ["13"]}, "t[0].months[0]"),
    ({"location": "Mars/Olympus"}, "t[0].location"),
    ({"minutes": 1}, "t[0]"),
])
def test_bad_intervals_name_the_field(raw: dict[str, object], where: str) -> None:
    from kubesight.errors import ConfigError

    with pytest.raises(ConfigError, match="^" + re.escape(where) + ": "):
        parse_intervals([raw], "t")
