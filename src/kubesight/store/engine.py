"""The embedded metrics store: series index + WAL + head + blocks.

Write path: ``append`` resolves label sets to series ids (validating only
series it has not seen), logs the batch to the WAL with one write, then adds it
to the head. Read path: ``select`` resolves matchers in the index, gathers the
series' samples from every source overlapping the range (head runs, heads being
flushed, blocks) and returns them sorted, series in label order.

A flush freezes the head, starts a new WAL segment, writes the frozen samples
into one block per 2h window, and only then drops those WAL segments; blocks
of the same window are later compacted into one. Retention deletes whole
blocks whose newest sample is older than the window, and the oldest blocks
while over the size limit.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import logging
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from kubesight.errors import CorruptionError, StorageError, ValidationError
from kubesight.model import Labels, Matcher, MetricMetadata, SampleBatch, SeriesData
from kubesight.model.labels import validate_labels
from kubesight.store.arrays import gather_ranges, run_starts, sorted_unique
from kubesight.store.block import Block, BlockWriter, PageCache
from kubesight.store.head import Head, dedupe_sorted, merge_sorted
from kubesight.store.index import SeriesIndex
from kubesight.store.interface import AppendResult, SeriesRefs
from kubesight.store.wal import WAL

log = logging.getLogger("kubesight.store")

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

HOUR_MS = 3_600_000
_MAX_ERRORS = 5
_NO_SIDS = np.empty(0, np.int32)
_NO_TS = np.empty(0, np.int64)
_NO_VALS = np.empty(0, np.float64)
_CHUNK_SAMPLES = 1 << 18  # 256k samples (~25 MB of temporaries) per flush/compaction step
_PAGE_CACHE_BYTES = 64 << 20  # decoded pages kept for repeated dashboard queries
_MIN_T = np.iinfo(np.int64).min
_MAX_T = np.iinfo(np.int64).max


@dataclass
class StorageOptions:
    retention_ms: int = 15 * 24 * HOUR_MS  # 15d: Prometheus' default
    retention_bytes: int = 0  # 0: no size limit
    block_window_ms: int = 2 * HOUR_MS  # 2h: Prometheus' block range, so retention is as fine
    head_max_samples: int = 2_000_000  # ~48 MB of columns before a flush
    head_max_age_s: float = 2 * 3600.0  # flush at least this often so the WAL stays short
    max_future_ms: int = 10 * 60_000  # samples further ahead are a sender's clock error
    wal_fsync: bool = False


@dataclass
class StoreStats:
    series: int
    head_samples: int
    head_bytes: int
    head_mint: int
    head_maxt: int
    blocks: int
    block_bytes: int
    block_samples: int
    wal_bytes: int
    samples_appended: int
    samples_rejected: int
    wal_corruptions: int


class Storage:
    """The store. Thread-safe: appends and queries may come from any thread."""

    def __init__(
        self,
        data_dir: Path,
        options: StorageOptions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dir = Path(data_dir)
        self.opts = options or StorageOptions()
        self.clock = clock
        self.index = SeriesIndex()
        self.head = Head()
        self._flushing: list[Head] = []
        self.blocks: list[Block] = []
        self._pages = PageCache(_PAGE_CACHE_BYTES)
        self._metadata: dict[str, MetricMetadata] = {}
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._head_started = clock()
        self._block_seq = 0
        self._rank: I64 | None = None
        self._rank_order: I64 | None = None  # series ids in label order; see _label_rank
        self._epoch = 0  # bumped when series ids are removed; see append_refs
        self.samples_appended = 0
        self.samples_rejected = 0
        self.wal_corruptions = 0
        self.block_corruptions = 0
        self.ready = False
        (self.dir / "blocks").mkdir(parents=True, exist_ok=True)
        self.wal = WAL(self.dir / "wal", fsync=self.opts.wal_fsync)

    # -- lifecycle -------------------------------------------------------------

    def open(self) -> None:
        """Load blocks, replay the WAL, and get ready to append."""
        bdir = self.dir / "blocks"
        for tmp in bdir.glob(".tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)  # a block write cut short by a crash
        for p in sorted(bdir.iterdir()):
            if p.name.startswith((".", "corrupt-")) or not p.is_dir():
                continue
            try:
                blk = Block(p, self._pages)
                labels = blk.labels
            except CorruptionError as exc:
                # Keep serving what is intact; never delete what cannot be read.
                aside = bdir / f"corrupt-{p.name}"
                p.rename(aside)
                self.block_corruptions += 1
                log.error("%s; moved it aside to %s", exc, aside)
                continue
            self.blocks.append(blk)
            self._block_seq = max(self._block_seq, int(p.name.rsplit("-", 1)[-1]))
            for sid, lbls in zip(blk.sids.tolist(), labels, strict=True):
                got = self.index.add(lbls, sid)
                if got != sid:
                    log.warning("block %s: series %s has id %d, index has %d", p, lbls, sid, got)
            self.index.update_times(blk.sids, np.full(len(blk.sids), blk.mint, np.int64))
            self.index.update_times(blk.sids, np.full(len(blk.sids), blk.maxt, np.int64))
        t0 = time.monotonic()
        rep = self.wal.replay()
        for msg in rep.corrupt:
            log.error("%s", msg)
        self.wal_corruptions += len(rep.corrupt)
        for sid, lbls in rep.series:
            self.index.add(lbls, sid)
        n = 0
        for sids, ts, vals in rep.samples:
            self.head.append(sids, ts, vals)
            self.index.update_times(sids.astype(np.int64), ts)
            n += len(sids)
        for md in rep.metadata:
            self._metadata[md.metric_family] = md
        self.wal.open_for_append()
        self.ready = True
        log.info(
            "store open: %d blocks, %d series, replayed %d WAL samples in %.2fs",
            len(self.blocks), len(self.index), n, time.monotonic() - t0,
        )

    def close(self) -> None:
        """Flush the head to blocks and close the WAL (SIGTERM path)."""
        self.flush()
        with self._lock:
            self.wal.close()
            self.ready = False

    # -- append ----------------------------------------------------------------

    def append(self, batch: SampleBatch) -> AppendResult:
        res = AppendResult()
        if not len(batch.series) and not batch.metadata:
            return res
        with self._lock:
            ids, new_series = self._resolve(batch.series, res)
            ref_ids = np.asarray(ids, np.int64)
            sids = ref_ids[batch.series_ref] if len(batch.series_ref) else np.empty(0, np.int64)
            self._write(res, new_series, sids, batch.timestamps, batch.values, batch.metadata, unique=False)
        return res

    def append_refs(
        self, refs: SeriesRefs, ts_ms: int, values: F64, metadata: Sequence[MetricMetadata] = ()
    ) -> AppendResult:
        """One sample per series of ``refs`` at ``ts_ms``: see :func:`~kubesight.store.interface.append_refs`.

        The label sets are looked up (and created) the first time only; later
        calls reuse the ids kept in ``refs`` until series are garbage-collected
        (``_epoch``). Refs with a refused series are resolved every time, so
        every append reports the refusal.
        """
        res = AppendResult()
        with self._lock:
            ids = refs.ids
            new_series: list[tuple[int, Labels]] = []
            if ids is None or refs.owner is not self or refs.epoch != self._epoch:
                got, new_series = self._resolve(refs.series, res)
                ids = np.asarray(got, np.int64)
                if not res.series_rejected:
                    refs.ids, refs.owner, refs.epoch = ids, self, self._epoch
            ts = np.full(len(ids), ts_ms, np.int64)
            self._write(res, new_series, ids, ts, values, list(metadata), unique=True)
        return res

    def _resolve(self, series: Sequence[Labels], res: AppendResult) -> tuple[list[int], list[tuple[int, Labels]]]:
        """Series ids of ``series`` (-1: refused, counted in ``res``), creating new ones. Under the lock."""
        ids = self.index.lookup_many(series)
        new_series: list[tuple[int, Labels]] = []
        if None in ids:
            for i, sid in enumerate(ids):
                if sid is not None:
                    continue
                try:
                    canon = validate_labels(series[i])
                except ValidationError as exc:
                    ids[i] = -1
                    res.series_rejected += 1
                    if len(res.errors) < _MAX_ERRORS:
                        res.errors.append(str(exc))
                    continue
                got = self.index.get(canon)
                if got is None:
                    got = self.index.add(canon)
                    new_series.append((got, self.index.labels_of(got)))
                ids[i] = got
        return ids, new_series  # type: ignore[return-value]  # every None was replaced

    def _write(
        self,
        res: AppendResult,
        new_series: list[tuple[int, Labels]],
        sids: I64,
        ts: I64,
        vals: F64,
        metadata: list[MetricMetadata],
        unique: bool,
    ) -> None:
        """Log and apply resolved samples (``sids`` -1: refused). ``unique``: no id twice. Under the lock."""
        keep = sids >= 0
        limit = int(self.clock() * 1000) + self.opts.max_future_ms
        future = ts > limit
        if future.any():
            n_future = int((future & keep).sum())
            if n_future:
                res.errors.append(
                    f"{n_future} sample(s) have timestamps more than "
                    f"{self.opts.max_future_ms // 1000}s in the future "
                    f"(first at {int(ts[future][0])} ms, now {limit - self.opts.max_future_ms} ms); check the sender's clock"
                )
            keep &= ~future
        if not keep.all():
            res.samples_rejected = int((~keep).sum())
            sids, ts, vals = sids[keep], ts[keep], vals[keep]
        sids32 = sids.astype(np.int32)
        # Metadata reaches the WAL only when it changed (scrapes resend it every
        # time); each new segment starts with all of it (see flush).
        changed = [m for m in metadata if self._metadata.get(m.metric_family) != m]
        # unique ids come from append_refs only, whose samples share one timestamp
        self.wal.log(new_series, sids32, ts, vals, changed, uniform_ts=unique)
        self.head.append(sids32, ts, vals)
        if len(sids):
            if unique:  # plain fancy indexing is exact when no id repeats, and much cheaper than .at
                idx = self.index
                idx.mint[sids] = np.minimum(idx.mint[sids], ts)
                idx.maxt[sids] = np.maximum(idx.maxt[sids], ts)
            else:
                self.index.update_times(sids, ts)
        for md in changed:
            self._metadata[md.metric_family] = md
        res.samples_written = len(sids)
        self.samples_appended += len(sids)
        self.samples_rejected += res.samples_rejected

    def needs_compaction(self) -> bool:
        with self._lock:
            windows = [b.meta.window_start for b in self.blocks]
        return len(windows) != len(set(windows))

    def head_limit(self) -> int:
        """Samples the head holds before a flush.

        ``head_max_samples``, raised to ~8 samples per live series (at most 4x):
        a flush costs per series (labels, index lookups, a block entry), so at
        2M samples a store of 500k scraped series flushed every minute with 4
        samples per series per block, a fifth of the server's CPU.
        """
        base = self.opts.head_max_samples
        return max(base, min(8 * len(self.index), 4 * base))

    def needs_flush(self) -> bool:
        h = self.head
        return h.samples >= self.head_limit() or (
            h.samples > 0 and self.clock() - self._head_started >= self.opts.head_max_age_s
        )

    # -- flush, compaction, retention -------------------------------------------

    def flush(self, compact_open_windows: bool = True) -> int:
        """Write the head out to blocks and drop the WAL it came from. Returns samples flushed.

        Automatic flushes pass ``compact_open_windows=False``: a window still
        receiving data would otherwise be rewritten at every flush.
        """
        with self._flush_lock:
            with self._lock:
                frozen = self.head
                if not frozen.samples:
                    return 0
                self.head = Head()
                self._head_started = self.clock()
                self._flushing.append(frozen)
                closed_segment = self.wal.rotate()
                if self._metadata:  # the segments that had it are dropped after this flush
                    self.wal.log([], _NO_SIDS, _NO_TS, _NO_VALS, list(self._metadata.values()))
            frozen.seal()
            runs = frozen.runs
            sids_all = sorted_unique(np.concatenate([r.sids for r in runs]))

            def gather(want: I64) -> tuple[I64, I64, F64]:
                return merge_sorted([(*r.gather(want, _MIN_T, _MAX_T), r.mint, r.maxt) for r in runs])

            new_blocks = self._stream_blocks(sids_all, frozen.samples, gather, level=0)
            with self._lock:
                self.blocks.extend(new_blocks)
                self._flushing.remove(frozen)
                self.wal.truncate_through(closed_segment)
            self.compact(only_closed=not compact_open_windows)
            return frozen.samples

    def _next_name(self, window: int) -> str:
        self._block_seq += 1
        return f"{window:015d}-{self._block_seq:08d}"

    def _stream_blocks(
        self,
        sids_all: I64,
        est_samples: int,
        gather: Callable[[I64], tuple[I64, I64, F64]],
        level: int,
    ) -> list[Block]:
        """Write the samples ``gather`` returns for ``sids_all`` as one block per window.

        Series go in label order, ~_CHUNK_SAMPLES at a time, so memory is
        bounded by a chunk, not by the size of the head or of a window.
        """
        if not len(sids_all):
            return []
        rank = self._label_rank()
        w = self.opts.block_window_ms
        ordered = sids_all[np.argsort(rank[sids_all], kind="stable")]
        per = max(1, len(ordered) * _CHUNK_SAMPLES // max(est_samples, 1))
        writers: dict[int, BlockWriter] = {}
        try:
            for a in range(0, len(ordered), per):
                s, t, v = gather(np.sort(ordered[a : a + per]))
                if not len(s):
                    continue
                win = t // w
                for wv in sorted_unique(win).tolist():
                    if wv not in writers:
                        writers[wv] = BlockWriter(
                            self.dir / "blocks", self._next_name(wv * w), window_start=wv * w, level=level
                        )
                    m = win == wv
                    ws, wt, wvals = (s, t, v) if m.all() else (s[m], t[m], v[m])
                    first = run_starts(ws)  # gather() returns samples grouped by series
                    uniq = ws[first]
                    counts = np.diff(np.append(first, len(ws)))
                    order = np.argsort(rank[uniq], kind="stable")
                    idx = gather_ranges(first[order].astype(np.int64), counts[order])
                    writers[wv].add(
                        self.index.labels_many(uniq[order]), uniq[order], counts[order], wt[idx], wvals[idx]
                    )
            paths = [wr.finish() for wr in writers.values()]
        except BaseException:
            for wr in writers.values():
                wr.abort()
            raise
        return [Block(p, self._pages) for p in paths if p is not None]

    def compact(self, only_closed: bool = False) -> int:
        """Merge blocks that share a window into one. Returns blocks merged away.

        With ``only_closed``, only windows that ended half a window before the
        newest sample seen, so that late scrapes have arrived.
        """
        with self._lock:
            by_window: dict[int, list[Block]] = {}
            for b in self.blocks:
                by_window.setdefault(b.meta.window_start, []).append(b)
            newest = max([b.maxt for b in self.blocks] + [self.head.maxt])
            w = self.opts.block_window_ms
            groups = [
                g
                for start, g in by_window.items()
                if len(g) > 1 and (not only_closed or start + w + w // 2 <= newest)
            ]
        merged = 0
        for group in groups:
            # Oldest write first, so overlapping duplicates resolve to the newest block.
            group.sort(key=lambda b: b.path.name.rsplit("-", 1)[-1])

            def gather(want: I64, group: list[Block] = group) -> tuple[I64, I64, F64]:
                parts = []
                for b in group:
                    bs, bt, bv = b.select(want, _MIN_T, _MAX_T, use_cache=False)
                    order = np.argsort(bs, kind="stable")  # label order -> id order, time kept
                    parts.append((bs[order], bt[order], bv[order], b.mint, b.maxt))
                return merge_sorted(parts)

            sids_all = sorted_unique(np.concatenate([b.sids for b in group]))
            est = sum(b.meta.num_samples for b in group)
            level = max(b.meta.level for b in group) + 1
            new = self._stream_blocks(sids_all, est, gather, level=level)
            with self._lock:
                self.blocks = [b for b in self.blocks if b not in group] + new
            for b in group:
                shutil.rmtree(b.path, ignore_errors=True)
            merged += len(group) - 1
        with self._lock:
            self.blocks.sort(key=lambda b: (b.mint, b.path.name))
        return merged

    def apply_retention(self) -> list[str]:
        """Delete whole blocks past the time or size limit. Returns what was deleted."""
        deleted: list[str] = []
        with self._lock:
            now_ms = int(self.clock() * 1000)
            cutoff = now_ms - self.opts.retention_ms
            keep = []
            for b in sorted(self.blocks, key=lambda b: b.maxt):
                if b.maxt < cutoff:
                    deleted.append(f"{b.path.name} (all samples older than retention)")
                else:
                    keep.append(b)
            if self.opts.retention_bytes:
                total = sum(b.size_bytes() for b in keep) + self.wal.size_bytes()
                while keep and total > self.opts.retention_bytes:
                    b = keep.pop(0)
                    total -= b.size_bytes()
                    deleted.append(f"{b.path.name} (over the size limit)")
            gone = [b for b in self.blocks if b not in keep]
            self.blocks = sorted(keep, key=lambda b: (b.mint, b.path.name))
            if gone:
                self._gc_series()
        for b in gone:
            shutil.rmtree(b.path, ignore_errors=True)
        for d in deleted:
            log.info("retention deleted block %s", d)
        return deleted

    def _gc_series(self) -> None:
        live: set[int] = set()
        for b in self.blocks:
            live.update(b.sids.tolist())
        for h in [self.head, *self._flushing]:
            for r in h.runs:
                live.update(r.sids.tolist())
            for p in h.pending:
                live.update(sorted_unique(p[0]).tolist())
        dead = [int(i) for i in self.index.all_ids().tolist() if i not in live]
        self.index.remove(dead)
        self._epoch += 1  # ids kept in SeriesRefs may name removed series now
        oldest = min((b.mint for b in self.blocks), default=self.head.mint)
        np.maximum(self.index.mint, oldest, out=self.index.mint)
        self._rank = self._rank_order = None  # ids were removed: sort afresh

    # -- queries -----------------------------------------------------------------

    def _label_rank(self) -> I64:
        """Rank of every series id in label-set order (-1: no such series).

        Kept up to date incrementally: series created since the last call are
        sorted among themselves and inserted by binary search, so a few new
        series (a pod restarting, a new histogram bucket) cost O(k log n)
        comparisons instead of re-sorting every label set at the next flush.
        Removals (retention) and big batches of new series sort everything,
        outside the store lock: appends go on meanwhile (a full sort of 500k
        label sets takes seconds, and appends come from the event loop).
        """
        while True:
            with self._lock:
                rank = self._rank_add_new()
                if rank is not None:
                    return rank
                epoch = self._epoch
                ids = self.index.all_ids()
                lbls = self.index.labels_many(ids)
                n = self.index.next_id
            order = ids[np.asarray(_sorted_positions(lbls), np.int64)].astype(np.int64)
            with self._lock:
                if self._epoch != epoch:
                    continue  # series were removed meanwhile: start over
                self._set_rank(order, n)
                rank = self._rank_add_new(force=True)  # series created during the sort
                assert rank is not None
                return rank

    def _rank_add_new(self, force: bool = False) -> I64 | None:
        """The rank with series created since it was computed inserted; None: sort afresh. Under the lock."""
        n = self.index.next_id
        rank, order = self._rank, self._rank_order
        if rank is None or order is None:
            return None
        if len(rank) >= n:
            return rank
        fresh = sorted(
            (lbls, sid)
            for sid, lbls in zip(range(len(rank), n), self.index.labels_many(np.arange(len(rank), n)), strict=True)
            if lbls is not None
        )
        if not force and len(fresh) * 8 > len(order):
            return None
        key = self.index.labels_of
        at = [bisect.bisect_left(order, lbls, key=key) for lbls, _ in fresh]
        order = np.insert(order, at, np.asarray([sid for _, sid in fresh], np.int64))
        return self._set_rank(order, n)

    def _set_rank(self, order: I64, n: int) -> I64:
        rank = np.full(n, -1, np.int64)
        rank[order] = np.arange(len(order), dtype=np.int64)
        self._rank, self._rank_order = rank, order
        return rank

    def _ids(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> I64:
        ids = self.index.select(matchers)
        if len(ids):
            ids = ids[(self.index.maxt[ids] >= mint) & (self.index.mint[ids] <= maxt)]
        return ids

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> SeriesData:
        with self._lock:
            ids = self._ids(matchers, start_ms, end_ms)
            if not len(ids):
                return SeriesData.empty()
            rank_all = self._label_rank()
            blocks = [b for b in self.blocks if b.maxt >= start_ms and b.mint <= end_ms]
            heads = [*self._flushing, self.head]
            for h in heads:
                h.seal()
            runs = [r for h in heads for r in h.runs if r.maxt >= start_ms and r.mint <= end_ms]
        sources: list[tuple[int, int, Callable[[], tuple[I64, I64, F64]]]] = [
            *((b.mint, b.maxt, lambda b=b: b.select(ids, start_ms, end_ms)) for b in blocks),
            *((r.mint, r.maxt, lambda r=r: r.gather(ids, start_ms, end_ms)) for r in runs),
        ]
        by_time = sorted(sources, key=lambda src: src[0])
        if all(x[1] < y[0] for x, y in itertools.pairwise(by_time)):
            # Sources that follow each other in time (the usual case: blocks,
            # then head runs): each series is its slices from each source in
            # turn. Per source only a record per series is kept besides its
            # times and values, so the per-sample series ids go at once.
            slices = [_SeriesSlices.of(*read()) for _, _, read in by_time]
            slices = [sl for sl in slices if len(sl.t)]
            if not slices:
                return SeriesData.empty()
            if len(slices) == 1:
                return self._one_source(slices[0], rank_all)
            return self._disjoint_sources(slices, rank_all)
        # Overlapping sources, in write order (blocks, then heads): the newest write of a sample wins.
        parts = [p for p in (read() for _, _, read in sources) if len(p[0])]
        if not parts:
            return SeriesData.empty()
        s = np.concatenate([p[0] for p in parts])
        t = np.concatenate([p[1] for p in parts])
        v = np.concatenate([p[2] for p in parts])
        pos = rank_all[s]
        src = np.concatenate([np.full(len(p[0]), i, np.int64) for i, p in enumerate(parts)])
        pos, t, v = dedupe_sorted(pos, t, v, src)
        first = run_starts(pos)
        uniq_pos = pos[first]
        offsets = np.append(first, len(pos)).astype(np.int64)
        inv = np.empty(len(rank_all), np.int64)
        valid = rank_all >= 0
        inv[rank_all[valid]] = np.flatnonzero(valid)
        return self._labelled(inv[uniq_pos], offsets, t, v)

    def _one_source(self, sl: _SeriesSlices, rank_all: I64) -> SeriesData:
        """The samples of one block or head run: each series' samples are already together, in time order.

        A block returns its series in label order, so nothing moves; a head
        run returns them in id order, so whole series are moved, not samples
        (no per-sample sort key, no sort).
        """
        sids, t, v = sl.sids, sl.t, sl.v
        offsets = np.append(sl.starts, len(t)).astype(np.int64)
        rank = rank_all[sids]
        if len(rank) > 1 and not bool((rank[1:] > rank[:-1]).all()):
            order = np.argsort(rank, kind="stable")
            lengths = sl.lengths[order]
            idx = gather_ranges(sl.starts[order], lengths)
            t, v, sids = t[idx], v[idx], sids[order]
            offsets = np.zeros(len(order) + 1, np.int64)
            np.cumsum(lengths, out=offsets[1:])
        return self._labelled(sids, offsets, t, v)

    def _disjoint_sources(self, parts: list[_SeriesSlices], rank_all: I64) -> SeriesData:
        """Merge sources that follow each other in time (``parts`` oldest first).

        A series of the result is its slices from the sources one after the
        other: the slices are placed by series (one record per series and
        source, sorted by label rank), and every source is copied once
        straight to its places, never concatenated or sorted by sample.
        """
        rec_sid = np.concatenate([p.sids for p in parts])
        rec_start = np.concatenate([p.starts for p in parts])
        rec_len = np.concatenate([p.lengths for p in parts])
        # Stable: within a series, the older source's slice comes first.
        order = np.argsort(rank_all[rec_sid], kind="stable")
        sorted_len = rec_len[order]
        out_start = np.empty(len(order), np.int64)
        out_start[order] = np.cumsum(sorted_len) - sorted_len
        total = int(rec_len.sum())
        t_out = np.empty(total, np.int64)
        v_out = np.empty(total, np.float64)
        a = 0
        for i in range(len(parts)):
            part = parts[i]
            parts[i] = _SeriesSlices.EMPTY  # let the source go once copied
            size = len(part.sids)
            dst = np.repeat(out_start[a : a + size] - rec_start[a : a + size], rec_len[a : a + size])
            dst += np.arange(len(part.t), dtype=np.int64)
            t_out[dst] = part.t
            v_out[dst] = part.v
            a += size
            del part, dst
        sorted_sid = rec_sid[order]
        first = run_starts(sorted_sid)
        offsets = np.zeros(len(first) + 1, np.int64)
        np.cumsum(np.add.reduceat(sorted_len, first), out=offsets[1:])
        return self._labelled(sorted_sid[first], offsets, t_out, v_out)

    def _labelled(self, sids: I64, offsets: I64, t: I64, v: F64) -> SeriesData:
        """SeriesData of the series ``sids`` (label order) with their samples in CSR form."""
        with self._lock:  # retention may drop series from the index meanwhile
            labels = self.index.labels_many(sids)
        if None in labels:
            # Their last block was deleted while we read it: they are gone.
            keep = np.asarray([lb is not None for lb in labels])
            lengths = np.diff(offsets)[keep]
            idx = gather_ranges(offsets[:-1][keep], lengths)
            t, v = t[idx], v[idx]
            offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
            labels = [lb for lb in labels if lb is not None]
        return SeriesData(labels, offsets, t, v)

    def series(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        with self._lock:
            ids = self._ids(matchers, start_ms, end_ms)
            rank = self._label_rank()
            ids = ids[np.argsort(rank[ids], kind="stable")]
            if limit:
                ids = ids[:limit]
            return self.index.labels_many(ids)

    def label_names(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        with self._lock:
            if not matchers and self._covers_all(start_ms, end_ms):
                names = self.index.label_names()
            else:
                ids = self._ids(matchers, start_ms, end_ms)
                names = sorted({k for lbls in self.index.labels_many(ids) for k, _ in lbls})
        return names[:limit] if limit else names

    def label_values(
        self, name: str, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        with self._lock:
            if not matchers and self._covers_all(start_ms, end_ms):
                vals = self.index.label_values(name)
            else:
                ids = self._ids(matchers, start_ms, end_ms)
                vals = sorted(
                    {v for lbls in self.index.labels_many(ids) for k, v in lbls if k == name}
                )
        return vals[:limit] if limit else vals

    def _covers_all(self, start_ms: int, end_ms: int) -> bool:
        ids = self.index.all_ids()
        if not len(ids):
            return True
        return start_ms <= int(self.index.mint[ids].min()) and end_ms >= int(self.index.maxt[ids].max())

    def metadata(self, metric: str = "", limit: int = 0) -> dict[str, list[MetricMetadata]]:
        with self._lock:
            items = sorted(self._metadata.items())
        if metric:
            items = [(k, m) for k, m in items if k == metric]
        if limit:
            items = items[:limit]
        return {k: [m] for k, m in items}

    # -- stats -------------------------------------------------------------------

    def stats(self) -> StoreStats:
        with self._lock:
            heads = [self.head, *self._flushing]
            return StoreStats(
                series=len(self.index),
                head_samples=sum(h.samples for h in heads),
                head_bytes=sum(h.nbytes for h in heads),
                head_mint=min(h.mint for h in heads),
                head_maxt=max(h.maxt for h in heads),
                blocks=len(self.blocks),
                block_bytes=sum(b.size_bytes() for b in self.blocks),
                block_samples=sum(b.meta.num_samples for b in self.blocks),
                wal_bytes=self.wal.size_bytes(),
                samples_appended=self.samples_appended,
                samples_rejected=self.samples_rejected,
                wal_corruptions=self.wal_corruptions + self.block_corruptions,
            )

    def cardinality(self, top: int = 10) -> dict[str, list[tuple[str, int]]]:
        """Top-N series counts by metric name, label name and label pair (TSDB status)."""
        with self._lock:
            card = self.index.cardinality()
        names = sorted(card.get("__name__", {}).items(), key=lambda kv: (-kv[1], kv[0]))
        by_label = sorted(
            ((n, sum(vals.values())) for n, vals in card.items()), key=lambda kv: (-kv[1], kv[0])
        )
        value_counts = sorted(((n, len(vals)) for n, vals in card.items()), key=lambda kv: (-kv[1], kv[0]))
        pairs = sorted(
            ((f"{n}={v}", c) for n, vals in card.items() for v, c in vals.items()),
            key=lambda kv: (-kv[1], kv[0]),
        )
        return {
            "seriesCountByMetricName": names[:top],
            "labelValueCountByLabelName": value_counts[:top],
            "memoryInBytesByLabelName": by_label[:top],
            "seriesCountByLabelValuePair": pairs[:top],
        }


@dataclass
class _SeriesSlices:
    """One source's samples, each series' together: a record per series, no id per sample."""

    sids: I64
    starts: I64
    lengths: I64
    t: I64
    v: F64

    EMPTY: ClassVar[_SeriesSlices]

    @staticmethod
    def of(s: I64, t: I64, v: F64) -> _SeriesSlices:
        first = run_starts(s)
        return _SeriesSlices(s[first], first, np.diff(np.append(first, len(s))), t, v)


_SeriesSlices.EMPTY = _SeriesSlices(_NO_TS, _NO_TS, _NO_TS, _NO_TS, _NO_VALS)


_SORT_CHUNK = 8192


def _sorted_positions(lbls: list[Labels]) -> list[int]:
    """``sorted(range(len(lbls)), key=lbls.__getitem__)`` without holding the GIL for seconds.

    One ``sorted`` call over 500k label sets is a single C call that keeps the
    GIL for its whole run (seconds), stalling the event loop that scrapes.
    Sorting chunks and merging them in Python lets other threads run between
    steps, for ~30% more CPU on the (rare) full sort.
    """
    n = len(lbls)
    key = lbls.__getitem__
    if n <= _SORT_CHUNK:
        return sorted(range(n), key=key)
    chunks = [sorted(range(a, min(a + _SORT_CHUNK, n)), key=key) for a in range(0, n, _SORT_CHUNK)]
    return list(heapq.merge(*chunks, key=key))


def check_dir_writable(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StorageError(f"data directory {path} is not writable: {exc}") from exc
