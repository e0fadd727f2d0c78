"""Aggregation operators over all steps at once, by group ids.

Series are ordered by group, then every group is one ``ufunc.reduceat`` slice
along the series axis: one array operation per aggregation, whatever the
number of steps. Ranked operators (topk, quantile, ...) sort the present
(group, step, value) cells once with ``lexsort``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kubesight.model import METRIC_NAME, Labels
from kubesight.model.samples import F64
from kubesight.promql.errors import ExecutionError
from kubesight.promql.fmt import format_floats
from kubesight.promql.hashing import sample_offset
from kubesight.promql.labelset import group_ids, merge_same_labels, set_label
from kubesight.promql.types import IVec, SVal
from kubesight.promql.windows import ill_conditioned, kahan_sum, seg_quantile

_MAX_INT64 = 9.223372036854775807e18


def group_key(lbls: Labels, by: frozenset[str] | None, without: frozenset[str] | None) -> Labels:
    # List comprehensions, not generators: this runs once per input series.
    if by is not None:
        return tuple([p for p in lbls if p[0] in by])
    if without is not None:
        return tuple([p for p in lbls if p[0] not in without and p[0] != METRIC_NAME])
    return ()


def aggregate(
    op: str,
    vec: IVec,
    by: frozenset[str] | None,
    without: frozenset[str] | None,
    param: SVal | str | None,
    instant: bool,
) -> IVec:
    t = vec.nsteps
    vec = vec.compact()
    if op in ("topk", "bottomk", "limitk"):
        assert isinstance(param, SVal)
        return _rank_select(op, vec, by, without, param, instant)
    if op == "count_values":
        assert isinstance(param, str)
        return _count_values(vec, by, without, param)
    if op == "limit_ratio":
        assert isinstance(param, SVal)
        return _limit_ratio(vec, by, without, param, instant)
    if len(vec.labels) == 0:
        return IVec.empty(t)
    ids, keys = group_ids([group_key(lb, by, without) for lb in vec.labels])
    g = len(keys)
    # Series usually come grouped already (label order, grouping by a leading
    # label such as __name__): then the matrices are used in place, not copied.
    grouped = len(ids) < 2 or bool((ids[1:] >= ids[:-1]).all())
    perm = None if grouped else np.argsort(ids, kind="stable")
    sids = ids if perm is None else ids[perm]
    starts = np.flatnonzero(np.r_[True, sids[1:] != sids[:-1]])
    pres = vec.present if perm is None else vec.present[perm]
    cnt = np.add.reduceat(pres, starts, axis=0, dtype=np.int64)
    out_present = cnt > 0
    labels: list[Labels] = [k for k in keys if isinstance(k, tuple)]
    if op in ("count", "group"):  # presence alone: the values are never read
        return IVec(labels, cnt.astype(np.float64) if op == "count" else np.ones((g, t)), out_present)
    vals = vec.values if perm is None else vec.values[perm]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if op == "sum":
            res = _sum(vals, pres, starts, sids)
        elif op == "avg":
            res = _sum(vals, pres, starts, sids) / np.maximum(cnt, 1)
            res = _avg_fix(res, vals, pres, starts, sids)
        elif op == "min":
            res = np.fmin.reduceat(np.where(pres, vals, np.nan), starts, axis=0)
        elif op == "max":
            res = np.fmax.reduceat(np.where(pres, vals, np.nan), starts, axis=0)
        elif op in ("stddev", "stdvar"):
            x = np.where(pres, vals, 0.0)
            n = np.maximum(cnt, 1)
            mean = np.add.reduceat(x, starts, axis=0) / n
            # Corrected two-pass (see rangefns._variance): exact 0 for equal values.
            mean = mean + np.add.reduceat(np.where(pres, vals - mean[sids], 0.0), starts, axis=0) / n
            dev = np.where(pres, vals - mean[sids], 0.0)
            res = np.add.reduceat(dev * dev, starts, axis=0) / n
            if op == "stddev":
                res = np.sqrt(res)
        elif op == "quantile":
            assert isinstance(param, SVal)
            res = _quantile(vals, pres, sids, g, param.values)
        else:
            raise ExecutionError(f"aggregation {op!r} is not supported yet by kubesight")
    return IVec(labels, res, out_present)


def _sum(vals: F64, pres: npt.NDArray[np.bool_], starts: npt.NDArray[np.intp], sids: npt.NDArray[np.int64]) -> F64:
    x = np.where(pres, vals, 0.0)
    total: F64 = np.add.reduceat(x, starts, axis=0)
    if not (x < 0).any():
        # No negative terms, no cancellation: the plain sum is as good as Kahan's.
        return total
    abs_total = np.add.reduceat(np.abs(x), starts, axis=0)
    bad = ill_conditioned(total, abs_total)
    if bad.any():
        # Cancellation: replay Prometheus' Kahan sum for those cells only.
        for gi, ti in zip(*np.nonzero(bad), strict=True):
            rows = np.flatnonzero((sids == gi) & pres[:, ti])
            total[gi, ti] = kahan_sum(vals[rows, ti].tolist())
    return total


def _avg_fix(
    res: F64, vals: F64, pres: npt.NDArray[np.bool_], starts: npt.NDArray[np.intp], sids: npt.NDArray[np.int64]
) -> F64:
    # An overflowing sum of finite values: Prometheus switches to an
    # incremental mean; we replay it for those (rare) cells.
    fin = np.logical_and.reduceat(np.where(pres, np.isfinite(vals), True), starts, axis=0)
    bad = np.isinf(res) & fin
    if bad.any():
        from kubesight.promql.windows import kahan_mean

        for gi, ti in zip(*np.nonzero(bad), strict=True):
            rows = np.flatnonzero((sids == gi) & pres[:, ti])
            res[gi, ti] = kahan_mean(vals[rows, ti].tolist())
    return res


def _cells(pres: npt.NDArray[np.bool_], sids: npt.NDArray[np.int64], t: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    rows, cols = np.nonzero(pres)
    seg = sids[rows] * t + cols
    return rows, cols, seg


def _quantile(vals: F64, pres: npt.NDArray[np.bool_], sids: npt.NDArray[np.int64], g: int, q: F64) -> F64:
    t = vals.shape[1]
    rows, cols, seg = _cells(pres, sids, t)
    x = vals[rows, cols]
    key = np.where(np.isnan(x), -np.inf, x)
    order = np.lexsort((key, (~np.isnan(x)).astype(np.int8), seg))
    xs = x[order]
    cnt = np.bincount(seg, minlength=g * t)
    start = np.zeros(g * t, np.int64)
    np.cumsum(cnt[:-1], out=start[1:])
    qq = np.broadcast_to(q[None, :], (g, t)).ravel()
    return seg_quantile(qq, xs, start, cnt).reshape(g, t)


def _k_empty_or_error(param: SVal) -> bool:
    """True when every k is below 1 (empty result); errors as Prometheus does."""
    p = param.values
    finite = p[~np.isnan(p)]
    if finite.size and float(finite.max()) < 1:
        return True
    if np.isnan(p).any():
        raise ExecutionError("Parameter value is NaN")
    if float(p.min()) <= -_MAX_INT64:
        raise ExecutionError(f"Scalar value {float(p.min())} underflows int64")
    if float(p.max()) >= _MAX_INT64:
        raise ExecutionError(f"Scalar value {float(p.max())} overflows int64")
    return False


def _rank_select(
    op: str,
    vec: IVec,
    by: frozenset[str] | None,
    without: frozenset[str] | None,
    param: SVal,
    instant: bool,
) -> IVec:
    t = vec.nsteps
    if _k_empty_or_error(param) or len(vec.labels) == 0:
        return IVec.empty(t)
    ids, _keys = group_ids([group_key(lb, by, without) for lb in vec.labels])
    s = len(ids)
    vals = vec.values
    # Every step ranks its series on its own: sort along the series axis,
    # least significant key first (stable sorts keep input order on ties):
    # value, then (group, NaN last, absent after everything).
    nan = np.isnan(vals)
    flag = np.where(vec.present, nan if op != "limitk" else False, 2).astype(np.int64)
    gkey = flag
    gkey += ids[:, None] * 3
    if op == "limitk":
        order = np.argsort(gkey, axis=0, kind="stable")
    else:
        key = np.negative(vals) if op == "topk" else vals.copy()
        key[nan] = 0.0
        by_value = np.argsort(key, axis=0, kind="stable")
        del key
        order = np.take_along_axis(by_value, np.argsort(np.take_along_axis(gkey, by_value, axis=0), axis=0, kind="stable"), axis=0)
    sorted_ids = ids[order]
    pos = np.arange(s)[:, None]
    first = np.ones(order.shape, np.bool_)
    np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=first[1:])
    start = np.maximum.accumulate(np.where(first, pos, 0), axis=0)
    rank = pos - start
    sel = rank < np.trunc(param.values)[None, :]
    sel &= np.take_along_axis(vec.present, order, axis=0)
    keep = np.zeros_like(vec.present)
    keep[order[sel], np.nonzero(sel)[1]] = True
    out = IVec(vec.labels, vec.values, keep)
    if instant and t == 1:
        r_sel = order[:, 0][sel[:, 0]]
        if op == "limitk":
            # limitk keeps the first k of each group in a min-heap by value:
            # an instant result comes out in that heap's order.
            r_sel = _heap_ordered(r_sel, ids, vec.values[:, 0])
        # Instant results come out grouped (first-seen order) and ranked,
        # like Prometheus' per-group heaps.
        return out.take(r_sel)
    return out.compact()


def _limit_ratio(
    vec: IVec,
    by: frozenset[str] | None,
    without: frozenset[str] | None,
    param: SVal,
    instant: bool,
) -> IVec:
    """Keep the series whose label-hash offset falls within the ratio (Prometheus 3.x).

    A series' offset is ``hash(labels) / 2**64``: ``r >= 0`` keeps offsets
    below ``r``; ``r < 0`` keeps offsets at or above ``1 + r``, the
    complement of ``limit_ratio(1 + r, v)``. Ratios outside [-1, 1] are
    capped (the caller warns). Grouping does not change which series are
    kept, only the order of an instant result.
    """
    t = vec.nsteps
    r = param.values
    if np.isnan(r).any():
        raise ExecutionError("Ratio value is NaN")
    if (r == 0).all() or len(vec.labels) == 0:
        return IVec.empty(t)
    r = np.clip(r, -1.0, 1.0)
    off = np.asarray([sample_offset(lb) for lb in vec.labels], np.float64)[:, None]
    keep = vec.present & (((r >= 0) & (off < r)) | ((r < 0) & (off >= 1.0 + r)))
    out = IVec(vec.labels, vec.values, keep)
    if instant and t == 1:
        ids, _keys = group_ids(group_key(lb, by, without) for lb in vec.labels)
        rows = np.flatnonzero(keep[:, 0])
        order = np.argsort(ids[rows], kind="stable")
        return out.take(_heap_ordered(rows[order], ids, vec.values[:, 0]))
    return out.compact()


def _heap_ordered(rows: npt.NDArray[np.intp], ids: npt.NDArray[np.int64], vals: F64) -> npt.NDArray[np.intp]:
    """Per group, the order Go's ``heap.Push`` leaves a min-heap by value in.

    ``rows`` are grouped (first-seen group order) and in push order; NaN
    ranks lowest, as in Prometheus' ``vectorByValueHeap``.
    """
    out: list[int] = []
    heap: list[int] = []
    prev = -1
    v = vals.tolist()

    def less(a: int, b: int) -> bool:
        return bool(v[a] != v[a] or v[a] < v[b])

    for row in rows.tolist():
        g = int(ids[row])
        if g != prev:
            out.extend(heap)
            heap = []
            prev = g
        heap.append(row)
        j = len(heap) - 1
        while j > 0:
            i = (j - 1) // 2
            if not less(heap[j], heap[i]):
                break
            heap[i], heap[j] = heap[j], heap[i]
            j = i
    out.extend(heap)
    return np.asarray(out, np.intp)


def _count_values(
    vec: IVec, by: frozenset[str] | None, without: frozenset[str] | None, label: str
) -> IVec:
    t = vec.nsteps
    if not label or not _valid_label_name(label):
        raise ExecutionError(f"invalid label name {_go_quote(label)}")
    if len(vec.labels) == 0:
        return IVec.empty(t)
    gids, keys = group_ids(group_key(lb, by, without) for lb in vec.labels)
    rows, cols = np.nonzero(vec.present)
    x = vec.values[rows, cols]
    strs = format_floats(x)
    out_ids, out_keys = group_ids(
        zip(gids[rows].tolist(), strs, strict=True)
    )
    n = len(out_keys)
    counts = np.bincount(out_ids * t + cols, minlength=n * t).reshape(n, t).astype(np.float64)
    labels: list[Labels] = []
    for key in out_keys:
        assert isinstance(key, tuple)
        gi, s = key
        base = keys[gi]
        assert isinstance(base, tuple)
        labels.append(set_label(base, label, s))
    return merge_same_labels(IVec(labels, counts, counts > 0))


def _valid_label_name(name: str) -> bool:
    # Prometheus 3 accepts any UTF-8 label name that is not empty.
    return bool(name)


def _go_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
