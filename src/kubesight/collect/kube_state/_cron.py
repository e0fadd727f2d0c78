"""Cron schedules as CronJobs use them: parse, and the next run after a time.

The grammar of the standard five-field parser Kubernetes and kube-state-metrics
use (minute hour day-of-month month day-of-week): ``*``, ``?``, ``a-b``,
``/step``, lists, month and weekday names, the ``@yearly``... descriptors,
``@every <duration>``, and a ``CRON_TZ=`` / ``TZ=`` prefix. When both
day-of-month and day-of-week are restricted a day matching either runs, as in
every cron. Written from that documented behaviour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
                "@hourly": "0 * * * *"}
_MONTHS = {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (min, max, names) of minute, hour, day of month, month, day of week
_NONE: dict[str, int] = {}
_FIELDS = ((0, 59, _NONE), (0, 23, _NONE), (1, 31, _NONE), (1, 12, _MONTHS), (0, 6, _DAYS))
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
# Give up after five years without a match (a schedule for February 30th).
_SEARCH_YEARS = 5


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_star: bool
    weekdays_star: bool
    tz: tzinfo
    every: float = 0.0  # @every: seconds between runs

    def next_after(self, t: datetime) -> datetime | None:
        """The first run strictly after ``t`` (aware), or None if none in five years."""
        if self.every:
            step = max(1.0, self.every)
            return t.replace(microsecond=0) + timedelta(seconds=step)
        # Wall-clock time in the schedule's zone, from the next whole minute.
        w = (t.astimezone(self.tz).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1))
        limit = w.year + _SEARCH_YEARS
        while w.year <= limit:
            if w.month not in self.months:
                w = (w.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_matches(w):
                w = w.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if w.hour not in self.hours:
                w = w.replace(minute=0) + timedelta(hours=1)
                continue
            if w.minute not in self.minutes:
                w += timedelta(minutes=1)
                continue
            return w.replace(tzinfo=self.tz)
        return None

    def _day_matches(self, w: datetime) -> bool:
        dom = w.day in self.days
        dow = (w.isoweekday() % 7) in self.weekdays
        if self.days_star or self.weekdays_star:
            return dom and dow
        return dom or dow


def _field(text: str, lo: int, hi: int, names: dict[str, int]) -> tuple[frozenset[int], bool]:
    out: set[int] = set()
    star = False
    for part in text.split(","):
        rng, _, step_s = part.partition("/")
        step = 1
        if step_s:
            if not step_s.isdigit() or int(step_s) == 0:
                raise CronError(f"bad step {step_s!r} in {text!r}")
            step = int(step_s)
        if rng in ("*", "?"):
            start, end = lo, hi
            star = star or step == 1
        else:
            a, dash, b = rng.partition("-")
            start = _value(a, names)
            end = _value(b, names) if dash else (hi if step_s else start)
        if not lo <= start <= end <= hi:
            raise CronError(f"{part!r} is outside {lo}-{hi}")
        out.update(range(start, end + 1, step))
    return frozenset(out), star


def _value(s: str, names: dict[str, int]) -> int:
    if s.lower() in names:
        return names[s.lower()]
    if not s.isdigit():
        raise CronError(f"{s!r} is not a number")
    return int(s)


def parse(schedule: str, time_zone: str | None = None, local: tzinfo = UTC) -> Schedule:
    """A schedule; ``time_zone`` is a CronJob's ``spec.timeZone`` (else ``local``)."""
    spec = schedule.strip()
    tz: tzinfo = local
    if time_zone is not None:
        spec = f"CRON_TZ={time_zone} {spec}"
    if spec.startswith(("CRON_TZ=", "TZ=")):
        zone, _, spec = spec.partition("=")[2].partition(" ")
        try:
            tz = ZoneInfo(zone) if zone not in ("UTC", "") else UTC
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CronError(f"unknown time zone {zone!r}") from exc
        spec = spec.strip()
    if spec.startswith("@every "):
        parts = _DURATION.findall(spec[7:].strip())
        if not parts or "".join(n + u for n, u in parts) != spec[7:].strip():
            raise CronError(f"bad duration in {spec!r}")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
        return Schedule(frozenset(), frozenset(), frozenset(), frozenset(), frozenset(), False, False, tz,
                        every=seconds)
    spec = _DESCRIPTORS.get(spec, spec)
    if spec.startswith("@"):
        raise CronError(f"unknown descriptor {spec!r}")
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected 5 fields, found {len(fields)}: {spec!r}")
    parsed = [_field(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, _FIELDS, strict=True)]
    return Schedule(parsed[0][0], parsed[1][0], parsed[2][0], parsed[3][0], parsed[4][0],
                    parsed[2][1], parsed[4][1], tz)
