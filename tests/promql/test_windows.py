"""count_le against the definition: per series and query time, one past the last sample <= t."""

from __future__ import annotations

import numpy as np
import pytest

from kubesight.promql.windows import count_le


def brute(offsets: np.ndarray, ts: np.ndarray, q: np.ndarray) -> np.ndarray:
    out = np.empty((len(offsets) - 1, len(q)), np.int64)
    for i in range(len(offsets) - 1):
        a, b = int(offsets[i]), int(offsets[i + 1])
        for j, t in enumerate(q.tolist()):
            out[i, j] = a + int((ts[a:b] <= t).sum())
    return out


def series(rng: np.random.Generator, n_series: int) -> tuple[np.ndarray, np.ndarray]:
    lens = rng.integers(0, 30, n_series)  # empty series included
    ts = np.concatenate([np.sort(rng.integers(-50_000, 250_000, n)) for n in lens.tolist()])
    offsets = np.zeros(n_series + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    return offsets, ts.astype(np.int64)


@pytest.mark.parametrize(
    "q",
    [
        np.arange(0, 200_001, 15_000, dtype=np.int64),  # a regular step grid
        np.arange(7, 200_008, 1_000, dtype=np.int64),  # samples land on grid points
        np.array([-60_000, 0, 1, 50_000, 50_000, 300_000], np.int64),  # irregular, repeated
        np.array([90_000, 10_000, 50_000], np.int64),  # unsorted
        np.array([12_345], np.int64),  # one step
    ],
)
def test_count_le_is_the_definition(q: np.ndarray) -> None:
    rng = np.random.default_rng(len(q))
    offsets, ts = series(rng, 40)
    # Samples exactly on query times must count (<=).
    ts[::7] = q[rng.integers(0, len(q), len(ts[::7]))]
    for i in range(len(offsets) - 1):
        a, b = int(offsets[i]), int(offsets[i + 1])
        ts[a:b] = np.sort(ts[a:b])
    got = count_le(offsets, ts, q)
    assert got.dtype == np.int64
    assert np.array_equal(got, brute(offsets, ts, q))


def test_count_le_without_samples_or_series() -> None:
    q = np.arange(0, 60_000, 15_000, dtype=np.int64)
    offsets = np.zeros(4, np.int64)
    assert np.array_equal(count_le(offsets, np.empty(0, np.int64), q), np.zeros((3, 4), np.int64))
    assert count_le(np.zeros(1, np.int64), np.empty(0, np.int64), q).shape == (0, 4)
