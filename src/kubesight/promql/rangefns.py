"""Functions of a range vector: rate and friends, the ``*_over_time`` family.

Each function maps a :class:`RangeArg` (all series, all steps) to ``(values,
present)`` matrices of shape ``(S, T)``, following Prometheus'
``promql/functions.go`` cell by cell.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from kubesight.model.samples import F64, I64
from kubesight.promql.types import B, RangeArg, SVal
from kubesight.promql.windows import (
    expand,
    ill_conditioned,
    kahan_mean,
    kahan_sum,
    paired_reduce,
    per_cell_python,
    seg_reduce,
)

Out = tuple[F64, B]
RangeFn = Callable[[RangeArg, list[SVal]], Out]


def _prev_diff_arrays(ra: RangeArg) -> tuple[F64, F64]:
    """(value, previous value in the same series) per sample; prev is NaN at series starts."""
    v = ra.values
    prev = np.empty_like(v)
    if v.size:
        prev[0] = np.nan
        prev[1:] = v[:-1]
        starts = ra.offsets[:-1][np.diff(ra.offsets) > 0]
        prev[starts] = np.nan
    return v, prev


def _reset_positions(ra: RangeArg) -> tuple[I64, F64]:
    """Samples below the sample before them (counter resets), and that sample.

    A series' first sample may be flagged against the previous series' last;
    harmless: a window [lo, hi) sums resets in [lo + 1, hi), never its start.
    """
    v = ra.values
    nz = np.flatnonzero(v[1:] < v[:-1]) + 1
    return nz, v[nz - 1]


def _extrapolated(ra: RangeArg, is_counter: bool, is_rate: bool) -> Out:
    # Prometheus' extrapolatedRate over every cell. The arithmetic is its own,
    # operation for operation; temporaries are updated in place because each
    # is a full (series x steps) matrix.
    lo, hi = ra.lo, ra.hi
    cnt = hi - lo
    ok = cnt >= 2
    ts, v = ra.timestamps, ra.values
    if not v.size:
        return np.full(lo.shape, np.nan), ok
    last_i = hi - 1
    # Cells with fewer than two samples are dropped (ok); clipping only keeps
    # their indexes in bounds.
    first_v = np.take(v, lo, mode="clip")
    last_v = np.take(v, last_i, mode="clip")
    first_t = np.take(ts, lo, mode="clip").astype(np.float64)
    last_t = np.take(ts, last_i, mode="clip").astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        result = last_v - first_v
        if is_counter:
            # Resets are rare: reduce over the reset positions only.
            nz, prev = _reset_positions(ra)
            if nz.size:
                a = np.searchsorted(nz, np.minimum(lo + 1, hi))
                b = np.searchsorted(nz, hi)
                result += paired_reduce(np.add, prev, a, b)
        range_end = ra.window_end.astype(np.float64)[None, :]
        range_start = range_end - ra.range_ms
        dur_start = first_t - range_start
        dur_start /= 1000
        dur_end = range_end - last_t
        dur_end /= 1000
        sampled = last_t
        sampled -= first_t
        sampled /= 1000
        avg = np.maximum(cnt - 1, 1).astype(np.float64)
        np.divide(sampled, avg, out=avg)
        thresh = avg * 1.1
        avg /= 2  # from here on only avg / 2 is used
        np.copyto(dur_start, avg, where=dur_start >= thresh)
        if is_counter:
            to_zero = first_v / result
            to_zero *= sampled
            use_zero = (result > 0) & (first_v >= 0) & (to_zero < dur_start)
            np.copyto(dur_start, to_zero, where=use_zero)
        np.copyto(dur_end, avg, where=dur_end >= thresh)
        factor = sampled + dur_start
        factor += dur_end
        factor /= sampled
        np.copyto(factor, 1.0, where=sampled == 0)
        if is_rate:
            factor /= ra.range_ms / 1000
        result *= factor
    return result, ok


def fn_rate(ra: RangeArg, _: list[SVal]) -> Out:
    return _extrapolated(ra, True, True)


def fn_increase(ra: RangeArg, _: list[SVal]) -> Out:
    return _extrapolated(ra, True, False)


def fn_delta(ra: RangeArg, _: list[SVal]) -> Out:
    return _extrapolated(ra, False, False)


def _instant(ra: RangeArg, is_rate: bool) -> Out:
    lo, hi = ra.lo, ra.hi
    ok = hi - lo >= 2
    ext_v = np.append(ra.values, np.nan)
    ext_t = np.append(ra.timestamps, 0)
    i1 = np.where(ok, hi - 1, ext_v.size - 1)
    i0 = np.where(ok, hi - 2, ext_v.size - 1)
    v1, v0 = ext_v[i1], ext_v[i0]
    dt = ext_t[i1] - ext_t[i0]
    ok = ok & (dt != 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if is_rate:
            res = np.where(v1 < v0, v1, v1 - v0)
            res = res / (dt.astype(np.float64) / 1000)
        else:
            res = v1 - v0
    return res, ok


def fn_irate(ra: RangeArg, _: list[SVal]) -> Out:
    return _instant(ra, True)


def fn_idelta(ra: RangeArg, _: list[SVal]) -> Out:
    return _instant(ra, False)


def fn_count_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    cnt = ra.hi - ra.lo
    return cnt.astype(np.float64), cnt > 0


def _sum_windows(ra: RangeArg) -> F64:
    with np.errstate(invalid="ignore", over="ignore"):
        total = paired_reduce(np.add, ra.values, ra.lo, ra.hi)
        if not (ra.values < 0).any():
            # No negative terms, no cancellation: the plain sum is as good as Kahan's.
            return total
        abs_total = paired_reduce(np.add, np.abs(ra.values), ra.lo, ra.hi)
    bad = np.flatnonzero(ill_conditioned(total, abs_total).ravel() & (ra.hi > ra.lo).ravel())
    if bad.size:
        flat = total.ravel()
        flat[bad] = per_cell_python(bad, ra.lo, ra.hi, ra.values, kahan_sum)
        total = flat.reshape(total.shape)
    return total


def fn_sum_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    cnt = ra.hi - ra.lo
    return _sum_windows(ra), cnt > 0


def fn_avg_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    cnt = ra.hi - ra.lo
    total = _sum_windows(ra)
    with np.errstate(invalid="ignore", divide="ignore"):
        res = total / cnt
    # A sum that overflowed while its inputs are finite: Prometheus switches
    # to an incremental mean, which we replay for those (rare) windows.
    with np.errstate(invalid="ignore"):
        fin = paired_reduce(np.logical_and, np.isfinite(ra.values).astype(np.float64), ra.lo, ra.hi)
    bad = np.flatnonzero((np.isinf(total) & (fin > 0) & (cnt > 0)).ravel())
    if bad.size:
        flat = res.ravel()
        flat[bad] = per_cell_python(bad, ra.lo, ra.hi, ra.values, kahan_mean)
        res = flat.reshape(res.shape)
    return res, cnt > 0


def fn_min_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    cnt = ra.hi - ra.lo
    return paired_reduce(np.fmin, ra.values, ra.lo, ra.hi, np.nan), cnt > 0


def fn_max_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    cnt = ra.hi - ra.lo
    return paired_reduce(np.fmax, ra.values, ra.lo, ra.hi, np.nan), cnt > 0


def fn_last_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    ok = ra.hi > ra.lo
    ext = np.append(ra.values, np.nan)
    return ext[np.where(ok, ra.hi - 1, ext.size - 1)], ok


def fn_first_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    ok = ra.hi > ra.lo
    ext = np.append(ra.values, np.nan)
    return ext[np.where(ok, ra.lo, ext.size - 1)], ok


def fn_ts_of_last_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    ok = ra.hi > ra.lo
    ext = np.append(ra.timestamps, 0).astype(np.float64) / 1000
    return ext[np.where(ok, ra.hi - 1, ext.size - 1)], ok


def fn_ts_of_first_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    ok = ra.hi > ra.lo
    ext = np.append(ra.timestamps, 0).astype(np.float64) / 1000
    return ext[np.where(ok, ra.lo, ext.size - 1)], ok


def _ts_of_extreme(ra: RangeArg, is_max: bool) -> Out:
    ok = ra.hi > ra.lo
    shape = ra.lo.shape
    idx, start, cnt = expand(ra.lo, ra.hi)
    x = ra.values[idx]
    ext_val = paired_reduce(np.fmax if is_max else np.fmin, ra.values, ra.lo, ra.hi, np.nan)
    seg = np.repeat(np.arange(cnt.size), cnt)
    target = ext_val.ravel()[seg]
    hit = (x == target) | (np.isnan(target) & np.isnan(x))
    # First sample that reaches the extreme, as Prometheus' strict comparison keeps.
    pos = np.where(hit, np.arange(x.size), x.size)
    first = seg_reduce(np.minimum, pos.astype(np.float64), start, cnt, 0).astype(np.int64)
    ts_ext = np.append(ra.timestamps[idx], 0).astype(np.float64) / 1000
    res = ts_ext[np.clip(first, 0, x.size)]
    return res.reshape(shape), ok


def fn_ts_of_max_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    return _ts_of_extreme(ra, True)


def fn_ts_of_min_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    return _ts_of_extreme(ra, False)


def fn_present_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    ok = ra.hi > ra.lo
    return np.ones(ok.shape), ok


def fn_changes(ra: RangeArg, _: list[SVal]) -> Out:
    cur, prev = _prev_diff_arrays(ra)
    ch = ~((cur == prev) | (np.isnan(cur) & np.isnan(prev)))
    ch = ch.astype(np.float64)
    ok = ra.hi > ra.lo
    return paired_reduce(np.add, ch, np.minimum(ra.lo + 1, ra.hi), ra.hi), ok


def fn_resets(ra: RangeArg, _: list[SVal]) -> Out:
    cur, prev = _prev_diff_arrays(ra)
    r = (cur < prev).astype(np.float64)
    ok = ra.hi > ra.lo
    return paired_reduce(np.add, r, np.minimum(ra.lo + 1, ra.hi), ra.hi), ok


def _variance(ra: RangeArg) -> Out:
    shape = ra.lo.shape
    idx, start, cnt = expand(ra.lo, ra.hi)
    x = ra.values[idx]
    n = np.maximum(cnt, 1).astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        mean = seg_reduce(np.add, x, start, cnt) / n
        # Corrected two-pass: one refinement of the mean makes constant
        # windows come out exactly 0, as Prometheus' Welford update does.
        mean = mean + seg_reduce(np.add, x - np.repeat(mean, cnt), start, cnt) / n
        dev = x - np.repeat(mean, cnt)
        var = seg_reduce(np.add, dev * dev, start, cnt) / n
    return var.reshape(shape), (cnt > 0).reshape(shape)


def fn_stdvar_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    return _variance(ra)


def fn_stddev_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    var, ok = _variance(ra)
    with np.errstate(invalid="ignore"):
        return np.sqrt(var), ok


def _window_rows(ra: RangeArg) -> tuple[F64, F64, B]:
    """Windows as rows of a padded (cells, max count) matrix, sorted like Go sorts them.

    Sorting many short rows with ``np.sort(axis=1)`` is far faster than one
    lexsort of all (cell, value) pairs. NaN sorts first (Prometheus'
    ``vectorByValueHeap``), padding (+Inf beyond each count) last.
    Returns (sorted rows, counts, any-NaN per cell).
    """
    cnt = (ra.hi - ra.lo).ravel()
    m = int(cnt.max()) if cnt.size else 0
    pos = np.arange(max(m, 1))[None, :]
    valid = pos < cnt[:, None]
    x = ra.values.take(ra.lo.ravel()[:, None] + pos, mode="clip")
    nan = np.isnan(x) & valid
    key = np.where(valid, np.where(nan, -np.inf, x), np.inf)
    key.sort(axis=1)
    n_nan = nan.sum(axis=1)
    rows = np.where(pos < n_nan[:, None], np.nan, key)
    return rows, cnt.astype(np.float64), n_nan > 0


def _row_quantile(q: F64, rows: F64, n: F64) -> F64:
    """Prometheus' quantile() of each sorted row's first n values."""
    with np.errstate(invalid="ignore"):
        rank = q * (n - 1)
        lower = np.maximum(0, np.floor(rank))
        upper = np.minimum(n - 1, lower + 1)
        weight = rank - np.floor(rank)
        ok = (n > 0) & ~np.isnan(q) & (q >= 0) & (q <= 1)
        li = np.where(ok, lower, 0).astype(np.intp)[:, None]
        ui = np.where(ok, upper, 0).astype(np.intp)[:, None]
        lv = np.take_along_axis(rows, li, axis=1)[:, 0]
        uv = np.take_along_axis(rows, ui, axis=1)[:, 0]
        res = lv * (1 - weight) + uv * weight
    res = np.where(ok, res, np.nan)
    res = np.where((n > 0) & (q < 0), -np.inf, res)
    return np.where((n > 0) & (q > 1), np.inf, res)


def fn_quantile_over_time(ra: RangeArg, args: list[SVal]) -> Out:
    shape = ra.lo.shape
    q = np.broadcast_to(args[0].values[None, :], shape).ravel()
    rows, n, _nan = _window_rows(ra)
    return _row_quantile(q, rows, n).reshape(shape), ra.hi > ra.lo


def fn_mad_over_time(ra: RangeArg, _: list[SVal]) -> Out:
    shape = ra.lo.shape
    rows, n, has_nan = _window_rows(ra)
    half = np.full(n.size, 0.5)
    med = _row_quantile(half, rows, n)
    pos = np.arange(rows.shape[1])[None, :]
    with np.errstate(invalid="ignore"):
        dev = np.where(pos < n[:, None], np.abs(rows - med[:, None]), np.inf)
    dev.sort(axis=1)
    res = _row_quantile(half, dev, n)
    # A NaN sample makes the median, and so the deviation, undefined.
    res = np.where(has_nan, np.nan, res)
    return res.reshape(shape), ra.hi > ra.lo


def _regression(ra: RangeArg, intercept_ts: F64 | None) -> tuple[F64, F64, B]:
    """Least squares per window; x relative to the window's first sample or to intercept_ts.

    The four sums are overlapping-window reductions of per-sample terms taken
    relative to one reference time, then shifted to each window's origin, so
    no window is materialised. (Prometheus sums x relative to the window
    origin directly; the shift costs about one decimal digit, far inside the
    1e-9 the differential test demands.)
    """
    lo, hi = ra.lo, ra.hi
    n = (hi - lo).astype(np.float64)
    ts, y = ra.timestamps, ra.values
    tref = int(ts.min()) if ts.size else 0
    xp = (ts - tref).astype(np.float64) / 1e3
    if intercept_ts is None:
        c = np.append(xp, 0.0)[lo]
    else:
        c = np.broadcast_to(((intercept_ts - tref) / 1e3)[None, :], lo.shape)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        sx = paired_reduce(np.add, xp, lo, hi)
        sy = paired_reduce(np.add, y, lo, hi)
        sxy = paired_reduce(np.add, xp * y, lo, hi)
        sxx = paired_reduce(np.add, xp * xp, lo, hi)
        sum_x = sx - n * c
        sum_xy = sxy - c * sy
        sum_x2 = sxx - 2 * c * sx + n * c * c
        cov = sum_xy - sum_x * sy / n
        varx = sum_x2 - sum_x * sum_x / n
        slope = cov / varx
        intercept = sy / n - slope * sum_x / n
        first_y = np.append(y, np.nan)[lo]
        # NaN-propagating min/max: a window is constant only without NaN.
        same = paired_reduce(np.minimum, y, lo, hi) == paired_reduce(np.maximum, y, lo, hi)
        const_inf = same & np.isinf(first_y)
        slope = np.where(same, np.where(const_inf, np.nan, 0.0), slope)
        intercept = np.where(same, np.where(const_inf, np.nan, first_y), intercept)
    return slope, intercept, hi - lo >= 2


def fn_deriv(ra: RangeArg, _: list[SVal]) -> Out:
    slope, _i, ok = _regression(ra, None)
    return slope, ok


def fn_predict_linear(ra: RangeArg, args: list[SVal]) -> Out:
    slope, intercept, ok = _regression(ra, ra.eval_ts.astype(np.float64))
    dur = args[0].values[None, :]
    with np.errstate(invalid="ignore", over="ignore"):
        return slope * dur + intercept, ok


def fn_double_exponential_smoothing(ra: RangeArg, args: list[SVal]) -> Out:
    from kubesight.promql.errors import ExecutionError

    shape = ra.lo.shape
    sf = np.broadcast_to(args[0].values[None, :], shape).ravel()
    tf = np.broadcast_to(args[1].values[None, :], shape).ravel()
    cnt = (ra.hi - ra.lo).ravel()
    ok = cnt >= 2
    if ok.any():
        bad_sf = sf[ok]
        bad_tf = tf[ok]
        if ((bad_sf <= 0) | (bad_sf >= 1)).any():
            v = float(bad_sf[(bad_sf <= 0) | (bad_sf >= 1)][0])
            raise ExecutionError(f"invalid smoothing factor. Expected: 0 < sf < 1, got: {v:f}")
        if ((bad_tf <= 0) | (bad_tf >= 1)).any():
            v = float(bad_tf[(bad_tf <= 0) | (bad_tf >= 1)][0])
            raise ExecutionError(f"invalid trend factor. Expected: 0 < tf < 1, got: {v:f}")
    lo = ra.lo.ravel()
    ext = np.append(ra.values, np.nan)
    v0 = ext[np.where(ok, lo, ext.size - 1)]
    v1 = ext[np.where(ok, lo + 1, ext.size - 1)]
    s0 = np.zeros(cnt.size)
    s1 = v0.copy()
    b = v1 - v0
    # One vectorised pass per sample position inside the windows (the
    # recurrence is sequential), over all cells at once.
    maxc = int(cnt.max()) if cnt.size else 0
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(1, maxc):
            act = ok & (i < cnt)
            xi = ext[np.where(act, lo + i, ext.size - 1)]
            x = sf * xi
            bn = b if i == 1 else tf * (s1 - s0) + (1 - tf) * b
            y = (1 - sf) * (s1 + bn)
            ns0, ns1 = s1, x + y
            s0 = np.where(act, ns0, s0)
            s1 = np.where(act, ns1, s1)
            b = np.where(act, bn, b)
    return s1.reshape(shape), ok.reshape(shape)


# Functions that expand windows materialise every window's samples; 2M
# elements (16 MB per float array) per chunk keeps a query's memory bounded by
# its output, not by the overlap of its windows.
_EXPAND_CHUNK = 2_000_000


def _chunked(fn: RangeFn, padded: bool = False) -> RangeFn:
    """Run ``fn`` over groups of series rows so its working set stays bounded.

    Expanding functions hold every window's samples (budget: the sum of the
    window counts); padded ones hold a (cells, max count) matrix (budget:
    steps x the largest window).
    """

    def run(ra: RangeArg, args: list[SVal]) -> Out:
        cnt = ra.hi - ra.lo
        s = ra.lo.shape[0]
        if padded:
            width = int(cnt.max()) * ra.lo.shape[1] if cnt.size else 0
            per_row = np.full(s, max(width, 1), np.int64)
        else:
            per_row = cnt.sum(axis=1)
        if int(per_row.sum()) <= _EXPAND_CHUNK:
            return fn(ra, args)
        vals = np.empty(ra.lo.shape)
        ok = np.zeros(ra.lo.shape, np.bool_)
        cum = np.cumsum(per_row)
        a = 0
        while a < s:
            base = int(cum[a - 1]) if a else 0
            b = int(np.searchsorted(cum, base + _EXPAND_CHUNK, side="right"))
            b = min(max(b, a + 1), s)
            if ra.check is not None:
                ra.check()
            sub = dataclasses.replace(ra, lo=ra.lo[a:b], hi=ra.hi[a:b])
            v, k = fn(sub, args)
            vals[a:b] = v
            ok[a:b] = k
            a = b
        return vals, ok

    return run


RANGE_FUNCTIONS: dict[str, RangeFn] = {
    "rate": fn_rate,
    "increase": fn_increase,
    "delta": fn_delta,
    "irate": fn_irate,
    "idelta": fn_idelta,
    "count_over_time": fn_count_over_time,
    "sum_over_time": fn_sum_over_time,
    "avg_over_time": fn_avg_over_time,
    "min_over_time": fn_min_over_time,
    "max_over_time": fn_max_over_time,
    "last_over_time": fn_last_over_time,
    "first_over_time": fn_first_over_time,
    "ts_of_last_over_time": fn_ts_of_last_over_time,
    "ts_of_first_over_time": fn_ts_of_first_over_time,
    "ts_of_max_over_time": _chunked(fn_ts_of_max_over_time),
    "ts_of_min_over_time": _chunked(fn_ts_of_min_over_time),
    "present_over_time": fn_present_over_time,
    "changes": fn_changes,
    "resets": fn_resets,
    "stdvar_over_time": _chunked(fn_stdvar_over_time),
    "stddev_over_time": _chunked(fn_stddev_over_time),
    "quantile_over_time": _chunked(fn_quantile_over_time, padded=True),
    "mad_over_time": _chunked(fn_mad_over_time, padded=True),
    "deriv": fn_deriv,
    "predict_linear": fn_predict_linear,
    "double_exponential_smoothing": fn_double_exponential_smoothing,
}

# These keep __name__: they act like an offset (Prometheus keeps it too).
KEEP_NAME = frozenset({"last_over_time", "first_over_time"})
