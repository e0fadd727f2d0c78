"""Dashboards as a person uses them in chromium: the home (Node) dashboard, variables, the time range,
the other built-in dashboards, importing Grafana dashboards through the UI, bad input, narrow screens."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.conftest import Server
from tests.web.browser.conftest import wait_for

FIXTURES = Path(__file__).resolve().parents[1] / "dashboards" / "fixtures"
BUILTIN = ["kubesight-self", "kubesight-k8s-cluster", "kubesight-k8s-namespace", "kubesight-k8s-node", "kubesight-k8s-pod"]
# What the browser prints for a 4xx answer the page then shows in place (a bad query, a refused import).
RESOURCE_4XX = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")

PANELS = """() => [...document.querySelectorAll('.ks-dpanel')].map((e) => ({
  title: e.querySelector('.ks-dp-title').textContent, state: e.dataset.state, type: e.dataset.type,
  msg: e.querySelector('.ks-dp-msg').textContent,
  legend: [...e.querySelectorAll('.ks-legend-item')].map((x) => x.dataset.name),
  stats: [...e.querySelectorAll('.ks-stat-value, .ks-gauge-value, .ks-bar-value')].map((x) => x.textContent),
  rows: e.querySelectorAll('tbody tr').length,
  text: e.querySelector('.ks-dp-body').innerText,
}))"""


def settle(page: Any) -> dict[str, dict[str, Any]]:
    """Scroll every panel into view (they load lazily), wait until each has finished; the panels by title."""
    page.wait_for_function("document.body.dataset.dashboardState === 'done'")
    panels = page.locator(".ks-dpanel")
    for i in range(panels.count()):
        el = panels.nth(i)
        el.scroll_into_view_if_needed()
        page.wait_for_function("(e) => !['idle', 'loading'].includes(e.dataset.state)", arg=el.element_handle())
    page.wait_for_function("document.body.dataset.dashboardState === 'done'")
    page.evaluate("window.scrollTo(0, 0)")
    out: dict[str, dict[str, Any]] = {}
    for p in page.evaluate(PANELS):
        key = p["title"]
        while key in out:
            key += "'"
        out[key] = p
    return out


def truncated_stats(page: Any) -> list[str]:
    """Stat values cut off by their box (the text is fitted to it)."""
    return list(page.eval_on_selector_all(".ks-stat-value", "els => els.filter(e => e.scrollWidth > e.clientWidth + 1)"
                                          ".map(e => e.textContent)"))


def errors(panels: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {t: p["msg"] for t, p in panels.items() if p["state"] == "error"}


def test_home_is_the_node_dashboard(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    page.goto(f"{ui_server.url}/")
    panels = settle(page)
    assert page.locator(".ks-dash-title").inner_text() == "Node"
    assert page.title() == "Node · kubesight"
    # the variable bar: job and instance picked from the collector's series, and written into the URL
    job = page.locator(".ks-var[data-var=job] select")
    instance = page.locator(".ks-var[data-var=instance] select")
    assert job.input_value() == "node"
    assert instance.input_value()
    q = parse_qs(urlparse(page.url).query)
    assert q["var-job"] == ["node"] and q["var-instance"] == [instance.input_value()]
    assert q["refresh"] == ["30s"]  # the dashboard's own refresh
    assert not errors(panels)
    assert all(p["state"] in ("done", "nodata") for p in panels.values()), panels
    nodata = sorted(t for t, p in panels.items() if p["state"] == "nodata")
    print("Node dashboard panels without data here:", nodata)
    for title in ("CPU utilisation by mode", "Memory", "Network traffic", "Load average", "Disk I/O"):
        assert panels[title]["state"] == "done" and panels[title]["legend"], (title, panels[title])
    assert any("receive" in n for n in panels["Network traffic"]["legend"])
    assert set(panels["CPU utilisation by mode"]["legend"]) & {"user", "system"}
    uptime = panels["Uptime"]["stats"]
    assert len(uptime) == 1 and uptime[0] != "No data" and re.search(r"\d", uptime[0]), uptime
    assert panels["CPUs"]["stats"][0].isdigit()
    assert re.fullmatch(r"[\d.]+ [KMGT]iB", panels["Memory total"]["stats"][0]), panels["Memory total"]
    assert panels["CPU busy"]["stats"][0].endswith("%")
    assert panels["Filesystem space used"]["stats"], panels["Filesystem space used"]
    # rows have titles and every panel sits inside the page's width
    heads = [" ".join(t.split()) for t in page.locator(".ks-drow-head").all_inner_texts()]
    assert heads[:2] == ["▾ Overview (6 panels)", "▾ CPU (2 panels)"], heads
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert not truncated_stats(page)
    shot(page, "dashboard-node")
    page.click("#ks-theme")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.wait_for_timeout(200)  # graphs redraw with the theme's colours
    shot(page, "dashboard-node-dark")


def test_time_range_change_requeries_every_panel(ui_server: Server, page: Any) -> None:
    page.goto(f"{ui_server.url}/")
    settle(page)
    starts: list[float] = []

    def on_request(req: Any) -> None:
        if req.url.endswith("/api/v1/query_range") and req.post_data:
            starts.append(float(parse_qs(req.post_data)["start"][0]))

    page.on("request", on_request)
    page.click(".ks-range-btn")
    page.click(".ks-quick a[data-from='now-15m']")
    page.wait_for_function("location.search.includes('from=now-15m')")
    panels = settle(page)
    q = parse_qs(urlparse(page.url).query)
    assert q["from"] == ["now-15m"] and q["to"] == ["now"]
    # every time series panel asked for the new range (start about 15 minutes ago, aligned to its step)
    graphs = [t for t, p in panels.items() if p["type"] == "timeseries"]
    assert len(starts) >= len(graphs) > 0
    now = time.time()
    assert all(now - 15 * 60 - 120 <= s <= now - 15 * 60 + 60 for s in starts), starts
    assert not errors(panels)
    assert panels["CPU utilisation by mode"]["state"] == "done" and panels["CPU utilisation by mode"]["legend"]
    # the picker shows the new range, and a reload keeps it (the URL is the state)
    assert "15 minutes" in page.locator(".ks-range-btn").inner_text()
    page.reload()
    settle(page)
    assert "15 minutes" in page.locator(".ks-range-btn").inner_text()


def test_variables_follow_the_url_and_requery(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    # the handler variable lists the handlers the self-scrape has seen requests for: at least two
    wait_for(ui_server.url, 'count(sum by (handler) (rate(kubesight_http_request_duration_seconds_count{job="kubesight"}[30m])))'
                            ' >= 2')
    page.goto(f"{ui_server.url}/d/kubesight-self?var-quantile=0.5&from=now-30m&to=now")
    panels = settle(page)
    assert page.locator(".ks-dash-title").inner_text() == "kubesight"
    assert page.locator(".ks-var[data-var=quantile] select").input_value() == "0.5"
    assert "Latency by handler (0.5 quantile)" in panels
    exprs: list[str] = []
    page.on("request", lambda r: exprs.append(parse_qs(r.post_data or "").get("query", [""])[0])
            if r.url.endswith("/api/v1/query_range") else None)
    page.select_option(".ks-var[data-var=quantile] select", "0.9")
    page.wait_for_function("location.search.includes('var-quantile=0.9')")
    panels = settle(page)
    assert "Latency by handler (0.9 quantile)" in panels
    assert any(e.startswith("histogram_quantile(0.9,") for e in exprs), exprs
    assert not errors(panels), errors(panels)
    # handler is a multi-value query_result variable with All: one repeated latency panel per handler
    repeated = [t for t in panels if t.startswith("Latency: ")]
    assert len(repeated) >= 2, list(panels)
    assert all("$handler" not in t for t in repeated)
    assert page.locator(".ks-var[data-var=handler] .ks-var-multi").inner_text() == "All"
    # pick two handlers through the checkboxes: the URL carries both, two panels remain
    page.click(".ks-var[data-var=handler] .ks-var-multi")
    values = page.eval_on_selector_all(".ks-var[data-var=handler] .ks-var-opt", "els => els.map(e => e.dataset.value)")
    picks = [v for v in values if v != "$__all"][:2]
    for v in picks:
        page.check(f".ks-var[data-var=handler] .ks-var-opt[data-value='{v}'] input")
    page.click(".ks-var[data-var=handler] .ks-primary")
    page.wait_for_function("new URLSearchParams(location.search).getAll('var-handler').length === 2")
    panels = settle(page)
    assert parse_qs(urlparse(page.url).query)["var-handler"] == picks
    assert sorted(t for t in panels if t.startswith("Latency: ")) == sorted(f"Latency: {v}" for v in picks)
    shot(page, "dashboard-kubesight")


@pytest.mark.parametrize("uid", BUILTIN)
def test_builtin_dashboards_render(ui_server: Server, page: Any, uid: str) -> None:
    page.goto(f"{ui_server.url}/d/{uid}")
    panels = settle(page)
    assert panels, uid
    assert not errors(panels), errors(panels)
    assert not page.locator(".ks-dash-warning").count()
    for title, p in panels.items():
        assert p["state"] in ("done", "nodata"), (title, p)
        if p["state"] == "nodata":
            assert p["msg"] == "No data", (title, p)
    if uid.startswith("kubesight-k8s"):
        # no Kubernetes here: the cluster's panels say so instead of failing
        assert sum(p["state"] == "nodata" for p in panels.values()) >= len(panels) // 2


@pytest.fixture
def cleanup(ui_server: Server) -> Iterator[list[str]]:
    uids: list[str] = []
    yield uids
    for uid in uids:
        httpx.delete(f"{ui_server.url}/api/dashboards/uid/{uid}", timeout=10)


def allow_4xx(request: pytest.FixtureRequest) -> None:
    """This test expects refused requests (shown on the page): the console check runs at its end instead."""
    request.node.allow_console_errors = True


def only_4xx(console: list[str]) -> None:
    other = [c for c in console if not RESOURCE_4XX.search(c)]
    assert not other, "the page logged errors:\n" + "\n".join(other)


def test_import_grafana_dashboards_through_the_ui(ui_server: Server, page: Any, console: list[str],
                                                  request: pytest.FixtureRequest, cleanup: list[str],
                                                  shot: Callable[[Any, str], Path]) -> None:
    allow_4xx(request)
    cleanup.extend(["node-exporter-style", "modern-host"])
    for uid in cleanup:
        httpx.delete(f"{ui_server.url}/api/dashboards/uid/{uid}", timeout=10)
    page.goto(f"{ui_server.url}/dashboards")
    page.wait_for_selector(".ks-dl-table")
    # grafana.com style: old rows layout, __inputs, graph/singlestat panels and a piechart
    page.set_input_files(".ks-dl-file", str(FIXTURES / "node-exporter-style.json"))
    page.wait_for_selector(".ks-dl-summary")
    summary = page.locator(".ks-dl-summary").inner_text()
    assert "Node Exporter Style (kubesight fixture)" in summary
    assert re.search(r"\d+ panels in \d+ rows", summary) and "1 panel not supported" in summary
    assert "piechart" in page.locator(".ks-dl-problems").inner_text()
    page.click(".ks-dl-import .ks-primary")
    page.wait_for_selector(".ks-dl-saved a")
    assert page.locator(".ks-dl-table tr[data-uid=node-exporter-style]").count() == 1
    page.click(".ks-dl-saved a")
    page.wait_for_url("**/d/node-exporter-style/**")
    panels = settle(page)
    assert page.locator(".ks-dash-title").inner_text() == "Node Exporter Style (kubesight fixture)"
    assert {"CPU Busy", "RAM Used", "Uptime", "CPU Basic", "Memory Basic", "Network Traffic Basic",
            "Memory Distribution", "About this host"} <= set(panels)
    assert not errors(panels), errors(panels)
    for title in ("CPU Basic", "Memory Basic", "Network Traffic Basic"):  # graph panels, converted
        assert panels[title]["type"] == "timeseries" and panels[title]["state"] == "done" and panels[title]["legend"], title
    assert "Busy User" in panels["CPU Basic"]["legend"]
    for title in ("Uptime", "CPU Busy", "RAM Used"):  # singlestat panels, converted
        assert panels[title]["state"] == "done" and panels[title]["stats"][0] != "No data", (title, panels[title])
    pie = panels["Memory Distribution"]
    assert pie["state"] == "unsupported" and "piechart" in pie["text"] and "not supported" in pie["text"], pie
    assert "distributed" in panels["About this host"]["text"]  # markdown, with $node interpolated
    assert "Reboots" in page.locator(".ks-dash-warning").inner_text()  # its annotation is not drawn: said so
    shot(page, "dashboard-imported")

    # the modern fixture, pasted: gridPos layout, repeat row, collapsed row, text in html mode
    page.goto(f"{ui_server.url}/dashboards")
    page.fill(".ks-dl-text", (FIXTURES / "modern-host.json").read_text())
    page.click("text=Preview")
    page.wait_for_selector(".ks-dl-summary")
    assert "Modern Host (kubesight fixture)" in page.locator(".ks-dl-summary").inner_text()
    page.click(".ks-dl-import .ks-primary")
    page.wait_for_selector(".ks-dl-saved a")
    page.goto(f"{ui_server.url}/d/modern-host")
    panels = settle(page)
    assert not errors(panels), errors(panels)
    assert {"CPU cores", "Memory used", "Filesystem used", "Notes", "Uptime by instance", "CPU by mode"} <= set(panels)
    assert panels["CPU by mode"]["legend"] and panels["CPU cores"]["stats"][0].isdigit()
    assert panels["Uptime by instance"]["rows"] >= 1
    assert any(t.startswith("Traffic ") and t != "Traffic $device" for t in panels)  # repeated per device
    # a collapsed row is not queried until opened
    load = page.locator(".ks-drow-head", has_text="Load")
    assert load.get_attribute("aria-expanded") == "false" and "Per-CPU busy" not in panels
    load.click()
    panels = settle(page)
    per_cpu = [p for t, p in panels.items() if t.startswith("Per-CPU busy")]  # repeated per instance
    assert per_cpu and all(p["state"] == "done" and p["legend"] for p in per_cpu), per_cpu

    assert not console, console  # both imports and their dashboards: not one console message so far
    # the same dashboard again: Grafana's API answers 412, the page asks before overwriting
    page.goto(f"{ui_server.url}/dashboards")
    page.fill(".ks-dl-text", (FIXTURES / "modern-host.json").read_text())
    page.click("text=Preview")
    page.wait_for_selector(".ks-dl-summary")
    page.click(".ks-dl-import .ks-primary")
    page.wait_for_selector(".ks-dl-overwrite")
    # Grafana's own 412 messages ("...changed by someone else" / "...already exists"), from the server
    assert re.search(r"changed by someone else|already exists", page.locator(".ks-dl-overwrite").inner_text())
    page.click(".ks-dl-overwrite >> text=Overwrite")
    page.wait_for_selector(".ks-dl-saved a")
    # imported dashboards can be deleted from the list; built-in ones cannot
    assert page.locator(".ks-dl-table tr[data-uid=kubesight-node] button").count() == 0
    page.click(".ks-dl-table tr[data-uid=modern-host] >> text=Delete")
    page.click(".ks-dl-table tr[data-uid=modern-host] .ks-danger >> text=Delete")
    page.wait_for_function("!document.querySelector('.ks-dl-table tr[data-uid=modern-host]')")
    assert httpx.get(f"{ui_server.url}/api/dashboards/uid/modern-host").status_code == 404
    shot(page, "dashboards-list")
    only_4xx(console)


def test_garbage_import_shows_the_error_beside_the_form(ui_server: Server, page: Any, console: list[str],
                                                        request: pytest.FixtureRequest) -> None:
    allow_4xx(request)
    page.goto(f"{ui_server.url}/dashboards")
    page.wait_for_selector(".ks-dl-table")
    page.set_input_files(".ks-dl-file", files=[{"name": "garbage.json", "mimeType": "application/json",
                                                "buffer": b"this is { not json"}])
    err = page.locator(".ks-dl-import-error .ks-error")
    err.wait_for()
    assert "not valid JSON" in err.inner_text()
    assert page.locator(".ks-dl-import .ks-primary").is_disabled()
    page.fill(".ks-dl-text", json.dumps({"title": "no panels here"}))
    page.click("text=Preview")
    page.wait_for_function("document.querySelector('.ks-dl-import-error').innerText.includes('panels')")
    assert "neither 'panels' nor 'rows'" in err.inner_text()
    page.fill(".ks-dl-text", "")
    page.click("text=Preview")
    assert "paste" in err.inner_text()
    only_4xx(console)


BAD_UID = "kubesight-test-bad"
BAD: dict[str, Any] = {
    "uid": BAD_UID, "title": "Bad input test",
    "annotations": {"list": [{"name": "deploys", "datasource": {"type": "loki", "uid": "x"}, "expr": "{app=\"x\"}"}]},
    "panels": [
        {"id": 1, "type": "timeseries", "title": "Good", "gridPos": {"x": 0, "y": 0, "w": 8, "h": 6},
         "targets": [{"refId": "A", "expr": "demo_temperature_celsius", "legendFormat": "{{pod}}"}]},
        {"id": 2, "type": "timeseries", "title": "Broken query", "gridPos": {"x": 8, "y": 0, "w": 8, "h": 6},
         "targets": [{"refId": "A", "expr": "rate(demo_requests_total[5m]"}]},
        {"id": 3, "type": "worldmap-panel", "title": "A plugin", "gridPos": {"x": 16, "y": 0, "w": 8, "h": 6}},
        {"id": 4, "type": "text", "title": "Markdown", "gridPos": {"x": 0, "y": 6, "w": 12, "h": 6},
         "options": {"mode": "markdown", "content": "# Hi\n<script>window.pwned = 1</script>\n"
                     "<img src=x onerror=\"window.pwned = 2\">\n[click](javascript:window.pwned=3)"}},
        {"id": 5, "type": "text", "title": "HTML", "gridPos": {"x": 12, "y": 6, "w": 12, "h": 6},
         "options": {"mode": "html", "content": "<b>bold</b><img src=x onerror=\"window.pwned = 4\">"}},
        {"id": 6, "type": "stat", "title": "Empty", "gridPos": {"x": 0, "y": 12, "w": 6, "h": 4},
         "targets": [{"refId": "A", "expr": "nothing_here_at_all", "instant": True}]},
        {"id": 7, "type": "stat", "title": "Mapped", "description": "temperature, mapped", "gridPos": {"x": 6, "y": 12, "w": 6, "h": 4},
         "fieldConfig": {"defaults": {"mappings": [{"type": "range", "options": {"from": 0, "to": 1000, "result": {"text": "warm"}}}]}},
         "options": {"reduceOptions": {"calcs": ["mean"]}, "graphMode": "area", "colorMode": "background"},
         "targets": [{"refId": "A", "expr": "max(demo_temperature_celsius)"}]},
    ],
}


def test_bad_panels_stay_in_their_box(ui_server: Server, page: Any, console: list[str],
                                      request: pytest.FixtureRequest, cleanup: list[str]) -> None:
    allow_4xx(request)
    cleanup.append(BAD_UID)
    r = httpx.post(f"{ui_server.url}/api/dashboards/db", json={"dashboard": BAD, "overwrite": True}, timeout=10)
    assert r.status_code == 200, r.text
    page.goto(f"{ui_server.url}/d/{BAD_UID}?from=now-1h&to=now")
    panels = settle(page)
    assert panels["Good"]["state"] == "done" and sorted(panels["Good"]["legend"]) == [f"web-{i}" for i in range(4)]
    broken = panels["Broken query"]
    assert broken["state"] == "error" and "unclosed left parenthesis" in broken["msg"], broken  # the server's message
    assert panels["A plugin"]["state"] == "unsupported" and "worldmap-panel" in panels["A plugin"]["text"]
    assert panels["Empty"]["state"] == "nodata" and panels["Empty"]["msg"] == "No data"
    assert panels["Mapped"]["stats"] == ["warm"]
    assert page.locator(".ks-dpanel[data-panel-id='7'] .ks-dp-info").get_attribute("title") == "temperature, mapped"
    # the text panels show the dashboard's HTML as text: nothing ran, no image, no script link
    assert page.evaluate("window.pwned") is None
    md = page.locator(".ks-dpanel[data-panel-id='4'] .ks-dp-text")
    assert md.locator("h1").inner_text() == "Hi"
    assert "<script>window.pwned = 1</script>" in md.inner_text()
    assert md.locator("script, img, a[href^='javascript' i]").count() == 0
    html = page.locator(".ks-dpanel[data-panel-id='5'] .ks-dp-text")
    assert html.locator("img, b").count() == 0 and "<img src=x" in html.inner_text()
    # the Explore link carries the panel's query
    href = page.locator(".ks-dpanel[data-panel-id='1'] .ks-dp-explore").get_attribute("href")
    assert href.startswith("/graph?") and parse_qs(urlparse(href).query)["g0.expr"] == ["demo_temperature_celsius"]
    assert parse_qs(urlparse(href).query)["from"] == ["now-1h"]  # the range stays relative in Explore
    page.click(".ks-dpanel[data-panel-id='1'] .ks-dp-explore", force=True)
    page.wait_for_url("**/graph?**")
    assert parse_qs(urlparse(page.url).query)["from"] == ["now-1h"]
    page.go_back()
    panels = settle(page)
    # the dashboard's warnings: shown once, dismissible
    note = page.locator(".ks-dash-warning")
    assert "deploys" in note.inner_text()
    note.locator(".ks-dash-dismiss").click()
    assert note.count() == 0
    only_4xx(console)


def test_unknown_dashboard_says_so(ui_server: Server, page: Any, console: list[str],
                                   request: pytest.FixtureRequest) -> None:
    allow_4xx(request)
    page.goto(f"{ui_server.url}/d/no-such-dashboard")
    page.wait_for_function("document.body.dataset.dashboardState === 'done'")
    assert "no-such-dashboard" in page.locator(".ks-error").inner_text()
    assert page.locator("a[href='/dashboards']").count() >= 1
    only_4xx(console)


def test_narrow_screen_stacks_panels(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{ui_server.url}/")
    panels = settle(page)
    assert not errors(panels)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    widths = page.eval_on_selector_all(".ks-dpanel", "els => els.map(e => Math.round(e.getBoundingClientRect().width))")
    grid = page.eval_on_selector(".ks-dgrid", "e => Math.round(e.getBoundingClientRect().width)")
    assert widths and all(abs(w - grid) <= 1 for w in widths), (widths, grid)
    lefts = page.eval_on_selector_all(".ks-dpanel", "els => els.map(e => Math.round(e.getBoundingClientRect().left))")
    assert len(set(lefts)) == 1
    assert not truncated_stats(page)
    # back to a wide window: the grid returns and the stat text is fitted to its new box
    page.set_viewport_size({"width": 1280, "height": 800})
    page.wait_for_function("document.querySelectorAll('.ks-dgrid')[0].getBoundingClientRect().width > 1000")
    page.wait_for_timeout(300)
    assert len(set(page.eval_on_selector_all(".ks-dpanel", "els => els.map(e => Math.round(e.getBoundingClientRect().left))"))) > 1
    assert not truncated_stats(page)
    page.set_viewport_size({"width": 390, "height": 800})
    page.wait_for_timeout(300)
    shot(page, "dashboard-narrow")
    # the list fits too: every Delete button within the screen
    page.goto(f"{ui_server.url}/dashboards")
    page.wait_for_selector(".ks-dl-table")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.eval_on_selector(".ks-dl-table", "e => e.getBoundingClientRect().right") <= 390


DEPENDENT_UID = "kubesight-test-dependent"
DEPENDENT: dict[str, Any] = {
    "uid": DEPENDENT_UID, "title": "Dependent variables test", "time": {"from": "now-30m", "to": "now"},
    "templating": {"list": [
        {"name": "metric", "type": "custom", "query": "demo_requests_total,demo_temperature_celsius",
         "current": {"text": "demo_requests_total", "value": "demo_requests_total"}},
        {"name": "label", "type": "query", "query": "label_names($metric)", "regex": "/^[a-z]/", "sort": 1, "refresh": 1},
    ]},
    "panels": [
        {"id": 1, "type": "timeseries", "title": "by $label", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 8},
         "targets": [{"refId": "A", "expr": "count by ($label) ($metric)", "legendFormat": "{{$label}}"}]},
    ],
}


def test_dependent_variable_follows_the_one_it_uses(ui_server: Server, page: Any, cleanup: list[str]) -> None:
    cleanup.append(DEPENDENT_UID)
    r = httpx.post(f"{ui_server.url}/api/dashboards/db", json={"dashboard": DEPENDENT, "overwrite": True}, timeout=10)
    assert r.status_code == 200, r.text
    page.goto(f"{ui_server.url}/d/{DEPENDENT_UID}?var-label=code")
    panels = settle(page)
    label = page.locator(".ks-var[data-var=label] select")
    # label_names(demo_requests_total), filtered by the regex and sorted: code, job, pod
    assert label.locator("option").all_inner_texts() == ["code", "job", "pod"]
    assert label.input_value() == "code"
    assert sorted(panels["by code"]["legend"]) == ["200", "500"]  # legend format "{{$label}}"
    page.select_option(".ks-var[data-var=metric] select", "demo_temperature_celsius")
    page.wait_for_function("location.search.includes('var-metric=demo_temperature_celsius')")
    panels = settle(page)
    # the temperature has no code label: the dependent variable re-resolved and fell back to its first option
    assert label.locator("option").all_inner_texts() == ["job", "pod"]
    assert label.input_value() == "job"
    assert parse_qs(urlparse(page.url).query)["var-label"] == ["job"]
    assert panels["by job"]["legend"] == ["demo"]
