"""Prometheus' query API: /api/v1/query, query_range, format_query, parse_query.

Results are encoded straight from the engine's numpy columns: values are
formatted with one vectorised call per result, and a range result's series
become one JSON fragment each (distinct step timestamps formatted once), so
no Python object is built per sample beyond one string.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import operator
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import promql_parser
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kubesight.api.envelope import ApiError, Params, bad_data
from kubesight.model import Labels
from kubesight.promql import Engine, PromQLError, QueryResult
from kubesight.promql.engine import parse as parse_promql
from kubesight.promql.fmt import format_float, format_floats
from kubesight.promql.value import Matrix, Scalar, String, Vector

log = logging.getLogger("kubesight.api.query")

_STATUS = {"bad_data": 400, "execution": 422, "timeout": 503, "canceled": 503, "internal": 500}


# Go's encoding/json (and the jsoniter config Prometheus uses) escapes these
# inside strings; they cannot occur outside strings, so replacing bytes in the
# whole document is exact.
_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def dumps(body: Any) -> bytes:
    """orjson, with Go's HTML-safe string escapes so bodies match Prometheus' bytes."""
    out = orjson.dumps(body)
    # One memchr per byte: the 3-byte needles cost ~40x more to look for, and
    # their first byte (0xe2) is absent from most bodies.
    wide = b"\xe2" in out
    for raw, esc in _GO_ESCAPES:
        if (wide or len(raw) == 1) and raw in out:
            out = out.replace(raw, esc)
    return out


def _err(error_type: str, message: str) -> Response:
    body = {"status": "error", "errorType": error_type, "error": message}
    return Response(dumps(body), status_code=_STATUS.get(error_type, 422), media_type="application/json")


def _metric(lbls: Labels) -> dict[str, str]:
    return dict(lbls)


# ".000" .. ".999" as Prometheus writes a millisecond fraction ("" for none).
_FRACTIONS = np.array([""] + [f".{i:03d}" for i in range(1, 1000)], dtype=object)


def _times(ts: npt.NDArray[np.int64]) -> list[orjson.Fragment]:
    """Timestamps exactly as Prometheus' MarshalTimestamp writes them.

    Whole seconds, then ``.`` and three fraction digits when the fraction is
    not zero (``1750000000.500``): no float can print like that, so each is an
    orjson Fragment built with C-level maps, not a Python loop.
    """
    a = np.abs(ts)
    secs = map(str, (a // 1000).tolist())
    fracs = _FRACTIONS[a % 1000].tolist()
    strs = list(map(operator.add, secs, fracs))
    for i in np.flatnonzero(ts < 0).tolist():
        strs[i] = "-" + strs[i]
    return list(map(orjson.Fragment, strs))


def _time_texts(ts: npt.NDArray[np.int64]) -> list[bytes]:
    """:func:`_times` as bytes, one per element of ``ts`` (few distinct values expected)."""
    a = np.abs(ts)
    secs = map(str, (a // 1000).tolist())
    fracs = _FRACTIONS[a % 1000].tolist()
    strs = list(map(operator.add, secs, fracs))
    for i in np.flatnonzero(ts < 0).tolist():
        strs[i] = "-" + strs[i]
    return [s.encode() for s in strs]


def _value_texts(values: npt.NDArray[np.float64]) -> list[bytes]:
    """:func:`~kubesight.promql.fmt.format_floats` as bytes, without a str per value.

    orjson writes every finite float with the shortest round-trip digits
    (Ryu, as Go's FormatFloat), so its bytes are kept as they are except
    where Go's spelling differs: integral values (``3`` not ``3.0``: the
    ``.0`` is cut), tiny and huge magnitudes (no exponent in Go's 'f'
    format), -0, NaN and ±Inf (the shared formatter).
    """
    if not values.size:
        return []
    raw = orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")
    finite = np.isfinite(values)
    mag = np.abs(np.where(finite, values, 0.0))
    whole = values == np.trunc(values)
    plain = finite & (mag >= 1e-4) & (mag < 1e16) & ~whole
    if plain.all():
        return raw
    # Patched in the list itself: an object array of the bytes would cost
    # more (numpy inspects every element) than a loop over the patched ones.
    integral = finite & whole & (mag < 1e16) & ~((values == 0) & np.signbit(values))
    rest: list[int] = np.flatnonzero(~plain & ~integral).tolist()
    for i in np.flatnonzero(integral).tolist():
        r = raw[i]
        if r.endswith(b".0"):
            raw[i] = r[:-2]
        else:  # not orjson's usual spelling: let the shared formatter decide
            rest.append(i)
    if rest:
        idx = np.asarray(rest, np.int64)
        for i, text in zip(rest, format_floats(values[idx]), strict=True):
            raw[i] = text.encode()
    return raw


_GRIDS: OrderedDict[tuple[int, int, int], npt.NDArray[np.object_]] = OrderedDict()
_GRIDS_MAX = 64  # step grids remembered: a dashboard's panels share a few widths, hence a few grids
_GRIDS_LOCK = threading.Lock()  # results are encoded in worker threads


def _separators(uniq: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """``"],[<t>,"`` for each distinct timestamp. A range query's timestamps are a step grid, the
    same for every panel of a dashboard with the same width: those are formatted once and kept."""
    key = None
    if uniq.size > 2:
        step = int(uniq[1] - uniq[0])
        if int(uniq[-1] - uniq[0]) == step * (uniq.size - 1) and bool((np.diff(uniq) == step).all()):
            key = (int(uniq[0]), step, int(uniq.size))
            with _GRIDS_LOCK:
                hit = _GRIDS.get(key)
                if hit is not None:
                    _GRIDS.move_to_end(key)
                    return hit
    seps = np.asarray([b'"],[' + t + b',"' for t in _time_texts(uniq)], dtype=object)
    if key is not None:
        with _GRIDS_LOCK:
            _GRIDS[key] = seps
            if len(_GRIDS) > _GRIDS_MAX:
                _GRIDS.popitem(last=False)
    return seps


def _matrix_values(ts: npt.NDArray[np.int64], values: npt.NDArray[np.float64], offsets: list[int]) -> list[orjson.Fragment]:
    """Each series' ``values`` array as one JSON fragment.

    A range result repeats the same step timestamps in every series, so each
    distinct timestamp is formatted once, as the text between two values
    (``"],[<t>,"``); a series is then one ``join`` over those and its values'
    digits, interleaved in one flat list. No object is built per point
    beyond its value's digits (never GC-tracked tuples or lists).
    """
    if not ts.size:
        return [orjson.Fragment(b"[]") for _ in range(len(offsets) - 1)]
    order = np.sort(ts)
    first = np.concatenate(([True], order[1:] != order[:-1]))
    uniq = order[first]
    seps = _separators(uniq)
    flat: list[bytes] = [b""] * (2 * len(ts))
    flat[0::2] = seps[np.searchsorted(uniq, ts)].tolist()
    flat[1::2] = _value_texts(values)
    join = b"".join
    # [3:] drops the first point's '"],': each series text starts at its '['.
    return [
        orjson.Fragment(b"[" + join(flat[2 * a : 2 * b])[3:] + b'"]]') if b > a else orjson.Fragment(b"[]")
        for a, b in itertools.pairwise(offsets)
    ]


def _t(t_ms: int) -> orjson.Fragment:
    return _times(np.array([t_ms], np.int64))[0]


def _t_float(t_ms: int) -> float | int:
    """Scalars and strings go through Go's encoding/json float64: shortest form."""
    return t_ms // 1000 if t_ms % 1000 == 0 else t_ms / 1000.0


