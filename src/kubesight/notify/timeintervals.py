"""Alertmanager's ``time_intervals``: when a route is muted or active.

An interval matches an instant when every field it names matches (times,
weekdays, days of month, months, years, evaluated in its ``location``); each
field is a list of ranges, any of which may match. A named time interval
matches when any of its intervals does. End times are exclusive, and negative
days of month count back from the month's last day, as Alertmanager's
``timeinterval`` package defines.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from kubesight.errors import ConfigError

_WEEKDAYS = {d: i for i, d in enumerate(
    ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"])}
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_TIME = re.compile(r"^(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class TimeInterval:
    times: tuple[tuple[int, int], ...] = ()  # minutes of the day, [start, end)
    weekdays: tuple[tuple[int, int], ...] = ()  # 0 = Sunday, as Go's time.Weekday
    days_of_month: tuple[tuple[int, int], ...] = ()
    months: tuple[tuple[int, int], ...] = ()
    years: tuple[tuple[int, int], ...] = ()
    location: tzinfo = UTC

    def contains(self, t: float) -> bool:
        dt = datetime.fromtimestamp(t, self.location)
        if self.times:
            minute = dt.hour * 60 + dt.minute
            if not any(s <= minute < e for s, e in self.times):
                return False
        if self.days_of_month:
            last = calendar.monthrange(dt.year, dt.month)[1]
            if not any(_day_in(dt.day, s, e, last) for s, e in self.days_of_month):
                return False
        if self.months and not any(s <= dt.month <= e for s, e in self.months):
            return False
        wd = (dt.weekday() + 1) % 7  # Python's Monday=0 to Go's Sunday=0
        if self.weekdays and not any(s <= wd <= e for s, e in self.weekdays):
            return False
        return not self.years or any(s <= dt.year <= e for s, e in self.years)


def _day_in(day: int, start: int, end: int, last: int) -> bool:
    s = start if start > 0 else last + start + 1
    e = end if end > 0 else last + end + 1
    s = max(s, 1)
    e = min(e, last)
    return s <= day <= e


def active(intervals: Sequence[TimeInterval], t: float) -> bool:
    return any(i.contains(t) for i in intervals)


def parse_intervals(raw: Any, where: str) -> tuple[TimeInterval, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected a list of time intervals")
    return tuple(_parse_one(item, f"{where}[{i}]") for i, item in enumerate(raw))


def _parse_one(raw: Any, where: str) -> TimeInterval:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping")
    known = {"times", "weekdays", "days_of_month", "months", "years", "location"}
    for k in raw:
        if k not in known:
            raise ConfigError(f"{where}: field {k} not found in type timeinterval.TimeInterval")
    loc: tzinfo = UTC
    if raw.get("location") not in (None, "", "UTC"):
        name = str(raw["location"])
        try:
            loc = zoneinfo.ZoneInfo("UTC" if name == "Local" else name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"{where}.location: unknown time zone {name!r}") from exc
    times = []
    for i, tr in enumerate(_list(raw.get("times"), f"{where}.times")):
        w = f"{where}.times[{i}]"
        if not isinstance(tr, dict) or set(tr) - {"start_time", "end_time"}:
            raise ConfigError(f"{w}: expected start_time and end_time")
        s = _minutes(tr.get("start_time"), f"{w}.start_time")
        e = _minutes(tr.get("end_time"), f"{w}.end_time")
        if s >= e:
            raise ConfigError(f"{w}: start time cannot be equal or greater than end time")
        times.append((s, e))
    return TimeInterval(
        times=tuple(times),
        weekdays=_ranges(raw.get("weekdays"), f"{where}.weekdays", _WEEKDAYS, 0, 6),
        days_of_month=_days(raw.get("days_of_month"), f"{where}.days_of_month"),
        months=_ranges(raw.get("months"), f"{where}.months", _MONTHS, 1, 12),
        years=_ranges(raw.get("years"), f"{where}.years", {}, 0, 9999),
        location=loc,
    )


def _list(raw: Any, where: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected a list")
    return raw


def _minutes(raw: Any, where: str) -> int:
    m = _TIME.match(str(raw)) if raw is not None else None
    if m is None:
        raise ConfigError(f"{where}: couldn't parse timestamp {raw!r}, invalid format (want HH:MM)")
    h, mi = int(m.group(1)), int(m.group(2))
    if h > 24 or mi > 59 or (h == 24 and mi != 0):
        raise ConfigError(f"{where}: timestamp {raw!r} out of range (00:00 to 24:00)")
    return h * 60 + mi


def _value(tok: str, names: dict[str, int], lo: int, hi: int, where: str) -> int:
    t = tok.strip().lower()
    if t in names:
        return names[t]
    try:
        v = int(t)
    except ValueError:
        raise ConfigError(f"{where}: {tok!r} is not a valid value") from None
    if not lo <= v <= hi:
        raise ConfigError(f"{where}: {tok!r} is out of range ({lo} to {hi})")
    return v


def _ranges(raw: Any, where: str, names: dict[str, int], lo: int, hi: int) -> tuple[tuple[int, int], ...]:
    out = []
    for i, item in enumerate(_list(raw, where)):
        w = f"{where}[{i}]"
        parts = str(item).split(":")
        if len(parts) > 2:
            raise ConfigError(f"{w}: {item!r} is not a valid range")
        s = _value(parts[0], names, lo, hi, w)
        e = _value(parts[-1], names, lo, hi, w)
        if s > e:
            raise ConfigError(f"{w}: start {parts[0]!r} is after end {parts[-1]!r}")
        out.append((s, e))
    return tuple(out)


def _days(raw: Any, where: str) -> tuple[tuple[int, int], ...]:
    out = []
    for i, item in enumerate(_list(raw, where)):
        w = f"{where}[{i}]"
        parts = str(item).split(":")
        if len(parts) > 2:
            raise ConfigError(f"{w}: {item!r} is not a valid range")
        s = _value(parts[0], {}, -31, 31, w)
        e = _value(parts[-1], {}, -31, 31, w)
        if s == 0 or e == 0:
            raise ConfigError(f"{w}: days of month cannot be 0")
        if (s > 0) == (e > 0) and s > e:
            raise ConfigError(f"{w}: start day {s} is after end day {e}")
        if s < 0 < e:
            raise ConfigError(f"{w}: a range cannot start from the end of the month and end at its start")
        out.append((s, e))
    return tuple(out)
