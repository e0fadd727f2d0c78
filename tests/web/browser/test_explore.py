"""Explore (/graph) as a person uses it in chromium: type a query with autocomplete, run it, read the
graph, the table and the explain tree, see a syntax error where it is, and share the view as a link."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import httpx
import pytest

from kubesight.model import SampleBatch
from tests.conftest import Server, start_server
from tests.web.browser.conftest import ConsoleErrors, push

EXPLAIN_QUERY = ("sum by (pod) (rate(demo_requests_total[5m])) / on(pod) group_left "
                 "sum by (pod)(rate(demo_requests_total[5m]))")
# Until server.py mounts kubesight.web.promql_help.routes(), the editor falls back to /api/v1/parse_query,
# whose 4xx answers the browser logs as "Failed to load resource". Those lines, and only those, are allowed.
_FALLBACK = re.compile(r"^console\.error: Failed to load resource: the server responded with a status of (400|404) "
                       r".*\((https?://[^/]+)/api/(ui/promql/parse|v1/parse_query)\?")


def helper_mounted(url: str) -> bool:
    return httpx.get(f"{url}/api/ui/promql/parse", params={"query": "up"}).status_code == 200


@pytest.fixture(autouse=True)
def only_fallback_console_lines(request: pytest.FixtureRequest, console: ConsoleErrors, page: Any) -> Iterator[None]:
    request.node.allow_console_errors = True
    yield
    allowed = set()
    for line in console:
        m = _FALLBACK.match(line)
        if m and (m.group(2), m.group(3)) not in allowed:
            # allowed only while the helper is not mounted on that server
            if helper_mounted(m.group(2)):
                continue
            allowed.add((m.group(2), m.group(3)))
    others = [line for line in console if not ((m := _FALLBACK.match(line)) and (m.group(2), m.group(3)) in allowed)]
    assert not others, "the page logged errors:\n" + "\n".join(others)


def params(page: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def editor(page: Any, i: int = 0) -> Any:
    return page.locator(".kx-panel").nth(i).locator(".kx-input")


def run(page: Any, expr: str, i: int = 0) -> None:
    ta = editor(page, i)
    ta.fill(expr)
    ta.press("Enter")


def legend_names(page: Any, i: int = 0) -> list[str]:
    names: list[str] = page.locator(".kx-panel").nth(i).locator(".ks-legend-item").evaluate_all(
        "els => els.map(e => e.dataset.name)")
    return names


def pick(page: Any, label: str) -> None:
    """Moves the completion list's selection to `label` with the arrow keys and picks it with Tab."""
    item = page.locator(f".kx-item[data-label='{label}']")
    item.wait_for()
    target = int(item.get_attribute("data-i"))
    for _ in range(target):
        page.keyboard.press("ArrowDown")
    assert page.locator(".kx-item.kx-active").get_attribute("data-label") == label
    page.keyboard.press("Tab")