def encode_result(value: Vector | Matrix | Scalar | String, limit: int = 0) -> tuple[dict[str, Any], list[str]]:
    """The ``data`` object of a query response, and warnings (for ``limit``)."""
    warnings: list[str] = []
    if isinstance(value, Scalar):
        return {"resultType": "scalar", "result": [_t_float(value.t_ms), format_float(value.value)]}, warnings
    if isinstance(value, String):
        return {"resultType": "string", "result": [_t_float(value.t_ms), value.value]}, warnings
    if isinstance(value, Vector):
        n = len(value.labels)
        if limit and n > limit:
            warnings.append("results truncated due to limit")
            n = limit
        t = _t(value.t_ms)
        strs = format_floats(value.values[:n])
        result = [
            {"metric": _metric(lb), "value": [t, s]}
            for lb, s in zip(value.labels[:n], strs, strict=True)
        ]
        return {"resultType": "vector", "result": result}, warnings
    n = len(value.labels)
    if limit and n > limit:
        warnings.append("results truncated due to limit")
        n = limit
    end = int(value.offsets[n]) if n else 0
    offs = value.offsets[: n + 1].tolist() if n else [0]
    texts = _matrix_values(value.timestamps[:end], value.values[:end], offs)
    series: list[dict[str, Any]] = [
        {"metric": _metric(value.labels[i]), "values": texts[i]} for i in range(n)
    ]
    return {"resultType": "matrix", "result": series}, warnings


