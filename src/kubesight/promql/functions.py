"""Functions of instant vectors and scalars (everything but range-vector functions)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubesight.model import METRIC_NAME, Labels
from kubesight.model.re2 import RegexError, compile_go_regex, expand, parse_template
from kubesight.model.samples import F64
from kubesight.promql.errors import ExecutionError
from kubesight.promql.labelset import drop_name, group_ids, merge_same_labels, set_label
from kubesight.promql.syntax.lexer import _go_quote
from kubesight.promql.types import IVec, SVal


def _elementwise(f: Callable[[F64], F64]) -> Callable[[IVec], IVec]:
    def run(vec: IVec) -> IVec:
        with np.errstate(all="ignore"):
            vals = f(vec.values)
        return merge_same_labels(IVec([drop_name(lb) for lb in vec.labels], vals, vec.present.copy()))

    return run


def _sgn(v: F64) -> F64:
    return np.where(v < 0, -1.0, np.where(v > 0, 1.0, v))


SIMPLE: dict[str, Callable[[IVec], IVec]] = {
    "abs": _elementwise(np.abs),
    "ceil": _elementwise(np.ceil),
    "floor": _elementwise(np.floor),
    "exp": _elementwise(np.exp),
    "ln": _elementwise(np.log),
    "log2": _elementwise(np.log2),
    "log10": _elementwise(np.log10),
    "sqrt": _elementwise(np.sqrt),
    "sgn": _elementwise(_sgn),
    "sin": _elementwise(np.sin),
    "cos": _elementwise(np.cos),
    "tan": _elementwise(np.tan),
    "asin": _elementwise(np.arcsin),
    "acos": _elementwise(np.arccos),
    "atan": _elementwise(np.arctan),
    "sinh": _elementwise(np.sinh),
    "cosh": _elementwise(np.cosh),
    "tanh": _elementwise(np.tanh),
    "asinh": _elementwise(np.arcsinh),
    "acosh": _elementwise(np.arccosh),
    "atanh": _elementwise(np.arctanh),
    "deg": _elementwise(lambda v: v * (180 / np.pi)),
    "rad": _elementwise(lambda v: v * (np.pi / 180)),
}


def fn_round(vec: IVec, to: SVal | None) -> IVec:
    inv = 1.0 / to.values[None, :] if to is not None else np.ones((1, vec.nsteps))
    with np.errstate(all="ignore"):
        vals = np.floor(vec.values * inv + 0.5) / inv
    return merge_same_labels(IVec([drop_name(lb) for lb in vec.labels], vals, vec.present.copy()))


def fn_clamp(vec: IVec, lo: F64, hi: F64) -> IVec:
    ok = ~(hi < lo)  # max < min: empty at that step (NaN compares false: kept)
    with np.errstate(all="ignore"):
        vals = np.fmax(lo[None, :], np.fmin(hi[None, :], vec.values))
    # Go's math.Max/Min propagate NaN from either side.
    nan = np.isnan(vec.values) | np.isnan(lo)[None, :] | np.isnan(hi)[None, :]
    vals = np.where(nan, np.nan, vals)
    pres = vec.present & ok[None, :]
    return merge_same_labels(IVec([drop_name(lb) for lb in vec.labels], vals, pres).compact())


def fn_scalar(vec: IVec) -> SVal:
    """The single sample's value at each step, NaN for none or several."""
    cnt = vec.present.sum(axis=0)
    pick = np.zeros(vec.nsteps)
    if len(vec.labels):
        # The first present row per step: with exactly one, it is the sample
        # itself (NaN and -0 kept exactly).
        idx = np.argmax(vec.present, axis=0)
        pick = vec.values[idx, np.arange(vec.nsteps)]
    return SVal(np.where(cnt == 1, pick, np.nan))


def fn_vector(s: SVal) -> IVec:
    t = s.values.shape[0]
    return IVec([()], s.values[None, :].copy(), np.ones((1, t), np.bool_))


