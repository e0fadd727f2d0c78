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
from kubesight.store.encoding import decode_page, encode_page
from kubesight.store.head import gather_ranges, member_positions

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_PAGE_SAMPLES = 1 << 16  # 64k samples: pages small enough to decode for one series
_CACHE_PAGES = 256  # decoded-page cache per block (~64k samples * 16 B each at most)
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


def write_block(
    parent: Path,
    name: str,
    labels: list[Labels],
    sids: I64,
    counts: I64,
    ts: I64,
    vals: F64,
    *,
    window_start: int,
    level: int,
) -> Path:
    """Write series (given in label order, samples sorted by time) as a block."""
    tmp = parent / f".tmp-{name}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    page_first: list[int] = []
    page_offset: list[int] = []
    page_length: list[int] = []
    starts = np.cumsum(counts) - counts
    ends = starts + counts
    # Cut pages at series boundaries every ~_PAGE_SAMPLES samples.
    cuts = [0]
    if len(counts):
        marks = np.searchsorted(ends, np.arange(_PAGE_SAMPLES, int(ends[-1]), _PAGE_SAMPLES))
        for m in np.unique(marks + 1).tolist():
            if cuts[-1] < m < len(counts):
                cuts.append(m)
    cuts.append(len(counts))
    offset = 0
    with open(tmp / "chunks", "wb") as f:
        for a, b in itertools.pairwise(cuts):
            if a == b:
                continue
            lo, hi = int(starts[a]), int(ends[b - 1])
            page = encode_page(counts[a:b], ts[lo:hi], vals[lo:hi])
            f.write(page)
            page_first.append(a)
            page_offset.append(offset)
            page_length.append(len(page))
            offset += len(page)
        f.flush()
        os.fsync(f.fileno())
    # Ids apart from labels: opening a block for queries needs only the ids;
    # the labels are read at startup to rebuild the index.
    (tmp / "series.ids").write_bytes(np.asarray(sids, "<i8").tobytes())
    series_json = orjson.dumps(labels)
    (tmp / "series.json.zst").write_bytes(bytes(cramjam.zstd.compress(series_json, level=3)))
    meta = BlockMeta(
        mint=int(ts.min()) if len(ts) else 0,
        maxt=int(ts.max()) if len(ts) else 0,
        num_series=len(labels),
        num_samples=len(ts),
        window_start=window_start,
        level=level,
        page_first=page_first,
        page_offset=page_offset,
        page_length=page_length,
    )
    (tmp / "meta.json").write_bytes(meta.to_json())
    final = parent / name
    os.rename(tmp, final)
    _fsync_dir(parent)
    return final


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Block:
    """A read-only block, its chunks memory-mapped, pages decoded on demand."""

    def __init__(self, path: Path, labels: list[Labels] | None = None) -> None:
        self.path = path
        try:
            self.meta = BlockMeta.from_json((path / "meta.json").read_bytes())
            self.sids = np.frombuffer((path / "series.ids").read_bytes(), "<i8").astype(np.int64)
        except (OSError, ValueError, TypeError) as exc:
            raise CorruptionError(f"block {path}: unreadable metadata: {exc}") from exc
        if len(self.sids) != self.meta.num_series:
            raise CorruptionError(f"block {path}: series table does not match meta.json")
        self._labels = labels
        self._order = np.argsort(self.sids, kind="stable")
        self._sorted_sids = self.sids[self._order]
        self._page_first = np.asarray(self.meta.page_first, np.int64)
        self._file = open(path / "chunks", "rb")  # noqa: SIM115 - lives as long as the block
        size = os.fstat(self._file.fileno()).st_size
        self._mm = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        self._cache: OrderedDict[int, tuple[I64, I64, F64]] = OrderedDict()

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
        return sum(p.stat().st_size for p in self.path.iterdir())

    def close(self) -> None:
        if self._mm is not None:
            self._mm.close()
        self._file.close()

    def _page(self, i: int) -> tuple[I64, I64, F64]:
        hit = self._cache.get(i)
        if hit is not None:
            self._cache.move_to_end(i)
            return hit
        if self._mm is None:
            raise CorruptionError(f"block {self.path}: empty chunks file")
        o, n = self.meta.page_offset[i], self.meta.page_length[i]
        counts, ts, vals = decode_page(self._mm[o : o + n])
        offsets = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        page = (offsets, ts, vals)
        self._cache[i] = page
        if len(self._cache) > _CACHE_PAGES:
            self._cache.popitem(last=False)
        return page

    def select(self, want: I64, mint: int, maxt: int) -> tuple[I64, I64, F64]:
        """Samples of the sorted global ids ``want`` in [mint, maxt]: (sid, ts, value)."""
        empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
        if self.maxt < mint or self.mint > maxt or not len(want):
            return empty
        pos = member_positions(self._sorted_sids, want)
        if not len(pos):
            return empty
        local = np.sort(self._order[pos])
        page_of = np.searchsorted(self._page_first, local, side="right") - 1
        out_s, out_t, out_v = [], [], []
        bounds = np.flatnonzero(np.r_[True, page_of[1:] != page_of[:-1]])
        for j, b in enumerate(bounds.tolist()):
            e = int(bounds[j + 1]) if j + 1 < len(bounds) else len(local)
            p = int(page_of[b])
            offsets, ts, vals = self._page(p)
            rel = local[b:e] - self._page_first[p]
            starts = offsets[rel]
            lengths = offsets[rel + 1] - starts
            idx = gather_ranges(starts, lengths)
            t = ts[idx]
            keep = (t >= mint) & (t <= maxt)
            out_s.append(np.repeat(self.sids[local[b:e]], lengths)[keep])
            out_t.append(t[keep])
            out_v.append(vals[idx][keep])
        if not out_s:
            return empty
        return np.concatenate(out_s), np.concatenate(out_t), np.concatenate(out_v)

    def read_all(self) -> tuple[I64, I64, F64]:
        """Every sample (for compaction), in page order: (sid, ts, value)."""
        parts = [self._page(i) for i in range(len(self.meta.page_first))]
        if not parts:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        s = np.concatenate(
            [
                np.repeat(self.sids[self.meta.page_first[i] : self.meta.page_first[i] + len(p[0]) - 1], np.diff(p[0]))
                for i, p in enumerate(parts)
            ]
        )
        return s, np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])
