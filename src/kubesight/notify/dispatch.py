"""Grouping, timers and the notification pipeline.

Every alert is routed (see ``route``) into aggregation groups, one per route
and value of the route's ``group_by`` labels. A new group waits
``group_wait`` before its first notification (at once if its alert already
started that long ago), then is looked at every ``group_interval``. Each
look runs, per integration of the group's receiver: time-interval muting,
silence and inhibition filtering, deduplication against the notification log
(something new, something resolved that the receiver should hear about, or
``repeat_interval`` passed), the send with retries and exponential backoff
until the next look is due, and finally the log entry. Resolved alerts leave
the group once a notification about them went out.

Time comes from an injected clock and waiting from an injected sleep, so a
test drives hours of grouping in microseconds; :meth:`Dispatcher.tick` does
whatever is due at the clock's "now".
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from kubesight.model.instrument import Counter, Gauge, Registry
from kubesight.notify.alertstore import StoredAlert
from kubesight.notify.integrations import Context, Integration, NotifyError
from kubesight.notify.labels import fingerprint, labelset_str
from kubesight.notify.nflog import NotificationLog, needs_update
from kubesight.notify.payload import TemplateData, sort_alerts, template_data
from kubesight.notify.route import Route
from kubesight.notify.timeintervals import TimeInterval, active

log = logging.getLogger("kubesight.notify")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
MuteFn = Callable[[Mapping[str, str], float], bool]

_BACKOFF_START = 0.5  # the first retry waits this long (Alertmanager's backoff starts at 500ms)
_BACKOFF_FACTOR = 1.5
_BACKOFF_MAX = 60.0
DEFAULT_ATTEMPT_TIMEOUT = 30.0  # one request may not take longer, so a hung receiver is let go


class Counters:
    """Alertmanager's notification counters, by integration."""

    def __init__(self, registry: Registry | None = None) -> None:
        def counter(name: str, help: str, labels: Sequence[str] = ("integration",)) -> Counter:
            c = Counter(name, help, labels)
            if registry is not None:
                registry.register(c)
            return c

        self.notifications = counter("alertmanager_notifications_total",
                                     "The total number of attempted notifications.")
        self.failed = counter("alertmanager_notifications_failed_total",
                              "The total number of failed notifications.")
        self.requests = counter("alertmanager_notification_requests_total",
                                "The total number of attempted notification requests.")
        self.requests_failed = counter("alertmanager_notification_requests_failed_total",
                                       "The total number of failed notification requests.")
        self.received = counter("alertmanager_alerts_received_total",
                                "The total number of received alerts.", ("status",))
        self.invalid = counter("alertmanager_alerts_invalid_total",
                               "The total number of received alerts that were invalid.", ())


class StateGauge(Gauge):
    """A gauge with one series per state, read from a callback at render time."""

    def __init__(self, name: str, help: str, label: str, states: Sequence[str],
                 counts: Callable[[], Mapping[str, int]]) -> None:
        super().__init__(name, help, lambda: 0.0)
        self._label = label
        self._states = tuple(states)
        self._counts = counts

    def _samples(self) -> Iterator[str]:
        counts = self._counts()
        for st in self._states:
            yield f'{self.name}{{{self._label}="{st}"}} {counts.get(st, 0)}'


@dataclass(eq=False)
class AggrGroup:
    route: Route
    labels: dict[str, str]
    key: str
    next_flush: float
    alerts: dict[int, StoredAlert] = field(default_factory=dict)
    flushed: bool = False
    busy: bool = False


@dataclass(frozen=True)
class Receiver:
    name: str
    integrations: tuple[Integration, ...]


