"""Running a built-in collector inside the server: collect, label, append, every interval.

What a scrape loop does for a remote target, minus the HTTP round trip: on
each tick the collector's families are collected (in a worker thread: they
read files), given the job's ``job`` and ``instance`` labels, appended with
the same report series a scrape writes (``up``, ``scrape_duration_seconds``,
``scrape_samples_scraped``) so that ``up{job="node"}`` and the usual alerts
work, and series that vanished since the last collection get a staleness
marker. A failing collection writes ``up 0`` and marks everything stale.

Label work is cached (a collector repeats its label sets) and the append goes
through store series references while the set of series stays the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kubesight.collect.family import Collector, Family
from kubesight.model import Labels, MetricMetadata, stale_markers
from kubesight.store.interface import Appender, SeriesRefs, append_refs

log = logging.getLogger("kubesight.collect")

_REPORT = ("up", "scrape_duration_seconds", "scrape_samples_scraped")
_CACHE_MAX = 200_000


@dataclass
class CollectorHealth:
    health: str = "unknown"
    last_error: str = ""
    last_collect: float = 0.0  # Unix seconds
    last_duration: float = 0.0
    samples: int = 0


class CollectorRunner:
    def __init__(
        self,
        collector: Collector,
        store: Appender,
        job: str,
        instance: str,
        interval_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.collector = collector
        self.store = store
        self.job = job
        self.instance = instance
        self.interval_s = interval_s
        self.clock = clock
        self.health = CollectorHealth()
        self.target: Labels = (("instance", instance), ("job", job))
        self._names = {"instance", "job"}
        self._cache: dict[Labels, Labels] = {}
        self._series: list[Labels] = []
        self._refs: SeriesRefs | None = None
        self._current: set[Labels] = set()
        self._report = SeriesRefs([tuple(sorted((("__name__", n), *self.target))) for n in _REPORT])
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"collect {self.job}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        nxt = self.clock()
        while True:
            started = time.perf_counter()
            try:
                families = await asyncio.to_thread(self.collector.collect)
                err = ""
            except Exception as exc:  # a collector bug must not stop collection
                log.exception("collector %s failed", self.job)
                families, err = [], f"internal error: {exc}"
            self.record(families, int(nxt * 1000), time.perf_counter() - started, err)
            nxt += self.interval_s
            delay = nxt - self.clock()
            if delay < 0:  # behind (a busy machine): skip ticks, do not burst
                nxt += (-delay // self.interval_s + 1) * self.interval_s
                delay = nxt - self.clock()
            await asyncio.sleep(delay)

    # -- one collection ------------------------------------------------------------

    def collect_once(self, ts_ms: int) -> None:
        """Collect now, in this thread, and append at ``ts_ms`` (tests and one-shot use)."""
        started = time.perf_counter()
        try:
            families, err = self.collector.collect(), ""
        except Exception as exc:
            families, err = [], f"internal error: {exc}"
        self.record(families, ts_ms, time.perf_counter() - started, err)

    def record(self, families: Sequence[Family], ts_ms: int, duration: float, error: str = "") -> None:
        """Append one collection's families (or its failure) at ``ts_ms``."""
        self.health.last_collect = ts_ms / 1000
        self.health.last_duration = duration
        if error:
            self.health.health, self.health.last_error = "down", error
            self._mark_stale(self._current, ts_ms)
            self._current, self._series, self._refs = set(), [], None
            append_refs(self.store, self._report, ts_ms, np.array([0.0, duration, 0.0]))
            return
        series, values, metadata = self._label(families)
        if series != self._series or self._refs is None:
            current = set(series)
            if len(current) != len(series):
                series, values = _first_of_each(series, values)
                current = set(series)
            gone = self._current - current
            self._series, self._current = series, current
            self._refs = SeriesRefs([*series, *self._report.series])
            self._mark_stale(gone, ts_ms)
        report = np.array([1.0, duration, float(len(values))])
        res = append_refs(self.store, self._refs, ts_ms, np.concatenate((values, report)), metadata)
        if res.errors:
            log.warning("collector %s: %s", self.job, "; ".join(res.errors))
        self.health.health, self.health.last_error = "up", ""
        self.health.samples = len(values)

    def _label(self, families: Sequence[Family]) -> tuple[list[Labels], np.ndarray, list[MetricMetadata]]:
        cache = self._cache
        if len(cache) > _CACHE_MAX:
            cache.clear()
        series: list[Labels] = []
        values: list[float] = []
        for fam in families:
            for lbls, v in fam.samples:
                out = cache.get(lbls)
                if out is None:
                    out = cache[lbls] = self._with_target(lbls)
                series.append(out)
                values.append(v)
        return series, np.asarray(values, np.float64), [f.metadata for f in families]

    def _with_target(self, lbls: Labels) -> Labels:
        d = dict(lbls)
        for k in self._names & d.keys():  # as a scrape without honor_labels would
            d["exported_" + k] = d.pop(k)
        d.update(self.target)
        return tuple(sorted(d.items()))

    def _mark_stale(self, series: set[Labels], ts_ms: int) -> None:
        if series:
            self.store.append(stale_markers(series, ts_ms))


def _first_of_each(series: list[Labels], values: np.ndarray) -> tuple[list[Labels], np.ndarray]:
    """Keep the first sample of a series that a collector produced twice."""
    seen: dict[Labels, int] = {}
    for i, s in enumerate(series):
        seen.setdefault(s, i)
    keep = np.fromiter(seen.values(), np.int64, len(seen))
    return list(seen), values[keep]
