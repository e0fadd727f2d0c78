"""The dashboard API through Starlette's TestClient: Grafana's paths and answers, the UI's, bad bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from kubesight.web.dashboards import DashboardLibrary
from kubesight.web.dashboards.api import routes

FIXTURES = Path(__file__).parent / "fixtures"
NE = json.loads((FIXTURES / "node-exporter-style.json").read_text())
MODERN = json.loads((FIXTURES / "modern-host.json").read_text())


def dash(title: str, uid: str | None = None, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"title": title, "panels": [{"type": "stat", "gridPos": {"x": 0, "y": 0, "w": 4, "h": 4}}],
                         **kw}
    if uid is not None:
        d["uid"] = uid
    return d


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "node.json").write_text(json.dumps(dash("Node", "kubesight-node", tags=["host", "kubesight"])))
    files = tmp_path / "files"
    files.mkdir()
    (files / "modern.json").write_text(json.dumps(MODERN))
    (files / "broken.json").write_text('{"panels": "nope"}')
    library = DashboardLibrary(dirs=[files], data_dir=tmp_path / "data", builtin_dir=builtin)
    app = Starlette(routes=routes(library, max_bytes=1 << 20))
    with TestClient(app) as client:
        yield client, tmp_path


def test_push_search_get_delete_as_grafana_tooling_does(env: tuple[TestClient, Path]) -> None:
    c, _ = env
    r = c.post("/api/dashboards/db", json={"dashboard": dash("Team board", tags=["team"]), "overwrite": False,
                                           "folderId": 0, "message": "first"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"id", "uid", "url", "status", "version", "slug"}
    assert (body["status"], body["version"], body["slug"], body["url"]) == \
        ("success", 1, "team-board", f"/d/{body['uid']}/team-board")
    uid = body["uid"]

    hits = c.get("/api/search", params={"query": "team"}).json()
    assert hits == [{"id": body["id"], "uid": uid, "title": "Team board", "uri": "db/team-board",
                     "url": f"/d/{uid}/team-board", "slug": "", "type": "dash-db", "tags": ["team"],
                     "isStarred": False, "sortMeta": 0, "folderUid": "", "folderTitle": "", "source": "imported"}]

    got = c.get(f"/api/dashboards/uid/{uid}").json()
    assert got["dashboard"]["title"] == "Team board" and got["dashboard"]["uid"] == uid
    assert got["dashboard"]["version"] == 1
    meta = got["meta"]
    assert (meta["slug"], meta["url"], meta["provisioned"], meta["canSave"], meta["canEdit"], meta["source"]) == \
        ("team-board", f"/d/{uid}/team-board", False, True, True, "imported")

    # Saving what was read (same version) updates it, as Grafana's editor does.
    d = got["dashboard"]
    d["title"] = "Team board v2"
    r = c.post("/api/dashboards/db", json={"dashboard": d})
    assert (r.status_code, r.json()["version"], r.json()["uid"]) == (200, 2, uid)

    r = c.delete(f"/api/dashboards/uid/{uid}")
    assert r.status_code == 200
    assert r.json() == {"title": "Team board v2", "message": "Dashboard Team board v2 deleted", "id": body["id"],
                        "uid": uid}
    assert c.get(f"/api/dashboards/uid/{uid}").status_code == 404


def test_search_filters(env: tuple[TestClient, Path]) -> None:
    c, _ = env
    c.post("/api/dashboards/db", json={"dashboard": dash("Alpha", "alpha", tags=["host"])})
    titles = lambda **p: [h["title"] for h in c.get("/api/search", params=p).json()]  # noqa: E731
    assert titles() == ["Alpha", "Modern Host (kubesight fixture)", "Node"]  # the broken file is not a hit
    assert titles(query="NODE") == ["Node"]
    assert titles(tag="host") == ["Alpha", "Node"]
    assert c.get("/api/search", params=[("tag", "host"), ("tag", "kubesight")]).json()[0]["uid"] == "kubesight-node"
    assert titles(dashboardUIDs="alpha,modern-host") == ["Alpha", "Modern Host (kubesight fixture)"]
    assert titles(type="dash-folder") == []
    assert titles(starred="true") == []
    assert titles(limit="1", page="2") == ["Modern Host (kubesight fixture)"]
    r = c.get("/api/search", params={"limit": "x"})
    assert r.status_code == 400 and r.json()["message"] == "limit and page must be whole numbers"
    assert c.get("/api/dashboards/tags").json() == [
        {"term": "fixture", "count": 1}, {"term": "host", "count": 2}, {"term": "kubesight", "count": 2}]


def test_get_provisioned_and_missing(env: tuple[TestClient, Path]) -> None:
    c, tmp = env
    m = c.get("/api/dashboards/uid/modern-host").json()["meta"]
    assert (m["provisioned"], m["canSave"], m["canEdit"], m["source"]) == (True, False, False, "file")
    assert m["provisionedExternalId"] == str(tmp / "files" / "modern.json")
    assert c.get("/api/dashboards/uid/kubesight-node").json()["meta"]["source"] == "builtin"
    r = c.get("/api/dashboards/uid/nope")
    assert (r.status_code, r.json()) == (404, {"message": "Dashboard not found"})
    r = c.get("/api/dashboards/uid/broken")
    assert r.status_code == 422 and "panels: expected a list, got a string" in r.json()["message"]


def test_grafana_errors(env: tuple[TestClient, Path]) -> None:
    c, _ = env
    c.post("/api/dashboards/db", json={"dashboard": dash("Taken", "taken")})
    cases = [
        ({"dashboard": dash("Taken", "taken")}, 412, "version-mismatch", "The dashboard has been changed by someone else"),
        ({"dashboard": dash("Taken")}, 412, "name-exists", "A dashboard with the same name in the folder already exists"),
        ({"dashboard": dash("X", "kubesight-node"), "overwrite": True}, 400, "bad-request", "Cannot save provisioned dashboard"),
        ({"dashboard": dash("")}, 400, "bad-request", "Dashboard title cannot be empty"),
        ({"dashboard": dash("X", "bad/uid")}, 400, "bad-request", "uid contains illegal characters"),
    ]
    for body, status, grafana_status, message in cases:
        r = c.post("/api/dashboards/db", json=body)
        assert (r.status_code, r.json()) == (status, {"message": message, "status": grafana_status}), body
    r = c.post("/api/dashboards/db", json={"dashboard": dash("Taken", "taken"), "overwrite": True})
    assert (r.status_code, r.json()["version"]) == (200, 2)
    r = c.delete("/api/dashboards/uid/kubesight-node")
    assert (r.status_code, r.json()["message"]) == (400, "Dashboard cannot be deleted because it was provisioned")
    assert c.delete("/api/dashboards/uid/nope").status_code == 404


def test_import_endpoint_and_raw_uploads_with_inputs(env: tuple[TestClient, Path]) -> None:
    c, _ = env
    r = c.post("/api/dashboards/import", json={
        "dashboard": NE, "overwrite": True, "folderId": 0,
        "inputs": [{"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus", "value": "kubesight"}]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["uid"], out["imported"], out["importedUrl"], out["title"]) == \
        ("node-exporter-style", True, "/d/node-exporter-style/node-exporter-style-kubesight-fixture",
         "Node Exporter Style (kubesight fixture)")
    # A file exported from grafana.com, posted as it is (no {"dashboard": ...} around it).
    raw = dict(NE, uid="raw-upload", title="Raw upload")
    r = c.post("/api/dashboards/db", content=json.dumps(raw), headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["uid"] == "raw-upload"
    r = c.post("/api/dashboards/db", json=raw)
    assert r.status_code == 412 and r.json()["status"] == "version-mismatch"
    r = c.post("/api/dashboards/db?overwrite=true", json=raw)
    assert (r.status_code, r.json()["version"]) == (200, 2)
    stored = c.get("/api/dashboards/uid/raw-upload").json()["dashboard"]
    assert stored["__inputs"] == NE["__inputs"]


def test_ui_endpoints(env: tuple[TestClient, Path]) -> None:
    c, _ = env
    listing = c.get("/api/ui/dashboards").json()
    by = {e["uid"]: e for e in listing}
    assert by["kubesight-node"]["source"] == "builtin" and not by["kubesight-node"]["editable"]
    assert "panels: expected a list" in by["broken"]["error"] and by["broken"]["path"].endswith("broken.json")
    d = c.get("/api/ui/dashboards/modern-host").json()
    assert (d["uid"], d["source"], d["editable"]) == ("modern-host", "file", False)
    assert [r["title"] for r in d["rows"]] == [None, "Network $device", "Load"]
    assert c.get("/api/ui/dashboards/nope").status_code == 404
    r = c.get("/api/ui/dashboards/broken")
    assert r.status_code == 422 and "panels" in r.json()["message"]
    # Preview: normalized, not saved.
    r = c.post("/api/ui/dashboards/normalize", json=NE)
    assert r.status_code == 200
    assert [p["type"] for p in r.json()["rows"][0]["panels"]][:2] == ["gauge", "gauge"]
    r = c.post("/api/ui/dashboards/normalize", json={"dashboard": MODERN, "overwrite": False})
    assert r.json()["title"] == MODERN["title"]
    assert "node-exporter-style" not in {e["uid"] for e in c.get("/api/ui/dashboards").json()}


BAD_BODIES: list[tuple[str, bytes, int, str]] = [
    ("empty", b"", 400, "the request body is empty"),
    ("garbage", b"\x00\xffnot json", 400, "request body: not valid JSON"),
    ("truncated", json.dumps({"dashboard": dash("x")}).encode()[:-7], 400, "request body: not valid JSON"),
    ("a list", b"[1, 2]", 400, "a dashboard is a JSON object, got a list"),
    ("a string", b'"dashboard"', 400, "a dashboard is a JSON object, got a string"),
    ("no dashboard", b'{"title": "x"}', 400, "neither {\"dashboard\": {...}} nor a dashboard"),
    ("dashboard not an object", b'{"dashboard": "x"}', 400, "dashboard: expected a JSON object, got a string"),
    ("overwrite not a bool", json.dumps({"dashboard": dash("x"), "overwrite": "yes"}).encode(), 400,
     "overwrite: expected true or false, got a string"),
    ("panels wrong type", b'{"dashboard": {"title": "x", "panels": "x"}}', 400, "panels: expected a list, got a string"),
    ("title a number", b'{"dashboard": {"title": 5, "panels": []}}', 400, "title: expected a string, got a number"),
    ("rows wrong type", b'{"dashboard": {"title": "x", "rows": {}}}', 400, "rows: expected a list, got an object"),
    ("row panels wrong type", b'{"dashboard": {"title": "x", "rows": [{"panels": 1}]}}', 400,
     "rows[0].panels: expected a list, got a number"),
    ("huge", b'{"dashboard": {"title": "x", "panels": [], "description": "' + b"x" * (1 << 20) + b'"}}', 413,
     "over the 1 MiB limit"),
]


# The preview takes any JSON object and says what it is not; the wrapper checks are the save paths'.
_SAVE_ONLY = ("no dashboard", "dashboard not an object", "overwrite not a bool")
_CASES = [(path, *case) for path in ("/api/dashboards/db", "/api/dashboards/import", "/api/ui/dashboards/normalize")
          for case in BAD_BODIES if not (path.endswith("normalize") and case[0] in _SAVE_ONLY)]


@pytest.mark.parametrize(("path", "name", "body", "status", "message"), _CASES,
                         ids=[f"{c[0].rsplit('/', 1)[1]}-{c[1]}" for c in _CASES])
def test_bad_bodies_get_a_400_saying_what_and_where(env: tuple[TestClient, Path], path: str, name: str, body: bytes,
                                                    status: int, message: str) -> None:
    c, tmp = env
    r = c.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert message in r.json()["message"]
    assert not (tmp / "data" / "dashboards").exists() or not list((tmp / "data" / "dashboards").iterdir())


def test_a_huge_body_is_refused_before_it_is_read_whole(env: tuple[TestClient, Path]) -> None:
    c, _ = env

    def chunks() -> Iterator[bytes]:
        yield b'{"dashboard": {"title": "x", "panels": [], "d": "'
        for _ in range(64):
            yield b"x" * (64 << 10)
        yield b'"}}'

    r = c.post("/api/dashboards/db", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["status"] == "request-too-large"


def test_bad_panels_still_import_and_render_what_they_can(env: tuple[TestClient, Path]) -> None:
    c, _ = env
    body = {"title": "Half broken", "uid": "half", "panels": [
        {"type": "stat", "title": "ok", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4}, "targets": [{"expr": "up"}]},
        {"type": "timeseries", "gridPos": None, "targets": 7},
        "junk",
        {"type": "piechart", "gridPos": {"x": 6, "y": 0, "w": 6, "h": 4}},
    ]}
    assert c.post("/api/dashboards/db", json={"dashboard": body}).status_code == 200
    d = c.get("/api/ui/dashboards/half").json()
    ps = d["rows"][0]["panels"]
    assert [p["supported"] for p in ps] == [True, False, False, False]
    assert ps[0]["targets"][0]["expr"] == "up"
    assert ps[1]["unsupported"] == ["panels[1].gridPos: expected an object with numbers x, y, w, h, got null",
                                    "panels[1].targets: expected a list, got a number"]
    assert ps[2]["unsupported"] == ["panels[2]: expected an object, got a string"]
    assert ps[3]["unsupported"] == ["panel type 'piechart' is not supported"]


def test_a_disk_error_is_a_json_500_not_a_crash(env: tuple[TestClient, Path]) -> None:
    c, tmp = env
    (tmp / "data").mkdir()
    (tmp / "data" / "dashboards").write_text("a file where the directory should be")
    r = c.post("/api/dashboards/db", json={"dashboard": dash("x")})
    assert r.status_code == 500
    assert r.json()["status"] == "storage-error" and "cannot store the dashboard" in r.json()["message"]


def test_random_bodies_never_crash_the_api(tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    library = DashboardLibrary(builtin=False, data_dir=tmp_path / "data")
    client = TestClient(Starlette(routes=routes(library)))
    leaf = st.none() | st.booleans() | st.integers(-3, 30) | st.text(max_size=6) | st.sampled_from(
        ["graph", "row", "singlestat", "timeseries", "x", "now-1h"])
    value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["dashboard", "overwrite", "title", "uid", "panels", "rows", "type", "gridPos", "targets",
                         "templating", "list", "version", "time", "tags", "span", "height"]), inner, max_size=5),
        max_leaves=25)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(value)
    def post(body: Any) -> None:
        for path in ("/api/dashboards/db", "/api/dashboards/import", "/api/ui/dashboards/normalize"):
            r = client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
            assert r.status_code in (200, 400, 412), (path, body, r.text)
            assert "message" in r.json() or r.status_code == 200

    post()
    for e in library.list():  # whatever was saved reads back and normalizes
        assert client.get(f"/api/ui/dashboards/{e.uid}").status_code == 200
