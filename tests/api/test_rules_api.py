"""/api/v1/rules and /api/v1/alerts: Prometheus' JSON, checked field by field against a real Prometheus."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from kubesight.api.app import AppOptions, build_app
from kubesight.api.rules import routes
from kubesight.api.status import ServerInfo
from kubesight.ingest.remote_write import WriteLimits
from kubesight.promql import Engine
from kubesight.rules import RuleManager, RuleManagerOptions, engine_query_func, parse_rule_file
from kubesight.store.engine import Storage
from tests.peers import prometheus

# Data-independent expressions, so that a live Prometheus evaluates them the same way.
RULES = """
groups:
- name: first
  interval: 1s
  rules:
  - record: job:one
    expr: vector(1)
    labels: {team: a}
  - alert: AlwaysFiring
    expr: vector(1) > 0
    labels: {severity: page, what: "{{ $value }}"}
    annotations: {summary: "value is {{ $value }}"}
  - alert: Pending
    expr: vector(2)
    for: 1h
    keep_firing_for: 5m
  - alert: Never
    expr: vector(1) < 0
  - record: broken
    expr: '"a string"'
- name: second
  interval: 1s
  limit: 5
  rules:
  - record: two
    expr: vector(2)
"""


def kubesight_app(tmp_path: Path) -> tuple[TestClient, RuleManager]:
    store = Storage(tmp_path / "data")
    (tmp_path / "rules.yml").write_text(RULES)
    mgr = RuleManager(RuleManagerOptions(appender=store, querier=store, query=engine_query_func(Engine(store)),
                                         restore=False))
    mgr.update(parse_rule_file(RULES, "rules.yml"))
    opts = AppOptions(limits=WriteLimits(1 << 20, 1 << 24), info=ServerInfo(config_yaml="", flags={}),
                      extra_routes=routes(mgr))
    return TestClient(build_app(store, opts)), mgr


def get(client: TestClient, path: str, **params: Any) -> Any:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success"
    return body["data"]


def wait_ready(client: TestClient) -> None:
    """The store opens in the background; rules append only once it has."""
    deadline = time.monotonic() + 30
    while client.get("/-/ready").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def evaluate(mgr: RuleManager) -> None:
    t = int(time.time() * 1000)
    for g in mgr.groups:
        g.eval(t)


def test_rules_and_alerts(tmp_path: Path) -> None:
    client, mgr = kubesight_app(tmp_path)
    with client:
        wait_ready(client)
        before = get(client, "/api/v1/rules")
        assert before["groups"][0]["rules"][0]["health"] == "unknown"
        assert before["groups"][0]["lastEvaluation"] == "0001-01-01T00:00:00Z"
        evaluate(mgr)
        data = get(client, "/api/v1/rules")
        first, second = data["groups"]
        assert (first["name"], first["file"], first["interval"], first["limit"]) == ("first", "rules.yml", 1, 0)
        assert second["limit"] == 5
        rec, firing, pending, never, broken = first["rules"]
        assert rec == {"name": "job:one", "query": "vector(1)", "labels": {"team": "a"}, "health": "ok",
                       "evaluationTime": rec["evaluationTime"], "lastEvaluation": rec["lastEvaluation"],
                       "type": "recording"}
        assert firing["state"] == "firing" and firing["duration"] == 0 and firing["keepFiringFor"] == 0
        assert firing["labels"] == {"severity": "page", "what": "{{ $value }}"}
        assert firing["alerts"] == [{
            "labels": {"alertname": "AlwaysFiring", "severity": "page", "what": "1"},
            "annotations": {"summary": "value is 1"},
            "state": "firing", "activeAt": firing["alerts"][0]["activeAt"], "value": "1e+00",
        }]
        assert pending["state"] == "pending" and pending["duration"] == 3600 and pending["keepFiringFor"] == 300
        assert never["state"] == "inactive" and never["alerts"] == []
        assert broken["health"] == "err" and broken["lastError"] == "rule result is not a vector or scalar"
        # filters
        only_alerts = get(client, "/api/v1/rules", type="alert")
        assert [r["name"] for g in only_alerts["groups"] for r in g["rules"]] == ["AlwaysFiring", "Pending", "Never"]
        assert [g["name"] for g in get(client, "/api/v1/rules", type="record")["groups"]] == ["first", "second"]
        named = get(client, "/api/v1/rules", **{"rule_name[]": ["two", "Never"]})
        assert [(g["name"], [r["name"] for r in g["rules"]]) for g in named["groups"]] == [
            ("first", ["Never"]), ("second", ["two"])]
        assert [g["name"] for g in get(client, "/api/v1/rules", **{"rule_group[]": "second"})["groups"]] == ["second"]
        assert get(client, "/api/v1/rules", **{"file[]": "other.yml"})["groups"] == []
        by_label = get(client, "/api/v1/rules", **{"match[]": '{severity="page"}'})
        assert [r["name"] for g in by_label["groups"] for r in g["rules"]] == ["AlwaysFiring"]
        assert "alerts" not in get(client, "/api/v1/rules", exclude_alerts="true")["groups"][0]["rules"][1]
        page = get(client, "/api/v1/rules", group_limit="1")
        assert [g["name"] for g in page["groups"]] == ["first"] and page["groupNextToken"] == "rules.yml;second"
        page2 = get(client, "/api/v1/rules", group_limit="1", group_next_token=page["groupNextToken"])
        assert [g["name"] for g in page2["groups"]] == ["second"] and "groupNextToken" not in page2
        bad = client.get("/api/v1/rules", params={"type": "x"})
        assert bad.status_code == 400 and bad.json()["errorType"] == "bad_data"
        alerts = get(client, "/api/v1/alerts")["alerts"]
        assert [(a["labels"]["alertname"], a["state"]) for a in alerts] == [
            ("AlwaysFiring", "firing"), ("Pending", "pending")]


def _shape(v: Any) -> Any:
    """Keys and JSON types, with values that depend on time or timing blanked."""
    if isinstance(v, dict):
        return {k: ("<t>" if k in ("lastEvaluation", "activeAt", "evaluationTime") else _shape(x))
                for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [_shape(x) for x in v]
    return v


@pytest.mark.peer
def test_same_json_as_prometheus(tmp_path: Path) -> None:
    (tmp_path / "prom").mkdir()
    (tmp_path / "prom" / "rules.yml").write_text(RULES)
    config = f"global: {{evaluation_interval: 1s}}\nrule_files: [{tmp_path / 'prom' / 'rules.yml'}]\n"
    with prometheus(tmp_path / "prom", config) as url:
        deadline = time.monotonic() + 60
        while True:
            theirs = httpx.get(f"{url}/api/v1/rules", timeout=10).json()["data"]
            if all(r["health"] != "unknown" for g in theirs["groups"] for r in g["rules"]):
                break
            assert time.monotonic() < deadline, theirs
            time.sleep(0.3)
        their_alerts = httpx.get(f"{url}/api/v1/alerts", timeout=10).json()["data"]
    client, mgr = kubesight_app(tmp_path)
    with client:
        wait_ready(client)
        evaluate(mgr)
        ours = get(client, "/api/v1/rules")
        our_alerts = get(client, "/api/v1/alerts")
    for g in theirs["groups"]:
        g["file"] = "rules.yml"  # Prometheus shows the path it was given
    assert _shape(ours) == _shape(theirs)
    assert _shape(our_alerts) == _shape(their_alerts)
