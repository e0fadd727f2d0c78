"""Block.select returns exactly the samples of the wanted series inside [mint, maxt].

The reference is the obvious per-series filter over what was written. Pages
are made small so selections cross page boundaries, take whole neighbouring
series, scattered series and single ones, on both of Block.select's paths
(per-sample test below _MASK_BELOW, per-series binary search above).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kubesight.store import block as block_mod
from kubesight.store.block import Block, BlockWriter, series_search


def write_block(
    path: Path, rng: np.random.Generator, n_series: int
) -> tuple[Block, dict[int, tuple[np.ndarray, np.ndarray]]]:
    sids = np.arange(n_series, dtype=np.int64) * 3 + 7  # global ids need not be dense
    labels = [(("__name__", "m"), ("i", f"{i:04d}")) for i in range(n_series)]
    counts = rng.integers(0, 300, n_series)
    counts[rng.integers(0, n_series, 3)] = 1  # a few one-sample series
    series: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    ts_all, vs_all = [], []
    for sid, c in zip(sids.tolist(), counts.tolist(), strict=True):
        c = max(c, 1)  # a block holds no empty series
        ts = np.sort(rng.choice(np.arange(1_000_000, 1_000_000 + 600_000, 1000), c, replace=False))
        vs = rng.normal(size=c)
        series[sid] = (ts.astype(np.int64), vs)
        ts_all.append(series[sid][0])
        vs_all.append(vs)
    w = BlockWriter(path, "000-1", window_start=0, level=0)
    w.add(
        labels,
        sids,
        np.array([len(t) for t in ts_all]),
        np.concatenate(ts_all),
        np.concatenate(vs_all),
    )
    p = w.finish()
    assert p is not None
    return Block(p), series


def expected(
    series: dict[int, tuple[np.ndarray, np.ndarray]], want: np.ndarray, mint: int, maxt: int
) -> tuple[np.ndarray, ...]:
    s, t, v = [], [], []
    for sid in want.tolist():
        if sid not in series:
            continue
        ts, vs = series[sid]
        keep = (ts >= mint) & (ts <= maxt)
        s.append(np.full(int(keep.sum()), sid, np.int64))
        t.append(ts[keep])
        v.append(vs[keep])
    if not s:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    return np.concatenate(s), np.concatenate(t), np.concatenate(v)


@pytest.mark.parametrize("mask_below", [0, 1 << 15, 1 << 30])
def test_select_matches_a_per_series_filter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mask_below: int
) -> None:
    monkeypatch.setattr(block_mod, "_PAGE_SAMPLES", 2000)  # many pages
    monkeypatch.setattr(block_mod, "_MASK_BELOW", mask_below)  # each path in turn
    rng = np.random.default_rng(7)
    blk, series = write_block(tmp_path, rng, 400)
    all_ids = np.array(sorted(series), np.int64)
    assert len(blk.meta.page_first) > 20
    selections = {
        "all": all_ids,
        "neighbours": all_ids[100:180],
        "scattered": np.sort(rng.choice(all_ids, 60, replace=False)),
        "one": all_ids[[123]],
        "with unknown ids": np.sort(np.concatenate([all_ids[:5], [0, 1, 2, 10**9]])),
    }
    windows = [
        (0, 10**12),  # everything
        (1_000_000, 1_599_000),  # exactly the data's span, bounds inclusive
        (1_200_500, 1_350_000),  # a cut inside every series
        (1_300_000, 1_300_000),  # one instant
        (1_700_000, 1_800_000),  # after the data
        (1_250_000, 1_240_000),  # empty window
    ]
    for name, want in selections.items():
        for mint, maxt in windows:
            got = blk.select(want, mint, maxt)
            exp = expected(series, want, mint, maxt)
            for g, e in zip(got, exp, strict=True):
                assert np.array_equal(g, e), (name, mint, maxt)
            assert got[0].dtype == np.int64 and got[1].dtype == np.int64
            assert got[2].dtype == np.float64


def test_select_without_cache_is_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    blk, series = write_block(tmp_path, rng, 50)
    want = np.array(sorted(series), np.int64)
    a = blk.select(want, 1_100_000, 1_400_000)
    b = blk.select(want, 1_100_000, 1_400_000, use_cache=False)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)


def test_series_search_is_searchsorted_per_series() -> None:
    rng = np.random.default_rng(11)
    lens = rng.integers(0, 40, 200)
    parts = [np.sort(rng.integers(0, 100, n)) for n in lens.tolist()]
    ts = np.concatenate(parts).astype(np.int64)
    ends = np.cumsum(lens)
    starts = ends - lens
    for t in (-1, 0, 17, 50, 99, 100, 1000):
        for side in ("left", "right"):
            got = series_search(ts, starts, ends, t, side)
            want = [
                int(a) + int(np.searchsorted(p, t, side=side))
                for a, p in zip(starts, parts, strict=True)
            ]
            assert got.tolist() == want, (t, side)


def test_select_of_a_series_longer_than_a_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A page holds whole series, so one long series makes a page larger than
    # _PAGE_SAMPLES: the output reserved per page must grow to take it.
    monkeypatch.setattr(block_mod, "_PAGE_SAMPLES", 1000)
    monkeypatch.setattr(block_mod, "_MASK_BELOW", 0)
    lens = [10, 5000, 20, 3000]
    series = {
        sid: (np.arange(n, dtype=np.int64) * 10, np.arange(n, dtype=np.float64) + sid)
        for sid, n in enumerate(lens)
    }
    w = BlockWriter(tmp_path, "000-1", window_start=0, level=0)
    w.add(
        [(("i", str(i)),) for i in range(len(lens))],
        np.arange(len(lens), dtype=np.int64),
        np.array(lens),
        np.concatenate([t for t, _ in series.values()]),
        np.concatenate([v for _, v in series.values()]),
    )
    p = w.finish()
    assert p is not None
    blk = Block(p)
    for want in ([1], [1, 3], [0, 1, 2, 3]):
        ids = np.array(want, np.int64)
        for mint, maxt in ((0, 10**9), (15, 29_000)):
            got = blk.select(ids, mint, maxt)
            for g, e in zip(got, expected(series, ids, mint, maxt), strict=True):
                assert np.array_equal(g, e), (want, mint, maxt)