def _stats(res: QueryResult, level: str) -> dict[str, Any]:
    st = res.stats
    out: dict[str, Any] = {
        "timings": {
            "evalTotalTime": st.eval_total_time,
            "resultSortTime": st.result_sort_time,
            "queryPreparationTime": st.query_preparation_time,
            "innerEvalTime": st.inner_eval_time,
            "execQueueTime": 0.0,
            "execTotalTime": st.exec_total_time,
        },
        "samples": {
            "totalQueryableSamples": st.total_queryable_samples,
            "peakSamples": st.peak_samples,
        },
    }
    return out


def _respond(res: QueryResult, params: Params) -> Response:
    limit = params.limit()
    data, warns = encode_result(res.value, limit)
    stats = params.get("stats")
    if stats:
        data["stats"] = _stats(res, stats)
    body: dict[str, Any] = {"status": "success", "data": data}
    warnings = list(res.warnings) + warns
    if stats not in (None, "", "true", "all"):
        warnings.append(
            f'value "{stats}" for parameter "stats" is deprecated and will be rejected in the '
            'next major release, use "true" or "all"'
        )
    if warnings:
        body["warnings"] = warnings
    if res.infos:
        body["infos"] = res.infos
    return Response(dumps(body), media_type="application/json")


Handler = Callable[[Request], Awaitable[Response]]


def _answering(fn: Handler) -> Handler:
    """Translate every failure of a query handler into Prometheus' error envelope."""

    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except (ApiError, PromQLError) as exc:
            return _err(exc.error_type, str(exc))
        except Exception as exc:  # a bug must not take the server down: answer it
            log.exception("query failed")
            return _err("internal", f"unexpected error: {exc}")

    return wrapped


def routes(engine: Engine) -> list[Route]:
    @_answering
    async def query(request: Request) -> Response:
        params = await Params.of(request)
        q = params.get("query") or ""
        t = params.time("time", int(time.time() * 1000))
        timeout = params.duration("timeout")
        lookback = params.duration("lookback_delta")
        res = await asyncio.to_thread(
            engine.instant,
            q,
            t,
            lookback_delta_ms=lookback,
            timeout_s=timeout / 1000 if timeout else None,
        )
        return _respond(res, params)

    @_answering
    async def query_range(request: Request) -> Response:
        params = await Params.of(request)
        q = params.get("query") or ""
        if params.get("start") in (None, ""):
            raise bad_data('invalid parameter "start": cannot parse "" to a valid timestamp')
        if params.get("end") in (None, ""):
            raise bad_data('invalid parameter "end": cannot parse "" to a valid timestamp')
        start = params.time("start", 0)
        end = params.time("end", 0)
        if end < start:
            raise bad_data('invalid parameter "end": end timestamp must not be before start time')
        step = params.duration("step")
        if step is None:
            raise bad_data('invalid parameter "step": cannot parse "" to a valid duration')
        if step <= 0:
            raise bad_data(
                'invalid parameter "step": zero or negative query resolution step widths are '
                "not accepted. Try a positive integer"
            )
        if (end - start) // step > 11000:
            raise bad_data(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing "
                "the query resolution (?step=XX)"
            )
        timeout = params.duration("timeout")
        lookback = params.duration("lookback_delta")
        res = await asyncio.to_thread(
            engine.range,
            q,
            start,
            end,
            step,
            lookback_delta_ms=lookback,
            timeout_s=timeout / 1000 if timeout else None,
        )
        return _respond(res, params)

    async def format_query(request: Request) -> Response:
        params = await Params.of(request)
        q = params.get("query") or ""
        try:
            expr = parse_promql(q)  # Prometheus' positioned messages; survives parser panics
        except PromQLError as exc:
            return _err(exc.error_type, str(exc))
        body = {"status": "success", "data": expr.prettify()}
        return Response(dumps(body), media_type="application/json")

    async def parse_query(request: Request) -> Response:
        params = await Params.of(request)
        q = params.get("query") or ""
        try:
            expr = parse_promql(q)  # Prometheus' positioned messages; survives parser panics
        except PromQLError as exc:
            return _err(exc.error_type, str(exc))
        body = {"status": "success", "data": ast_json(expr)}
        return Response(dumps(body), media_type="application/json")

    methods = ["GET", "POST"]
    return [
        Route("/api/v1/query", query, methods=methods),
        Route("/api/v1/query_range", query_range, methods=methods),
        Route("/api/v1/format_query", format_query, methods=methods),
        Route("/api/v1/parse_query", parse_query, methods=methods),
    ]