def fn_sort(vec: IVec, desc: bool) -> IVec:
    """Instant queries only: order by value, NaN last (Prometheus' sort)."""
    if vec.nsteps != 1 or len(vec.labels) == 0:
        return vec
    v = vec.values[:, 0]
    nan = np.isnan(v)
    key = np.where(nan, 0.0, -v if desc else v)
    order = np.lexsort((key, nan))
    return vec.take(order)


def fn_sort_by_label(vec: IVec, names: list[str], desc: bool) -> IVec:
    if vec.nsteps != 1 or len(vec.labels) == 0:
        return vec
    import functools

    def cmp(a: Labels, b: Labels) -> int:
        da, db = dict(a), dict(b)
        for n in names:
            x, y = da.get(n, ""), db.get(n, "")
            if x == y:
                continue
            return -1 if _natless(x, y) else 1
        return (a > b) - (a < b)

    sign = -1 if desc else 1

    def cmp_idx(i: int, j: int) -> int:
        return sign * cmp(vec.labels[i], vec.labels[j])

    idx = sorted(range(len(vec.labels)), key=functools.cmp_to_key(cmp_idx))
    return vec.take(np.asarray(idx, np.intp))


_CHUNK = re.compile(r"(\d+|\D+)")


def _natless(a: str, b: str) -> bool:
    """Natural order: digit runs compare as numbers, the rest as strings."""
    ca, cb = _CHUNK.findall(a), _CHUNK.findall(b)
    for x, y in zip(ca, cb, strict=False):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            xi, yi = int(x), int(y)
            if xi != yi:
                return xi < yi
            return len(x) < len(y)
        return bool(x < y)
    return len(ca) < len(cb)


def fn_timestamp_of_values(vec: IVec, ts: F64 | None, eval_ts: F64) -> IVec:
    vals = ts if ts is not None else np.broadcast_to(eval_ts[None, :], vec.values.shape)
    return merge_same_labels(
        IVec([drop_name(lb) for lb in vec.labels], np.asarray(vals, np.float64) / 1000, vec.present.copy())
    )


_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def fn_label_replace(vec: IVec, dst: str, repl: str, src: str, regex: str) -> IVec:
    # Prometheus: regexp.Compile("^(?s:" + regex + ")$"), then Regexp.ExpandString.
    try:
        rx = compile_go_regex(regex)
    except RegexError as exc:
        raise ExecutionError(f"invalid regular expression in label_replace(): {regex}") from exc
    if not dst or not _valid_label(dst):
        raise ExecutionError(f"invalid destination label name in label_replace(): {dst}")
    template = parse_template(repl, rx.group_names, rx.pattern.groups)
    out: list[Labels] = []
    for lb in vec.labels:
        val = dict(lb).get(src, "")
        m = rx.pattern.search(val)
        if m is None:
            out.append(lb)
            continue
        out.append(set_label(lb, dst, expand(template, m)))
    return merge_same_labels(IVec(out, vec.values, vec.present))


def fn_label_join(vec: IVec, dst: str, sep: str, srcs: list[str]) -> IVec:
    if not _valid_label(dst):
        raise ExecutionError(f"invalid destination label name in label_join(): {dst}")
    out: list[Labels] = []
    for lb in vec.labels:
        d = dict(lb)
        out.append(set_label(lb, dst, sep.join(d.get(s, "") for s in srcs)))
    return merge_same_labels(IVec(out, vec.values, vec.present))


def _valid_label(name: str) -> bool:
    # UTF-8 names are valid in Prometheus 3; only emptiness is refused.
    return bool(name)