def test_autocomplete_then_graph_matches_query_range(ui_server: Server, page: Any, shot: Callable[..., Path]) -> None:
    page.goto(f"{ui_server.url}/graph")
    ta = editor(page)
    ta.click()
    page.keyboard.type("demo_req")
    page.locator(".kx-item[data-label='demo_requests_total']").wait_for()
    # functions are offered too, with their signature
    page.keyboard.press("Escape")
    assert page.locator(".kx-pop").is_hidden()
    page.keyboard.press("Control+Space")
    page.locator(".kx-item[data-label='demo_requests_total']").wait_for()
    shot(page, "explore-autocomplete", full_page=False)
    # metric names carry their metadata: the type beside, the help below
    page.keyboard.press("Escape")
    ta.fill("")
    page.keyboard.type("node_memory_MemFree")
    item = page.locator(".kx-item[data-label='node_memory_MemFree_bytes']")
    item.wait_for()
    assert item.locator(".kx-detail").inner_text() == "gauge"
    assert "MemFree" in page.locator(".kx-complete-doc").inner_text()
    page.keyboard.press("Escape")
    ta.fill("")
    page.keyboard.type("demo_req")
    pick(page, "demo_requests_total")
    assert ta.input_value() == "demo_requests_total"
    page.keyboard.type("{")  # the closing brace comes with it; label names of that metric are listed
    page.locator(".kx-item[data-label='pod']").wait_for()
    labels = page.locator(".kx-item").evaluate_all("els => els.map(e => e.dataset.label)")
    assert set(labels) == {"code", "job", "pod"}
    page.locator(".kx-item[data-label='pod']").click()
    assert ta.input_value() == "demo_requests_total{pod=}"
    page.locator(".kx-item[data-label='web-1']").wait_for()  # values of pod follow at once
    assert set(page.locator(".kx-item").evaluate_all("els => els.map(e => e.dataset.label)")) == \
        {"web-0", "web-1", "web-2", "web-3"}
    pick(page, "web-1")
    assert ta.input_value() == 'demo_requests_total{pod="web-1"}'
    assert page.locator(".kx-pop").is_hidden()
    page.keyboard.press("End")
    page.keyboard.press("Shift+Enter")  # a new line, not a run
    assert ta.input_value() == 'demo_requests_total{pod="web-1"}\n'
    page.keyboard.press("Backspace")
    page.keyboard.press("Enter")
    page.locator(".kx-panel .ks-legend-item").first.wait_for()
    assert sorted(legend_names(page)) == [
        'demo_requests_total{code="200", job="demo", pod="web-1"}',
        'demo_requests_total{code="500", job="demo", pod="web-1"}']
    assert params(page)["g0.expr"] == 'demo_requests_total{pod="web-1"}'
    assert params(page)["g0.tab"] == "graph"
    # what the chart plots is what query_range answers for the same query, range and step
    got = page.evaluate("""() => { const p = ksExplore.panels[0];
        return {ds: {...p.el.dataset}, x: Array.from(p.graph.u.data[0]),
                series: p.graph.frame.series.map((s, i) => [s.name, Array.from(p.graph.u.data[i + 1])])}; }""")
    ds = got["ds"]
    r = httpx.get(f"{ui_server.url}/api/v1/query_range", params={
        "query": 'demo_requests_total{pod="web-1"}', "start": int(ds["start"]) / 1000, "end": int(ds["end"]) / 1000,
        "step": int(ds["step"]) / 1000}).json()["data"]["result"]
    assert len(r) == 2
    by_name = dict(got["series"])
    for s in r:
        m = s["metric"]
        name = f'demo_requests_total{{code="{m["code"]}", job="demo", pod="web-1"}}'
        expected = {float(t): float(v) for t, v in s["values"]}
        plotted = {x: v for x, v in zip(got["x"], by_name[name], strict=True) if v is not None}
        assert plotted == expected
    stats = page.locator(".kx-panel .kx-stats")
    assert stats.locator("[data-stat=series] b").inner_text() == "2"
    samples = int(stats.locator("[data-stat=samples] b").inner_text().replace(",", ""))
    assert samples > 0
    assert stats.locator("[data-stat=server]").count() == 1 and stats.locator("[data-stat=step]").count() == 1
    shot(page, "explore-graph")


