"""Binary operators: arithmetic, comparisons, set operators, vector matching.

Matching is resolved once per series (signature ids); values are combined for
all steps with array operations. Errors use Prometheus' exact messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubesight.model import METRIC_NAME, Labels
from kubesight.model.samples import F64
from kubesight.promql.errors import ExecutionError
from kubesight.promql.labelset import (
    drop_labels,
    drop_name,
    format_labels_prom,
    group_ids,
    group_rows_sum,
    keep_only,
    merge_same_labels,
    set_label,
)
from kubesight.promql.types import B, IVec

ARITH = frozenset({"+", "-", "*", "/", "%", "^", "atan2"})
COMPARE = frozenset({"==", "!=", ">", "<", ">=", "<="})
SETOPS = frozenset({"and", "or", "unless"})


@dataclass(frozen=True)
class Matching:
    card: str  # one-to-one | many-to-one | one-to-many | many-to-many
    on: bool
    labels: frozenset[str]
    include: tuple[str, ...]
    return_bool: bool


def apply_op(op: str, lhs: F64, rhs: F64) -> tuple[F64, B]:
    """(value, keep) elementwise; keep is False only for failed comparisons."""
    with np.errstate(all="ignore"):
        if op == "+":
            return lhs + rhs, np.ones(np.broadcast(lhs, rhs).shape, np.bool_)
        if op in ARITH:
            if op == "-":
                v = lhs - rhs
            elif op == "*":
                v = lhs * rhs
            elif op == "/":
                v = lhs / rhs
            elif op == "%":
                v = np.fmod(lhs, rhs)
            elif op == "^":
                v = np.power(lhs, rhs)
            else:
                v = np.arctan2(lhs, rhs)
            return np.asarray(v, np.float64), np.ones(np.shape(v), np.bool_)
        if op == "==":
            k = lhs == rhs
        elif op == "!=":
            k = lhs != rhs
        elif op == ">":
            k = lhs > rhs
        elif op == "<":
            k = lhs < rhs
        elif op == ">=":
            k = lhs >= rhs
        elif op == "<=":
            k = lhs <= rhs
        else:
            raise ExecutionError(f"operator {op!r} is not supported yet by kubesight")
        shape = np.broadcast(lhs, rhs).shape
        return np.broadcast_to(lhs, shape).astype(np.float64), np.asarray(k, np.bool_)


def scalar_scalar(op: str, lhs: F64, rhs: F64, return_bool: bool) -> F64:
    v, keep = apply_op(op, lhs, rhs)
    if op in COMPARE:
        return keep.astype(np.float64)
    return v


def vector_scalar(op: str, vec: IVec, s: F64, vec_left: bool, return_bool: bool) -> IVec:
    row = s[None, :]
    lhs, rhs = (vec.values, row) if vec_left else (row, vec.values)
    v, keep = apply_op(op, lhs, rhs)
    if op in COMPARE:
        if return_bool:
            return merge_same_labels(
                IVec([drop_name(lb) for lb in vec.labels], keep.astype(np.float64), vec.present.copy())
            )
        # A comparison filter keeps the vector's own value on either side.
        return IVec(vec.labels, vec.values, vec.present & keep).compact()
    return merge_same_labels(IVec([drop_name(lb) for lb in vec.labels], v, vec.present.copy()))


def _sig(lbls: Labels, m: Matching) -> Labels:
    if m.on:
        return keep_only(lbls, m.labels)
    return tuple(p for p in lbls if p[0] not in m.labels and p[0] != METRIC_NAME)


def _sig_ids(lhs: IVec, rhs: IVec, m: Matching) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[object]]:
    ids, keys = group_ids([_sig(lb, m) for lb in lhs.labels] + [_sig(lb, m) for lb in rhs.labels])
    n = len(lhs.labels)
    return ids[:n], ids[n:], keys


def _presence_by_sig(vec: IVec, ids: npt.NDArray[np.int64], g: int) -> npt.NDArray[np.int64]:
    return group_rows_sum(ids, vec.present.astype(np.int64), g)


def set_op(op: str, lhs: IVec, rhs: IVec, m: Matching) -> IVec:
    lid, rid, keys = _sig_ids(lhs, rhs, m)
    g = len(keys)
    if op == "and":
        rp = _presence_by_sig(rhs, rid, g) > 0
        return IVec(lhs.labels, lhs.values, lhs.present & rp[lid]).compact() if len(lid) else lhs
    if op == "unless":
        rp = _presence_by_sig(rhs, rid, g) > 0
        return IVec(lhs.labels, lhs.values, lhs.present & ~rp[lid]).compact() if len(lid) else lhs
    lp = _presence_by_sig(lhs, lid, g) > 0
    rkeep = rhs.present & ~lp[rid] if len(rid) else rhs.present
    both = IVec(
        lhs.labels + rhs.labels,
        np.concatenate([lhs.values, rhs.values]),
        np.concatenate([lhs.present, rkeep]),
    )
    return merge_same_labels(both.compact())


def vector_vector(op: str, lhs: IVec, rhs: IVec, m: Matching) -> IVec:
    t = lhs.nsteps
    swapped = m.card == "one-to-many"
    many, one = (rhs, lhs) if swapped else (lhs, rhs)
    mid, oid, keys = _sig_ids(many, one, m)
    g = len(keys)
    # The 'one' side must have at most one series per signature and step.
    ocnt = _presence_by_sig(one, oid, g)
    if (ocnt > 1).any():
        gi, ti = (int(a[0]) for a in np.nonzero(ocnt > 1))
        dup = [i for i in range(len(one.labels)) if oid[i] == gi and one.present[i, ti]][:2]
        side = "left" if swapped else "right"
        later = one.labels[dup[1]]
        # Prometheus orders the two series' strings so the message is stable.
        pair = sorted([format_labels_prom(one.labels[dup[0]]), format_labels_prom(later)])
        raise ExecutionError(
            f"found duplicate series for the match group {format_labels_prom(_match_labels(later, m))} "
            f"on the {side} hand-side of the operation: [{pair[0]}, {pair[1]}]"
            ";many-to-many matching not allowed: matching labels must be unique on one side"
        )
    o_idx = np.full((g, t), -1, np.int64)
    o_val = np.zeros((g, t))
    rows, cols = np.nonzero(one.present)
    o_idx[oid[rows], cols] = rows
    o_val[oid[rows], cols] = one.values[rows, cols]
    if len(mid) == 0:
        return IVec.empty(t)
    partner = o_idx[mid]  # (S_many, T)
    matched = many.present & (partner >= 0)
    ov = o_val[mid]
    lv, rv = (ov, many.values) if swapped else (many.values, ov)
    v, keep = apply_op(op, lv, rv)
    if op in COMPARE and m.return_bool:
        v = keep.astype(np.float64)
        out_present = matched
    else:
        out_present = matched & keep
        if op in COMPARE:
            # A filtering comparison returns the left-hand sample's value.
            v = lv.astype(np.float64)
    drop = op in ARITH or m.return_bool
    # Matching errors count every matched pair, also those a comparison
    # then filters away (Prometheus 3.x checks before filtering).
    if m.card == "one-to-one":
        per_sig = _presence_by_sig(IVec(many.labels, v, matched), mid, g)
        if (per_sig > 1).any():
            raise ExecutionError(
                "multiple matches for labels: many-to-one matching must be explicit "
                "(group_left/group_right)"
            )
        labels = [_result_one_to_one(lb, m, drop) for lb in many.labels]
        return merge_same_labels(IVec(labels, v, out_present).compact())
    # many-to-one: the output label set depends on which 'one' series matched.
    r, c = np.nonzero(matched)
    pj = partner[r, c]
    n_one = max(len(one.labels), 1)
    pair_key = r.astype(np.int64) * n_one + pj
    uniq, inv = np.unique(pair_key, return_inverse=True)
    out_labels: list[Labels] = []
    for pk in uniq.tolist():
        i, j = divmod(pk, n_one)
        base = drop_name(many.labels[i]) if drop else many.labels[i]
        for ln in m.include:
            base = set_label(base, ln, _get(one.labels[j], ln))
        out_labels.append(base)
    lab_ids, lab_keys = group_ids(out_labels)
    # Same signature, same step, same output labels: Prometheus' grouping error.
    sig_of_pair = mid[uniq // n_one]
    chk = sig_of_pair[inv] * (len(lab_keys) + 1) + lab_ids[inv]
    cell = chk * t + c
    sc = np.sort(cell)
    if (sc[1:] == sc[:-1]).any():
        raise ExecutionError("multiple matches for labels: grouping labels must ensure unique matches")
    vals = np.zeros((len(uniq), t))
    pres = np.zeros((len(uniq), t), np.bool_)
    vals[inv, c] = v[r, c]
    pres[inv, c] = out_present[r, c]
    return merge_same_labels(IVec(out_labels, vals, pres).compact())


def _get(lbls: Labels, name: str) -> str:
    for k, v in lbls:
        if k == name:
            return v
    return ""


def _match_labels(lbls: Labels, m: Matching) -> Labels:
    if m.on:
        return keep_only(lbls, m.labels)
    return drop_labels(lbls, m.labels | {METRIC_NAME})


def _result_one_to_one(lbls: Labels, m: Matching, drop: bool) -> Labels:
    if drop:
        lbls = drop_name(lbls)
    if m.on:
        return keep_only(lbls, m.labels)
    return drop_labels(lbls, m.labels)