def date_fn(name: str, secs: F64) -> F64:
    """Calendar fields of Unix seconds in UTC, vectorised with numpy datetimes."""
    finite = np.isfinite(secs)
    s = np.where(finite, np.trunc(secs), 0).astype(np.int64)
    d = np.floor_divide(s, 86400)
    sod = s - d * 86400
    dt_d = d.astype("datetime64[D]")
    if name == "hour":
        r = sod // 3600
    elif name == "minute":
        r = (sod % 3600) // 60
    elif name == "day_of_week":
        r = (d + 4) % 7  # 1970-01-01 was a Thursday
    else:
        months = dt_d.astype("datetime64[M]")
        years = dt_d.astype("datetime64[Y]")
        if name == "year":
            r = years.astype(np.int64) + 1970
        elif name == "month":
            r = months.astype(np.int64) % 12 + 1
        elif name == "day_of_month":
            r = (dt_d - months.astype("datetime64[D]")).astype(np.int64) + 1
        elif name == "day_of_year":
            r = (dt_d - years.astype("datetime64[D]")).astype(np.int64) + 1
        elif name == "days_in_month":
            r = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64)
        else:
            raise ExecutionError(f"unknown date function {name}")
    return np.where(finite, r.astype(np.float64), np.nan)


DATE_FUNCS = frozenset(
    {"day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"}
)


def fn_absent(vec: IVec, labels: Labels, t: int) -> IVec:
    any_present = np.asarray(vec.present.any(axis=0), np.bool_) if len(vec.labels) else np.zeros(t, np.bool_)
    return IVec([labels], np.ones((1, t)), ~any_present[None, :]).compact()


