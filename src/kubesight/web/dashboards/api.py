"""Dashboards over HTTP: Grafana's own API paths, plus the normalized shape for the UI.

Grafana-compatible (so grafana-client, Terraform's provider, grizzly or a curl
script written for Grafana can push dashboards to kubesight):

- ``GET /api/search`` (``query``, ``tag``, ``type``, ``dashboardUIDs``, ``limit``, ``page``)
- ``GET /api/dashboards/uid/{uid}``, ``DELETE /api/dashboards/uid/{uid}``
- ``POST /api/dashboards/db`` (``{"dashboard": ..., "overwrite": ...}``)
- ``POST /api/dashboards/import`` (``{"dashboard": ..., "overwrite": ..., "inputs": [...]}``)
- ``GET /api/dashboards/tags``

Both POSTs also take a bare dashboard (a file exported from Grafana or
grafana.com, ``__inputs`` and all) as the body, with ``?overwrite=true``.
Errors are Grafana's: ``{"message": ..., "status": ...}`` with 400, 404, 412 or 413.

For kubesight's UI: ``GET /api/ui/dashboards`` (every dashboard with its source
and error), ``GET /api/ui/dashboards/{uid}`` (the normalized shape, docs/dashboards.md)
and ``POST /api/ui/dashboards/normalize`` (normalize a body without saving it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kubesight.ingest.http import BodyTooLargeError, read_body
from kubesight.web.dashboards._check import type_name
from kubesight.web.dashboards.library import (
    DashboardLibrary,
    DashboardNotFoundError,
    DashboardReadOnlyError,
    Entry,
    LibraryError,
    slugify,
)
from kubesight.web.dashboards.model import (
    MAX_DASHBOARD_BYTES,
    DashboardError,
    is_dashboard,
    load_json,
    normalize,
)

_TRUE = ("1", "true", "True", "yes")


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _error(message: str, status: int, grafana_status: str | None = None) -> Response:
    body: dict[str, Any] = {"message": message}
    if grafana_status:
        body["status"] = grafana_status
    return _json(body, status)


def _library_error(exc: LibraryError) -> Response:
    if isinstance(exc, DashboardNotFoundError):
        return _error(str(exc), 404, "not-found")
    if exc.status in ("version-mismatch", "name-exists"):
        return _error(str(exc), 412, exc.status)
    return _error(str(exc), 400, "bad-request")


def _url(e: Entry) -> str:
    return f"/d/{e.uid}/{slugify(e.title)}"


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else "0001-01-01T00:00:00Z"


def _hit(e: Entry) -> dict[str, Any]:
    slug = slugify(e.title)
    return {"id": e.id, "uid": e.uid, "title": e.title, "uri": f"db/{slug}", "url": _url(e), "slug": "",
            "type": "dash-db", "tags": list(e.tags), "isStarred": False, "sortMeta": 0,
            "folderUid": "", "folderTitle": "", "source": e.source}


def _with_identity(e: Entry) -> dict[str, Any]:
    """The stored Grafana JSON, with the uid (and id, version) the library knows it by."""
    dash = dict(e.raw or {})
    dash["uid"] = e.uid
    if e.id is not None:
        dash["id"] = e.id
    dash.setdefault("version", e.version)
    return dash


def routes(library: DashboardLibrary, max_bytes: int = MAX_DASHBOARD_BYTES) -> list[Route]:
    """The dashboard routes over ``library``; ``max_bytes`` caps a request body (10 MiB)."""

    async def body_json(request: Request) -> dict[str, Any] | Response:
        try:
            data = await read_body(request, max_bytes)
        except BodyTooLargeError:
            return _error(f"the request body is over the {max_bytes >> 20} MiB limit for a dashboard", 413,
                          "request-too-large")
        if not data.strip():
            return _error("the request body is empty: send a dashboard as JSON", 400, "bad-request")
        try:
            return load_json(data, "request body", max_bytes)
        except DashboardError as exc:
            return _error(str(exc), 400, "bad-request")

    def unpack(body: dict[str, Any], request: Request) -> tuple[dict[str, Any], bool] | Response:
        """Grafana's ``{"dashboard": ..., "overwrite": ...}``, or a bare dashboard with ``?overwrite=``."""
        if "dashboard" in body:
            dash = body["dashboard"]
            if not isinstance(dash, dict):
                return _error(f"dashboard: expected a JSON object, got {type_name(dash)}", 400, "bad-request")
            overwrite = body.get("overwrite", False)
            if not isinstance(overwrite, bool):
                return _error(f"overwrite: expected true or false, got {type_name(overwrite)}", 400, "bad-request")
            return dash, overwrite
        if is_dashboard(body):
            return body, request.query_params.get("overwrite", "") in _TRUE
        return _error("the body is neither {\"dashboard\": {...}} nor a dashboard (it has no 'panels' or 'rows')",
                      400, "bad-request")

    async def search(request: Request) -> Response:
        q = request.query_params
        if q.get("type", "dash-db") not in ("dash-db", "") or q.get("starred") in _TRUE:
            return _json([])  # kubesight has no folders and no stars
        text = q.get("query", "").casefold()
        tags = q.getlist("tag")
        uids = {u for v in [*q.getlist("dashboardUIDs"), *q.getlist("dashboardUID")] for u in v.split(",") if u}
        try:
            limit = max(1, min(int(q.get("limit", "1000")), 5000))
            page = max(1, int(q.get("page", "1")))
        except ValueError:
            return _error("limit and page must be whole numbers", 400, "bad-request")
        entries = await run_in_threadpool(library.list)
        hits = [e for e in entries if not e.error and text in e.title.casefold()
                and all(t in e.tags for t in tags) and (not uids or e.uid in uids)]
        hits.sort(key=lambda e: (e.title.casefold(), e.uid))
        return _json([_hit(e) for e in hits[(page - 1) * limit:page * limit]])

    async def tags(request: Request) -> Response:
        counts: dict[str, int] = {}
        for e in await run_in_threadpool(library.list):
            if not e.error:
                for t in e.tags:
                    counts[t] = counts.get(t, 0) + 1
        return _json([{"term": t, "count": n} for t, n in sorted(counts.items())])

    async def readable(request: Request) -> Entry | Response:
        """The dashboard named in the path, or the answer saying why it cannot be shown."""
        try:
            e = await run_in_threadpool(library.get, request.path_params["uid"])
        except DashboardNotFoundError as exc:
            return _error(str(exc), 404)
        if e.error or e.raw is None:
            return _error(e.error, 422, "invalid-dashboard")
        return e

    async def get_dashboard(request: Request) -> Response:
        e = await readable(request)
        if isinstance(e, Response):
            return e
        editable = not e.read_only
        meta = {
            "type": "db", "canSave": editable, "canEdit": editable, "canDelete": editable,
            "canAdmin": False, "canStar": False, "slug": slugify(e.title), "url": _url(e),
            "expires": "0001-01-01T00:00:00Z", "created": _time(e.updated), "updated": _time(e.updated),
            "createdBy": "kubesight", "updatedBy": "kubesight", "version": e.version, "hasAcl": False,
            "isFolder": False, "folderId": 0, "folderUid": "", "folderTitle": "General", "folderUrl": "",
            "provisioned": e.read_only, "provisionedExternalId": e.path if e.source == "file" else "",
            "source": e.source,
        }
        return _json({"dashboard": _with_identity(e), "meta": meta})

    async def save(request: Request, imported: bool) -> Response:
        body = await body_json(request)
        if isinstance(body, Response):
            return body
        got = unpack(body, request)
        if isinstance(got, Response):
            return got
        dash, overwrite = got
        try:
            e = await run_in_threadpool(library.save, dash, overwrite)
        except DashboardError as exc:
            return _error(str(exc), 400, "bad-request")
        except LibraryError as exc:
            return _library_error(exc)
        except OSError as exc:
            return _error(f"cannot store the dashboard under the data directory: {exc.strerror or exc}", 500,
                          "storage-error")
        slug = slugify(e.title)
        if imported:
            return _json({"uid": e.uid, "pluginId": "", "title": e.title, "imported": True,
                          "importedUri": f"db/{slug}", "importedUrl": _url(e), "slug": slug,
                          "dashboardId": e.id, "folderId": 0, "folderUid": "", "importedRevision": 1,
                          "revision": 1, "description": "", "path": "", "removed": False})
        return _json({"id": e.id, "uid": e.uid, "url": _url(e), "status": "success", "version": e.version,
                      "slug": slug, "folderUid": ""})

    async def post_db(request: Request) -> Response:
        return await save(request, imported=False)

    async def post_import(request: Request) -> Response:
        return await save(request, imported=True)

    async def delete(request: Request) -> Response:
        try:
            e = await run_in_threadpool(library.delete, request.path_params["uid"])
        except DashboardNotFoundError as exc:
            return _error(str(exc), 404)
        except DashboardReadOnlyError as exc:
            return _error(str(exc), 400, "provisioned")
        except OSError as exc:
            return _error(f"cannot delete the dashboard file: {exc.strerror or exc}", 500, "storage-error")
        return _json({"title": e.title, "message": f"Dashboard {e.title} deleted", "id": e.id, "uid": e.uid})

    async def ui_list(request: Request) -> Response:
        entries = await run_in_threadpool(library.list)
        return _json([{"uid": e.uid, "title": e.title, "tags": list(e.tags), "source": e.source,
                       "url": _url(e), "editable": not e.read_only, "error": e.error,
                       "path": e.path if e.source == "file" else ""} for e in entries])

    async def ui_get(request: Request) -> Response:
        e = await readable(request)
        if isinstance(e, Response):
            return e
        try:
            d = normalize(e.raw, e.source)
        except DashboardError as exc:  # a file changed between listing and reading
            return _error(str(exc), 422, "invalid-dashboard")
        d["uid"] = e.uid
        return _json(d)

    async def ui_normalize(request: Request) -> Response:
        body = await body_json(request)
        if isinstance(body, Response):
            return body
        try:
            return _json(normalize(body, "imported"))
        except DashboardError as exc:
            return _error(str(exc), 400, "bad-request")

    return [
        Route("/api/search", search, methods=["GET"]),
        Route("/api/dashboards/tags", tags, methods=["GET"]),
        Route("/api/dashboards/db", post_db, methods=["POST"]),
        Route("/api/dashboards/import", post_import, methods=["POST"]),
        Route("/api/dashboards/uid/{uid}", get_dashboard, methods=["GET"]),
        Route("/api/dashboards/uid/{uid}", delete, methods=["DELETE"]),
        Route("/api/ui/dashboards", ui_list, methods=["GET"]),
        Route("/api/ui/dashboards/normalize", ui_normalize, methods=["POST"]),
        Route("/api/ui/dashboards/{uid}", ui_get, methods=["GET"]),
    ]
