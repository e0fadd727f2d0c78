"""The dashboards kubesight ships (src/kubesight/web/dashboards/builtin/*.json).

Two kinds of checks:

- the files themselves: valid JSON in Grafana's dashboard model (schemaVersion 39,
  ``panels`` + ``gridPos`` on 24 columns, supported panel types, Prometheus targets), every
  variable they use defined, every query PromQL that kubesight parses once the variables
  and Grafana's ``$__rate_interval``/``$__interval``/``$__range`` are given values;
- their queries on a real server: every panel of the Node and kubesight dashboards returns
  data on a default server (fast collection and evaluation intervals), and the Kubernetes
  dashboards return data on a server watching the fake Kubernetes API, with a fixture
  cgroup tree holding the containers of its pods. A query that comes back empty is a
  broken dashboard or a series kubesight does not produce; only the few that depend on the
  machine (no block devices, no filesystem at /) may be skipped, each with its reason.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

import kubesight
from kubesight.promql import PromQLError, parse
from kubesight.web.dashboards import normalize
from tests.conftest import free_port, start_server

BUILTIN = Path(kubesight.__file__).parent / "web" / "dashboards" / "builtin"
FILES = sorted(BUILTIN.glob("*.json"))
UIDS = {
    "node.json": "kubesight-node",
    "kubesight.json": "kubesight-self",
    "kubernetes-cluster.json": "kubesight-k8s-cluster",
    "kubernetes-namespace.json": "kubesight-k8s-namespace",
    "kubernetes-pod.json": "kubesight-k8s-pod",
    "kubernetes-node.json": "kubesight-k8s-node",
}
PANEL_TYPES = {"row", "timeseries", "stat", "gauge", "bargauge", "table", "text"}
# Grafana unit ids the built-ins use (a misspelt one renders as a bare number in Grafana).
UNITS = {"percentunit", "percent", "bytes", "Bps", "bps", "s", "short", "ops", "reqps", "iops",
         "pps", "cps"}
# Grafana's global variables, with values for parsing; $__range is what a 1h view gives.
GLOBALS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h", "__range_s": "3600",
           "__range_ms": "3600000", "__interval_ms": "15000"}
VAR_REF = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]")


def load(path: Path) -> dict[str, Any]:
    d: dict[str, Any] = json.loads(path.read_text())
    return d


def all_panels(d: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows included, with the panels of collapsed rows."""
    for p in d["panels"]:
        yield p
        yield from p.get("panels", [])


def variables(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in d["templating"]["list"]}


# ------------------------------------------------------------------ substitution, as Grafana does
_REGEX_SPECIAL = set("\\^$*+?.()|{}[]'")


def _regex_escape(value: str) -> str:
    # Grafana's prometheusSpecialRegexEscape: each special character gets a backslash that
    # survives the PromQL string literal (so two in the expression's text).
    return "".join("\\\\" + c if c in _REGEX_SPECIAL else c for c in value)


