"""``/api/v1/series``, ``/api/v1/labels``, ``/api/v1/label/<name>/values``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kubesight.api.envelope import MAX_TIME_MS, MIN_TIME_MS, ApiError, Params, error, success
from kubesight.model import Labels
from kubesight.store.interface import Querier

_TRUNCATED = "results truncated due to limit"


def _api(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as exc:
            return error(exc)

    return wrapped


def routes(store: Querier) -> list[Route]:
    @_api
    async def series(request: Request) -> Response:
        p = await Params.of(request)
        sets = p.matcher_sets(required=True)
        start, end, limit = p.time("start", MIN_TIME_MS), p.time("end", MAX_TIME_MS), p.limit()
        seen: dict[Labels, None] = {}
        for ms in sets:
            found = await asyncio.to_thread(store.series, ms, start, end, limit + 1 if limit else 0)
            seen.update(dict.fromkeys(found))
        out = sorted(seen)
        warnings = []
        if limit and len(out) > limit:
            out = out[:limit]
            warnings.append(_TRUNCATED)
        return success([dict(lb) for lb in out], warnings)

    @_api
    async def labels(request: Request) -> Response:
        p = await Params.of(request)
        sets = p.matcher_sets(required=False) or [[]]
        start, end, limit = p.time("start", MIN_TIME_MS), p.time("end", MAX_TIME_MS), p.limit()
        names: set[str] = set()
        for ms in sets:
            names.update(await asyncio.to_thread(store.label_names, ms, start, end))
        return _limited(sorted(names), limit)

    @_api
    async def label_values(request: Request) -> Response:
        name = request.path_params["name"]
        p = await Params.of(request)
        sets = p.matcher_sets(required=False) or [[]]
        start, end, limit = p.time("start", MIN_TIME_MS), p.time("end", MAX_TIME_MS), p.limit()
        vals: set[str] = set()
        for ms in sets:
            vals.update(await asyncio.to_thread(store.label_values, name, ms, start, end))
        return _limited(sorted(vals), limit)

    @_api
    async def metadata(request: Request) -> Response:
        p = await Params.of(request)
        limit = p.limit()
        per = p.get("limit_per_metric")
        md = store.metadata(p.get("metric") or "", limit)
        data = {
            name: [{"type": m.type, "help": m.help, "unit": m.unit} for m in ms][: int(per) if per and per.isdigit() and int(per) > 0 else None]
            for name, ms in md.items()
        }
        return success(data)

    return [
        Route("/api/v1/metadata", metadata, methods=["GET"]),
        Route("/api/v1/series", series, methods=["GET", "POST"]),
        Route("/api/v1/labels", labels, methods=["GET", "POST"]),
        Route("/api/v1/label/{name:str}/values", label_values, methods=["GET"]),
    ]


def _limited(items: list[str], limit: int) -> Response:
    if limit and len(items) > limit:
        return success(items[:limit], [_TRUNCATED])
    return success(items)
