"""From pushed groups to stored samples, as if Prometheus scraped a Pushgateway.

Prometheus scrapes a Pushgateway every interval with ``honor_labels: true``,
so the last pushed value of every series is stored again at every scrape and
stays visible to queries for as long as the group exists. The exporter does
the same without the HTTP round trip: at every tick it appends every group's
samples (and its ``push_time_seconds`` / ``push_failure_time_seconds``) at the
current time, and a series that was exported before and is gone now (its
group was deleted, or a push replaced it away) gets Prometheus' stale marker,
as a scrape that no longer sees it would write.

It also exports a group the moment it changes (it listens on the registry), so
a query right after a push already sees the pushed values.

Labels are what Prometheus stores with ``honor_labels: true``: the pushed
labels with the grouping labels applied, and no ``instance`` label unless one
was pushed or is in the grouping key (the Pushgateway exposes
``instance=""``, which Prometheus stores as absent). Summaries and histograms
are completed as client_golang's exposition would show them: a missing
``_sum`` or ``_count`` is 0, and a histogram without a ``+Inf`` bucket gets one
equal to its count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from kubesight.ingest.pushgateway_store import Group, GroupingKey, PushedFamily, PushRegistry
from kubesight.model.labels import METRIC_NAME, Labels
from kubesight.model.samples import MetricMetadata, SampleBatch, stale_nan
from kubesight.store.interface import Appender

__all__ = ["PushExporter", "exposed_samples", "run_exporter"]

log = logging.getLogger("kubesight.ingest.pushgateway")


def _strip(labels: Labels, drop: str) -> Labels:
    return tuple(p for p in labels if p[0] != METRIC_NAME and p[0] != drop)


def _named(labels: Labels, name: str) -> Labels:
    return tuple(sorted(((METRIC_NAME, name), *labels)))


def exposed_samples(fam: PushedFamily) -> list[tuple[Labels, float]]:
    """The samples of a family as the Pushgateway's ``/metrics`` shows them."""
    if fam.type not in ("summary", "histogram"):
        return list(fam.samples)
    # client_golang keeps a summary or histogram as one message per label set
    # with a sum and a count that are always there, and writes a +Inf bucket
    # when none was given: complete the samples the same way.
    out = list(fam.samples)
    inner = "quantile" if fam.type == "summary" else "le"
    present: dict[Labels, set[str]] = {}
    counts: dict[Labels, float] = {}
    for labels, value in fam.samples:
        name = dict(labels)[METRIC_NAME]
        base = _strip(labels, inner)
        have = present.setdefault(base, set())
        if name == fam.name + "_count":
            counts[base] = value
            have.add("_count")
        elif name == fam.name + "_sum":
            have.add("_sum")
        elif fam.type == "histogram" and dict(labels).get("le") == "+Inf":
            have.add("+Inf")
    for base, have in present.items():
        if "_sum" not in have:
            out.append((_named(base, fam.name + "_sum"), 0.0))
        if "_count" not in have:
            out.append((_named(base, fam.name + "_count"), 0.0))
        if fam.type == "histogram" and "+Inf" not in have:
            out.append((_named((*base, ("le", "+Inf")), fam.name + "_bucket"), counts.get(base, 0.0)))
    return out


@dataclass(frozen=True)
class _Flat:
    """One group's samples as the exporter appends them."""

    group: Group
    failure_time: float
    series: list[Labels]
    values: list[float]
    series_set: frozenset[Labels]
    metadata: list[MetricMetadata]


def _flatten(group: Group) -> _Flat:
    series: list[Labels] = []
    values: list[float] = []
    seen: set[Labels] = set()
    metadata: list[MetricMetadata] = []
    for fam in group.all_families():
        metadata.append(MetricMetadata(fam.name, fam.type, fam.help, ""))
        for labels, value in exposed_samples(fam):
            if labels in seen:
                continue  # a duplicate the consistency check let through from an old file
            seen.add(labels)
            series.append(labels)
            values.append(value)
    return _Flat(group, group.failure_time, series, values, frozenset(seen), metadata)


