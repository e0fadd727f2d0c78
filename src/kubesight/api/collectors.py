"""``/collectors/<job>/metrics``: each built-in collector served for another Prometheus to scrape.

The same families the server appends to its own store, collected afresh on
each request (as node_exporter does), in text exposition 0.0.4. A collector
that cannot read something says so in its own series
(``node_scrape_collector_success``); a bug answers 500 with the reason.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from kubesight.collect.family import Collector, encode
from kubesight.wire.exposition import CONTENT_TYPE_TEXT


def routes(collectors: list[tuple[str, Collector]]) -> list[Route]:
    by_job = dict(collectors)

    async def metrics(request: Request) -> Response:
        job = request.path_params["job"]
        col = by_job.get(job)
        if col is None:
            known = ", ".join(sorted(by_job)) or "none"
            return PlainTextResponse(f"no collector {job!r} runs here (running: {known})\n", 404)
        try:
            body = await asyncio.to_thread(lambda: encode(col.collect()))
        except Exception as exc:
            return PlainTextResponse(f"collector {job} failed: {exc}\n", 500)
        return Response(body, media_type=CONTENT_TYPE_TEXT)

    return [Route("/collectors/{job}/metrics", metrics, methods=["GET"])]