def absent_labels(matchers: list[tuple[str, str, str]]) -> Labels:
    """Labels for absent(): equality matchers' values; a name matched twice is dropped."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for name, op, value in matchers:
        if name == METRIC_NAME:
            continue
        if op == "=" and name not in seen:
            out[name] = value
            seen.add(name)
        else:
            out.pop(name, None)
    return tuple(sorted((k, v) for k, v in out.items() if v != ""))


# --- classic histograms -------------------------------------------------------

_SMALL_DELTA = 1e-12  # Prometheus' smallDeltaTolerance for bucket counts


def _almost_equal(a: F64, b: F64, eps: float) -> np.ndarray:
    min_normal = 2.2250738585072014e-308
    with np.errstate(all="ignore"):
        abs_sum = np.abs(a) + np.abs(b)
        diff = np.abs(a - b)
        small = (a == 0) | (b == 0) | (abs_sum < min_normal)
        res = np.where(small, diff < eps * min_normal, diff / np.minimum(abs_sum, np.finfo(np.float64).max) < eps)
    return np.asarray((a == b) | res)


def _bucket_groups(vec: IVec) -> tuple[list[Labels], np.ndarray, F64, list[str]]:
    """Group bucket series by their labels without ``le`` (and __name__)."""
    warnings: list[str] = []
    keys: list[Labels] = []
    les: list[float] = []
    keep: list[int] = []
    for i, lb in enumerate(vec.labels):
        d = dict(lb)
        # A missing le reads as "", which does not parse either: Prometheus warns of both.
        le = d.get("le", "")
        try:
            bound = _parse_go_float(le)
        except ValueError:
            msg = f"PromQL warning: bucket label \"le\" is missing or has a malformed value of {_go_quote(le)}"
            if msg not in warnings:
                warnings.append(msg)
            continue
        keys.append(tuple(p for p in lb if p[0] not in ("le", METRIC_NAME)))
        les.append(bound)
        keep.append(i)
    ids, uniq = group_ids(keys)
    return [k for k in uniq if isinstance(k, tuple)], np.stack([ids, np.asarray(keep, np.int64)]) if keep else np.zeros((2, 0), np.int64), np.asarray(les, np.float64), warnings


def _parse_go_float(s: str) -> float:
    t = s.strip()
    low = t.lower()
    if low in ("+inf", "inf", "+infinity", "infinity"):
        return float("inf")
    if low in ("-inf", "-infinity"):
        return float("-inf")
    if low == "nan":
        return float("nan")
    if "_" in t or t != s:
        raise ValueError(s)
    return float(t)


@dataclass
class Fixups:
    """Where histogram_quantile forced bucket counts to be monotonic, per step.

    Prometheus reports it once per query (an info annotation merged over
    every bucket group and step): how many (group, step) pairs needed it, the
    smallest and largest bucket bound fixed and the largest decrease removed.
    """

    count: npt.NDArray[np.int64]  # (T,) groups fixed at each step
    min_bucket: float = np.inf
    max_bucket: float = -np.inf
    max_diff: float = 0.0

    @staticmethod
    def of(steps: int) -> Fixups:
        return Fixups(np.zeros(steps, np.int64))


def fn_histogram_quantile(q: SVal, vec: IVec, fixups: Fixups | None = None) -> tuple[IVec, list[str]]:
    def per_pattern(cols: np.ndarray, bounds: F64, counts: F64) -> F64:
        return _bucket_quantile(q.values[cols], bounds, counts, fixups, cols)

    return _per_bucket_group(vec, per_pattern)


def fn_histogram_fraction(lower: SVal, upper: SVal, vec: IVec) -> tuple[IVec, list[str]]:
    def per_pattern(cols: np.ndarray, bounds: F64, counts: F64) -> F64:
        return _bucket_fraction(lower.values[cols], upper.values[cols], bounds, counts)

    return _per_bucket_group(vec, per_pattern)


def _per_bucket_group(
    vec: IVec, fn: Callable[[np.ndarray, F64, F64], F64]
) -> tuple[IVec, list[str]]:
    """Apply ``fn(step columns, sorted bounds, counts)`` per bucket group.

    Steps where the same buckets are present are computed together, so the
    work is one vectorised call per (group, presence pattern).
    """
    t = vec.nsteps
    vec = vec.compact()
    glabels, idmap, les, warnings = _bucket_groups(vec)
    out_vals = np.full((len(glabels), t), np.nan)
    out_pres = np.zeros((len(glabels), t), np.bool_)
    for g in range(len(glabels)):
        rows = idmap[1][idmap[0] == g]
        bounds = les[idmap[0] == g]
        order = np.argsort(bounds, kind="stable")
        rows, bounds = rows[order], bounds[order]
        pres = vec.present[rows]
        out_pres[g] = pres.any(axis=0)
        patterns, inv = np.unique(pres.T, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        for p in range(len(patterns)):
            mask = patterns[p]
            if not mask.any():
                continue
            cols = np.flatnonzero(inv == p)
            out_vals[g, cols] = fn(cols, bounds[mask], vec.values[rows[mask]][:, cols])
    return IVec(glabels, out_vals, out_pres).compact(), warnings


def _coalesce(bounds: F64, counts: F64) -> tuple[F64, F64]:
    ub, first = np.unique(bounds, return_index=True)
    if ub.size != bounds.size:
        return ub, np.add.reduceat(counts, first, axis=0)
    return bounds, counts


def _bucket_fraction(lower: F64, upper: F64, bounds: F64, counts: F64) -> F64:
    """Prometheus' BucketFraction for sorted bounds; counts is (buckets, steps)."""
    nsteps = counts.shape[1]
    if not np.isposinf(bounds[-1]):
        return np.full(nsteps, np.nan)
    bounds, counts = _coalesce(bounds, counts)
    count = counts[-1]
    rank = np.zeros(nsteps)
    lo_rank = np.zeros(nsteps)
    up_rank = np.zeros(nsteps)
    lo_set = np.zeros(nsteps, np.bool_)
    up_set = np.zeros(nsteps, np.bool_)
    done = np.zeros(nsteps, np.bool_)
    first_lower = -np.inf if bounds[0] <= 0 else 0.0
    with np.errstate(all="ignore"):
        for i in range(bounds.size):
            lb = first_lower if i == 0 else float(bounds[i - 1])
            ub = float(bounds[i])
            c = counts[i]

            def interp(v: F64, lb: float = lb, ub: float = ub, c: F64 = c, rank: F64 = rank) -> F64:
                if lb == -np.inf:
                    return c
                return rank + (c - rank) * (v - lb) / (ub - lb)

            m = ~done & ~lo_set & (lb >= lower)
            lo_rank = np.where(m, rank, lo_rank)
            lo_set |= m
            m = ~done & ~up_set & (lb >= upper)
            up_rank = np.where(m, rank, up_rank)
            up_set |= m
            done |= lo_set & up_set
            m = ~done & ~lo_set & (lb < lower) & (ub > lower)
            lo_rank = np.where(m, interp(lower), lo_rank)
            lo_set |= m
            m = ~done & ~up_set & (lb < upper) & (ub > upper)
            up_rank = np.where(m, interp(upper), up_rank)
            up_set |= m
            done |= lo_set & up_set
            rank = np.where(done, rank, c)
        lo_rank = np.where(~lo_set | (lo_rank > count), count, lo_rank)
        up_rank = np.where(~up_set | (up_rank > count), count, up_rank)
        res = (up_rank - lo_rank) / count
    res = np.where(lower >= upper, 0.0, res)
    return np.where((count == 0) | np.isnan(lower) | np.isnan(upper), np.nan, res)


