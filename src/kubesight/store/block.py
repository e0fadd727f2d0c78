"""Immutable on-disk blocks: one time window of samples, series-sorted pages.

A block is a directory ``blocks/<window-start>-<seq>/`` holding:

- ``meta.json``: time range, counts, the page table (first series and byte
  range of each page);
- ``series.json.zst``: the label sets in label order with their global ids;
- ``chunks``: the pages (see :mod:`kubesight.store.encoding`).

Series are ordered by label set, so a selector like ``node_cpu_seconds_total``
touches neighbouring pages. Blocks are written into a temporary directory and
renamed into place, so a crash leaves either a whole block or none.
"""

from __future__ import annotations

import itertools
import mmap
import os
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cramjam
import numpy as np
import numpy.typing as npt
import orjson

from kubesight.errors import CorruptionError
from kubesight.model import Labels
from kubesight.store.arrays import gather_ranges, member_positions
from kubesight.store.encoding import decode_page, encode_page

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_PAGE_SAMPLES = 1 << 16  # 64k samples: pages small enough to decode for one series
# Below this many samples in a page's selected span, Block.select tests every
# sample's time; above, it binary-searches each series (measured: the search's
# ~10 rounds of array calls cost about as much as testing 30k samples).
_MASK_BELOW = 1 << 15
FORMAT_VERSION = 1


@dataclass
class BlockMeta:
    mint: int
    maxt: int
    num_series: int
    num_samples: int
    window_start: int
    level: int
    page_first: list[int]
    page_offset: list[int]
    page_length: list[int]

    def to_json(self) -> bytes:
        d: dict[str, Any] = {"version": FORMAT_VERSION, **self.__dict__}
        return orjson.dumps(d)

    @staticmethod
    def from_json(b: bytes) -> BlockMeta:
        d = orjson.loads(b)
        if d.pop("version", None) != FORMAT_VERSION:
            raise CorruptionError("unknown block format version")
        return BlockMeta(**d)