class Dispatcher:
    def __init__(self, root: Route, receivers: Mapping[str, Receiver], *, mute: MuteFn,
                 nflog: NotificationLog, intervals: Mapping[str, tuple[TimeInterval, ...]],
                 clock: Clock, sleep: Sleep, counters: Counters, external_url: str = "",
                 attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT) -> None:
        self.root = root
        self.receivers = receivers
        self.mute = mute
        self.nflog = nflog
        self.intervals = intervals
        self.clock = clock
        self.sleep = sleep
        self.counters = counters
        self.external_url = external_url
        self.attempt_timeout = attempt_timeout
        self.groups: dict[tuple[str, int], AggrGroup] = {}
        self._tasks: set[asyncio.Task[bool]] = set()
        # (due time, sequence, group id); entries whose group moved on are skipped when popped,
        # so finding what is due costs O(log groups), not a scan of every group.
        self._due: list[tuple[float, int, tuple[str, int]]] = []
        self._seq = itertools.count()

    def _schedule(self, gid: tuple[str, int], g: AggrGroup, at: float) -> None:
        g.next_flush = at
        heapq.heappush(self._due, (at, next(self._seq), gid))

    # -- intake -----------------------------------------------------------

    def process(self, alert: StoredAlert) -> float:
        """Put the alert in its groups; returns the earliest time one of them is due."""
        now = self.clock()
        due = float("inf")
        for route in self.root.match(alert.labels):
            gl = route.group_labels(alert.labels)
            gid = (route.id(), fingerprint(gl))
            g = self.groups.get(gid)
            if g is None:
                g = AggrGroup(route, gl, f"{route.key()}:{labelset_str(gl)}", 0.0)
                self.groups[gid] = g
                self._schedule(gid, g, now + route.opts.group_wait)
            g.alerts[alert.fp] = alert
            # An alert that started longer ago than group_wait has waited enough.
            if not g.flushed and alert.starts_at + route.opts.group_wait < now and g.next_flush > now:
                self._schedule(gid, g, now)
            due = min(due, g.next_flush)
        return due

    # -- timers -----------------------------------------------------------

    def _current(self, entry: tuple[float, int, tuple[str, int]]) -> AggrGroup | None:
        g = self.groups.get(entry[2])
        return g if g is not None and g.next_flush == entry[0] else None

    def next_due(self) -> float | None:
        while self._due and self._current(self._due[0]) is None:
            heapq.heappop(self._due)
        return self._due[0][0] if self._due else None

    async def tick(self, wait: bool = True) -> list[asyncio.Task[bool]]:
        """Flush every group that is due now; with ``wait``, until their notifications end."""
        now = self.clock()
        tasks = []
        while self._due and self._due[0][0] <= now:
            entry = heapq.heappop(self._due)
            g = self._current(entry)
            if g is None or g.busy:
                continue
            g.busy = True
            t = asyncio.create_task(self._run(entry[2], g))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)
            tasks.append(t)
        if wait and tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return tasks

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(BaseException):
                await t

    async def _run(self, gid: tuple[str, int], g: AggrGroup) -> bool:
        try:
            return await self._flush(gid, g)
        except Exception:
            log.exception("notify: flushing group %s failed", g.key)
            return False
        finally:
            g.busy = False

    async def _flush(self, gid: tuple[str, int], g: AggrGroup) -> bool:
        now = self.clock()
        self._schedule(gid, g, now + g.route.opts.group_interval)
        g.flushed = True
        snapshot = list(g.alerts.values())
        resolved = [a for a in snapshot if a.resolved(now)]
        # A firing alert is sent without its expected end, so receivers never see it "resolve"
        # merely because time moved on while the notification was on its way.
        alerts = sort_alerts([a if a.resolved(now) else replace(a, ends_at=0.0) for a in snapshot])
        ok = await self._notify(g, alerts, now)
        if ok:
            for a in resolved:
                if g.alerts.get(a.fp) is a:
                    del g.alerts[a.fp]
            if not g.alerts and self.groups.get(gid) is g:
                del self.groups[gid]
        return ok

    def _time_muted(self, route: Route, now: float) -> bool:
        if route.opts.active_time_intervals and not any(
                active(self.intervals.get(n, ()), now) for n in route.opts.active_time_intervals):
            return True
        return any(active(self.intervals.get(n, ()), now) for n in route.opts.mute_time_intervals)

    async def _notify(self, g: AggrGroup, alerts: list[StoredAlert], now: float) -> bool:
        if self._time_muted(g.route, now):
            return True
        alerts = [a for a in alerts if not self.mute(a.labels, now)]
        if not alerts:
            return True
        recv = self.receivers.get(g.route.opts.receiver)
        if recv is None:
            return True
        firing = frozenset(a.fp for a in alerts if not a.resolved(now))
        resolved = frozenset(a.fp for a in alerts if a.resolved(now))
        jobs = []
        per_kind: dict[str, int] = {}
        for integ in recv.integrations:
            idx = per_kind.get(integ.name, 0)
            per_kind[integ.name] = idx + 1
            key = f"{recv.name}/{integ.name}/{idx}"
            entry = self.nflog.query(g.key, key)
            if not needs_update(entry, firing, resolved, integ.send_resolved,
                                g.route.opts.repeat_interval, now):
                continue
            jobs.append(self._deliver(g, recv.name, integ, key, alerts, firing, resolved, now))
        results = await asyncio.gather(*jobs)
        return all(results)

    async def _deliver(self, g: AggrGroup, receiver: str, integ: Integration, key: str,
                       alerts: list[StoredAlert], firing: frozenset[int], resolved: frozenset[int],
                       now: float) -> bool:
        sent = alerts if integ.send_resolved else [a for a in alerts if not a.resolved(now)]
        if sent:
            def make(subset: Sequence[StoredAlert]) -> TemplateData:
                return template_data(receiver, g.labels, subset, self.external_url, now)

            ok = await self._send(integ, Context(g.key, make(sent), sent, make), key,
                                  now + g.route.opts.group_interval)
            if not ok:
                return False
        self.nflog.log(g.key, key, firing, resolved, self.clock())
        return True

    async def _send(self, integ: Integration, ctx: Context, key: str, deadline: float) -> bool:
        self.counters.notifications.inc(1, integ.name)
        delay = _BACKOFF_START
        attempt = 0
        while True:
            attempt += 1
            self.counters.requests.inc(1, integ.name)
            try:
                await asyncio.wait_for(integ.notify(ctx), integ.timeout or self.attempt_timeout)
                return True
            except NotifyError as exc:
                err, retry = str(exc), exc.retryable
            except TimeoutError:
                err, retry = "request timed out", True
            except Exception as exc:  # an integration bug must not kill the dispatcher
                log.exception("notify: %s failed unexpectedly", key)
                err, retry = f"{type(exc).__name__}: {exc}", False
            self.counters.requests_failed.inc(1, integ.name)
            if not retry or self.clock() + delay > deadline:
                self.counters.failed.inc(1, integ.name)
                log.error("notify: %s for group %s failed after %d attempt(s): %s",
                          key, ctx.group_key, attempt, err)
                return False
            log.warning("notify: %s attempt %d failed, retrying in %.1fs: %s", key, attempt, delay, err)
            await self.sleep(delay)
            delay = min(delay * _BACKOFF_FACTOR, _BACKOFF_MAX)