def _dur(td: Any) -> int:
    return 0 if td is None else round(td.total_seconds() * 1000)


def ast_json(e: Any) -> dict[str, Any]:
    """The AST in the shape of Prometheus' /api/v1/parse_query (web/api/v1/translate_ast.go)."""
    name = type(e).__name__
    if name == "ParenExpr":
        return {"type": "parenExpr", "expr": ast_json(e.expr)}
    if name == "NumberLiteral":
        return {"type": "numberLiteral", "val": format_float(float(e.val))}
    if name == "StringLiteral":
        return {"type": "stringLiteral", "val": str(e.val)}
    if name == "UnaryExpr":
        return {"type": "unaryExpr", "op": "-", "expr": ast_json(e.expr)}
    if name == "VectorSelector":
        return {
            "type": "vectorSelector",
            "name": e.name or "",
            "offset": _dur(e.offset),
            "matchers": _matchers_json(e),
            "timestamp": None if e.at is None or e.at.type != promql_parser.AtModifierType.At else int(e.at.at.timestamp() * 1000),
            "startOrEnd": _start_or_end(e.at),
        }
    if name == "MatrixSelector":
        return {"type": "matrixSelector", "range": _dur(e.range), "vectorSelector": ast_json(e.vector_selector)}
    if name == "SubqueryExpr":
        return {
            "type": "subquery",
            "expr": ast_json(e.expr),
            "range": _dur(e.range),
            "offset": _dur(e.offset),
            "step": _dur(e.step),
            "timestamp": None if e.at is None or e.at.type != promql_parser.AtModifierType.At else int(e.at.at.timestamp() * 1000),
            "startOrEnd": _start_or_end(e.at),
        }
    if name == "Call":
        args = list(e.args.args) if hasattr(e.args, "args") else list(e.args)
        return {
            "type": "call",
            "func": {"name": e.func.name, "argTypes": [str(a).split(".")[-1].lower() for a in e.func.arg_types],
                     "variadic": e.func.variadic, "returnType": str(e.func.return_type).split(".")[-1].lower()},
            "args": [ast_json(a) for a in args],
        }
    if name == "AggregateExpr":
        mod = e.modifier
        return {
            "type": "aggregation",
            "op": str(e.op),
            "expr": ast_json(e.expr),
            "param": ast_json(e.param) if e.param is not None else None,
            "grouping": [str(x) for x in mod.labels] if mod is not None else [],
            "without": mod is not None and mod.type == promql_parser.AggModifierType.Without,
        }
    if name == "BinaryExpr":
        mod = e.modifier
        matching = None
        if mod is not None and (mod.matching is not None or mod.group_labels):
            card = {
                "VectorMatchCardinality.OneToOne": "one-to-one",
                "VectorMatchCardinality.ManyToOne": "many-to-one",
                "VectorMatchCardinality.OneToMany": "one-to-many",
                "VectorMatchCardinality.ManyToMany": "many-to-many",
            }[repr(mod.card)]
            matching = {
                "card": card,
                "labels": [str(x) for x in mod.matching.labels] if mod.matching is not None else [],
                "on": mod.matching is not None and mod.matching.type == promql_parser.LabelModifierType.Include,
                "include": [str(x) for x in (mod.group_labels or [])],
            }
        return {
            "type": "binaryExpr",
            "op": str(e.op),
            "lhs": ast_json(e.lhs),
            "rhs": ast_json(e.rhs),
            "matching": matching,
            "bool": bool(mod.return_bool) if mod is not None else False,
        }
    return {"type": name}


def _start_or_end(at: Any) -> str | None:
    if at is None:
        return None
    if at.type == promql_parser.AtModifierType.Start:
        return "start"
    if at.type == promql_parser.AtModifierType.End:
        return "end"
    return None


def _matchers_json(vs: Any) -> list[dict[str, str]]:
    ops = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
    out = []
    if vs.name:
        out.append({"type": "=", "name": "__name__", "value": str(vs.name)})
    for m in vs.matchers.matchers:
        out.append({"type": ops[repr(m.op).split(".")[-1]], "name": str(m.name), "value": str(m.value)})
    return out
