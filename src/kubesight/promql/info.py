"""``info(v [, data-label-selector])``: add the data labels of info series (Prometheus 3.x, experimental).

Follows Prometheus' ``promql/info.go``: an info series matches a series of
``v`` when it has the same *identifying* labels (``instance`` and ``job``,
hard-coded as in Prometheus); its other labels (*data* labels) are added
where ``v`` does not have them already. Without a selector every
``target_info`` series is considered and all its data labels are added;
``__name__`` matchers in the selector choose other info metrics (only
negative ones mean "any ``.+_info`` but these"), its other matchers both
filter the info series and restrict the labels added. When two info series
of one metric match at a step, the one with the newer sample wins (the other
may not have gone stale yet); a tie is an error. A series with no matching
info series at a step is kept unchanged, unless a data matcher cannot match
an empty value, then it is dropped at that step. Series of ``v`` that are
themselves info series of the query are passed through unchanged.

The info series are looked up as of the time the first selector of ``v``
reads (its ``@`` and ``offset``, and those of enclosing subqueries), as
Prometheus does since its fix after 3.14 (prometheus#19266); 3.14 itself
looked them up at the step time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import promql_parser as pp

from kubesight.model import METRIC_NAME, Labels, Matcher, MatchOp
from kubesight.model.samples import I64
from kubesight.promql.errors import ExecutionError
from kubesight.promql.labelset import format_labels_prom, merge_same_labels, set_label
from kubesight.promql.syntax.rewrite import BYPASS_LABEL
from kubesight.promql.types import IVec

IDENTIFYING = ("instance", "job")
TARGET_INFO = "target_info"

Select = Callable[[list[Matcher]], tuple[IVec, I64]]


def _ms(td: Any) -> int:
    return 0 if td is None else round(td.total_seconds() * 1000)


def _first_selector(e: Any, subqueries: list[Any]) -> tuple[Any, list[Any]] | None:
    """The first vector selector in Prometheus' traversal order, with its enclosing subqueries."""
    if isinstance(e, pp.VectorSelector):
        return e, list(subqueries)
    if isinstance(e, pp.MatrixSelector):
        return _first_selector(e.vector_selector, subqueries)
    if isinstance(e, pp.SubqueryExpr):
        subqueries.append(e)
        found = _first_selector(e.expr, subqueries)
        subqueries.pop()
        return found
    if isinstance(e, pp.ParenExpr | pp.UnaryExpr):
        children = [e.expr]
    elif isinstance(e, pp.BinaryExpr):
        children = [e.lhs, e.rhs]
    elif isinstance(e, pp.AggregateExpr):
        children = [e.expr, e.param] if e.param is not None else [e.expr]
    elif isinstance(e, pp.Call):
        children = list(e.args)
    else:
        children = []
    for c in children:
        if c is not None and (found := _first_selector(c, subqueries)) is not None:
            return found
    return None


def reference_time(expr: Any, at_of: Callable[[Any], int | None]) -> tuple[int | None, int]:
    """The ``@`` time (None: the step time) and offset in ms at which info series are read.

    The innermost ``@`` among the first selector and its enclosing subqueries
    anchors the time; offsets add up from the selector outwards to it.
    """
    found = _first_selector(expr, [])
    if found is None:
        return None, 0
    vs, subqueries = found
    at = at_of(vs.at)
    offset = _ms(vs.offset)
    for sq in reversed(subqueries):
        if at is not None:
            break
        offset += _ms(sq.offset)
        at = at_of(sq.at)
    return at, offset


def effective_name_matchers(matchers: list[Matcher]) -> list[Matcher]:
    """The ``__name__`` matchers that choose the info metrics."""
    if any(m.op in (MatchOp.EQ, MatchOp.RE) for m in matchers):
        return matchers
    if matchers:
        # Negative matchers alone cannot name info metrics: any *_info but those.
        return [Matcher.of(METRIC_NAME, MatchOp.RE, ".+_info"), *matchers]
    return [Matcher.of(METRIC_NAME, MatchOp.EQ, TARGET_INFO)]


def _signature(name: str, d: dict[str, str]) -> tuple[str, ...]:
    return (name, *(f"{k}={d[k]}" for k in IDENTIFYING if d.get(k)))


