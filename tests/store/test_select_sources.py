"""Storage.select answers the same from one source (a block, a head run) as from several.

A single block returns its series in label order and a head run in id order;
``select`` then skips the per-sample sort it needs when sources are merged.
Every layout is checked against the in-memory reference store.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from kubesight.model import Labels, Matcher, SampleBatch, SeriesData
from kubesight.store import MemoryStore
from kubesight.store.engine import HOUR_MS, Storage, StorageOptions, _SeriesSlices

NOW_S = 1_700_000_000.0
NOW_MS = int(NOW_S * 1000)

MATCHERS = [
    [Matcher.of("__name__", "=~", "m.*")],
    [Matcher.of("__name__", "=", "m2")],
    [Matcher.of("instance", "=~", "h[13]"), Matcher.of("__name__", "!=", "m0")],
]


def series_in_reverse_label_order(n: int) -> list[Labels]:
    # Ids follow creation, so a head run (id order) disagrees with label order.
    lbls: list[Labels] = [(("__name__", f"m{i % 4}"), ("instance", f"h{i % 5}"), ("x", f"{i:03d}")) for i in range(n)]
    return sorted(lbls, reverse=True)


def batch(series: list[Labels], t0: int, steps: int, rng: random.Random) -> SampleBatch:
    refs = np.tile(np.arange(len(series), dtype=np.int32), steps)
    ts = np.repeat(t0 + np.arange(steps, dtype=np.int64) * 15_000, len(series))
    vals = np.asarray([rng.choice([rng.random(), float(rng.randrange(50)), -0.0]) for _ in range(len(refs))])
    return SampleBatch(series, refs, ts, vals)


def assert_same(a: SeriesData, b: SeriesData) -> None:
    assert a.labels == b.labels
    assert a.offsets.tolist() == b.offsets.tolist()
    assert a.timestamps.tolist() == b.timestamps.tolist()
    assert a.values.view(np.uint64).tolist() == b.values.view(np.uint64).tolist()


def compare(store: Storage, ref: MemoryStore) -> None:
    windows = [(0, NOW_MS), (NOW_MS - HOUR_MS - 100_000, NOW_MS - HOUR_MS + 200_000), (NOW_MS - 30_000, NOW_MS)]
    for ms in MATCHERS:
        for a, b in windows:
            assert_same(store.select(ms, a, b), ref.select(ms, a, b))


@pytest.fixture
def one_source_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, per call of the single-source path, whether it had to move series."""
    calls: list[bool] = []
    orig = Storage._one_source

    def spy(self: Storage, sl: _SeriesSlices, rank_all: np.ndarray) -> SeriesData:
        rank = rank_all[sl.sids]
        calls.append(bool(len(rank) > 1 and not (rank[1:] > rank[:-1]).all()))
        return orig(self, sl, rank_all)

    monkeypatch.setattr(Storage, "_one_source", spy)
    return calls


@pytest.fixture
def merges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the number of sources of each merge of sources disjoint in time."""
    calls: list[int] = []
    orig = Storage._disjoint_sources

    def spy(self: Storage, parts: list[_SeriesSlices], rank_all: np.ndarray) -> SeriesData:
        calls.append(len(parts))
        return orig(self, parts, rank_all)

    monkeypatch.setattr(Storage, "_disjoint_sources", spy)
    return calls


def test_one_head_run_one_block_and_both_answer_alike(
    tmp_path: Path, one_source_calls: list[bool], merges: list[int]
) -> None:
    rng = random.Random(1)
    series = series_in_reverse_label_order(60)
    store = Storage(tmp_path, StorageOptions(), clock=lambda: NOW_S)
    store.open()
    ref = MemoryStore()
    old = batch(series, NOW_MS - 2 * HOUR_MS, 200, rng)
    store.append(old)
    ref.append(old)
    compare(store, ref)  # one head run, series in id order: moved into label order
    assert True in one_source_calls
    store.flush()
    one_source_calls.clear()
    compare(store, ref)  # one block, already in label order: nothing moves
    assert one_source_calls and not any(one_source_calls)
    new = batch(series[::2], NOW_MS - 60_000, 4, rng)
    store.append(new)
    ref.append(new)
    one_source_calls.clear()
    compare(store, ref)  # block + head run: merged; a window with only one of them takes the fast path
    assert one_source_calls and merges == [2] * len(merges) and merges


def test_blocks_of_successive_windows_and_head_runs_merge_by_series(tmp_path: Path, merges: list[int]) -> None:
    # Three 2h windows, each flushed to its own block, and two head runs
    # after them; series created in reverse label order; some series only
    # in some sources.
    rng = random.Random(3)
    series = series_in_reverse_label_order(40)
    store = Storage(tmp_path, StorageOptions(head_max_samples=10**9), clock=lambda: NOW_S)
    store.open()
    ref = MemoryStore()
    for w, subset in enumerate((series, series[::3], series[1::2])):
        b = batch(subset, NOW_MS - (5 - 2 * w) * HOUR_MS, 30, rng)
        store.append(b)
        ref.append(b)
        store.flush()
    for k, subset in enumerate((series[5:], series[:7])):
        b = batch(subset, NOW_MS - 50_000 + k * 20_000, 1, rng)
        store.append(b)
        ref.append(b)
        store.head.seal()  # one run per append batch
    assert len(store.blocks) == 3
    compare(store, ref)
    assert max(merges) >= 4


def test_overlapping_sources_still_merge_and_dedupe(tmp_path: Path) -> None:
    rng = random.Random(2)
    series = series_in_reverse_label_order(30)
    store = Storage(tmp_path, StorageOptions(), clock=lambda: NOW_S)
    store.open()
    ref = MemoryStore()
    for _ in range(3):  # the same timestamps rewritten: the newest write wins
        b = batch(series, NOW_MS - HOUR_MS, 50, rng)
        store.append(b)
        ref.append(b)
        store.flush(compact_open_windows=False)
    assert len(store.blocks) == 3
    compare(store, ref)