def test_table_rows_and_label_columns_equal_query(ui_server: Server, page: Any, shot: Callable[..., Path]) -> None:
    page.goto(f"{ui_server.url}/graph?g0.expr=demo_requests_total&g0.tab=table")
    rows = page.locator(".kx-result tbody tr")
    rows.first.wait_for()
    cols = page.locator(".kx-result thead th").evaluate_all("els => els.map(e => e.dataset.col)")
    assert cols == ["__name__", "code", "job", "pod", "Value"]
    at = int(page.locator(".kx-panel").get_attribute("data-time"))
    result = httpx.get(f"{ui_server.url}/api/v1/query", params={"query": "demo_requests_total", "time": at / 1000}).json()
    expected = sorted((s["metric"]["__name__"], s["metric"]["code"], s["metric"]["job"], s["metric"]["pod"], s["value"][1])
                      for s in result["data"]["result"])
    shown = rows.evaluate_all("trs => trs.map(tr => Array.from(tr.cells).map(td => td.textContent))")
    assert sorted(tuple(r) for r in shown) == expected and len(shown) == 8
    # sort by pod, then descending
    page.locator(".kx-result th[data-col='pod']").click()
    pods = page.locator(".kx-result td[data-col='pod']").evaluate_all("e => e.map(x => x.textContent)")
    assert pods == sorted(pods)
    page.locator(".kx-result th[data-col='pod']").click()
    pods = page.locator(".kx-result td[data-col='pod']").evaluate_all("e => e.map(x => x.textContent)")
    assert pods == sorted(pods, reverse=True)
    stats = page.locator(".kx-panel .kx-stats")
    assert stats.locator("[data-stat=series] b").inner_text() == "8"
    shot(page, "explore-table")
    # a range vector lists value@timestamp per series; a scalar is one row
    run(page, 'demo_temperature_celsius{pod="web-0"}[5m]')
    page.locator(".kx-result[data-type='matrix']").wait_for()
    at = int(page.locator(".kx-panel").get_attribute("data-time"))
    api = httpx.get(f"{ui_server.url}/api/v1/query", params={
        "query": 'demo_temperature_celsius{pod="web-0"}[5m]', "time": at / 1000}).json()["data"]["result"][0]["values"]
    cell = page.locator(".kx-result td.kx-values").first
    assert cell.inner_text().strip().split("\n") == [f"{v} @{t}" for t, v in api]
    run(page, "1 + 2")
    page.locator(".kx-result[data-type='scalar']").wait_for()
    assert page.locator(".kx-result td.kx-value").inner_text() == "3"
    assert "null" not in page.locator(".kx-stats").inner_text()
    # a range vector on the Graph tab says why it is not graphed
    page.locator(".kx-tab[data-tab='graph']").click()
    run(page, "up[5m]")
    page.locator(".kx-msg .ks-warning").wait_for()
    assert "cannot be graphed" in page.locator(".kx-msg").inner_text()


def test_explain_tree(ui_server: Server, page: Any, shot: Callable[..., Path]) -> None:
    page.goto(f"{ui_server.url}/graph")
    page.locator(".kx-tab[data-tab='explain']").click()
    run(page, EXPLAIN_QUERY)
    page.locator(".kx-node").first.wait_for()
    types = page.locator(".kx-node").evaluate_all("els => els.map(e => e.dataset.type)")
    assert types == ["binaryExpr", "aggregation", "call", "matrixSelector", "aggregation", "call", "matrixSelector"]
    heads = page.locator(".kx-node-expr").evaluate_all("els => els.map(e => e.textContent)")
    assert heads == ["/ on(pod) group_left()", "sum by (pod)", "rate()", "demo_requests_total[5m]",
                     "sum by (pod)", "rate()", "demo_requests_total[5m]"]
    doc = page.locator(".kx-node[data-type='binaryExpr'] > .kx-node-doc").inner_text()
    assert "on pod" in doc and "many on the left" in doc
    assert params(page)["g0.tab"] == "explain"
    shot(page, "explore-explain")
    run(page, 'label_replace(max_over_time(rate(demo_requests_total[5m])[30m:1m] offset 5m), "p", "$1", "pod", "(.*)") > bool 2')
    page.wait_for_function("document.querySelector('.kx-node').dataset.type === 'binaryExpr' && document.querySelectorAll('.kx-node').length === 11")
    nodes = page.locator(".kx-node").evaluate_all(
        "els => els.map(e => [e.dataset.type, e.querySelector('.kx-node-expr').textContent])")
    assert nodes == [["binaryExpr", "> bool"], ["call", "label_replace()"], ["call", "max_over_time()"],
                     ["subquery", "[30m:1m] offset 5m"], ["call", "rate()"], ["matrixSelector", "demo_requests_total[5m]"],
                     ["stringLiteral", '"p"'], ["stringLiteral", '"$1"'], ["stringLiteral", '"pod"'],
                     ["stringLiteral", '"(.*)"'], ["numberLiteral", "2"]]
    run(page, EXPLAIN_QUERY)
    page.wait_for_function("document.querySelectorAll('.kx-node').length === 7")
    # a node's sub-expression runs in a new panel, as a table
    page.locator(".kx-node[data-type='call'] .kx-node-run").first.click()
    assert page.locator(".kx-panel").count() == 2
    assert editor(page, 1).input_value() == "rate(demo_requests_total[5m])"
    page.locator(".kx-panel").nth(1).locator(".kx-result tbody tr").first.wait_for()
    assert page.locator(".kx-panel").nth(1).locator(".kx-result tbody tr").count() == 8


