"""The Prometheus HTTP API envelope and parameter parsing shared by endpoints."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
import promql_parser
from starlette.datastructures import FormData, QueryParams, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from kubesight.errors import ValidationError
from kubesight.model import Matcher
from kubesight.model.durations import parse_api_duration_ms, parse_time_ms

MIN_TIME_MS = -(2**62)
MAX_TIME_MS = 2**62

# promql_parser's MatchOp is not hashable; its str() is stable ("MatchOp.Re").
_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


class ApiError(Exception):
    """An error answered in the envelope: errorType and HTTP status."""

    def __init__(self, error_type: str, message: str, status: int) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = status


def bad_data(message: str) -> ApiError:
    return ApiError("bad_data", message, 400)


def success(data: Any, warnings: list[str] | None = None, infos: list[str] | None = None) -> Response:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = warnings
    if infos:
        body["infos"] = infos
    return Response(orjson.dumps(body), media_type="application/json")


def error(exc: ApiError) -> Response:
    body = {"status": "error", "errorType": exc.error_type, "error": str(exc)}
    return Response(orjson.dumps(body), status_code=exc.status, media_type="application/json")


class Params:
    """GET query parameters and POST form fields together, as Prometheus reads them."""

    def __init__(self, query: QueryParams, form: FormData | None) -> None:
        self._query = query
        self._form = form

    @staticmethod
    async def of(request: Request) -> Params:
        # Parsed here rather than with request.form(), which needs
        # python-multipart even for urlencoded bodies.
        form = None
        ctype = request.headers.get("content-type", "")
        if request.method == "POST" and ctype.startswith("application/x-www-form-urlencoded"):
            body = (await request.body()).decode("utf-8", "replace")
            pairs: list[tuple[str, str | UploadFile]] = list(parse_qsl(body, keep_blank_values=True))
            form = FormData(pairs)
        return Params(request.query_params, form)

    def get(self, name: str) -> str | None:
        if self._form is not None and name in self._form:
            v = self._form.get(name)
            return v if isinstance(v, str) else None
        return self._query.get(name)

    def getlist(self, name: str) -> list[str]:
        out = list(self._query.getlist(name))
        if self._form is not None:
            out += [v for v in self._form.getlist(name) if isinstance(v, str)]
        return out

    def time(self, name: str, default: int) -> int:
        v = self.get(name)
        if v is None or v == "":
            return default
        try:
            return parse_time_ms(v)
        except ValueError as exc:
            raise bad_data(f'invalid parameter "{name}": {exc}') from exc

    def duration(self, name: str) -> int | None:
        """A duration parameter in ms (float seconds or ``5m``), or None when absent."""
        v = self.get(name)
        if v is None or v == "":
            return None
        try:
            return parse_api_duration_ms(v)
        except ValueError as exc:
            raise bad_data(f'invalid parameter "{name}": {exc}') from exc

    def limit(self) -> int:
        v = self.get("limit")
        if v is None or v == "":
            return 0
        try:
            n = int(v)
        except ValueError as exc:
            raise bad_data(f'invalid parameter "limit": cannot parse {v!r} to a valid limit') from exc
        if n < 0:
            raise bad_data('invalid parameter "limit": limit must be non-negative')
        return n

    def matcher_sets(self, required: bool) -> list[list[Matcher]]:
        raw = self.getlist("match[]")
        if required and not raw:
            raise bad_data("no match[] parameter provided")
        return [m for s in raw for m in parse_selector(s)]


def parse_selector(text: str) -> list[list[Matcher]]:
    """A series selector (``up{job="x"}``) as matcher sets (several for ``or``)."""
    try:
        expr = promql_parser.parse(text)
    except ValueError as exc:
        raise bad_data(f'invalid parameter "match[]": {exc}') from exc
    if not isinstance(expr, promql_parser.VectorSelector):
        raise bad_data(f'invalid parameter "match[]": {text!r} is not a series selector')
    ms = expr.matchers
    groups = [list(g) for g in ms.or_matchers] if ms.or_matchers else [list(ms.matchers)]
    out = []
    try:
        for g in groups:
            sel = [Matcher.of(m.name, _OPS[str(m.op)], m.value) for m in g]
            if expr.name and not any(m.name == "__name__" for m in sel):
                sel.append(Matcher.of("__name__", "=", expr.name))
            out.append(sel)
    except ValidationError as exc:
        raise bad_data(f'invalid parameter "match[]": {exc}') from exc
    return out