class PushExporter:
    """Appends groups' samples and stale markers; remembers what it exported."""

    def __init__(self, registry: PushRegistry, appender: Appender, clock: Callable[[], float] = time.time) -> None:
        self.registry = registry
        self.appender = appender
        self.clock = clock
        self._exported: dict[GroupingKey, frozenset[Labels]] = {}
        self._cache: dict[GroupingKey, _Flat] = {}

    def export_all(self) -> int:
        """One tick: every group at the current time, stale markers for what went away."""
        ts_ms = int(self.clock() * 1000)
        groups = self.registry.groups()
        live = {g.key for g in groups}
        series: list[Labels] = []
        values: list[float] = []
        metadata: dict[str, MetricMetadata] = {}
        for key in [k for k in self._exported if k not in live]:
            self._cache.pop(key, None)
            for labels in self._exported.pop(key):
                series.append(labels)
                values.append(stale_nan())
        for group in groups:
            self._collect(group, series, values, metadata)
        return self._append(series, values, ts_ms, list(metadata.values()))

    def export_group(self, key: GroupingKey) -> int:
        """Export one group now (it was pushed, refused or deleted)."""
        ts_ms = int(self.clock() * 1000)
        series: list[Labels] = []
        values: list[float] = []
        metadata: dict[str, MetricMetadata] = {}
        group = self.registry.get(key)
        if group is None:
            self._cache.pop(key, None)
            gone = self._exported.pop(key, frozenset())
            series.extend(gone)
            values.extend(stale_nan() for _ in gone)
        else:
            self._collect(group, series, values, metadata)
        return self._append(series, values, ts_ms, list(metadata.values()))

    def _collect(
        self, group: Group, series: list[Labels], values: list[float], metadata: dict[str, MetricMetadata]
    ) -> None:
        # A group only changes on a push (a new Group object) or a refused one
        # (failure_time moves), so its flattened samples are reused across
        # ticks instead of rebuilt per sample every 15 s.
        cached = self._cache.get(group.key)
        if cached is not None and cached.group is group and cached.failure_time == group.failure_time:
            flat = cached
        else:
            flat = _flatten(group)
            self._cache[group.key] = flat
        series.extend(flat.series)
        values.extend(flat.values)
        for md in flat.metadata:
            metadata[md.metric_family] = md
        now = flat.series_set
        gone = self._exported.get(group.key, frozenset()) - now
        series.extend(gone)
        values.extend(stale_nan() for _ in gone)
        self._exported[group.key] = now

    def _append(self, series: list[Labels], values: list[float], ts_ms: int, metadata: list[MetricMetadata]) -> int:
        if not series:
            return 0
        n = len(series)
        batch = SampleBatch(
            series,
            np.arange(n, dtype=np.int32),
            np.full(n, ts_ms, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
            metadata,
        )
        res = self.appender.append(batch)
        if res.errors:
            log.warning("pushgateway: the store refused %d pushed sample(s): %s",
                        res.samples_rejected, "; ".join(res.errors))
        return res.samples_written


async def run_exporter(
    registry: PushRegistry,
    appender: Appender,
    interval_s: float = 15.0,
    clock: Callable[[], float] = time.time,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Export all groups every ``interval_s`` (15 s: Prometheus' default scrape interval)
    and each group right after it changes, until cancelled."""
    exporter = PushExporter(registry, appender, clock)

    def on_change(key: GroupingKey) -> None:
        exporter.export_group(key)

    registry.subscribe(on_change)
    try:
        while True:
            try:
                exporter.export_all()
            except Exception:  # the store may be briefly overloaded; the next tick retries
                log.exception("pushgateway: export failed")
            await sleep(interval_s)
    finally:
        registry.unsubscribe(on_change)