def test_bad_query_error_beside_editor(ui_server: Server, page: Any, shot: Callable[..., Path], console: ConsoleErrors) -> None:
    page.goto(f"{ui_server.url}/graph?g0.expr=up")
    page.locator(".kx-panel .ks-legend-item").first.wait_for()
    ta = editor(page)
    ta.fill("sum(rate(x[5m])")
    # checked as you type
    msg = page.locator(".kx-syntax-msg")
    msg.wait_for()
    assert msg.inner_text() == 'invalid parameter "query": 1:16: parse error: unclosed left parenthesis'
    where = page.locator(".kx-syntax-where")
    assert where.get_attribute("data-line") == "1" and where.get_attribute("data-col") == "16"
    lines = where.inner_text().split("\n")
    assert lines[0].endswith("sum(rate(x[5m])") and lines[1].index("^") == lines[0].index("sum(") + 15
    assert page.locator(".kx-hl .kx-err-at").count() == 1  # the spot is marked in the text too
    ta.press("Enter")
    err = page.locator(".kx-panel .kx-msg .ks-error")
    err.wait_for()
    assert "1:16: parse error: unclosed left parenthesis" in err.inner_text()
    # the page is still all there
    assert page.locator(".kx-input").is_visible() and page.locator(".kx-tabs").is_visible()
    assert page.locator(".kx-panel .ks-legend-item").count() == 0  # no stale graph under the error
    shot(page, "explore-error")
    # another position: the second line
    ta.fill('1 +\n foo{a=}')
    page.wait_for_function("document.querySelector('.kx-syntax-where')?.dataset.line === '2'")
    assert page.locator(".kx-syntax-where").get_attribute("data-col") == "8"
    # fixing it clears the error
    ta.fill("sum(rate(demo_requests_total[5m]))")
    page.locator(".kx-syntax").wait_for(state="hidden")
    ta.press("Enter")
    page.locator(".kx-panel .ks-legend-item").first.wait_for()
    assert page.locator(".kx-panel .kx-msg .ks-error").count() == 0
    if helper_mounted(ui_server.url):
        console.assert_none()


def test_parse_helper_route(ui_server: Server) -> None:
    if not helper_mounted(ui_server.url):
        pytest.skip("server.py does not mount kubesight.web.promql_help.routes() yet")
    r = httpx.get(f"{ui_server.url}/api/ui/promql/parse", params={"query": "sum(rate(x[5m])"})
    assert r.status_code == 200
    err = r.json()["data"]["error"]
    assert err["message"] == httpx.get(f"{ui_server.url}/api/v1/parse_query", params={"query": "sum(rate(x[5m])"}).json()["error"]
    assert (err["line"], err["col"]) == (1, 16)
    ok = httpx.post(f"{ui_server.url}/api/ui/promql/parse", data={"query": EXPLAIN_QUERY}).json()["data"]
    assert ok["error"] is None
    assert ok["ast"] == httpx.get(f"{ui_server.url}/api/v1/parse_query", params={"query": EXPLAIN_QUERY}).json()["data"]


def test_parse_helper_in_process() -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from kubesight.web.promql_help import routes
    client = TestClient(Starlette(routes=routes()))
    r = client.get("/api/ui/promql/parse", params={"query": "1 +\n foo{a=}"})
    assert r.status_code == 200
    err = r.json()["data"]["error"]
    assert err["message"].endswith('2:8: parse error: unexpected "}" in label matching, expected string')
    assert (err["line"], err["col"], err["errorType"]) == (2, 8, "bad_data")
    assert client.get("/api/ui/promql/parse").json()["data"]["error"]["col"] == 1  # empty: no expression
    ast = client.post("/api/ui/promql/parse", data={"query": "sum by (job) (up)"}).json()["data"]["ast"]
    assert ast["type"] == "aggregation" and ast["grouping"] == ["job"]


