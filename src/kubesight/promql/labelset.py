"""Label-set helpers for the evaluator (one Python call per series, never per sample)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from kubesight.model import METRIC_NAME, Labels
from kubesight.promql.errors import ExecutionError
from kubesight.promql.types import IVec


def drop_name(lbls: Labels) -> Labels:
    return tuple(p for p in lbls if p[0] != METRIC_NAME)


def keep_only(lbls: Labels, names: frozenset[str]) -> Labels:
    return tuple(p for p in lbls if p[0] in names)


def drop_labels(lbls: Labels, names: frozenset[str]) -> Labels:
    return tuple(p for p in lbls if p[0] not in names)


def set_label(lbls: Labels, name: str, value: str) -> Labels:
    rest = [p for p in lbls if p[0] != name]
    if value != "":
        rest.append((name, value))
    return tuple(sorted(rest))


def format_labels_prom(lbls: Labels) -> str:
    """Prometheus' ``labels.Labels.String()``: ``{a="b", c="d"}``."""
    inner = ", ".join(f"{k}={_quote(v)}" for k, v in lbls)
    return "{" + inner + "}"


def _quote(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def group_ids(keys: Iterable[object]) -> tuple[npt.NDArray[np.int64], list[object]]:
    """Dense ids in order of first appearance, and the distinct keys."""
    index: dict[object, int] = {}
    ids = [index.setdefault(k, len(index)) for k in keys]
    return np.asarray(ids, np.int64), list(index)


def group_rows_sum(ids: npt.NDArray[np.int64], mat: npt.NDArray[np.int64], g: int) -> npt.NDArray[np.int64]:
    """Row sums of ``mat`` per group id, shape (g, T) (a sort + reduceat, not ufunc.at)."""
    out = np.zeros((g, mat.shape[1]), np.int64)
    if len(ids) == 0:
        return out
    order = np.argsort(ids, kind="stable")
    sids = ids[order]
    starts = np.flatnonzero(np.r_[True, sids[1:] != sids[:-1]])
    out[sids[starts]] = np.add.reduceat(mat[order], starts, axis=0)
    return out


def merge_same_labels(vec: IVec, *, any_time: bool = False) -> IVec:
    """Merge series whose label sets became equal (after dropping __name__, say).

    Prometheus refuses two samples with the same label set at one step
    ("vector cannot contain metrics with the same labelset"); with
    ``any_time`` (range-vector functions) it refuses them at any steps.
    """
    ids, keys = group_ids(vec.labels)
    if len(keys) == len(vec.labels):
        return vec
    g = len(keys)
    counts = group_rows_sum(ids, vec.present.astype(np.int64), g)
    if any_time:
        per_series = vec.present.any(axis=1)
        n = np.bincount(ids[per_series], minlength=g)
        if (n > 1).any():
            raise ExecutionError("vector cannot contain metrics with the same labelset")
    if (counts > 1).any():
        raise ExecutionError("vector cannot contain metrics with the same labelset")
    # At most one present sample per (label set, step): a scatter copy keeps -0 and NaN exact.
    out_vals = np.zeros((g, vec.nsteps))
    rows, cols = np.nonzero(vec.present)
    out_vals[ids[rows], cols] = vec.values[rows, cols]
    return IVec([k for k in keys if isinstance(k, tuple)], out_vals, counts > 0)