def _bucket_quantile(
    q: F64, bounds: F64, counts: F64, fixups: Fixups | None = None, cols: np.ndarray | None = None
) -> F64:
    """Prometheus' BucketQuantile for sorted bounds; counts is (buckets, steps).

    ``fixups`` collects where counts were forced to be monotonic, at the step
    columns ``cols`` (only for valid quantiles: Prometheus returns before).
    """
    nsteps = counts.shape[1]
    res = np.full(nsteps, np.nan)
    if not np.isposinf(bounds[-1]):
        return _q_special(q, res)
    bounds, counts = _coalesce(bounds, counts)
    counts = counts.copy()
    prev = counts[0].copy()
    valid = (q >= 0) & (q <= 1)
    forced = np.zeros(nsteps, np.bool_)
    for i in range(1, counts.shape[0]):
        cur = counts[i]
        same = cur == prev
        close = _almost_equal(prev, cur, _SMALL_DELTA) & ~same
        lower = (cur < prev) & ~same & ~close
        if fixups is not None and (lower & valid).any():
            hit = lower & valid
            forced |= hit
            fixups.min_bucket = min(fixups.min_bucket, float(bounds[i]))
            fixups.max_bucket = max(fixups.max_bucket, float(bounds[i]))
            fixups.max_diff = max(fixups.max_diff, float((prev - cur)[hit].max()))
        fix = close | lower
        counts[i] = np.where(fix, prev, cur)
        prev = np.where(fix | same, prev, cur)
    if fixups is not None and cols is not None and forced.any():
        fixups.count[cols[forced]] += 1
    nb = counts.shape[0]
    if nb < 2:
        return _q_special(q, res)
    obs = counts[-1]
    with np.errstate(all="ignore"):
        rank = q * obs
        ge = counts[: nb - 1] >= rank[None, :]
        b = np.where(ge.any(axis=0), np.argmax(ge, axis=0), nb - 1)
        cols = np.arange(nsteps)
        bucket_end = bounds[b]
        bucket_start = np.where(b > 0, bounds[np.maximum(b - 1, 0)], 0.0)
        cnt_b = counts[b, cols]
        prev_c = np.where(b > 0, counts[np.maximum(b - 1, 0), cols], 0.0)
        cnt = cnt_b - prev_c
        rk = rank - prev_c
        interp = bucket_start + (bucket_end - bucket_start) * (rk / cnt)
        out = np.where(b == nb - 1, bounds[nb - 2], np.where((b == 0) & (bounds[0] <= 0), bounds[0], interp))
    out = np.where(obs == 0, np.nan, out)
    return _q_special(q, out)


def _q_special(q: F64, res: F64) -> F64:
    res = np.where(np.isnan(q), np.nan, res)
    res = np.where(q < 0, -np.inf, res)
    return np.where(q > 1, np.inf, res)