def test_second_panel_duplicate_remove(ui_server: Server, page: Any) -> None:
    page.goto(f"{ui_server.url}/graph?g0.expr=demo_temperature_celsius")
    page.locator(".kx-panel .ks-legend-item").first.wait_for()
    page.locator(".kx-add").click()
    assert page.locator(".kx-panel").count() == 2
    assert page.evaluate("document.activeElement.classList.contains('kx-input')")
    run(page, 'rate(demo_requests_total{code="500"}[5m])', 1)
    page.locator(".kx-panel").nth(1).locator(".ks-legend-item").first.wait_for()
    assert len(legend_names(page, 0)) == 4 and len(legend_names(page, 1)) == 4
    p = params(page)
    assert p["g0.expr"] == "demo_temperature_celsius" and p["g1.expr"] == 'rate(demo_requests_total{code="500"}[5m])'
    page.locator(".kx-panel").nth(1).locator(".kx-dup").click()
    assert page.locator(".kx-panel").count() == 3
    assert params(page)["g2.expr"] == p["g1.expr"]
    page.locator(".kx-panel").nth(0).locator(".kx-remove").click()
    assert page.locator(".kx-panel").count() == 2
    p = params(page)
    assert p["g0.expr"] == p["g1.expr"] == 'rate(demo_requests_total{code="500"}[5m])' and "g2.expr" not in p
    # the link reproduces both panels
    page.goto(page.url)
    page.locator(".kx-panel").nth(1).locator(".ks-legend-item").first.wait_for()
    assert page.locator(".kx-panel").count() == 2


def test_history_reuse_and_clear(ui_server: Server, page: Any) -> None:
    page.goto(f"{ui_server.url}/graph")
    for q in ("up", "demo_temperature_celsius", "up"):
        run(page, q)
        page.locator(".kx-panel .kx-stats [data-stat=series]").wait_for()
    page.locator(".kx-history summary").click()
    items = page.locator(".kx-history-item")
    assert items.evaluate_all("els => els.map(e => e.textContent)") == ["up", "demo_temperature_celsius"]
    assert page.locator(".kx-history-count").inner_text() == "(2)"
    items.nth(1).click()
    assert editor(page).input_value() == "demo_temperature_celsius"
    page.wait_for_function("document.querySelectorAll('.kx-panel .ks-legend-item').length === 4")
    assert params(page)["g0.expr"] == "demo_temperature_celsius"
    page.reload()
    page.locator(".kx-history summary").click()
    assert page.locator(".kx-history-item").evaluate_all("els => els.map(e => e.textContent)") == \
        ["demo_temperature_celsius", "up"]
    page.locator(".kx-history-clear").click()
    assert page.locator(".kx-history-item").count() == 0
    assert page.locator(".kx-history-count").inner_text() == "(0)"


