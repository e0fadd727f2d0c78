"""The PromQL engine: parse with promql-parser, evaluate every step at once.

Every AST node is evaluated once for the whole query, over an array of step
timestamps: a range query of T steps costs one array operation per node and
not T of them. An instant query is the one-step case.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import promql_parser as pp

from kubesight.errors import ValidationError
from kubesight.model import METRIC_NAME, Labels, Matcher, MatchOp, SeriesData
from kubesight.model.samples import F64, I64, is_stale_nan
from kubesight.promql import aggregate as agg
from kubesight.promql import binop, functions
from kubesight.promql import info as info_fn
from kubesight.promql.annotations import SORT_FUNCTIONS, Annotator
from kubesight.promql.errors import (
    BadDataError,
    ExecutionError,
    PromQLError,
    QueryTimeoutError,
    TooManySamplesError,
)
from kubesight.promql.fmt import format_openmetrics_float
from kubesight.promql.labelset import drop_name, merge_same_labels, set_label
from kubesight.promql.parsing import duration_ms as _ms
from kubesight.promql.parsing import (
    parse as parse,  # re-exported: api and tests import it from here
)
from kubesight.promql.rangefns import KEEP_NAME, RANGE_FUNCTIONS
from kubesight.promql.types import IVec, RangeArg, SStr, SVal, Val
from kubesight.promql.value import Matrix, QueryResult, QueryStats, Scalar, String, Value, Vector
from kubesight.promql.windows import count_le, seg_ids
from kubesight.store.interface import Querier

# 1m: Prometheus' default global evaluation_interval, used as the step of
# subqueries written without one (``foo[5m:]``).
DEFAULT_SUBQUERY_STEP_MS = 60_000
# Cells per chunk of an instant selector: ~8 MB per (chunk x steps) temporary.
_CHUNK_CELLS = 1 << 20

_MATCH_OPS = {"=": MatchOp.EQ, "!=": MatchOp.NE, "=~": MatchOp.RE, "!~": MatchOp.NRE}

NATIVE_HISTOGRAM_FUNCTIONS = frozenset(
    {"histogram_count", "histogram_sum", "histogram_avg", "histogram_stddev", "histogram_stdvar"}
)




def _op(tok: Any) -> str:
    return str(tok).strip()


@dataclass
class _Ctx:
    querier: Querier
    lookback: int
    start: int  # the query's start and end, for @ start() / end()
    end: int
    deadline: float
    max_samples: int
    step: int = 0
    query: str = ""
    stats: QueryStats = field(default_factory=QueryStats)
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    loaded: int = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise QueryTimeoutError("expression evaluation")

    def check_cells(self, series: int, steps: int) -> None:
        """Refuse a dense (series x steps) matrix larger than the sample limit.

        Evaluation is dense; allocating first and counting later could take
        the server down on a huge selector, so the bound is checked up front.
        """
        if series * steps > self.max_samples:
            raise TooManySamplesError()

    def account(self, held: int, touched: int) -> None:
        """``held``: samples a node keeps in memory; ``touched``: samples its windows read.

        The limit applies to what is held, as Prometheus' ``--query.max-samples``
        limits the samples in memory (windows overlap, so touched can be far more).
        """
        self.loaded += held
        self.stats.total_queryable_samples += touched
        self.stats.peak_samples = max(self.stats.peak_samples, held)
        if held > self.max_samples:
            raise TooManySamplesError()


class Engine:
    def __init__(
        self,
        querier: Querier,
        *,
        lookback_delta_ms: int = 300_000,
        max_samples: int = 50_000_000,
        timeout_s: float = 120.0,
        subquery_step_ms: int = DEFAULT_SUBQUERY_STEP_MS,
    ) -> None:
        self.querier = querier
        self.lookback_delta_ms = lookback_delta_ms
        self.max_samples = max_samples
        self.timeout_s = timeout_s
        self.subquery_step_ms = subquery_step_ms

    def instant(
        self,
        query: str,
        time_ms: int,
        *,
        lookback_delta_ms: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        return self._run(query, time_ms, time_ms, 0, lookback_delta_ms, timeout_s)

    def range(
        self,
        query: str,
        start_ms: int,
        end_ms: int,
        step_ms: int,
        *,
        lookback_delta_ms: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        if step_ms <= 0:
            raise BadDataError(
                "invalid parameter \"step\": zero or negative query resolution step widths are not "
                "accepted. Try a positive integer"
            )
        if end_ms < start_ms:
            raise BadDataError("invalid parameter \"end\": end timestamp must not be before start time")
        if (end_ms - start_ms) // step_ms > 11000:
            raise BadDataError(
                "exceeded maximum resolution of 11,000 points per timeseries. "
                "Try decreasing the query resolution (?step=XX)"
            )
        return self._run(query, start_ms, end_ms, step_ms, lookback_delta_ms, timeout_s)

    def _run(
        self,
        query: str,
        start: int,
        end: int,
        step: int,
        lookback: int | None,
        timeout_s: float | None,
    ) -> QueryResult:
        t0 = time.perf_counter()
        expr = parse(query)
        t1 = time.perf_counter()
        timeout = self.timeout_s if timeout_s is None else min(timeout_s, self.timeout_s)
        ctx = _Ctx(
            self.querier,
            lookback if lookback else self.lookback_delta_ms,
            start,
            end,
            time.monotonic() + timeout,
            self.max_samples,
            step,
            query,
        )
        ctx.stats.query_preparation_time = t1 - t0
        times = np.arange(start, end + 1, step, dtype=np.int64) if step else np.array([start], np.int64)
        ev = _Evaluator(ctx, self.subquery_step_ms)
        is_range = step > 0
        if is_range and isinstance(expr, pp.MatrixSelector | pp.SubqueryExpr | pp.StringLiteral):
            kind = "range vector" if not isinstance(expr, pp.StringLiteral) else "string"
            raise BadDataError(
                f"invalid expression type \"{kind}\" for range query, must be Scalar or instant Vector"
            )
        try:
            val = ev.eval(expr, times)
            ev.notes.finish()
        except PromQLError:
            raise
        except (MemoryError, RecursionError) as exc:
            raise ExecutionError(f"query could not be evaluated: {type(exc).__name__}") from exc
        t2 = time.perf_counter()
        result = _to_result(val, times, is_range)
        t3 = time.perf_counter()
        st = ctx.stats
        st.inner_eval_time = t2 - t1
        st.eval_total_time = t2 - t1
        st.result_sort_time = t3 - t2
        st.exec_total_time = t3 - t0
        return QueryResult(result, ctx.warnings, ctx.infos, st)


def _to_result(val: Val, times: I64, is_range: bool) -> Value:
    t0 = int(times[0])
    if isinstance(val, SStr):
        return String(t0, val.value)
    if isinstance(val, SVal):
        if not is_range:
            return Scalar(t0, float(val.values[0]))
        return Matrix([()], np.array([0, len(times)], np.int64), times.copy(), val.values.copy())
    if isinstance(val, RangeArg):
        # Only instant queries get here: the raw samples of each window.
        lo, hi = val.lo[:, 0], val.hi[:, 0]
        keep = hi > lo
        labels = [lb for lb, k in zip(val.labels, keep.tolist(), strict=True) if k]
        lo, hi = lo[keep], hi[keep]
        cnt = hi - lo
        offs = np.zeros(len(cnt) + 1, np.int64)
        np.cumsum(cnt, out=offs[1:])
        idx = np.arange(int(offs[-1]), dtype=np.int64) - np.repeat(offs[:-1] - lo, cnt)
        order = _label_order(labels)
        m = Matrix(labels, offs, val.timestamps[idx], val.values[idx])
        return _reorder_matrix(m, order)
    vec = val.compact()
    if not is_range:
        return Vector(t0, vec.labels, vec.values[:, 0].copy())
    order = _label_order(vec.labels)
    pres = vec.present[order]
    vals = vec.values[order]
    cnt = pres.sum(axis=1)
    offs = np.zeros(len(order) + 1, np.int64)
    np.cumsum(cnt, out=offs[1:])
    rows, cols = np.nonzero(pres)
    return Matrix([vec.labels[i] for i in order.tolist()], offs, times[cols], vals[rows, cols])


def _label_order(labels: list[Labels]) -> np.ndarray:
    return np.asarray(sorted(range(len(labels)), key=lambda i: labels[i]), np.intp)


def _reorder_matrix(m: Matrix, order: np.ndarray) -> Matrix:
    parts_t = [m.samples(i)[0] for i in order.tolist()]
    parts_v = [m.samples(i)[1] for i in order.tolist()]
    cnt = np.asarray([len(p) for p in parts_t], np.int64)
    offs = np.zeros(len(cnt) + 1, np.int64)
    np.cumsum(cnt, out=offs[1:])
    return Matrix(
        [m.labels[i] for i in order.tolist()],
        offs,
        np.concatenate(parts_t) if parts_t else np.empty(0, np.int64),
        np.concatenate(parts_v) if parts_v else np.empty(0, np.float64),
    )


def _union(parts: list[SeriesData]) -> SeriesData:
    """Series matched by any of several selects, each once, in label order."""
    seen: dict[Labels, tuple[int, int]] = {}
    for pi, part in enumerate(parts):
        for i, lb in enumerate(part.labels):
            seen.setdefault(lb, (pi, i))
    labels = sorted(seen)
    ts_parts = []
    v_parts = []
    counts = []
    for lb in labels:
        pi, i = seen[lb]
        ts, vs = parts[pi].samples(i)
        ts_parts.append(ts)
        v_parts.append(vs)
        counts.append(len(ts))
    offs = np.zeros(len(labels) + 1, np.int64)
    np.cumsum(np.asarray(counts, np.int64), out=offs[1:])
    if not labels:
        return SeriesData.empty()
    return SeriesData(labels, offs, np.concatenate(ts_parts), np.concatenate(v_parts))


def _unwrap(e: Any) -> Any:
    while isinstance(e, pp.ParenExpr):
        e = e.expr
    return e


class _Evaluator:
    def __init__(self, ctx: _Ctx, subquery_step: int) -> None:
        self.ctx = ctx
        self.subquery_step = subquery_step
        self.notes = Annotator(ctx.query, ctx.warnings, ctx.infos)

    # --- dispatch ---------------------------------------------------------------

    def eval(self, e: Any, times: I64) -> Val:
        self.ctx.check_time()
        if isinstance(e, pp.NumberLiteral):
            return SVal(np.full(len(times), float(e.val)))
        if isinstance(e, pp.StringLiteral):
            return SStr(str(e.val))
        if isinstance(e, pp.ParenExpr):
            return self.eval(e.expr, times)
        if isinstance(e, pp.UnaryExpr):
            v = self.eval(e.expr, times)
            if isinstance(v, SVal):
                return SVal(-v.values)
            assert isinstance(v, IVec)
            return merge_same_labels(IVec([drop_name(lb) for lb in v.labels], -v.values, v.present))
        if isinstance(e, pp.VectorSelector):
            return self.vector_selector(e, times, want_ts=False)[0]
        if isinstance(e, pp.MatrixSelector):
            return self.matrix_selector(e, times)
        if isinstance(e, pp.SubqueryExpr):
            return self.subquery(e, times)
        if isinstance(e, pp.BinaryExpr):
            return self.binary(e, times)
        if isinstance(e, pp.AggregateExpr):
            return self.aggregate(e, times)
        if isinstance(e, pp.Call):
            return self.call(e, times)
        raise ExecutionError(f"unsupported expression {type(e).__name__}")

    # --- selectors ----------------------------------------------------------------

    def _at(self, at: Any) -> int | None:
        if at is None:
            return None
        typ = at.type
        if typ == pp.AtModifierType.Start:
            return self.ctx.start
        if typ == pp.AtModifierType.End:
            return self.ctx.end
        try:
            ts = at.at
        except BaseException as exc:  # pyo3 panics on negative @ times
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            raise ExecutionError("@ timestamps before 1970 are not supported yet by kubesight") from exc
        ms: float = ts.timestamp() * 1000
        return round(ms)

    def _matcher_sets(self, vs: Any) -> list[list[Matcher]]:
        """One matcher list, or one per ``or`` alternative of ``{a="b" or c="d"}``."""
        groups = [list(g) for g in vs.matchers.or_matchers] or [list(vs.matchers.matchers)]
        out: list[list[Matcher]] = []
        for g in groups:
            ms: list[Matcher] = []
            if vs.name:
                ms.append(Matcher.of(METRIC_NAME, MatchOp.EQ, str(vs.name)))
            for m in g:
                op = _MATCH_OPS[_matchop(m.op)]
                value = str(m.value)
                try:
                    ms.append(Matcher.of(str(m.name), op, value))
                except ValidationError as exc:
                    raise BadDataError(f"invalid parameter \"query\": {exc}") from exc
            out.append(ms)
        return out

    def _select(self, vs: Any, mint: int, maxt: int) -> SeriesData:
        t0 = time.perf_counter()
        sets = self._matcher_sets(vs)
        parts = [self.ctx.querier.select(ms, mint, maxt) for ms in sets]
        sd = parts[0] if len(parts) == 1 else _union(parts)
        self.ctx.stats.select_time += time.perf_counter() - t0
        self.ctx.check_time()
        return sd

    def vector_selector(self, vs: Any, times: I64, want_ts: bool = True) -> tuple[IVec, I64]:
        """The vector at every step, and the timestamps of the samples it picked.

        Without ``want_ts`` the timestamps are not kept (an empty array comes
        back): only ``timestamp()`` needs them, and they are a (series x
        steps) matrix of their own.
        """
        at = self._at(vs.at)
        eff = (np.full(len(times), at, np.int64) if at is not None else times) - _ms(vs.offset)
        lb = self.ctx.lookback
        sd = self._select(vs, int(eff.min()) - lb + 1, int(eff.max()))
        return self._instant_samples(sd, eff, times, want_ts)

    def select_instant(self, matchers: list[Matcher], eff: I64, times: I64) -> tuple[IVec, I64]:
        """Like :meth:`vector_selector` for matchers, looked up at the times ``eff``."""
        t0 = time.perf_counter()
        lb = self.ctx.lookback
        sd = self.ctx.querier.select(matchers, int(eff.min()) - lb + 1, int(eff.max()))
        self.ctx.stats.select_time += time.perf_counter() - t0
        self.ctx.check_time()
        return self._instant_samples(sd, eff, times, want_ts=True)

    def _instant_samples(self, sd: SeriesData, eff: I64, times: I64, want_ts: bool) -> tuple[IVec, I64]:
        """The newest sample within the lookback at every step, series by series in chunks.

        The output is (series x steps) values and presence (and timestamps
        with ``want_ts``); every temporary is sized by a chunk of
        ``_CHUNK_CELLS`` cells, not by the whole matrix, so a large selector
        holds little beyond its samples and its result.
        """
        s, t = len(sd), len(times)
        self.ctx.check_cells(s, t)
        if sd.timestamps.size == 0:
            return IVec.empty(t), np.zeros((0, t), np.int64)
        lower = eff - self.ctx.lookback
        vals = np.empty((s, t), np.float64)
        valid = np.empty((s, t), np.bool_)
        ts_out = np.empty((s, t), np.int64) if want_ts else np.zeros((0, t), np.int64)
        rows = max(1, _CHUNK_CELLS // max(t, 1))
        for a in range(0, s, rows):
            b = min(s, a + rows)
            first, last = int(sd.offsets[a]), int(sd.offsets[b])
            v = valid[a:b]
            if first == last:
                v[:] = False
                vals[a:b] = 0.0
                if want_ts:
                    ts_out[a:b] = 0
                continue
            offs = sd.offsets[a : b + 1] - first
            sts, svs = sd.timestamps[first:last], sd.values[first:last]
            idx = count_le(offs, sts, eff)
            idx -= 1  # the last sample at or before each step, if it is this series'
            np.greater_equal(idx, offs[:-1, None], out=v)
            np.maximum(idx, 0, out=idx)
            # mode="clip": indices are in range, and "raise" would buffer the output.
            picked = np.take(sts, idx, out=ts_out[a:b], mode="clip") if want_ts else np.take(sts, idx)
            v &= picked > lower[None, :]
            del picked
            out = np.take(svs, idx, out=vals[a:b], mode="clip")
            v &= ~is_stale_nan(out)
        n = int(np.count_nonzero(valid))
        self.ctx.account(n, n)
        vec = IVec(list(sd.labels), vals, valid)
        keep = valid.any(axis=1)
        if not keep.all():
            k = np.flatnonzero(keep)
            return vec.take(k), ts_out[k] if want_ts else ts_out
        return vec, ts_out

    def matrix_selector(self, ms: Any, times: I64) -> RangeArg:
        vs = ms.vector_selector
        rng = _ms(ms.range)
        at = self._at(vs.at)
        end = (np.full(len(times), at, np.int64) if at is not None else times) - _ms(vs.offset)
        sd = self._select(vs, int(end.min()) - rng + 1, int(end.max()))
        stale = is_stale_nan(sd.values)
        if stale.any():
            # Staleness markers never enter a range: drop them once.
            keep = ~stale
            seg = seg_ids(sd.offsets)
            cnt = np.bincount(seg[keep], minlength=len(sd))
            offs = np.zeros(len(sd) + 1, np.int64)
            np.cumsum(cnt, out=offs[1:])
            sd = SeriesData(sd.labels, offs, sd.timestamps[keep], sd.values[keep])
        return self._range_arg(sd.labels, sd.offsets, sd.timestamps, sd.values, end, rng, times)

    def _range_arg(
        self,
        labels: list[Labels],
        offsets: I64,
        ts: I64,
        vals: F64,
        end: I64,
        rng: int,
        times: I64,
    ) -> RangeArg:
        self.ctx.check_cells(len(labels), len(times))
        # One pass over the samples for both bounds: window starts and ends
        # mostly coincide on the step grid (range a multiple of the step).
        t = len(end)
        uq, inv = np.unique(np.concatenate([end - rng, end]), return_inverse=True)
        both = count_le(offsets, ts, uq)
        # Column gathers come back Fortran-ordered; every later op is row-wise.
        lo = np.ascontiguousarray(both[:, inv[:t]])
        hi = np.ascontiguousarray(both[:, inv[t:]])
        touched = int((hi - lo).sum())
        self.ctx.account(int(ts.size), touched)
        return RangeArg(
            list(labels), offsets, ts, vals, lo, hi, rng, end, times, self.ctx.check_time
        )

    def subquery(self, sq: Any, times: I64) -> RangeArg:
        at = self._at(sq.at)
        eff = np.full(len(times), at, np.int64) if at is not None else times
        off = _ms(sq.offset)
        rng = _ms(sq.range)
        step = _ms(sq.step) if sq.step is not None else self.subquery_step
        if step <= 0:
            step = self.subquery_step
        base = int(eff.min()) - off - rng
        # Go's integer division truncates toward zero; Prometheus aligns with it.
        start = int(step * int(base / step)) if base >= 0 else -((-base) // step) * step
        if start <= base:
            start += step
        stop = int(eff.max()) - off
        inner_times = np.arange(start, stop + 1, step, dtype=np.int64)
        if inner_times.size == 0:
            inner_times = np.array([start], np.int64)
        inner = self.eval(sq.expr, inner_times)
        if isinstance(inner, SVal):
            inner = IVec([()], inner.values[None, :], np.ones((1, len(inner_times)), np.bool_))
        if not isinstance(inner, IVec):
            raise ExecutionError("subquery expression must be an instant vector or scalar")
        inner = inner.compact()
        pres = inner.present
        cnt = pres.sum(axis=1)
        offs = np.zeros(len(inner.labels) + 1, np.int64)
        np.cumsum(cnt, out=offs[1:])
        rows, cols = np.nonzero(pres)
        return self._range_arg(
            inner.labels, offs, inner_times[cols], inner.values[rows, cols], eff - off, rng, times
        )

    # --- operators --------------------------------------------------------------------

    def binary(self, e: Any, times: I64) -> Val:
        op = _op(e.op)
        mod = e.modifier
        return_bool = bool(mod.return_bool) if mod is not None else False
        lhs = self.eval(e.lhs, times)
        rhs = self.eval(e.rhs, times)
        if isinstance(lhs, SVal) and isinstance(rhs, SVal):
            return SVal(binop.scalar_scalar(op, lhs.values, rhs.values, return_bool))
        if isinstance(lhs, IVec) and isinstance(rhs, SVal):
            return binop.vector_scalar(op, lhs, rhs.values, True, return_bool)
        if isinstance(lhs, SVal) and isinstance(rhs, IVec):
            return binop.vector_scalar(op, rhs, lhs.values, False, return_bool)
        assert isinstance(lhs, IVec) and isinstance(rhs, IVec)
        m = _matching(mod, op)
        if op in binop.SETOPS:
            return binop.set_op(op, lhs, rhs, m)
        return binop.vector_vector(op, lhs, rhs, m)

    def aggregate(self, e: Any, times: I64) -> Val:
        op = _op(e.op)
        mod = e.modifier
        by: frozenset[str] | None = None
        without: frozenset[str] | None = None
        if mod is not None:
            names = frozenset(str(x) for x in mod.labels)
            if mod.type == pp.AggModifierType.By:
                by = names
            else:
                without = names
        param: SVal | str | None = None
        if e.param is not None:
            pv = self.eval(e.param, times)
            if isinstance(pv, SStr):
                param = pv.value
            elif isinstance(pv, SVal):
                param = pv
            else:
                raise ExecutionError(f"expected scalar parameter for {op}")
        v = self.eval(e.expr, times)
        assert isinstance(v, IVec)
        if op == "quantile" and isinstance(param, SVal):
            self.notes.quantile(param, "quantile")
        if op == "limit_ratio" and isinstance(param, SVal):
            self.notes.ratio(param)
        return agg.aggregate(op, v, by, without, param, instant=len(times) == 1)

    # --- functions ------------------------------------------------------------------------

    def call(self, e: Any, times: I64) -> Val:
        name = str(e.func.name)
        args = list(e.args.args) if hasattr(e.args, "args") else list(e.args)
        t = len(times)
        if name in SORT_FUNCTIONS:
            self.notes.sort(t)
        if name in RANGE_FUNCTIONS or name in ("absent_over_time",):
            mi = next(
                i for i, a in enumerate(args) if isinstance(_unwrap(a), pp.MatrixSelector | pp.SubqueryExpr)
            )
            others = [self._scalar_arg(a, times) for i, a in enumerate(args) if i != mi]
            ra = self.eval(_unwrap(args[mi]), times)
            assert isinstance(ra, RangeArg)
            if name == "absent_over_time":
                present = np.asarray((ra.hi > ra.lo).any(axis=0), np.bool_)
                lbls = self._absent_labels(_unwrap(args[mi]))
                return IVec([lbls], np.ones((1, t)), ~present[None, :]).compact()
            vals, ok = RANGE_FUNCTIONS[name](ra, others)
            if name == "quantile_over_time" and np.asarray(ok).any():
                self.notes.quantile(others[0], name)
            if name in ("rate", "increase"):
                self.notes.not_counter(ra.labels, np.asarray(ok, np.bool_))
            # Held at once: the loaded samples and the output points.
            self.ctx.account(int(ra.timestamps.size) + int(np.count_nonzero(ok)), 0)
            labels = ra.labels if name in KEEP_NAME else [drop_name(lb) for lb in ra.labels]
            out = IVec(labels, np.asarray(vals, np.float64), np.asarray(ok, np.bool_)).compact()
            return merge_same_labels(out, any_time=name not in KEEP_NAME)
        if name in functions.SIMPLE:
            return functions.SIMPLE[name](self._vec_arg(args[0], times))
        if name == "info":
            return self.info(args, times)
        if name == "time":
            return SVal(times.astype(np.float64) / 1000)
        if name == "pi":
            return SVal(np.full(t, np.pi))
        # Query-context functions: constants of the whole query (3.x experimental).
        if name in ("step", "range", "start", "end"):
            c = self.ctx
            value = {
                "step": c.step / 1000,
                "range": (c.end - c.start) / 1000,
                "start": c.start / 1000,
                "end": c.end / 1000,
            }[name]
            return SVal(np.full(t, value))
        if name in ("min_of", "max_of"):
            a = self._scalar_arg(args[0], times).values
            b = self._scalar_arg(args[1], times).values
            with np.errstate(invalid="ignore"):
                # Go's math.Min/Max: NaN wins, and -0 < +0.
                r = np.minimum(a, b) if name == "min_of" else np.maximum(a, b)
                zero = (a == 0) & (b == 0)
                if zero.any():
                    neg = np.signbit(a) | np.signbit(b) if name == "min_of" else np.signbit(a) & np.signbit(b)
                    r = np.where(zero, np.where(neg, -0.0, 0.0), r)
            return SVal(r)
        if name == "vector":
            return functions.fn_vector(self._scalar_arg(args[0], times))
        if name == "scalar":
            return functions.fn_scalar(self._vec_arg(args[0], times))
        if name == "round":
            to = self._scalar_arg(args[1], times) if len(args) > 1 else None
            return functions.fn_round(self._vec_arg(args[0], times), to)
        if name in ("clamp", "clamp_min", "clamp_max"):
            vec = self._vec_arg(args[0], times)
            if name == "clamp":
                lo = self._scalar_arg(args[1], times).values
                hi = self._scalar_arg(args[2], times).values
            elif name == "clamp_min":
                lo, hi = self._scalar_arg(args[1], times).values, np.full(t, np.inf)
            else:
                lo, hi = np.full(t, -np.inf), self._scalar_arg(args[1], times).values
            return functions.fn_clamp(vec, lo, hi)
        if name == "timestamp":
            a = _unwrap(args[0])
            if isinstance(a, pp.VectorSelector):
                vec, ts = self.vector_selector(a, times)
                return functions.fn_timestamp_of_values(vec, ts.astype(np.float64), times.astype(np.float64))
            vec = self._vec_arg(a, times)
            return functions.fn_timestamp_of_values(vec, None, times.astype(np.float64))
        if name in ("sort", "sort_desc"):
            return functions.fn_sort(self._vec_arg(args[0], times), name == "sort_desc")
        if name in ("sort_by_label", "sort_by_label_desc"):
            vec = self._vec_arg(args[0], times)
            names = [self._str_arg(a, times) for a in args[1:]]
            return functions.fn_sort_by_label(vec, names, name.endswith("_desc"))
        if name == "label_replace":
            vec = self._vec_arg(args[0], times)
            s = [self._str_arg(a, times) for a in args[1:5]]
            return functions.fn_label_replace(vec, s[0], s[1], s[2], s[3])
        if name == "label_join":
            vec = self._vec_arg(args[0], times)
            s = [self._str_arg(a, times) for a in args[1:]]
            return functions.fn_label_join(vec, s[0], s[1], s[2:])
        if name == "absent":
            vec = self._vec_arg(args[0], times)
            return functions.fn_absent(vec, self._absent_labels(_unwrap(args[0])), t)
        if name in functions.DATE_FUNCS:
            if args:
                vec = self._vec_arg(args[0], times)
                vals = functions.date_fn(name, vec.values)
                return merge_same_labels(
                    IVec([drop_name(lb) for lb in vec.labels], vals, vec.present.copy())
                )
            vals = functions.date_fn(name, (times // 1000).astype(np.float64))
            return IVec([()], vals[None, :], np.ones((1, t), np.bool_))
        if name == "histogram_quantile":
            q = self._scalar_arg(args[0], times)
            vec = self._vec_arg(args[1], times)
            fixups = functions.Fixups.of(t)
            out, warns = functions.fn_histogram_quantile(q, vec, fixups)
            self.notes.fixups(fixups, times, 1)
            self.notes.buckets(warns, name, 1)
            if len(out.labels):
                self.notes.quantile(q, name)
            return out
        if name == "histogram_quantiles":
            vec = self._vec_arg(args[0], times)
            label = self._str_arg(args[1], times)
            parts: list[IVec] = []
            for a in args[2:]:
                q = self._scalar_arg(a, times)
                fixups = functions.Fixups.of(t)
                out, warns = functions.fn_histogram_quantile(q, vec, fixups)
                self.notes.fixups(fixups, times, 0, name)
                self.notes.buckets(warns, name, 0)
                # The label value is the literal quantile, OpenMetrics-style.
                qs = format_openmetrics_float(float(q.values[0]))
                parts.append(IVec([set_label(lb, label, qs) for lb in out.labels], out.values, out.present))
            if not parts:
                return IVec.empty(t)
            return merge_same_labels(
                IVec(
                    [lb for p in parts for lb in p.labels],
                    np.concatenate([p.values for p in parts]),
                    np.concatenate([p.present for p in parts]),
                )
            )
        if name == "histogram_fraction":
            lower = self._scalar_arg(args[0], times)
            upper = self._scalar_arg(args[1], times)
            vec = self._vec_arg(args[2], times)
            out, warns = functions.fn_histogram_fraction(lower, upper, vec)
            self.notes.buckets(warns, name, 2)
            return out
        if name == "start_timestamp":
            # Prometheus answers empty unless started with use-start-timestamps;
            # kubesight stores no start timestamps.
            self._vec_arg(args[0], times)
            return IVec.empty(t)
        if name in NATIVE_HISTOGRAM_FUNCTIONS:
            # Float samples are ignored by the native-histogram functions.
            self._vec_arg(args[0], times)
            return IVec.empty(t)
        raise ExecutionError(f"function {name}() is not supported yet by kubesight")

    def info(self, args: list[Any], times: I64) -> IVec:
        at, offset = info_fn.reference_time(args[0], self._at)
        eff = (np.full(len(times), at, np.int64) if at is not None else times) - offset
        base = self._vec_arg(args[0], times)
        selector: list[Matcher] | None = None
        if len(args) > 1:
            vs = args[1]
            if not isinstance(vs, pp.VectorSelector) or vs.name:
                raise ExecutionError("info(): the second argument must be a label selector such as {k=\"v\"}")
            sets = self._matcher_sets(vs)
            if len(sets) > 1:
                raise ExecutionError('info(): "or" in the data-label selector is not supported by kubesight')
            selector = sets[0]
        return info_fn.enrich(base, selector, lambda ms: self.select_instant(ms, eff, times))

    def _absent_labels(self, a: Any) -> Labels:
        vs = a.vector_selector if isinstance(a, pp.MatrixSelector) else a
        if not isinstance(vs, pp.VectorSelector):
            return ()
        ms: list[tuple[str, str, str]] = []
        if vs.name:
            ms.append((METRIC_NAME, "=", str(vs.name)))
        for m in vs.matchers.matchers:
            ms.append((str(m.name), _matchop(m.op), str(m.value)))
        return functions.absent_labels(ms)

    def _vec_arg(self, a: Any, times: I64) -> IVec:
        v = self.eval(a, times)
        if not isinstance(v, IVec):
            raise ExecutionError("expected an instant vector argument")
        return v

    def _scalar_arg(self, a: Any, times: I64) -> SVal:
        v = self.eval(a, times)
        if not isinstance(v, SVal):
            raise ExecutionError("expected a scalar argument")
        return v

    def _str_arg(self, a: Any, times: I64) -> str:
        v = self.eval(a, times)
        if not isinstance(v, SStr):
            raise ExecutionError("expected a string argument")
        return v.value


def _matchop(op: Any) -> str:
    s = repr(op)
    return {
        "MatchOp.Equal": "=",
        "MatchOp.NotEqual": "!=",
        "MatchOp.Re": "=~",
        "MatchOp.NotRe": "!~",
    }[s]


def _matching(mod: Any, op: str) -> binop.Matching:
    if mod is None:
        card = "many-to-many" if op in binop.SETOPS else "one-to-one"
        return binop.Matching(card, False, frozenset(), (), False)
    c = mod.card
    if c == pp.VectorMatchCardinality.ManyToOne:
        card = "many-to-one"
    elif c == pp.VectorMatchCardinality.OneToMany:
        card = "one-to-many"
    elif c == pp.VectorMatchCardinality.ManyToMany:
        card = "many-to-many"
    else:
        card = "one-to-one"
    on = False
    labels: frozenset[str] = frozenset()
    if mod.matching is not None:
        on = mod.matching.type == pp.LabelModifierType.Include
        labels = frozenset(str(x) for x in mod.matching.labels)
    include = tuple(str(x) for x in (mod.group_labels or []))
    return binop.Matching(card, on, labels, include, bool(mod.return_bool))


def selectors_of(expr: pp.Expr) -> Sequence[Any]:
    """Vector selectors in an expression (for tools that pre-warm a store)."""
    out: list[Any] = []

    def visit(node: Any) -> None:
        if isinstance(node, pp.VectorSelector):
            out.append(node)

    pp.walk(expr, visit)
    return out
