"""Window arithmetic over CSR series: bounds, reductions and expansions.

All functions work on every (series, step) cell at once. Overlapping windows
are reduced with the paired ``ufunc.reduceat`` trick (indices ``lo0, hi0,
lo1, hi1, ...``; every even result is the reduction of one window), which is
one C loop over the samples of every window: the same work Prometheus does,
without a Python loop. Functions that need the samples of each window
together (quantiles, regressions) expand the windows into a flat array with
segment ids.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from kubesight.model.samples import F64, I64

# 2**62: composite sort keys (series * width + time) must stay inside int64.
_KEY_LIMIT = 1 << 62


def seg_ids(offsets: I64) -> I64:
    n = len(offsets) - 1
    return np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))


def count_le(offsets: I64, timestamps: I64, q: I64) -> I64:
    """For every series i and query time q[j]: global index one past the last sample <= q[j].

    Returns an ``(S, T)`` array. One ``searchsorted`` over composite keys
    ``series * width + t`` answers all series and steps together.
    """
    s = len(offsets) - 1
    t = len(q)
    if s == 0:
        return np.zeros((0, t), np.int64)
    if timestamps.size == 0:
        return np.broadcast_to(offsets[:-1, None], (s, t)).copy()
    if t > 0 and bool(np.all(q[1:] >= q[:-1])):
        # Steps are sorted (always, for step grids): place every sample in
        # its step bucket with a search over the few steps, then count per
        # series with one bincount and a cumulative sum along the steps.
        step = int(q[1] - q[0]) if t > 1 else 0
        if step > 0 and bool(np.all(np.diff(q) == step)):
            # A regular grid: the bucket (number of steps before a sample,
            # ceil((ts - q0) / step)) is arithmetic, no search needed. In place:
            # this runs over every sample of large selections.
            bucket = timestamps - (q[0] - step + 1)
            bucket //= step
            np.clip(bucket, 0, t, out=bucket)
        else:
            bucket = np.searchsorted(q, timestamps, side="left")
        # bucket + series * (t + 1): one bin per (series, step), series-major.
        bucket += np.repeat(np.arange(0, s * (t + 1), t + 1, dtype=np.int64), np.diff(offsets))
        counts = np.bincount(bucket, minlength=s * (t + 1)).reshape(s, t + 1)
        out = np.cumsum(counts[:, :t], axis=1)
        out += offsets[:-1, None]
        return out.astype(np.int64, copy=False)
    tmin = min(int(timestamps.min()), int(q.min()))
    tmax = max(int(timestamps.max()), int(q.max()))
    width = tmax - tmin + 2
    if s * width < _KEY_LIMIT:
        keys = seg_ids(offsets) * width + (timestamps - tmin)
        qk = (np.arange(s, dtype=np.int64) * width)[:, None] + (q - tmin)[None, :]
        return np.searchsorted(keys, qk.ravel(), side="right").reshape(s, t).astype(np.int64)
    # Very wide time spans (far @ times) would overflow the keys: per series.
    out = np.empty((s, t), np.int64)
    for i in range(s):
        a, b = int(offsets[i]), int(offsets[i + 1])
        out[i] = a + np.searchsorted(timestamps[a:b], q, side="right")
    return out


def paired_reduce(ufunc: np.ufunc, values: F64, lo: I64, hi: I64, empty: float = 0.0) -> F64:
    """``ufunc`` reduced over ``values[lo:hi]`` for every cell; ``empty`` where lo == hi."""
    shape = lo.shape
    if lo.size == 0:
        return np.empty(shape, np.float64)
    ext = np.append(values, 0.0)
    idx = np.empty(lo.size * 2, np.int64)
    idx[0::2] = lo.ravel()
    idx[1::2] = hi.ravel()
    red = ufunc.reduceat(ext, idx)[0::2].reshape(shape)
    return np.where(hi > lo, red, empty)


def expand(lo: I64, hi: I64) -> tuple[I64, I64, I64]:
    """Flatten non-empty windows: (sample index, segment start per cell, count per cell).

    Cell k's samples are ``idx[start[k]:start[k]+count[k]]``.
    """
    cnt = (hi - lo).ravel()
    total = int(cnt.sum())
    start = np.zeros(cnt.size, np.int64)
    if cnt.size:
        np.cumsum(cnt[:-1], out=start[1:])
    idx = np.arange(total, dtype=np.int64) - np.repeat(start - lo.ravel(), cnt)
    return idx, start, cnt


def seg_reduce(ufunc: np.ufunc, x: F64, start: I64, cnt: I64, empty: float = 0.0) -> F64:
    """Reduce consecutive segments of ``x`` (non-overlapping), ``empty`` for empty ones."""
    if cnt.size == 0:
        return np.empty(0, np.float64)
    ext = np.append(x, 0.0)
    st = np.minimum(start, x.size)
    red = ufunc.reduceat(ext, st)
    # reduceat over the last segment runs to the end of ext (includes the
    # padding 0) when it is the final one: recompute it exactly.
    res = np.where(cnt > 0, red, empty)
    last = np.flatnonzero(cnt > 0)
    if last.size:
        k = int(last[-1])
        res[k] = ufunc.reduce(x[int(start[k]) : int(start[k]) + int(cnt[k])])
    return res


def seg_sort(x: F64, seg: I64, nan_first: bool = True) -> npt.NDArray[np.intp]:
    """Order that sorts ``x`` within segments; NaN first like Go's sort of PromQL values."""
    key = np.where(np.isnan(x), -np.inf, x)
    nan_rank = (~np.isnan(x)).astype(np.int8) if nan_first else np.isnan(x).astype(np.int8)
    return np.lexsort((key, nan_rank, seg))