def test_prometheus_link_opens_table_with_range(ui_server: Server, page: Any) -> None:
    page.goto(f"{ui_server.url}/graph?g0.expr=up&g0.tab=1&g0.range_input=30m&g0.show_exemplars=0")
    page.locator(".kx-result tbody tr").first.wait_for()
    assert page.locator(".kx-tab.kx-active").get_attribute("data-tab") == "table"
    assert editor(page).input_value() == "up"
    p = params(page)
    assert (p["from"], p["to"]) == ("now-30m", "now")
    assert p["g0.range_input"] == "30m" and p["g0.tab"] == "table" and p["g0.expr"] == "up"
    assert page.locator(".ks-range-label").inner_text() == "Last 30 minutes"
    jobs = page.locator(".kx-result td[data-col='job']").evaluate_all("e => e.map(x => x.textContent)")
    assert "kubesight" in jobs
    # an end time in Prometheus' format (UTC) gives an absolute range; the graph tab by its legacy number
    end_ms = (int(time.time()) - 600) * 1000
    end = datetime.fromtimestamp(end_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    page.goto(f"{ui_server.url}/graph?g0.expr={quote('demo_temperature_celsius')}&g0.tab=0&g0.range_input=20m"
              f"&g0.end_input={quote(end)}&g0.step_input=30")
    page.locator(".kx-panel .ks-legend-item").first.wait_for()
    p = params(page)
    assert (int(p["from"]), int(p["to"])) == (end_ms - 1_200_000, end_ms)
    assert p["g0.end_input"] == end and p["g0.step_input"] == "30"
    assert page.locator(".kx-step").input_value() == "30s"
    assert page.locator(".kx-panel").get_attribute("data-step") == "30000"


def test_step_and_stacked_toggle(ui_server: Server, page: Any) -> None:
    page.goto(f"{ui_server.url}/graph?g0.expr={quote('rate(demo_requests_total[5m])')}")
    page.locator(".kx-panel .ks-legend-item").first.wait_for()
    assert "auto" in page.locator(".kx-res").inner_text()
    page.locator(".kx-step").fill("1m")
    page.locator(".kx-step").press("Enter")
    page.wait_for_function("document.querySelector('.kx-panel').dataset.step === '60000'")
    assert params(page)["g0.step_input"] == "60"
    page.wait_for_function("document.querySelector('.kx-res').textContent.startsWith('1m step')")
    assert page.locator(".kx-stats [data-stat=step] b").inner_text() == "1m"
    page.locator(".kx-stack").click()
    p = params(page)
    assert p["g0.stacked"] == "1" and p["g0.display_mode"] == "stacked"
    assert page.locator(".kx-stack").inner_text() == "Stacked"
    # stacked: the top line is the sum of all series
    top, total = page.evaluate("""() => { const g = ksExplore.panels[0].graph, d = g.u.data, i = d[0].length - 10;
        return [d[d.length - 1][i], g.frame.series.reduce((a, s) => a + (s.values[i] ?? 0), 0)]; }""")
    assert math.isclose(top, total, rel_tol=1e-9) and total > 0
    page.reload()
    page.locator(".kx-panel .ks-legend-item").first.wait_for()
    assert page.locator(".kx-stack").inner_text() == "Stacked"
    page.locator(".kx-stack").click()
    assert params(page)["g0.display_mode"] == "lines"
    assert page.evaluate("ksExplore.panels[0].graph.opts.stacking") == "none"


def test_narrow_and_dark(ui_server: Server, page: Any, shot: Callable[..., Path]) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{ui_server.url}/graph?g0.expr={quote('rate(demo_requests_total[5m])')}")
    page.locator(".kx-panel .ks-legend-item").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    editor(page).click()
    editor(page).press("End")
    page.keyboard.type(" / on(p")
    page.locator(".kx-item[data-label='pod']").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "explore-narrow")
    page.keyboard.press("Escape")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.click("#ks-theme")
    if page.evaluate("document.documentElement.dataset.theme") != "dark":
        page.click("#ks-theme")
    run(page, EXPLAIN_QUERY)
    page.locator(".kx-panel .ks-legend-item").first.wait_for()
    page.locator(".kx-add").click()
    page.locator(".kx-panel").nth(1).locator(".kx-tab[data-tab='explain']").click()
    run(page, EXPLAIN_QUERY, 1)
    page.locator(".kx-node").first.wait_for()
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    shot(page, "explore-dark")


# ---- 1,000 series x 1,440 points --------------------------------------------------------------------------

BIG_SERIES = 1000
BIG_POINTS = 1440


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("explore-big")
    cfg = root / "kubesight.yml"
    cfg.write_text("collectors: {interval: 1h}\n")
    srv = start_server(root / "data", "--config", str(cfg))
    try:
        now = int(time.time()) // 60 * 60 * 1000
        ts = [now - (BIG_POINTS - 1 - i) * 60_000 for i in range(BIG_POINTS)]
        for chunk in range(0, BIG_SERIES, 250):
            series: list[tuple[tuple[tuple[str, str], ...], list[tuple[int, float]]]] = []
            for k in range(chunk, chunk + 250):
                lbl: tuple[tuple[str, str], ...] = (("__name__", "explore_big"), ("job", "big"), ("series", f"s{k:04d}"))
                series.append((lbl, [(t, 100 + 50 * math.sin(i / 60 + k) + k / 10) for i, t in enumerate(ts)]))
            push(srv.url, SampleBatch.from_series(series))
        yield srv
    finally:
        srv.stop()


