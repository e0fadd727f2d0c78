"""One target's scrape loop: fetch, parse, label, append, and mark staleness.

Every scrape appends the target's samples with the target's labels attached
(``honor_labels`` decides who wins a clash; the loser becomes
``exported_<name>``), then ``metric_relabel_configs``, then the limits. Series
that were present last time and are not now get Prometheus' stale marker at
this scrape's timestamp; a failed scrape or a target that goes away marks all
of them. Each scrape also appends ``up``, ``scrape_duration_seconds``,
``scrape_samples_scraped``, ``scrape_samples_post_metric_relabeling`` and
``scrape_series_added``.

Label work is cached per target: a scrape returns the same series every time,
so after the first scrape labeling costs one dict lookup per series.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import numpy as np

from kubesight import __version__
from kubesight.errors import DecodeError
from kubesight.model import Labels, MetricMetadata, SampleBatch, stale_nan
from kubesight.scrape.config import ScrapeConfig
from kubesight.scrape.relabel import relabel
from kubesight.scrape.target import Target
from kubesight.store.interface import Appender
from kubesight.wire.exposition import SCRAPE_ACCEPT, ExpositionCache, content_type_format, parse

log = logging.getLogger("kubesight.scrape")

# Prometheus has no default body limit; an unbounded body would take the whole
# server down, so we stop at 256 MiB unless body_size_limit says otherwise.
DEFAULT_BODY_LIMIT = 256 << 20
_CACHE_MAX = 200_000  # label cache entries per target before it is rebuilt (series churn)


class ScrapeError(Exception):
    pass


@dataclass
class TargetHealth:
    health: str = "unknown"
    last_error: str = ""
    last_scrape: float = 0.0  # Unix seconds
    last_duration: float = 0.0
    metadata: dict[str, MetricMetadata] = field(default_factory=dict)


class ScrapeLoop:
    def __init__(
        self,
        target: Target,
        cfg: ScrapeConfig,
        store: Appender,
        client: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.target = target
        self.cfg = cfg
        self.store = store
        self.client = client
        self.clock = clock
        self.health = TargetHealth()
        self._exposition_cache = ExpositionCache()
        self._label_cache: dict[Labels, Labels | None] = {}
        self._last_series: set[Labels] = set()
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self, offset_ms: int) -> None:
        self._task = asyncio.create_task(self._run(offset_ms), name=f"scrape {self.target.url}")

    async def stop(self, mark_stale: bool = True) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.aclose()
        if mark_stale:
            self._append_stale(self._last_series, int(self.clock() * 1000))
            self._last_series = set()

    async def _run(self, offset_ms: int) -> None:
        interval = self.target.interval_ms / 1000
        now = self.clock()
        # First scrape at this target's fixed offset within the interval, so
        # targets spread evenly and keep their phase across restarts.
        first = (now // interval) * interval + offset_ms / 1000
        if first < now:
            first += interval
        await asyncio.sleep(first - now)
        nxt = first
        while True:
            await self.scrape_once(int(nxt * 1000))
            nxt += interval
            delay = nxt - self.clock()
            if delay < 0:  # we fell behind (the machine was busy): skip, do not burst
                nxt += (-delay // interval + 1) * interval
                delay = nxt - self.clock()
            await asyncio.sleep(delay)

    # -- one scrape --------------------------------------------------------------

    async def scrape_once(self, ts_ms: int) -> None:
        t0 = time.perf_counter()
        scraped = post = added = 0
        try:
            body, ctype = await self._fetch()
            scraped, post, added = self._ingest(body, ctype, ts_ms)
            self.health.health = "up"
            self.health.last_error = ""
        except (ScrapeError, DecodeError) as exc:
            self._fail(str(exc), ts_ms)
        except (httpx.TimeoutException, TimeoutError):
            # TimeoutError: our own deadline over the whole request, which also
            # catches a target that trickles its body slower than the timeout.
            self._fail(f"Get {self.target.url!r}: context deadline exceeded", ts_ms)
        except httpx.HTTPError as exc:
            self._fail(f"Get {self.target.url!r}: {exc}", ts_ms)
        except Exception as exc:
            # A bug must not end this target's loop: say so and try next interval.
            log.exception("scrape %s failed unexpectedly", self.target.url)
            self._fail(f"internal error: {exc}", ts_ms)
        duration = time.perf_counter() - t0
        self.health.last_scrape = ts_ms / 1000
        self.health.last_duration = duration
        up = 1.0 if self.health.health == "up" else 0.0
        self._append_report(ts_ms, up, duration, scraped, post, added)

    def _fail(self, message: str, ts_ms: int) -> None:
        self.health.health = "down"
        self.health.last_error = message
        self._append_stale(self._last_series, ts_ms)
        self._last_series = set()

    async def _fetch(self) -> tuple[bytes, str | None]:
        headers = {
            "Accept": SCRAPE_ACCEPT,
            "Accept-Encoding": "gzip" if self.cfg.enable_compression else "identity",
            "User-Agent": f"kubesight/{__version__}",
            "X-Prometheus-Scrape-Timeout-Seconds": f"{self.target.timeout_ms / 1000:g}",
        }
        limit = self.cfg.body_size_limit or DEFAULT_BODY_LIMIT
        timeout = self.target.timeout_ms / 1000
        async with asyncio.timeout(timeout):
            async with self.client.stream("GET", self.target.url, headers=headers, timeout=timeout) as resp:
                if resp.status_code != 200:
                    raise ScrapeError(f"server returned HTTP status {resp.status_code} {resp.reason_phrase}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ScrapeError(f"body size limit exceeded: the body is over {limit} bytes")
                    chunks.append(chunk)
                return b"".join(chunks), resp.headers.get("content-type")

    def _ingest(self, body: bytes, ctype: str | None, ts_ms: int) -> tuple[int, int, int]:
        parsed = parse(
            body,
            content_type_format(ctype),
            default_timestamp_ms=ts_ms,
            honor_timestamps=self.cfg.honor_timestamps,
            cache=self._exposition_cache,
        )
        batch = parsed.batch
        scraped = len(batch)
        if len(self._label_cache) > _CACHE_MAX:
            self._label_cache = {}
        cache = self._label_cache
        final: list[Labels | None] = []
        for s in batch.series:
            out = cache.get(s, _MISS)
            if out is _MISS:
                out = cache[s] = self._label(s)
            final.append(out)
        # Distinct final series; a repeat in one scrape keeps its first sample,
        # as Prometheus' duplicate-sample check does.
        index: dict[Labels, int] = {}
        remap = np.full(len(final), -1, np.int32)
        for i, lbls in enumerate(final):
            if lbls is not None:
                remap[i] = index.setdefault(lbls, len(index))
        refs = remap[batch.series_ref] if len(batch.series_ref) else batch.series_ref
        keep_idx = np.flatnonzero(refs >= 0)
        if len(keep_idx) != len(index):
            # Some series came twice: keep each one's first sample.
            first = np.full(len(index), len(refs), np.int64)
            np.minimum.at(first, refs[keep_idx], keep_idx)
            keep_idx = np.sort(first)
        post = len(keep_idx)
        if self.cfg.sample_limit and post > self.cfg.sample_limit:
            raise ScrapeError(f"sample limit exceeded: {post} samples, limit {self.cfg.sample_limit}")
        series = list(index)
        self._check_label_limits(series)
        current = set(series)
        added = len(current - self._last_series)
        gone = self._last_series - current
        for md in parsed.metadata:
            self.health.metadata[md.metric_family] = md
        to_store = SampleBatch(
            series,
            refs[keep_idx].astype(np.int32),
            batch.timestamps[keep_idx],
            batch.values[keep_idx],
            metadata=parsed.metadata,
        )
        res = self.store.append(to_store)
        if res.errors:
            log.warning("scrape %s: %s", self.target.url, "; ".join(res.errors))
        self._append_stale(gone, ts_ms)
        self._last_series = current
        return scraped, post, added

    def _label(self, scraped: Labels) -> Labels | None:
        d = dict(scraped)
        for name, value in self.target.labels:
            if self.cfg.honor_labels:
                d.setdefault(name, value)
                continue
            if name in d:
                exported = "exported_" + name
                while exported in d:
                    exported = "exported_" + exported
                d[exported] = d[name]
            d[name] = value
        lbls: Labels = tuple(sorted((k, v) for k, v in d.items() if v != ""))
        if self.cfg.metric_relabel_configs:
            return relabel(lbls, self.cfg.metric_relabel_configs)
        return lbls

    def _check_label_limits(self, series: list[Labels]) -> None:
        c = self.cfg
        if not (c.label_limit or c.label_name_length_limit or c.label_value_length_limit):
            return
        for lbls in series:
            if c.label_limit and len(lbls) > c.label_limit:
                raise ScrapeError(f"label_limit exceeded (metric: {dict(lbls).get('__name__')}, "
                                  f"number of labels: {len(lbls)}, limit: {c.label_limit})")
            for k, v in lbls:
                if c.label_name_length_limit and len(k) > c.label_name_length_limit:
                    raise ScrapeError(f"label_name_length_limit exceeded (label name: {k})")
                if c.label_value_length_limit and len(v) > c.label_value_length_limit:
                    raise ScrapeError(f"label_value_length_limit exceeded (label name: {k})")

    # -- appends -----------------------------------------------------------------

    def _append_stale(self, series: set[Labels], ts_ms: int) -> None:
        if not series:
            return
        ordered = sorted(series)
        n = len(ordered)
        self.store.append(
            SampleBatch(
                ordered,
                np.arange(n, dtype=np.int32),
                np.full(n, ts_ms, np.int64),
                np.full(n, stale_nan(), np.float64),
            )
        )

    def _append_report(self, ts_ms: int, up: float, duration: float, scraped: int, post: int, added: int) -> None:
        names = ("up", "scrape_duration_seconds", "scrape_samples_scraped",
                 "scrape_samples_post_metric_relabeling", "scrape_series_added")
        values = (up, duration, float(scraped), float(post), float(added))
        series = [tuple(sorted((("__name__", n), *self.target.labels))) for n in names]
        self.store.append(
            SampleBatch(
                series,
                np.arange(len(names), dtype=np.int32),
                np.full(len(names), ts_ms, np.int64),
                np.asarray(values, np.float64),
            )
        )


_MISS: Labels = (("", ""),)