def format_value(var: dict[str, Any] | None, values: list[str]) -> str:
    if var is None or not (var.get("multi") or var.get("includeAll")):
        return values[0] if values else ""
    if var.get("includeAll") and values == ["$__all"]:
        return str(var.get("allValue") or ".+")
    escaped = [_regex_escape(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def substitute(expr: str, defs: dict[str, dict[str, Any]], values: dict[str, list[str]],
               globals_: dict[str, str] = GLOBALS) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        if name in globals_:
            return globals_[name]
        if name in values:
            return format_value(defs.get(name), values[name])
        if name.isdigit():
            return m.group(0)  # label_replace's "$1": no variable has that name, Grafana leaves it
        raise AssertionError(f"{expr!r}: ${name} is not a variable of the dashboard")
    return VAR_REF.sub(one, expr)


def sample_values(defs: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Values to parse with: a custom or interval variable's current one, a name otherwise."""
    out: dict[str, list[str]] = {}
    for name, v in defs.items():
        if v["type"] in ("custom", "interval"):
            out[name] = [str(v["current"]["value"])]
        else:
            out[name] = ["a-value", "another/value{x}"] if v.get("multi") else ["a-value"]
    return out


_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.*),\s*)?(\w+)\s*\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^\s*query_result\((.*)\)\s*$", re.S)


def variable_expr(v: dict[str, Any]) -> tuple[str, str | None, str]:
    """(function, PromQL inside it or None, label) of a query variable."""
    q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
    if m := _LABEL_VALUES.match(q):
        return "label_values", m.group(1), m.group(2)
    if m := _QUERY_RESULT.match(q):
        return "query_result", m.group(1), ""
    raise AssertionError(f"variable {v['name']}: {q!r} is neither label_values(...) nor query_result(...)")


# ------------------------------------------------------------------------------ the files
def test_the_six_dashboards_are_there_with_stable_uids() -> None:
    assert {p.name: load(p)["uid"] for p in FILES} == UIDS
    assert len(set(UIDS.values())) == len(UIDS)
    assert len({load(p)["title"] for p in FILES}) == len(FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_grafana_model(path: Path) -> None:
    d = load(path)
    assert d["schemaVersion"] == 39
    assert isinstance(d["title"], str) and d["title"]
    assert re.fullmatch(r"[a-z0-9-]{1,40}", d["uid"]), d["uid"]
    assert d["time"]["from"].startswith("now-") and d["time"]["to"] == "now"
    assert "kubesight" in d["tags"]
    ids = [p["id"] for p in all_panels(d)]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    titles = [p["title"] for p in all_panels(d) if p["type"] != "row"]
    assert len(titles) == len(set(titles)), "panel titles repeat (they name panels in links and tests)"
    for p in all_panels(d):
        where = f"{path.name}: panel {p['id']} {p.get('title')!r}"
        assert p["type"] in PANEL_TYPES, where
        g = p["gridPos"]
        assert all(isinstance(g[k], int) for k in "xywh"), where
        assert g["x"] >= 0 and g["y"] >= 0 and g["w"] >= 1 and g["h"] >= 1, where
        assert g["x"] + g["w"] <= 24, f"{where}: wider than 24 columns"
        if p["type"] == "row":
            assert (g["x"], g["w"], g["h"]) == (0, 24, 1), where
            assert p["panels"] == [] or p["collapsed"], where
            continue
        assert p["title"], where
        if p["type"] == "text":
            continue
        unit = p["fieldConfig"]["defaults"]["unit"]
        assert unit in UNITS, f"{where}: unit {unit!r}"
        for o in p["fieldConfig"]["overrides"]:
            for prop in o["properties"]:
                if prop["id"] == "unit":
                    assert prop["value"] in UNITS, f"{where}: unit {prop['value']!r}"
        assert p["datasource"]["type"] == "prometheus", where
        targets = p["targets"]
        assert targets, f"{where}: no queries"
        refs = [tg["refId"] for tg in targets]
        assert len(refs) == len(set(refs)), f"{where}: refIds repeat"
        for tg in targets:
            assert tg["expr"].strip(), where
            assert isinstance(tg["legendFormat"], str), where
            assert tg["instant"] != tg["range"], f"{where}: {tg['refId']} is both or neither instant and range"
            if p["type"] == "table":
                assert tg["format"] == "table" and tg["instant"], f"{where}: tables read instant tables"
            if p["type"] == "timeseries":
                assert tg["range"], f"{where}: a time series needs range queries"
        if p["type"] == "timeseries":
            assert "calcs" in p["options"]["legend"], where
        if p["type"] in ("gauge", "bargauge") or (p["type"] == "stat" and unit == "percentunit"):
            steps = p["fieldConfig"]["defaults"]["thresholds"]["steps"]
            assert steps[0]["value"] is None and len(steps) >= 2, f"{where}: thresholds"


def _overlaps(panels: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(panels):
        ga = a["gridPos"]
        for b in panels[i + 1:]:
            gb = b["gridPos"]
            if (ga["x"] < gb["x"] + gb["w"] and gb["x"] < ga["x"] + ga["w"]
                    and ga["y"] < gb["y"] + gb["h"] and gb["y"] < ga["y"] + ga["h"]):
                out.append((a.get("title", ""), b.get("title", "")))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_layout_has_no_overlaps_and_rows_come_in_order(path: Path) -> None:
    d = load(path)
    assert _overlaps(d["panels"]) == []
    for row in (p for p in d["panels"] if p["type"] == "row" and p["panels"]):
        assert _overlaps(row["panels"]) == []
    ys = [p["gridPos"]["y"] for p in d["panels"]]
    assert ys == sorted(ys), "panels are listed top to bottom, as Grafana saves them"
    # Every panel below a row belongs to it: nothing sits above the first row.
    first_row = next((p for p in d["panels"] if p["type"] == "row"), None)
    if first_row is not None:
        assert first_row is d["panels"][0]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_query_parses_as_promql(path: Path) -> None:
    d = load(path)
    defs = variables(d)
    values = sample_values(defs)
    for p in all_panels(d):
        for tg in p.get("targets", []):
            expr = substitute(tg["expr"], defs, values)
            try:
                parse(expr)
            except PromQLError as exc:
                raise AssertionError(f"{path.name}: {p['title']!r} {tg['refId']}: {exc}\n{expr}") from exc
    for v in defs.values():
        if v["type"] != "query":
            continue
        _, inner, _ = variable_expr(v)
        if inner is not None:
            expr = substitute(inner, defs, values)
            try:
                parse(expr)
            except PromQLError as exc:
                raise AssertionError(f"{path.name}: variable {v['name']}: {exc}\n{expr}") from exc


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_variables_are_well_formed_and_used(path: Path) -> None:
    d = load(path)
    defs = variables(d)
    text = json.dumps([p for p in all_panels(d)]) + json.dumps(d["templating"])
    for name, v in defs.items():
        assert v["type"] in ("query", "custom", "interval"), name
        assert re.search(rf"\$\{{?{name}\b", text.replace(f'"name": "{name}"', "")), f"${name} is never used"
        if v["type"] == "query":
            variable_expr(v)
            assert v["datasource"]["type"] == "prometheus"
            assert v["refresh"] in (1, 2), f"{name}: options are loaded when the dashboard opens"
        else:
            options = [o["value"] for o in v["options"]]
            assert options == v["query"].split(","), name
            assert v["current"]["value"] in options, name
    # Variables only refer to those defined before them (Grafana resolves them in order).
    seen: set[str] = set()
    for v in d["templating"]["list"]:
        q = json.dumps(v.get("query"))
        for m in VAR_REF.finditer(q):
            ref = m.group(1) or m.group(2) or m.group(3)
            assert ref in seen or ref in GLOBALS, f"{v['name']} uses ${ref} before it is defined"
        seen.add(v["name"])
    for p in all_panels(d):
        if p.get("repeat"):
            var = defs[p["repeat"]]
            assert var.get("multi") or var.get("includeAll"), f"{p['title']}: repeat by a single-value variable"


def test_the_set_uses_every_kind_of_variable_and_a_repeat() -> None:
    kinds: set[str] = set()
    repeats = []
    everything = "".join(path.read_text() for path in FILES)
    for builtin in ("$__rate_interval", "$__interval]", "$__range]"):
        assert builtin in everything, builtin
    for path in FILES:
        d = load(path)
        for v in d["templating"]["list"]:
            kinds.add(v["type"] if v["type"] != "query" else variable_expr(v)[0])
        repeats += [p["title"] for p in all_panels(d) if p.get("repeat")]
        text = json.dumps(d)
        if path.name in ("node.json", "kubesight.json"):
            assert "$__rate_interval" in text
    assert kinds == {"label_values", "query_result", "custom", "interval"}
    assert repeats == ["Latency: $handler"]


def test_node_is_a_home_page_sized_dashboard() -> None:
    d = load(BUILTIN / "node.json")
    panels = [p for p in all_panels(d) if p["type"] != "row"]
    assert 12 <= len(panels) <= 16
    assert [v["name"] for v in d["templating"]["list"]] == ["job", "instance"]
    assert variables(d)["job"]["query"] == "label_values(node_uname_info, job)"
    assert variables(d)["instance"]["query"] == 'label_values(node_uname_info{job="$job"}, instance)'
    # Everything fits on the 24 columns of a page without a horizontal hole at the right.
    for y in {p["gridPos"]["y"] for p in panels}:
        line = [p for p in panels if p["gridPos"]["y"] == y]
        assert sum(p["gridPos"]["w"] for p in line) == 24, [p["title"] for p in line]


def test_builtins_normalize_with_every_panel_supported() -> None:
    """kubesight's own normalizer renders every built-in panel: nothing marked unsupported,
    no warnings (the tables' merge and organize transformations included)."""
    for path in FILES:
        dash = normalize(load(path), source="builtin")
        assert dash["warnings"] == [], (path.name, dash["warnings"])
        rendered = [p for row in dash["rows"] for p in row["panels"]]
        for p in rendered:
            assert p["supported"] and p["unsupported"] == [], (path.name, p["title"], p["unsupported"])
        want = [p["title"] for p in all_panels(load(path)) if p["type"] != "row"]
        assert [p["title"] for p in rendered] == want, path.name


# ------------------------------------------------------------------------- on a real server
@dataclass
class Live:
    url: str
    resolved: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def values(self, d: dict[str, Any]) -> dict[str, list[str]]:
        """The dashboard's variable values, resolved once per server."""
        if d["uid"] not in self.resolved:
            self.resolved[d["uid"]] = resolve_variables(self.url, d)
        return self.resolved[d["uid"]]


def query(url: str, expr: str, at: float | None = None) -> list[Any]:
    params: dict[str, Any] = {"query": expr}
    if at is not None:
        params["time"] = at
    r = httpx.get(f"{url}/api/v1/query", params=params, timeout=30)
    assert r.status_code == 200, f"{expr}: {r.text}"
    data = r.json()["data"]
    if data["resultType"] in ("scalar", "string"):
        return [data["result"]]
    result: list[Any] = data["result"]
    return result


def eventually(what: str, fn: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def resolve_variables(url: str, d: dict[str, Any]) -> dict[str, list[str]]:
    """Variable values as Grafana would pick them when the dashboard opens: custom and interval
    at their current value, query ones from the label values API (or a query for
    query_result), the first option unless the variable defaults to All."""
    defs = variables(d)
    values: dict[str, list[str]] = {}
    for name, v in defs.items():
        if v["type"] != "query":
            values[name] = [str(v["current"]["value"])]
            continue
        fn, inner, label = variable_expr(v)
        if fn == "label_values":
            params: dict[str, Any] = {"start": time.time() - 3600}
            if inner:
                params["match[]"] = substitute(inner, defs, values)
            r = httpx.get(f"{url}/api/v1/label/{label}/values", params=params, timeout=30)
            assert r.status_code == 200, r.text
            options = list(r.json()["data"])
        else:
            assert inner is not None
            options = []
            for s in query(url, substitute(inner, defs, values)):
                m = s["metric"]
                labels = ",".join(f'{k}="{val}"' for k, val in m.items() if k != "__name__")
                options.append(f'{m.get("__name__", "")}{{{labels}}} {s["value"][1]} {int(s["value"][0] * 1000)}')
        if v.get("regex"):
            rx = re.compile(v["regex"].strip("/"))
            picked = []
            for o in options:
                if mm := rx.search(o):
                    picked.append(mm.group(1) if mm.groups() else o)
            options = picked
        options = sorted(set(options)) if v.get("sort") else list(dict.fromkeys(options))
        assert options, f"variable {name}: no values ({v['query']})"
        values[name] = options if v.get("includeAll") else options[:1]
    return values


def expand_repeats(p: dict[str, Any], values: dict[str, list[str]]) -> Iterator[dict[str, list[str]]]:
    """The variable values each copy of a panel sees (one copy per value of its repeat)."""
    var = p.get("repeat")
    if not var:
        yield values
        return
    for one in values[var]:
        yield {**values, var: [one]}


@dataclass(frozen=True)
class Skip:
    """A panel query that may be empty on some machines: only when `unless` is empty too."""
    unless: str
    reason: str


def check_panel(live: Live, d: dict[str, Any], title: str,
                skips: dict[tuple[str, str], Skip], may_be_empty: dict[tuple[str, str], str]) -> None:
    url = live.url
    defs = variables(d)
    values = live.values(d)
    (p,) = [p for p in all_panels(d) if p.get("title") == title]
    empty = []
    for vals in expand_repeats(p, values):
        for tg in p["targets"]:
            expr = substitute(tg["expr"], defs, vals)
            parse(expr)
            if query(url, expr):
                continue
            key = (title, tg["refId"])
            if key in may_be_empty:
                continue
            if key in skips and not query(url, skips[key].unless):
                pytest.skip(skips[key].reason)
            empty.append(f"{tg['refId']} ({tg['legendFormat']}): {expr}")
    assert not empty, f"{d['uid']}: {title!r} returned no data for:\n" + "\n".join(empty)


def panel_titles(name: str) -> list[str]:
    return [p["title"] for p in all_panels(load(BUILTIN / name)) if p["type"] not in ("row", "text")]


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A default server (host and container collectors, default rules, self-scrape) with 1s
    intervals, a webhook receiver for the always-firing Watchdog alert, and one Pushgateway
    push, so the notification and ingest panels have something to show."""
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    tmp = tmp_path_factory.mktemp("dashboards")
    cfg = tmp / "kubesight.yml"
    port = free_port()
    cfg.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "collectors: {interval: 1s}\n"
        # The self-scrape a default server sets up (every 15s), every second instead.
        f"scrape_configs: [{{job_name: kubesight, static_configs: [{{targets: ['127.0.0.1:{port}']}}]}}]\n"
        "alertmanager:\n"
        "  route: {receiver: hook, group_wait: 0s, group_interval: 1s}\n"
        f"  receivers: [{{name: hook, webhook_configs: [{{url: 'http://127.0.0.1:{hook.server_address[1]}/'}}]}}]\n")
    s = start_server(tmp / "data", "--config", str(cfg), port=port)
    try:
        r = httpx.post(f"{s.url}/metrics/job/batch", content=b"batch_last_success 1\n", timeout=30)
        assert r.status_code == 200, r.text
        # Three self-scrapes and host collections, then the rules' rates over them; queries of
        # every shape so that the query handlers are in the latency histogram.
        eventually("three self-scrapes and host collections", lambda: query(
            s.url, 'count_over_time(up{job="kubesight"}[1m]) >= 3 and on () '
                   'count_over_time(node_load1{job="node"}[1m]) >= 3'))
        eventually("the node recording rules", lambda: query(s.url, "instance:node_cpu_utilisation:rate5m"))
        eventually("a notification to the webhook", lambda: query(s.url, "alertmanager_notifications_total"))
        httpx.get(f"{s.url}/api/v1/query_range",
                  params={"query": "up", "start": time.time() - 60, "end": time.time(), "step": 5}, timeout=30)
        eventually("the queries in the self-scrape", lambda: query(
            s.url, 'kubesight_http_request_duration_seconds_count{handler="/api/v1/query_range"}'))
        eventually("a query rate", lambda: query(
            s.url, 'rate(kubesight_http_request_duration_seconds_count{handler="/api/v1/query_range"}[1m])'))
        yield Live(s.url)
    finally:
        s.stop()
        hook.shutdown()


NODE_SKIPS = {
    ("Disk I/O", "A"): Skip("node_disk_read_bytes_total", "no block devices in /proc/diskstats here"),
    ("Disk I/O", "B"): Skip("node_disk_written_bytes_total", "no block devices in /proc/diskstats here"),
    ("Disk busy", "A"): Skip("node_disk_io_time_seconds_total", "no block devices in /proc/diskstats here"),
    ("Root filesystem used", "A"): Skip(
        'node_filesystem_size_bytes{mountpoint="/"}',
        "/ is not a reported filesystem here (an overlay root is excluded, as node_exporter does)"),
}


@pytest.mark.slow
@pytest.mark.parametrize("title", panel_titles("node.json"))
def test_node_panel_has_data_on_a_default_server(default_server: Live, title: str) -> None:
    check_panel(default_server, load(BUILTIN / "node.json"), title, NODE_SKIPS, {})


@pytest.mark.slow
@pytest.mark.parametrize("title", panel_titles("kubesight.json"))
def test_kubesight_panel_has_data_on_a_default_server(default_server: Live, title: str) -> None:
    check_panel(default_server, load(BUILTIN / "kubesight.json"), title, {}, {})


@pytest.mark.slow
def test_the_latency_panel_repeats_once_per_busy_handler(default_server: Live) -> None:
    d = load(BUILTIN / "kubesight.json")
    handlers = resolve_variables(default_server.url, d)["handler"]
    assert "/metrics" in handlers and "/api/v1/query_range" in handlers, handlers
    assert len(handlers) <= 6  # the variable keeps the six busiest


# ----------------------------------------------------------------- Kubernetes, on the fake API
NODE_A = {"metadata": {"name": "node-a", "uid": "node-a-uid", "labels": {"kubernetes.io/hostname": "node-a"}},
          "spec": {}, "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                                 "allocatable": {"cpu": "3800m", "memory": "7Gi", "pods": "110"},
                                 "conditions": [{"type": "Ready", "status": "True"}],
                                 "nodeInfo": {"kubeletVersion": "v1.30.0"}}}


def _k8s_objects() -> list[tuple[str, dict[str, Any]]]:
    """The two pods of the fixture cgroup tree, on node-a, with requests and limits and
    owners (a Deployment's ReplicaSet and a StatefulSet)."""
    from tests.collect.containers import cgtree

    web, db = copy.deepcopy(cgtree.PODS)
    started = {"running": {"startedAt": "2024-05-01T10:00:05Z"}}
    web["metadata"].update(creationTimestamp="2024-05-01T10:00:00Z", ownerReferences=[
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d", "uid": "rs-1", "controller": True}])
    web["spec"]["nodeName"] = "node-a"
    web["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "100m", "memory": "64Mi"},
                                                 "limits": {"cpu": "1", "memory": "256Mi"}}
    web["spec"]["containers"][1]["resources"] = {"requests": {"cpu": "10m", "memory": "16Mi"},
                                                 "limits": {"cpu": "500m", "memory": "32Mi"}}
    db["metadata"].update(creationTimestamp="2024-05-01T10:00:00Z", ownerReferences=[
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "sts-1", "controller": True}])
    db["spec"]["nodeName"] = "node-a"
    db["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "1", "memory": "1Gi"},
                                                "limits": {"cpu": "1", "memory": "1Gi"}}
    for pod, restarts in ((web, 2), (db, 0)):
        pod["status"].update(phase="Running", hostIP="10.0.0.1", podIP="10.1.0.2",
                             conditions=[{"type": "Ready", "status": "True"}])
        for cs in pod["status"]["containerStatuses"]:
            cs.update(ready=True, restartCount=restarts, state=started)
    rs = {"metadata": {"name": "web-7d", "namespace": "shop", "uid": "rs-1",
                       "creationTimestamp": "2024-05-01T10:00:00Z",
                       "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                            "uid": "dep-1", "controller": True}]},
          "spec": {"replicas": 1}, "status": {"replicas": 1, "readyReplicas": 1}}
    return [("nodes", NODE_A), ("replicasets", rs), ("pods", web), ("pods", db)]


@pytest.fixture(scope="module")
def kube_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A server watching the fake Kubernetes API (object state) whose container collector reads
    a fixture cgroup v2 tree holding the containers of the API's pods (NODE_NAME=node-a)."""
    from tests.collect.containers import cgtree
    from tests.integration.test_kubernetes_default_job import fake_kube

    tmp = tmp_path_factory.mktemp("k8s-dashboards")
    cg, proc, sys_ = cgtree.v2_host(tmp), cgtree.proc_tree(tmp), cgtree.sys_tree(tmp)
    cfg = tmp / "kubesight.yml"
    cfg.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "collectors:\n  interval: 1s\n"
        f"  containers: {{cgroupfs: '{cg}', procfs: '{proc}', sysfs: '{sys_}'}}\n")
    with fake_kube() as (kube, loop), pytest.MonkeyPatch.context() as mp:
        async def add(res: str, obj: dict[str, Any]) -> None:
            kube.add(res, obj)
        for res, obj in _k8s_objects():
            asyncio.run_coroutine_threadsafe(add(res, obj), loop).result(10)
        mp.setenv("NODE_NAME", "node-a")  # the container collector labels this node's pods
        s = start_server(tmp / "data", "--config", str(cfg), "--kubernetes.api-server", kube.url)
        try:
            for rule in ("node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate",
                         "node_namespace_pod_container:container_memory_working_set_bytes",
                         "namespace_cpu:kube_pod_container_resource_requests:sum",
                         "namespace_workload_pod:kube_pod_owner:relabel",
                         "instance:node_cpu_utilisation:rate5m"):
                eventually(rule, lambda r=rule: query(s.url, r))
            eventually("two collections of the containers", lambda: query(
                s.url, 'count_over_time(container_network_receive_bytes_total{pod!=""}[1m]) >= 3'))
            yield Live(s.url)
        finally:
            s.stop()


# Counters of the fixture cgroup tree do not move (its files are written once): rates are 0 and
# throttled/total CFS periods 0/0, which is NaN, still a sample. The pod dashboard opens on the
# first pod, db-0, whose container did no block I/O: cgroup v2's io.stat lists only devices a
# cgroup used, so it has no container_fs_* series, as on a real node (the web pod's are checked
# in test_kubernetes_tables_join_usage_requests_and_limits).
_NO_IO = "db-0 did no block I/O: io.stat is empty until a container reads or writes a disk"
K8S_SKIPS = {
    ("Disk I/O by container", "A"): Skip('container_fs_reads_bytes_total{pod="db-0"}', _NO_IO),
    ("Disk I/O by container", "B"): Skip('container_fs_writes_bytes_total{pod="db-0"}', _NO_IO),
}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "title"), [
    (name, title) for name in ("kubernetes-cluster.json", "kubernetes-namespace.json",
                               "kubernetes-pod.json", "kubernetes-node.json")
    for title in panel_titles(name)])
def test_kubernetes_panel_has_data_on_the_fake_cluster(kube_server: Live, name: str, title: str) -> None:
    check_panel(kube_server, load(BUILTIN / name), title, K8S_SKIPS if name == "kubernetes-pod.json" else {}, {})


@pytest.mark.slow
def test_kubernetes_tables_join_usage_requests_and_limits(kube_server: Live) -> None:
    """The quota table of a namespace, computed as the dashboard asks: the web pod's CPU
    requests and limits are its two containers' (100m + 10m, 1 + 0.5 cores)."""
    d = load(BUILTIN / "kubernetes-namespace.json")
    (p,) = [p for p in all_panels(d) if p["title"] == "CPU quota by pod"]
    defs = variables(d)
    got = {}
    for tg in p["targets"]:
        rows = query(kube_server.url, substitute(tg["expr"], defs, {"namespace": ["shop"]}))
        got[tg["refId"]] = {r["metric"]["pod"]: float(r["value"][1]) for r in rows}
    assert got["B"] == {"web-7d9c": pytest.approx(0.11)}
    assert got["D"] == {"web-7d9c": pytest.approx(1.5)}
    assert set(got["A"]) == {"web-7d9c"}
    pod = load(BUILTIN / "kubernetes-pod.json")
    (io,) = [p for p in all_panels(pod) if p["title"] == "Disk I/O by container"]
    web = {"namespace": ["shop"], "pod": ["web-7d9c"]}
    for tg in io["targets"]:
        rows = query(kube_server.url, substitute(tg["expr"], variables(pod), web))
        assert {r["metric"]["container"] for r in rows} == {"nginx"}, tg["expr"]
    ns = [r["metric"]["namespace"] for r in query(kube_server.url, "count by (namespace) (kube_pod_info)")]
    assert sorted(ns) == ["data", "shop"]


# ------------------------------------------------------------- the Node dashboard on Prometheus
@pytest.mark.peer
@pytest.mark.slow
def test_node_dashboard_works_on_prometheus_scraping_node_exporter(
        default_server: Live, tmp_path: Path) -> None:
    """The Node dashboard is a node_exporter dashboard: on Debian's Prometheus scraping Debian's
    node_exporter, with kubesight's default node rules loaded as a rule file, every panel has
    data too, and the machine's CPU count and memory read the same as on kubesight."""
    from tests.peers import node_exporter, prometheus

    rules = tmp_path / "node.yaml"
    rules.write_text((Path(kubesight.__file__).parent / "rules" / "defaults" / "node.yaml").read_text())
    d = load(BUILTIN / "node.json")
    with node_exporter(tmp_path / "ne") as target, prometheus(tmp_path / "prom", (
            # 5s: Prometheus caps the scrape timeout at the interval, and a busy machine can
            # take more than a second to answer
            "global: {scrape_interval: 5s, scrape_timeout: 5s, evaluation_interval: 1s}\n"
            f"rule_files: ['{rules}']\n"
            f"scrape_configs: [{{job_name: node, static_configs: [{{targets: ['{target}']}}]}}]\n")) as url:
        eventually("three node_exporter scrapes and the rules", lambda: query(
            url, 'count_over_time(node_load1[1m]) >= 3 and on () instance:node_cpu_utilisation:rate5m'),
            timeout=120)
        prom = Live(url)
        assert prom.values(d) == {"job": ["node"], "instance": [target]}
        for p in all_panels(d):
            if p["type"] != "row":
                check_panel(prom, d, p["title"], NODE_SKIPS, {})
        for title in ("CPUs", "Memory total"):
            (panel,) = [p for p in all_panels(d) if p["title"] == title]
            expr = panel["targets"][0]["expr"]
            ours = query(default_server.url, substitute(expr, variables(d), default_server.values(d)))
            theirs = query(url, substitute(expr, variables(d), prom.values(d)))
            assert [s["value"][1] for s in ours] == [s["value"][1] for s in theirs], title
