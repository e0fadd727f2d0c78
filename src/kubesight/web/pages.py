"""The UI's routes: pages, and the static files they load.

Every page is the shell from :mod:`kubesight.web.layout` plus one ES module.
Asset URLs carry a hash of the static tree, so they are cached for good and a
new release is never served stale.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Route

from kubesight.web.layout import asset_version, page

HOME_DASHBOARD = "kubesight-node"

_STATIC = Path(str(resources.files("kubesight.web") / "static")).resolve()
mimetypes.add_type("text/javascript", ".js")  # some systems map .js to application/x-javascript
mimetypes.add_type("image/svg+xml", ".svg")

# (path, title, module, timepicker): the status and explore pages
_PAGES: tuple[tuple[str, str, str, bool], ...] = (
    ("/graph", "Explore", "explore", True),
    ("/alerts", "Alerts", "alerts", False),
    ("/targets", "Targets", "targets", False),
    ("/service-discovery", "Service discovery", "service-discovery", False),
    ("/rules", "Rules", "rules", False),
    ("/silences", "Silences", "silences", False),
    ("/tsdb-status", "TSDB status", "tsdb-status", False),
    ("/config", "Configuration", "config", False),
    ("/flags", "Flags", "flags", False),
)


def _html(body: str) -> Response:
    return HTMLResponse(body, headers={"Cache-Control": "no-cache"})


def static_file(rel: str, version: str) -> Response:
    target = (_STATIC / rel).resolve()
    if not target.is_relative_to(_STATIC) or not target.is_file():
        return PlainTextResponse(f"no static file {rel!r}", status_code=404)
    # A current hash may be cached for good; an old one is still served, but revalidated.
    cache = "public, max-age=31536000, immutable" if version == asset_version() else "no-cache"
    return FileResponse(target, headers={"Cache-Control": cache})


def routes(data_since: Callable[[], int | None] = lambda: None) -> list[BaseRoute]:
    """The UI pages. ``data_since`` is the time (ms) of the oldest sample when the store is young
    (None once it holds more than its head)."""

    async def static(request: Request) -> Response:
        return static_file(request.path_params["path"], request.path_params["version"])

    def simple(title: str, module: str, timepicker: bool) -> Any:
        async def handler(request: Request) -> Response:
            return _html(page(title, request.url.path, module, None, timepicker=timepicker))
        return handler

    async def home(request: Request) -> Response:
        return _html(page("Home", "/dashboards", "dashboard",
                          {"uid": HOME_DASHBOARD, "home": True, "dataSince": data_since()},
                          timepicker=True))

    async def dashboard(request: Request) -> Response:
        uid = request.path_params["uid"]
        return _html(page("Dashboard", "/dashboards", "dashboard", {"uid": uid},
                          timepicker=True))

    async def dashboards(request: Request) -> Response:
        return _html(page("Dashboards", "/dashboards", "dashboards"))

    async def explore_alias(request: Request) -> Response:
        q = request.url.query
        return RedirectResponse("/graph" + (f"?{q}" if q else ""), status_code=302)

    out: list[BaseRoute] = [
        Route("/", home, methods=["GET", "HEAD"]),
        Route("/dashboards", dashboards, methods=["GET", "HEAD"]),
        Route("/d/{uid}", dashboard, methods=["GET", "HEAD"]),
        Route("/d/{uid}/{slug}", dashboard, methods=["GET", "HEAD"]),
        Route("/explore", explore_alias, methods=["GET", "HEAD"]),
        Route("/static/{version}/{path:path}", static, methods=["GET", "HEAD"]),
    ]
    out += [Route(p, simple(t, m, tp), methods=["GET", "HEAD"]) for p, t, m, tp in _PAGES]
    return out
