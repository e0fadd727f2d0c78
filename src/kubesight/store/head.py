"""The head: recent samples in memory, as sorted runs of numpy columns.

Appends land in a pending list of column chunks. Once enough samples are
pending they are sorted by (series, time) into an immutable *run* with a CSR
offset table. Runs are never merged in memory (that would re-sort every sample
several times); a query gathers from each run only the series it needs and
sorts just those samples, and a flush sorts everything once into blocks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubesight.store.arrays import gather_ranges, member_positions, run_starts

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_RUN_SAMPLES = 1 << 18  # 256k samples: sorting cost amortised, query fan-out small


@dataclass(frozen=True)
class Run:
    sids: I64  # unique series ids, sorted
    offsets: I64  # len(sids) + 1
    ts: I64
    vals: F64
    seq: int  # append order, for last-write-wins between runs
    mint: int
    maxt: int

    @staticmethod
    def build(sids: I32, ts: I64, vals: F64, seq: int) -> Run:
        # Stable sort keeps append order among equal (series, time): a sender's
        # retry of the same sample resolves to its last write.
        order = np.lexsort((ts, sids))
        s = sids[order].astype(np.int64)
        t = ts[order]
        v = vals[order]
        last = np.ones(len(s), bool)
        last[:-1] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
        if not last.all():
            s, t, v = s[last], t[last], v[last]
        first = run_starts(s)
        uniq = s[first]
        offsets = np.append(first, len(s)).astype(np.int64)
        return Run(uniq, offsets, t, v, seq, int(t.min()), int(t.max()))

    def gather(self, want: I64, mint: int, maxt: int) -> tuple[I64, I64, F64]:
        if self.maxt < mint or self.mint > maxt or not len(want):
            return _EMPTY3
        pos = member_positions(self.sids, want)
        if not len(pos):
            return _EMPTY3
        starts = self.offsets[pos]
        lengths = self.offsets[pos + 1] - starts
        idx = gather_ranges(starts, lengths)
        s = np.repeat(self.sids[pos], lengths)
        t = self.ts[idx]
        keep = (t >= mint) & (t <= maxt)
        return s[keep], t[keep], self.vals[idx][keep]

    @property
    def nbytes(self) -> int:
        return self.sids.nbytes + self.offsets.nbytes + self.ts.nbytes + self.vals.nbytes


_EMPTY3: tuple[I64, I64, F64] = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))


@dataclass
class Head:
    runs: list[Run] = field(default_factory=list)
    pending: list[tuple[I32, I64, F64]] = field(default_factory=list)
    pending_samples: int = 0
    samples: int = 0
    mint: int = np.iinfo(np.int64).max
    maxt: int = np.iinfo(np.int64).min
    _seq: int = 0

    def append(self, sids: I32, ts: I64, vals: F64) -> None:
        if not len(sids):
            return
        self.pending.append((sids, ts, vals))
        self.pending_samples += len(sids)
        self.samples += len(sids)
        self.mint = min(self.mint, int(ts.min()))
        self.maxt = max(self.maxt, int(ts.max()))
        if self.pending_samples >= _RUN_SAMPLES:
            self.seal()

    def seal(self) -> None:
        """Sort pending chunks into a run."""
        if not self.pending:
            return
        s = np.concatenate([p[0] for p in self.pending])
        t = np.concatenate([p[1] for p in self.pending])
        v = np.concatenate([p[2] for p in self.pending])
        self.pending = []
        self.pending_samples = 0
        self._seq += 1
        self.runs.append(Run.build(s, t, v, self._seq))

    def sources(self, want: I64, mint: int, maxt: int) -> list[tuple[I64, I64, F64]]:
        """Per run (oldest first) the samples of ``want`` in [mint, maxt]."""
        self.seal()
        return [r.gather(want, mint, maxt) for r in self.runs]

    @property
    def nbytes(self) -> int:
        return sum(r.nbytes for r in self.runs) + sum(
            p[0].nbytes + p[1].nbytes + p[2].nbytes for p in self.pending
        )


def merge_sorted(parts: list[tuple[I64, I64, F64, int, int]]) -> tuple[I64, I64, F64]:
    """Merge sources each sorted by (series, time), given oldest write first.

    Each part is ``(sids, ts, values, mint, maxt)``. When the parts follow each
    other in time (the usual case: successive head runs or blocks), a stable
    sort by series keeps every series' samples in time order, which costs far
    less than a full (series, time) sort; otherwise fall back to that sort.
    Equal (series, time) resolve to the last written.
    """
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _EMPTY3
    if len(parts) == 1:
        return parts[0][0], parts[0][1], parts[0][2]
    s = np.concatenate([p[0] for p in parts])
    t = np.concatenate([p[1] for p in parts])
    v = np.concatenate([p[2] for p in parts])
    if all(a[4] < b[3] for a, b in itertools.pairwise(parts)):
        order = np.argsort(s, kind="stable")
        return s[order], t[order], v[order]
    rank = np.concatenate([np.full(len(p[0]), i, np.int64) for i, p in enumerate(parts)])
    return dedupe_sorted(s, t, v, rank)


def dedupe_sorted(s: I64, t: I64, v: F64, rank: I64) -> tuple[I64, I64, F64]:
    """Sort by (series, time, rank) and keep the highest-rank sample of each (series, time)."""
    if not len(s):
        return s, t, v
    order = _series_time_order(s, t, rank)
    s, t, v = s[order], t[order], v[order]
    last = np.ones(len(s), bool)
    last[:-1] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
    if last.all():
        return s, t, v
    return s[last], t[last], v[last]


def _series_time_order(s: I64, t: I64, rank: I64) -> I64:
    tmin, tmax = int(t.min()), int(t.max())
    if int(s.min()) >= 0 and int(s.max()) < (1 << 31) and tmax - tmin < (1 << 32):
        # One int64 key and a stable sort (input is in rank order when rank
        # ascends with position) is several times faster than a 3-key lexsort.
        key = (s.astype(np.int64) << 32) | (t - tmin)
        if len(rank) < 2 or bool((rank[1:] >= rank[:-1]).all()):
            return np.argsort(key, kind="stable")
        return np.lexsort((rank, key))
    return np.lexsort((rank, t, s))