def enrich(base: IVec, selector: list[Matcher] | None, select: Select) -> IVec:
    """``info(base, selector)``; ``select(matchers)`` reads info series at the reference times."""
    t = base.nsteps
    base = base.compact()
    selector = [m for m in selector or [] if m.name != BYPASS_LABEL]
    names = effective_name_matchers([m for m in selector if m.name == METRIC_NAME])
    data: dict[str, list[Matcher]] = {}
    for m in selector:
        if m.name != METRIC_NAME:
            data.setdefault(m.name, []).append(m)
    need_match = any(not m.matches_empty for ms in data.values() for m in ms)

    base_maps = [dict(lb) for lb in base.labels]
    ignored = [all(m.matches(d.get(METRIC_NAME, "")) for m in names) for d in base_maps]
    wanted: dict[str, set[str]] = {}
    for d, ign in zip(base_maps, ignored, strict=True):
        if not ign:
            for k in IDENTIFYING:
                if d.get(k):
                    wanted.setdefault(k, set()).add(d[k])

    info_labels: list[Labels] = []
    info_ts = np.zeros((0, t), np.int64)
    info_present = np.zeros((0, t), np.bool_)
    if wanted:
        vec, ts = select([m for ms in data.values() for m in ms] + names)
        keep = [
            i for i, lb in enumerate(vec.labels)
            if all(dict(lb).get(k, "") in vals for k, vals in wanted.items())
        ]
        info_labels = [vec.labels[i] for i in keep]
        info_ts, info_present = ts[keep], vec.present[keep]

    winners = _winners(info_labels, info_ts, info_present)
    info_names = sorted({dict(lb).get(METRIC_NAME, "") for lb in info_labels})

    # Which info series (one per info metric, -1 for none) each series meets
    # at each step; every distinct combination is one output label set.
    nb, nm = len(base.labels), max(len(info_names), 1)
    combo_of = np.full((nb, t, nm), -1, np.int64)
    for b, d in enumerate(base_maps):
        if not ignored[b]:
            for col, n in enumerate(info_names):
                w = winners.get(_signature(n, d))
                if w is not None:
                    combo_of[b, :, col] = w
    radix = len(info_labels) + 1
    if radix**nm < 2**62:
        # One integer per combination: a 1-d unique, far cheaper than rows.
        key = ((combo_of + 1) * (radix ** np.arange(nm, dtype=np.int64))).sum(axis=2)
        uniq, cid = np.unique(key, return_inverse=True)
        combos = (uniq[:, None] // (radix ** np.arange(nm, dtype=np.int64))) % radix - 1
    else:
        combos, cid = np.unique(combo_of.reshape(nb * t, nm), axis=0, return_inverse=True)
    cid = cid.reshape(nb, t)
    nc = len(combos)
    cells = np.unique((np.arange(nb)[:, None] * nc + cid)[base.present])
    out_labels: list[Labels] = []
    out_rows: list[int] = []
    out_masks: list[np.ndarray] = []
    combo_rows = combos.tolist()
    for cell in cells.tolist():
        b, c = divmod(cell, nc)
        lb = base.labels[b]
        if not ignored[b]:
            matched = [i for i in combo_rows[c] if i >= 0]
            if not matched and need_match:
                continue  # the required enrichment is not there at these steps
            lb = _enriched(lb, base_maps[b], [info_labels[i] for i in matched], data)
        out_labels.append(lb)
        out_rows.append(b)
        out_masks.append(base.present[b] & (cid[b] == c))
    if not out_labels:
        return IVec.empty(t)
    rows = np.asarray(out_rows, np.intp)
    return merge_same_labels(IVec(out_labels, base.values[rows], np.stack(out_masks)))


def _winners(
    labels: list[Labels], ts: np.ndarray, present: np.ndarray
) -> dict[tuple[str, ...], np.ndarray]:
    """Per signature, the info series (row) with the newest sample at each step, -1 for none."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, lb in enumerate(labels):
        d = dict(lb)
        groups.setdefault(_signature(d.get(METRIC_NAME, ""), d), []).append(i)
    out: dict[tuple[str, ...], np.ndarray] = {}
    for sig, rows in groups.items():
        idx = np.asarray(rows, np.intp)
        t = np.where(present[idx], ts[idx], np.iinfo(np.int64).min)
        best = t.max(axis=0)
        ties = ((t == best[None, :]) & present[idx]).sum(axis=0)
        if (ties > 1).any():
            step = int(np.flatnonzero(ties > 1)[0])
            a, b = (int(idx[k]) for k in np.flatnonzero((t[:, step] == best[step]) & present[idx, step])[:2])
            raise ExecutionError(
                "found duplicate series for info metric: existing "
                f"{format_labels_prom(labels[a])} @ {int(ts[a, step])}, "
                f"new {format_labels_prom(labels[b])} @ {int(ts[b, step])}"
            )
        out[sig] = np.where(present[idx].any(axis=0), idx[np.argmax(t, axis=0)], -1)
    return out


def _enriched(lb: Labels, d: dict[str, str], infos: list[Labels], data: dict[str, list[Matcher]]) -> Labels:
    added: dict[str, str] = {}
    for info in infos:
        for k, v in info:
            if k == METRIC_NAME or (data and k not in data):
                continue
            if added.get(k, v) != v:
                raise ExecutionError(f"conflicting label: {k}")
            if k not in d:
                added[k] = v
    for k, v in added.items():
        lb = set_label(lb, k, v)
    return lb