class BlockWriter:
    """Writes a block from series handed over in label order, a chunk at a time.

    Pages are encoded and written as soon as ~_PAGE_SAMPLES samples of whole
    series are buffered, so memory stays bounded by one chunk however large
    the block grows. ``finish`` writes the series table and meta and renames
    the directory into place.
    """

    def __init__(self, parent: Path, name: str, *, window_start: int, level: int) -> None:
        self.parent = parent
        self.name = name
        self.window_start = window_start
        self.level = level
        self.tmp = parent / f".tmp-{name}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        self._f = open(self.tmp / "chunks", "wb")  # noqa: SIM115 - closed in finish()
        self._labels: list[Labels] = []
        self._sids: list[I64] = []
        self._buf: list[tuple[I64, I64, F64]] = []
        self._buf_samples = 0
        self._series = 0
        self._samples = 0
        self._mint = np.iinfo(np.int64).max
        self._maxt = np.iinfo(np.int64).min
        self._page_first: list[int] = []
        self._page_offset: list[int] = []
        self._page_length: list[int] = []
        self._offset = 0
        self._buf_first = 0

    def add(self, labels: list[Labels], sids: I64, counts: I64, ts: I64, vals: F64) -> None:
        """Append whole series (after every series added before, in label order)."""
        if not len(counts):
            return
        self._labels.extend(labels)
        self._sids.append(np.asarray(sids, np.int64))
        self._series += len(counts)
        self._samples += len(ts)
        self._mint = min(self._mint, int(ts.min()))
        self._maxt = max(self._maxt, int(ts.max()))
        self._buf.append((np.asarray(counts, np.int64), ts, vals))
        self._buf_samples += len(ts)
        if self._buf_samples >= _PAGE_SAMPLES:
            self._write_pages(final=False)

    def _write_pages(self, final: bool) -> None:
        counts = np.concatenate([b[0] for b in self._buf])
        ts = np.concatenate([b[1] for b in self._buf])
        vals = np.concatenate([b[2] for b in self._buf])
        ends = np.cumsum(counts)
        starts = ends - counts
        # Cut at series boundaries every ~_PAGE_SAMPLES; keep the tail for the
        # next chunk unless this is the end.
        cuts = [0]
        marks = np.searchsorted(ends, np.arange(_PAGE_SAMPLES, int(ends[-1]) + 1, _PAGE_SAMPLES))
        for m in (marks + 1).tolist():
            if cuts[-1] < m <= len(counts):
                cuts.append(m)
        if final and cuts[-1] != len(counts):
            cuts.append(len(counts))
        for a, b in itertools.pairwise(cuts):
            lo, hi = int(starts[a]), int(ends[b - 1])
            page = encode_page(counts[a:b], ts[lo:hi], vals[lo:hi])
            self._f.write(page)
            self._page_first.append(self._buf_first + a)
            self._page_offset.append(self._offset)
            self._page_length.append(len(page))
            self._offset += len(page)
        done = cuts[-1]
        self._buf_first += done
        rest = int(ends[done - 1]) if done else 0
        self._buf = [(counts[done:], ts[rest:], vals[rest:])] if done < len(counts) else []
        self._buf_samples = len(ts) - rest

    def finish(self) -> Path | None:
        """Complete the block; returns its path, or None (and no block) if it is empty."""
        if self._buf:
            self._write_pages(final=True)
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        if not self._series:
            shutil.rmtree(self.tmp)
            return None
        # Ids apart from labels: opening a block for queries needs only the ids;
        # the labels are read at startup to rebuild the index.
        sids = np.concatenate(self._sids)
        (self.tmp / "series.ids").write_bytes(sids.astype("<i8").tobytes())
        series_json = orjson.dumps(self._labels)
        (self.tmp / "series.json.zst").write_bytes(bytes(cramjam.zstd.compress(series_json, level=3)))
        meta = BlockMeta(
            mint=self._mint,
            maxt=self._maxt,
            num_series=self._series,
            num_samples=self._samples,
            window_start=self.window_start,
            level=self.level,
            page_first=self._page_first,
            page_offset=self._page_offset,
            page_length=self._page_length,
        )
        (self.tmp / "meta.json").write_bytes(meta.to_json())
        final = self.parent / self.name
        os.rename(self.tmp, final)
        _fsync_dir(self.parent)
        return final

    def abort(self) -> None:
        self._f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class PageCache:
    """Decoded pages of all blocks, least recently used out, within a byte budget."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._bytes = 0
        self._pages: OrderedDict[tuple[int, int], tuple[tuple[I64, I64, F64], int]] = OrderedDict()
        self._lock = threading.Lock()
        self._next_owner = 0

    def new_owner(self) -> int:
        """A key prefix no other block will ever use (unlike id(), never reused)."""
        with self._lock:
            self._next_owner += 1
            return self._next_owner

    def get(self, key: tuple[int, int]) -> tuple[I64, I64, F64] | None:
        with self._lock:
            hit = self._pages.get(key)
            if hit is None:
                return None
            self._pages.move_to_end(key)
            return hit[0]

    def put(self, key: tuple[int, int], page: tuple[I64, I64, F64]) -> None:
        size = sum(a.nbytes for a in page)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._pages:
                return
            self._pages[key] = (page, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, sz) = self._pages.popitem(last=False)
                self._bytes -= sz


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Block:
    """A read-only block, its chunks memory-mapped, pages decoded on demand."""

    def __init__(self, path: Path, cache: PageCache | None = None) -> None:
        self.path = path
        self._cache = cache if cache is not None else PageCache()
        self._owner = self._cache.new_owner()
        try:
            self.meta = BlockMeta.from_json((path / "meta.json").read_bytes())
            self.sids = np.frombuffer((path / "series.ids").read_bytes(), "<i8").astype(np.int64)
        except (OSError, ValueError, TypeError) as exc:
            raise CorruptionError(f"block {path}: unreadable metadata: {exc}") from exc
        if len(self.sids) != self.meta.num_series:
            raise CorruptionError(f"block {path}: series table does not match meta.json")
        pages = self.meta.page_offset, self.meta.page_length
        size = (path / "chunks").stat().st_size
        if any(o + n > size for o, n in zip(*pages, strict=True)):
            raise CorruptionError(f"block {path}: chunks file is shorter than its page table")
        self._labels: list[Labels] | None = None
        self._size: int | None = None
        self._order = np.argsort(self.sids, kind="stable")
        self._sorted_sids = self.sids[self._order]
        self._page_first = np.asarray(self.meta.page_first, np.int64)
        self._file = open(path / "chunks", "rb")  # noqa: SIM115 - lives as long as the block
        size = os.fstat(self._file.fileno()).st_size
        self._mm = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if size else None

    @property
    def labels(self) -> list[Labels]:
        """Label sets in block order (label order), read on first use."""
        if self._labels is None:
            try:
                raw = bytes(cramjam.zstd.decompress((self.path / "series.json.zst").read_bytes()))
                table = orjson.loads(raw)
            except (OSError, ValueError, cramjam.DecompressionError) as exc:
                raise CorruptionError(f"block {self.path}: unreadable series table: {exc}") from exc
            self._labels = [tuple((k, v) for k, v in lb) for lb in table]
            if len(self._labels) != len(self.sids):
                raise CorruptionError(f"block {self.path}: series table does not match its ids")
        return self._labels

    @property
    def mint(self) -> int:
        return self.meta.mint

    @property
    def maxt(self) -> int:
        return self.meta.maxt

    def size_bytes(self) -> int:
        # Blocks never change once written: measure once, not on every
        # /metrics render (which asks for every block's size several times).
        if self._size is None:
            self._size = sum(p.stat().st_size for p in self.path.iterdir())
        return self._size

    def close(self) -> None:
        if self._mm is not None:
            self._mm.close()
        self._file.close()

    def _page(self, i: int, use_cache: bool = True) -> tuple[I64, I64, F64]:
        key = (self._owner, i)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if self._mm is None:
            raise CorruptionError(f"block {self.path}: empty chunks file")
        o, n = self.meta.page_offset[i], self.meta.page_length[i]
        counts, ts, vals = decode_page(self._mm[o : o + n])
        offsets = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        page = (offsets, ts, vals)
        if use_cache:
            self._cache.put(key, page)
        return page

    def select(
        self, want: I64, mint: int, maxt: int, use_cache: bool = True
    ) -> tuple[I64, I64, F64]:
        """Samples of the sorted global ids ``want`` in [mint, maxt]: (sid, ts, value).

        Each series' samples are sorted by time, so the part inside [mint, maxt]
        is one slice per series, found by a binary search run for all series
        at once; the slices are copied straight into the output arrays, sized
        first, so a large selection is not built twice (pieces, then their
        concatenation). Compaction passes ``use_cache=False``: it reads each
        page once.
        """
        empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
        if self.maxt < mint or self.mint > maxt or not len(want):
            return empty
        pos = member_positions(self._sorted_sids, want)
        if not len(pos):
            return empty
        local = np.sort(self._order[pos])
        page_of = np.searchsorted(self._page_first, local, side="right") - 1
        bounds = np.flatnonzero(np.r_[True, page_of[1:] != page_of[:-1]]).tolist()
        bounds.append(len(local))
        # Sized for every page touched: np.empty only reserves address space and
        # only what is written becomes resident, so memory follows the samples
        # selected while each decoded page is dropped as soon as it is copied.
        # (A page may exceed _PAGE_SAMPLES when one series does: then it grows.)
        cap = min(self.meta.num_samples, (len(bounds) - 1) * _PAGE_SAMPLES)
        out_s = np.empty(cap, np.int64)
        out_t = np.empty(cap, np.int64)
        out_v = np.empty(cap, np.float64)
        at = 0
        for b, e in itertools.pairwise(bounds):
            p = int(page_of[b])
            offsets, ts, vals = self._page(p, use_cache)
            rel = local[b:e] - self._page_first[p]
            starts, ends = offsets[rel], offsets[rel + 1]
            if at + int(ends[-1] - starts[0]) > cap:
                cap = max(2 * cap, at + int(ends[-1] - starts[0]))
                out_s, out_t, out_v = (_grown(a, at, cap) for a in (out_s, out_t, out_v))
            if int(ends[-1] - starts[0]) <= _MASK_BELOW:
                # Few samples: testing each beats the search's fixed cost per round.
                idx = gather_ranges(starts, ends - starts)
                t = ts[idx]
                keep = (t >= mint) & (t <= maxt)
                kept = np.zeros(len(idx) + 1, np.int64)
                np.cumsum(keep, out=kept[1:])
                seg_end = np.cumsum(ends - starts)
                n = kept[seg_end] - kept[seg_end - (ends - starts)]
                k = int(kept[-1])
                dst = slice(at, at + k)
                np.compress(keep, t, out=out_t[dst])
                np.compress(keep, vals[idx], out=out_v[dst])
            else:
                lo = series_search(ts, starts, ends, mint, side="left")
                n = series_search(ts, lo, ends, maxt, side="right") - lo
                k = int(n.sum())
                dst = slice(at, at + k)
                if not k:
                    continue
                if len(n) == 1 or bool((lo[1:] == lo[:-1] + n[:-1]).all()):
                    # Adjacent slices (whole series, or one): a plain copy.
                    a = int(lo[0])
                    out_t[dst] = ts[a : a + k]
                    out_v[dst] = vals[a : a + k]
                elif int(rel[-1] - rel[0]) == len(rel) - 1:
                    # Neighbouring series, each cut in time: a mask over their
                    # span compresses straight into the output, no index array.
                    a, z = int(lo[0]), int(lo[-1] + n[-1])
                    span = ts[a:z]
                    keep = (span >= mint) & (span <= maxt)
                    np.compress(keep, span, out=out_t[dst])
                    np.compress(keep, vals[a:z], out=out_v[dst])
                else:
                    idx = gather_ranges(lo, n)
                    np.take(ts, idx, out=out_t[dst])
                    np.take(vals, idx, out=out_v[dst])
            out_s[dst] = np.repeat(self.sids[local[b:e]], n)
            at += k
        if at * 2 < cap and cap > _PAGE_SAMPLES:
            # Much less than reserved: do not keep the address space.
            return out_s[:at].copy(), out_t[:at].copy(), out_v[:at].copy()
        return out_s[:at], out_t[:at], out_v[:at]


def _grown(a: npt.NDArray[Any], used: int, cap: int) -> npt.NDArray[Any]:
    out = np.empty(cap, a.dtype)
    out[:used] = a[:used]
    return out


def series_search(ts: I64, lo: I64, hi: I64, t: int, side: str) -> I64:
    """Per series ``i`` (samples ``ts[lo[i]:hi[i]]``, sorted): ``searchsorted(t, side)``.

    One vectorised binary search over all series: log2(longest series) rounds
    of array operations on one element per series, never on every sample.
    """
    lo = lo.copy()
    hi = hi.copy()
    last = len(ts) - 1
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) >> 1
        # Finished series may probe one past the end; their answer is kept anyway.
        probe = ts[np.minimum(mid, last)]
        go_right = (probe < t) if side == "left" else (probe <= t)
        go_right &= active
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)
