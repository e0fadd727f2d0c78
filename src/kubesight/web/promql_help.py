"""Helpers for the Explore page's PromQL editor, under ``/api/ui/promql/``.

``/api/ui/promql/parse`` parses like Prometheus' ``/api/v1/parse_query`` (same
tree, same positioned messages) but answers a query that does not parse with
HTTP 200 and the error in the body: the editor checks every keystroke, and a
4xx per keystroke would fill the browser console with "Failed to load
resource" lines for what is a normal state of a query being typed.
"""

from __future__ import annotations

import re

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kubesight.api.envelope import Params
from kubesight.api.query import ast_json
from kubesight.promql import PromQLError
from kubesight.promql.engine import parse as parse_promql

_POS = re.compile(r"(?:^|\s)(\d+):(\d+)(?:-\d+:\d+)?: parse error")


async def _parse(request: Request) -> Response:
    params = await Params.of(request)
    q = params.get("query") or ""
    data: dict[str, object]
    try:
        data = {"ast": ast_json(parse_promql(q)), "error": None}
    except PromQLError as exc:
        message = str(exc)  # Prometheus' text: 'invalid parameter "query": 1:16: parse error: ...'
        m = _POS.search(message)
        data = {"ast": None, "error": {"message": message, "errorType": exc.error_type,
                                       "line": int(m.group(1)) if m else None, "col": int(m.group(2)) if m else None}}
    body = orjson.dumps({"status": "success", "data": data})
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    """The editor's helper routes; mount beside the query API."""
    return [Route("/api/ui/promql/parse", _parse, methods=["GET", "POST"])]
