"""The series index: label set <-> series id, and postings for matchers.

Series ids are dense, assigned in creation order and never reused. Postings
(label pair -> series ids) are Python lists appended per new series and turned
into sorted numpy arrays lazily, so the append path pays nothing per sample and
matcher resolution is a handful of array set operations.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from kubesight.model import Labels, Matcher, MatchOp
from kubesight.model.labels import get_label

IDs = npt.NDArray[np.int64]

_EMPTY: IDs = np.empty(0, np.int64)
_NO_TIME_MIN = np.iinfo(np.int64).max
_NO_TIME_MAX = np.iinfo(np.int64).min
# Below this many candidates, checking each one's labels beats set operations
# on postings lists that may hold every series (measured: ~1 us per candidate).
_FILTER_BELOW = 2048


class SeriesIndex:
    def __init__(self) -> None:
        self._by_labels: dict[Labels, int] = {}
        self._labels: list[Labels | None] = []
        self._postings: dict[str, dict[str, list[int]]] = {}
        self._arrays: dict[tuple[str, str], IDs] = {}
        self._all: IDs | None = None
        self._pair_cache: dict[tuple[str, str], tuple[str, str]] = {}
        self.mint: npt.NDArray[np.int64] = np.full(1024, _NO_TIME_MIN, np.int64)
        self.maxt: npt.NDArray[np.int64] = np.full(1024, _NO_TIME_MAX, np.int64)
        self.live = 0

    # -- creation and lookup ------------------------------------------------

    def lookup_many(self, series: Sequence[Labels]) -> list[int | None]:
        get = self._by_labels.get
        return [get(lbls) for lbls in series]

    def get(self, labels: Labels) -> int | None:
        return self._by_labels.get(labels)

    def add(self, labels: Labels, sid: int | None = None) -> int:
        """Register a validated, canonical label set; returns its id."""
        existing = self._by_labels.get(labels)
        if existing is not None:
            return existing
        labels = self._intern(labels)
        if sid is None:
            sid = len(self._labels)
        while len(self._labels) <= sid:
            self._labels.append(None)
        self._labels[sid] = labels
        self._by_labels[labels] = sid
        self.live += 1
        if sid >= len(self.mint):
            grow = max(sid + 1, 2 * len(self.mint))
            self.mint = np.concatenate(
                [self.mint, np.full(grow - len(self.mint), _NO_TIME_MIN, np.int64)]
            )
            self.maxt = np.concatenate(
                [self.maxt, np.full(grow - len(self.maxt), _NO_TIME_MAX, np.int64)]
            )
        for name, value in labels:
            self._postings.setdefault(name, {}).setdefault(value, []).append(sid)
            self._arrays.pop((name, value), None)
        self._all = None
        return sid

    def _intern(self, labels: Labels) -> Labels:
        # Label names and most values repeat across series; sharing one string
        # object per distinct pair keeps 100k series in tens of MB.
        cache = self._pair_cache
        out = []
        for pair in labels:
            p = cache.get(pair)
            if p is None:
                p = (sys.intern(pair[0]), sys.intern(pair[1]) if len(pair[1]) < 64 else pair[1])
                cache[p] = p
            out.append(p)
        return tuple(out)

    def remove(self, sids: Iterable[int]) -> None:
        """Forget series (retention removed all their samples)."""
        gone = set()
        for sid in sids:
            lbls = self._labels[sid]
            if lbls is None:
                continue
            gone.add(sid)
            del self._by_labels[lbls]
            self._labels[sid] = None
            self.mint[sid] = _NO_TIME_MIN
            self.maxt[sid] = _NO_TIME_MAX
            self.live -= 1
        if not gone:
            return
        for name, values in list(self._postings.items()):
            for value, ids in list(values.items()):
                kept = [i for i in ids if i not in gone]
                if len(kept) != len(ids):
                    self._arrays.pop((name, value), None)
                    if kept:
                        values[value] = kept
                    else:
                        del values[value]
            if not values:
                del self._postings[name]
        self._pair_cache = {p: p for lbls in self._labels if lbls for p in lbls}
        self._all = None

    def labels_of(self, sid: int) -> Labels:
        lbls = self._labels[sid]
        if lbls is None:
            raise KeyError(sid)
        return lbls

    def labels_many(self, sids: IDs) -> list[Labels]:
        """Label sets of ids; an id removed meanwhile (retention) gives None."""
        lab = self._labels
        return [lab[i] for i in sids.tolist()]

    def __len__(self) -> int:
        return self.live

    @property
    def next_id(self) -> int:
        return len(self._labels)

    def update_times(self, sids: IDs, ts: npt.NDArray[np.int64]) -> None:
        np.minimum.at(self.mint, sids, ts)
        np.maximum.at(self.maxt, sids, ts)

    # -- matchers ------------------------------------------------------------

    def _arr(self, name: str, value: str) -> IDs:
        key = (name, value)
        a = self._arrays.get(key)
        if a is None:
            ids = self._postings.get(name, {}).get(value)
            a = np.asarray(ids, np.int64) if ids else _EMPTY
            # Ids arrive in creation order, except when the index is rebuilt
            # from blocks at startup (label order): sort only when needed.
            if len(a) > 1 and bool((a[1:] < a[:-1]).any()):
                a = np.sort(a)
            self._arrays[key] = a
        return a

    def all_ids(self) -> IDs:
        if self._all is None:
            self._all = np.asarray(
                [i for i, lbls in enumerate(self._labels) if lbls is not None], np.int64
            )
        return self._all

    def _union(self, name: str, values: Iterable[str]) -> IDs:
        arrs = [self._arr(name, v) for v in values]
        if not arrs:
            return _EMPTY
        if len(arrs) == 1:
            return arrs[0]
        # Postings of different values of one label never share a series.
        return np.sort(np.concatenate(arrs))

    def _values_matching(self, m: Matcher, want: bool) -> list[str]:
        values = self._postings.get(m.name, {})
        if m.op is MatchOp.EQ and want:
            return [m.value] if m.value in values else []
        alts = m.literal_alternatives
        if alts is not None and want:
            return [v for v in alts if v in values]
        return [v for v in values if m.matches(v) is want]

    def select(self, matchers: Sequence[Matcher]) -> IDs:
        """Sorted ids of series matched by every matcher (Prometheus semantics)."""
        result: IDs | None = None
        subtract: list[IDs] = []
        positive = [m for m in matchers if not m.matches_empty]
        negative = [m for m in matchers if m.matches_empty]
        # Cheapest positive matchers first so intersections shrink fast.
        for m in sorted(positive, key=lambda m: m.op is not MatchOp.EQ):
            if result is not None and len(result) <= _FILTER_BELOW:
                result = self._filter(result, m)
            else:
                ids = self._union(m.name, self._values_matching(m, True))
                result = ids if result is None else np.intersect1d(result, ids, assume_unique=True)
            if not len(result):
                return _EMPTY
        for m in negative:
            if result is not None and len(result) <= _FILTER_BELOW:
                result = self._filter(result, m)
                continue
            # Matches the empty string: a series matches when the label is
            # absent or its value matches, i.e. all but the non-matching values.
            subtract.append(self._union(m.name, self._values_matching(m, False)))
        if result is None:
            result = self.all_ids()
        for s in subtract:
            if len(s):
                result = np.setdiff1d(result, s, assume_unique=True)
        return result

    def _filter(self, ids: IDs, m: Matcher) -> IDs:
        """Keep the ids whose own label value ``m`` matches (few candidates left)."""
        seen: dict[str, bool] = {}
        labels = self._labels
        keep = []
        for sid in ids.tolist():
            v = get_label(labels[sid] or (), m.name)
            hit = seen.get(v)
            if hit is None:
                hit = seen[v] = m.matches(v)
            if hit:
                keep.append(sid)
        return np.asarray(keep, np.int64)

    def label_names(self) -> list[str]:
        return sorted(self._postings)

    def label_values(self, name: str) -> list[str]:
        return sorted(self._postings.get(name, {}))

    def cardinality(self) -> dict[str, dict[str, int]]:
        return {n: {v: len(ids) for v, ids in vals.items()} for n, vals in self._postings.items()}