def seg_quantile(q: F64, xs: F64, start: I64, cnt: I64) -> F64:
    """Prometheus' ``quantile`` per segment of sorted values; q per segment."""
    n = cnt.astype(np.float64)
    rank = q * (n - 1)
    lower = np.maximum(0, np.floor(rank))
    upper = np.minimum(n - 1, lower + 1)
    weight = rank - np.floor(rank)
    ok = (cnt > 0) & ~np.isnan(q) & (q >= 0) & (q <= 1)
    li = np.where(ok, start + np.nan_to_num(lower).astype(np.int64), 0)
    ui = np.where(ok, start + np.nan_to_num(upper).astype(np.int64), 0)
    ext = np.append(xs, 0.0)
    with np.errstate(invalid="ignore"):
        res = ext[li] * (1 - weight) + ext[ui] * weight
    res = np.where(ok, res, np.nan)
    res = np.where((cnt > 0) & (q < 0), -np.inf, res)
    res = np.where((cnt > 0) & (q > 1), np.inf, res)
    return res


def per_cell_python(
    cells: npt.NDArray[np.intp], lo: I64, hi: I64, values: F64, fn: Callable[[list[float]], float]
) -> list[float]:
    """Rare fallbacks (overflowing sums): a Python function over a few windows."""
    lof, hif = lo.ravel(), hi.ravel()
    return [fn(values[int(lof[c]) : int(hif[c])].tolist()) for c in cells.tolist()]


def kahan_sum(xs: list[float]) -> float:
    """Prometheus' Kahan-Neumaier sum (kahansum.Inc), for ill-conditioned windows."""
    s = 0.0
    c = 0.0
    for x in xs:
        t = s + x
        if t in (float("inf"), float("-inf")):
            c = 0.0
        elif abs(s) >= abs(x):
            c += (s - t) + x
        else:
            c += (x - t) + s
        s = t
    if s in (float("inf"), float("-inf")):
        return s
    return s + c


def kahan_mean(xs: list[float]) -> float:
    """avg_over_time's float path: direct Kahan mean, incremental after overflow."""
    total, count = xs[0], 1.0
    mean = 0.0
    c = 0.0
    incremental = False
    for i, f in enumerate(xs[1:]):
        count = float(i + 2)
        if not incremental:
            ns, nc = _kahan_inc(f, total, c)
            if ns not in (float("inf"), float("-inf")):
                total, c = ns, nc
                continue
            incremental = True
            mean = total / (count - 1)
            c /= count - 1
        q = (count - 1) / count
        mean, c = _kahan_inc(f / count, q * mean, q * c)
    if incremental:
        return mean + c
    return total / count + c / count


def _kahan_inc(inc: float, s: float, c: float) -> tuple[float, float]:
    t = s + inc
    if t in (float("inf"), float("-inf")):
        c = 0.0
    elif abs(s) >= abs(inc):
        c += (s - t) + inc
    else:
        c += (inc - t) + s
    return t, c


def ill_conditioned(total: F64, abs_total: F64) -> npt.NDArray[np.bool_]:
    """Cells whose plain sum may differ from Kahan's beyond 1e-12 relative.

    2**26 ~ 6.7e7: with sequential float64 summation the error is bounded by
    n * eps * sum|x|; past this condition number it can exceed 1e-9 relative.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        return np.isfinite(abs_total) & (abs_total > np.abs(total) * float(1 << 26)) & (
            abs_total > 0
        )
