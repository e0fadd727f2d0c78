"""grafana-client (the Python client for Grafana's HTTP API) pushing dashboards to kubesight.

The dashboard routes served by uvicorn on a free port, driven by the client
Grafana users script with, as they would drive Grafana: push, search, read back,
conflict, delete. Skipped when grafana-client is not installed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from kubesight.web.dashboards import DashboardLibrary
from kubesight.web.dashboards.api import routes
from tests.conftest import free_port

grafana_client = pytest.importorskip("grafana_client")

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def grafana(tmp_path: Path) -> Iterator[Any]:
    import uvicorn

    library = DashboardLibrary(builtin=False, data_dir=tmp_path / "data")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes(library)), host="127.0.0.1", port=port,
                                          log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/api/search", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield grafana_client.GrafanaApi.from_url(url)
    finally:
        server.should_exit = True
        t.join(timeout=10)


def test_grafana_client_round_trip(grafana: Any) -> None:
    ne = json.loads((FIXTURES / "node-exporter-style.json").read_text())
    ne.pop("uid")
    out = grafana.dashboard.update_dashboard({"dashboard": ne, "overwrite": False, "folderId": 0})
    assert out["status"] == "success" and out["version"] == 1
    uid = out["uid"]

    hits = grafana.search.search_dashboards(query="node exporter", tag=["linux"], type_="dash-db")
    assert [(h["uid"], h["title"], h["url"]) for h in hits] == [(uid, ne["title"], out["url"])]

    got = grafana.dashboard.get_dashboard(uid)
    assert got["dashboard"]["rows"] == ne["rows"] and got["meta"]["slug"] == out["slug"]

    # A second push of the same title is refused as Grafana refuses it...
    with pytest.raises(grafana_client.client.GrafanaClientError) as exc:
        grafana.dashboard.update_dashboard({"dashboard": ne, "overwrite": False})
    assert exc.value.status_code == 412
    assert exc.value.response == {"message": "A dashboard with the same name in the folder already exists",
                                  "status": "name-exists"}
    # ... and taken with overwrite, replacing the first one.
    again = grafana.dashboard.update_dashboard({"dashboard": ne, "overwrite": True})
    assert (again["uid"], again["version"]) == (uid, 2)

    with pytest.raises(grafana_client.client.GrafanaBadInputError) as bad:
        grafana.dashboard.update_dashboard({"dashboard": {"title": "x", "panels": "nope"}})
    assert "panels: expected a list, got a string" in bad.value.response["message"]

    assert grafana.dashboard.get_dashboards_tags() == [{"term": "linux", "count": 1},
                                                      {"term": "node_exporter", "count": 1}]
    assert grafana.dashboard.delete_dashboard(uid)["message"] == f"Dashboard {ne['title']} deleted"
    with pytest.raises(grafana_client.client.GrafanaClientError) as gone:
        grafana.dashboard.get_dashboard(uid)
    assert gone.value.status_code == 404