def test_thousand_series_stay_interactive(big_server: Server, page: Any, shot: Callable[..., Path],
                                         record_property: Callable[[str, object], None]) -> None:
    t0 = time.monotonic()
    page.goto(f"{big_server.url}/graph?g0.expr=explore_big&g0.range_input=1d&g0.step_input=60")
    page.locator(".kx-panel .kx-stats [data-stat=series]").wait_for(timeout=120_000)
    load_s = time.monotonic() - t0
    assert page.locator(".kx-stats [data-stat=series] b").inner_text() == str(BIG_SERIES)
    n_points = page.evaluate("ksExplore.panels[0].graph.u.data[0].length")
    assert n_points >= BIG_POINTS
    assert page.evaluate("ksExplore.panels[0].graph.u.data.slice(1).filter(s => s.some(v => v !== null)).length") == BIG_SERIES
    assert page.locator(".kx-panel .ks-legend-item").count() == BIG_SERIES
    render_ms = page.evaluate("ksExplore.panels[0].lastRender")
    # hover: the tooltip shows the values under the cursor
    box = page.locator(".kx-panel .u-over").bounding_box()
    hover_ms = page.evaluate("""async ([x, y]) => {
        const over = document.querySelector('.kx-panel .u-over'), t0 = performance.now();
        over.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y, bubbles: true}));
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        return performance.now() - t0; }""", [box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2])
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    tip = page.locator(".kx-panel .ks-tooltip")
    assert tip.is_visible() and "more" in tip.inner_text()
    # isolate one series from the legend, then all again
    isolate_ms = page.evaluate("""async () => {
        const el = document.querySelector('.kx-panel .ks-legend-item[data-name*="s0500"]'), t0 = performance.now();
        el.click();
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        return performance.now() - t0; }""")
    assert page.locator(".kx-panel .ks-legend-item:not(.ks-off)").count() == 1
    assert page.evaluate("ksExplore.panels[0].graph.u.series.filter((s, i) => i > 0 && s.show).length") == 1
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] / 2)
    assert "s0500" in tip.inner_text()
    # hidden series leave no hover dot behind
    dots = page.evaluate("Array.from(document.querySelectorAll('.kx-panel .u-cursor-pt')).filter(p => p.style.display !== 'none').length")
    assert dots == 1
    shot(page, "explore-1000-isolated", full_page=False)
    restore_ms = page.evaluate("""async () => {
        const el = document.querySelector('.kx-panel .ks-legend-item[data-name*="s0500"]'), t0 = performance.now();
        el.click();
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        return performance.now() - t0; }""")
    assert page.locator(".kx-panel .ks-legend-item.ks-off").count() == 0
    stats = page.locator(".kx-stats").inner_text()
    measured = {"load_s": round(load_s, 2), "render_ms": round(render_ms), "hover_ms": round(hover_ms),
                "isolate_ms": round(isolate_ms), "restore_ms": round(restore_ms), "stats": stats}
    for k, v in measured.items():
        record_property(k, v)
    print("explore 1000x1440:", measured)  # reported, not asserted


def test_time_range_and_refresh_run_every_panel(ui_server: Server, page: Any) -> None:
    page.goto(f"{ui_server.url}/graph?g0.expr=demo_temperature_celsius&g1.expr=up&g1.tab=table")
    page.locator(".kx-panel .ks-legend-item").first.wait_for()
    page.locator(".kx-panel").nth(1).locator(".kx-result tbody tr").first.wait_for()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(urlparse(r.url).path) if "/api/v1/query" in r.url else None)
    # the header's refresh button runs both panels again
    with page.expect_response(lambda r: urlparse(r.url).path == "/api/v1/query_range"), \
            page.expect_response(lambda r: urlparse(r.url).path == "/api/v1/query"):
        page.locator("#ks-timepicker button[aria-label='refresh']").click()
    assert sorted(sent) == ["/api/v1/query", "/api/v1/query_range"]
    # a new range from the picker: both run over it, and the link says so
    page.locator(".ks-range-btn").click()
    page.locator(".ks-quick a[data-from='now-15m']").click()
    page.wait_for_function("(d => Number(d.end) - Number(d.start) <= 15 * 60e3)(document.querySelector('.kx-panel').dataset)")
    p = params(page)
    assert p["from"] == "now-15m" and p["g0.range_input"] == "15m" and p["g1.range_input"] == "15m"
    assert page.locator(".ks-range-label").inner_text() == "Last 15 minutes"
