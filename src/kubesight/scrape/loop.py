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

import numpy as np
import numpy.typing as npt

from kubesight import __version__
from kubesight.errors import DecodeError
from kubesight.model import Labels, MetricMetadata, SampleBatch, stale_markers
from kubesight.scrape.config import ScrapeConfig
from kubesight.scrape.http import BodyTooLargeError, FetchError, TargetClient
from kubesight.scrape.relabel import relabel
from kubesight.scrape.target import Target
from kubesight.store.interface import Appender, SeriesRefs, append_refs
from kubesight.wire.exposition import (
    SCRAPE_ACCEPT,
    ExpositionCache,
    ParsedScrape,
    SharedTexts,
    content_type_format,
    parse,
)

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
        client: TargetClient,
        clock: Callable[[], float] = time.time,
        texts: SharedTexts | None = None,
    ) -> None:
        self.target = target
        self.cfg = cfg
        self.store = store
        self.client = client
        self.clock = clock
        self.health = TargetHealth()
        # Series texts and metadata lines shared with the pool's other targets.
        self._exposition_cache = ExpositionCache(shared=texts)
        self._label_cache: dict[Labels, Labels | None] = {}
        self._last_series: set[Labels] = set()
        self._report_series: list[Labels] = [
            tuple(sorted((("__name__", n), *target.labels))) for n in _REPORT_NAMES
        ]
        self._report_refs = SeriesRefs(self._report_series)
        self._headers = {
            "Accept": SCRAPE_ACCEPT,
            "Accept-Encoding": "gzip" if cfg.enable_compression else "identity",
            "User-Agent": f"kubesight/{__version__}",
            "X-Prometheus-Scrape-Timeout-Seconds": f"{target.timeout_ms / 1000:g}",
        }
        self._plan: _Plan | None = None
        self._shape: object | None = None
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
        out: _Scraped | None = None
        try:
            body, ctype = await self._fetch()
            out = self._prepare(body, ctype, ts_ms)
            self.health.health = "up"
            self.health.last_error = ""
        except (ScrapeError, DecodeError, BodyTooLargeError) as exc:
            self._fail(str(exc), ts_ms)
        except TimeoutError:
            # Our deadline is over the whole request, so it also catches a
            # target that trickles its body slower than the timeout.
            self._fail(f'Get "{self.target.url}": context deadline exceeded', ts_ms)
        except FetchError as exc:
            self._fail(f'Get "{self.target.url}": {exc}', ts_ms)
        except Exception as exc:
            # A bug must not end this target's loop: say so and try next interval.
            log.exception("scrape %s failed unexpectedly", self.target.url)
            self._fail(f"internal error: {exc}", ts_ms)
        duration = time.perf_counter() - t0
        self.health.last_scrape = ts_ms / 1000
        self.health.last_duration = duration
        if out is None:
            self._append_report(ts_ms, 0.0, duration, 0, 0, 0)
            return
        report = np.array(
            [1.0, duration, float(out.scraped), float(out.post), float(out.added)], np.float64
        )
        if out.refs is not None:
            # The common case: the scrape's samples and its report in one append.
            res = append_refs(
                self.store, out.refs, ts_ms, np.concatenate((out.values, report)), out.metadata
            )
        else:
            res = self.store.append(out.batch)
            self._append_report(ts_ms, *report.tolist())
        if res.errors:
            log.warning("scrape %s: %s", self.target.url, "; ".join(res.errors))
        self._append_stale(out.gone, ts_ms)

    def _fail(self, message: str, ts_ms: int) -> None:
        self.health.health = "down"
        self.health.last_error = message
        self._append_stale(self._last_series, ts_ms)
        self._last_series = set()

    async def _fetch(self) -> tuple[bytes, str | None]:
        limit = self.cfg.body_size_limit or DEFAULT_BODY_LIMIT
        async with asyncio.timeout(self.target.timeout_ms / 1000):
            resp = await self.client.get(self.target.url, self._headers, limit)
        if resp.status != 200:
            raise ScrapeError(f"server returned HTTP status {resp.status} {resp.reason}".rstrip())
        return resp.body, resp.headers.get("content-type")

    def _prepare(self, body: bytes, ctype: str | None, ts_ms: int) -> _Scraped:
        """Parse, label and check one body; what to append (the caller appends)."""
        parsed = parse(
            body,
            content_type_format(ctype),
            default_timestamp_ms=ts_ms,
            honor_timestamps=self.cfg.honor_timestamps,
            cache=self._exposition_cache,
        )
        batch = parsed.batch
        plan = self._plan
        if (
            plan is not None
            and parsed.shape is not None
            and parsed.shape is self._shape
            and self._last_series is plan.current
        ):
            # The same series text as last time (the exposition cache saw the
            # same body shape): same labels, same order, nothing gone or added.
            if self.cfg.sample_limit and plan.post > self.cfg.sample_limit:
                raise ScrapeError(f"sample limit exceeded: {plan.post} samples, limit {self.cfg.sample_limit}")
            keep = plan.keep_idx
            stamps = batch.timestamps if keep is None else batch.timestamps[keep]
            # The refs append writes one timestamp: samples stamped otherwise go the slow way.
            if not bool((stamps != ts_ms).any()):
                values = batch.values if keep is None else batch.values[keep]
                # Same shape, same metadata: the store has it already.
                return _Scraped(len(batch), plan.post, 0, values, plan.refs, [])
        return self._prepare_slow(parsed, ts_ms)

    def _prepare_slow(self, parsed: ParsedScrape, ts_ms: int) -> _Scraped:
        batch = parsed.batch
        for md in parsed.metadata:
            self.health.metadata[md.metric_family] = md
        scraped = len(batch)
        if len(self._label_cache) > _CACHE_MAX:
            self._label_cache = {}
        cache = self._label_cache
        final: list[Labels | None] = []
        report = set(self._report_series)
        for s in batch.series:
            lbls = cache.get(s, _MISS)
            if lbls is _MISS:
                lbls = self._label(s)
                if lbls in report:  # the target's own `up` (etc.) would clash with the report
                    lbls = None
                cache[s] = lbls
            final.append(lbls)
        # Distinct final series; a repeat in one scrape keeps its first sample,
        # as Prometheus' duplicate-sample check does.
        index: dict[Labels, int] = {}
        remap = np.full(len(final), -1, np.int32)
        for i, fl in enumerate(final):
            if fl is not None:
                remap[i] = index.setdefault(fl, len(index))
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
        self._last_series = current
        values = batch.values[keep_idx]
        out = _Scraped(scraped, post, added, values, None, parsed.metadata, gone)
        timestamps = batch.timestamps[keep_idx]
        if bool((timestamps != ts_ms).any()):
            # Samples with their own timestamps: appended as they are, no plan.
            self._plan = self._shape = None
            out.batch = SampleBatch(
                series, refs[keep_idx].astype(np.int32), timestamps, values, metadata=parsed.metadata
            )
            return out
        # keep_idx lists, in order of first appearance, where each final series' sample is.
        identity = post == scraped and bool((keep_idx == np.arange(post)).all())
        plan = _Plan(
            None if identity else keep_idx,
            SeriesRefs([*series, *self._report_series]),
            current,
            post,
        )
        self._plan, self._shape = plan, parsed.shape
        out.refs = plan.refs
        return out

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
        if series:
            self.store.append(stale_markers(series, ts_ms))

    def _append_report(
        self, ts_ms: int, up: float, duration: float, scraped: float, post: float, added: float
    ) -> None:
        values = np.array([up, duration, scraped, post, added], np.float64)
        append_refs(self.store, self._report_refs, ts_ms, values)


_REPORT_NAMES = (
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
)


@dataclass
class _Plan:
    """How the last body's samples map onto the store, reused while the body keeps its shape."""

    keep_idx: npt.NDArray[np.int64] | None  # the parsed samples to append, in order; None: all
    refs: SeriesRefs  # the final series, then the five report series
    current: set[Labels]  # the final series, for staleness when the shape changes
    post: int


@dataclass
class _Scraped:
    """One prepared scrape: counts for the report, and what to append."""

    scraped: int
    post: int
    added: int
    values: npt.NDArray[np.float64]
    refs: SeriesRefs | None  # None: append ``batch`` instead (samples with own timestamps)
    metadata: list[MetricMetadata]
    gone: set[Labels] = field(default_factory=set)
    batch: SampleBatch = field(default_factory=SampleBatch.empty)


_MISS: Labels = (("", ""),)
