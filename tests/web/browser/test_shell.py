"""The page shell and the shared chart, as a person sees them in chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Server


def test_connect_page_navigation_and_theme(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    page.goto(f"{ui_server.url}/setup")
    assert page.title() == "Connect · kubesight"
    assert page.locator("h1").inner_text() == "Connect"
    assert page.locator(f"text={ui_server.url}/api/v1/write").count() == 1
    # every navigation entry leads to a page of the UI
    hrefs = page.eval_on_selector_all(".ks-nav a", "els => els.map(e => e.getAttribute('href'))")
    assert {"/dashboards", "/graph", "/alerts", "/targets", "/rules", "/silences", "/tsdb-status"} <= set(hrefs)
    for href in hrefs:
        assert httpx.get(ui_server.url + href).status_code == 200, href
    theme = page.evaluate("document.documentElement.dataset.theme")
    page.click("#ks-theme")
    flipped = "dark" if theme == "light" else "light"
    assert page.evaluate("document.documentElement.dataset.theme") == flipped
    page.reload()  # the choice is remembered
    assert page.evaluate("document.documentElement.dataset.theme") == flipped
    shot(page, "connect")


def test_narrow_screen_folds_navigation(ui_server: Server, page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{ui_server.url}/setup")
    assert not page.locator(".ks-nav").is_visible()
    page.click(".ks-burger")
    assert page.locator(".ks-nav a[href='/graph']").is_visible()
    # nothing overflows the screen sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_static_assets_are_versioned_and_cached(ui_server: Server) -> None:
    html = httpx.get(f"{ui_server.url}/setup").text
    src = re.search(r'src="(/static/[0-9a-f]{12}/js/pages/setup\.js)"', html)
    assert src, html[:500]
    r = httpx.get(ui_server.url + src.group(1))
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert "immutable" in r.headers["cache-control"]
    stale = httpx.get(ui_server.url + re.sub(r"/static/[0-9a-f]{12}/", "/static/000000000000/", src.group(1)))
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    for bad in ("../layout.py", "..%2F..%2Fserver.py", "js/nope.js"):
        r = httpx.get(f"{ui_server.url}/static/x/{bad}", follow_redirects=True)
        assert r.status_code == 404 and "import" not in r.text, bad


CHART = """async ([version, opts]) => {
  const chart = await import(`/static/${version}/js/chart.js`);
  const core = await import(`/static/${version}/js/core.js`);
  const end = Date.now(), start = end - 3600e3, step = 60e3;
  const data = await core.queryRange('rate(demo_requests_total[5m])', start, end, step / 1000);
  const frame = chart.alignMatrix(data.result, start, end, step);
  const el = document.createElement('div'); el.id = 'chart'; el.style.height = '320px';
  document.getElementById('ks-page').replaceChildren(el);
  window.graph = new chart.Graph(el, {unit: 'reqps', height: 260, ...opts});
  window.graph.setData({x: frame.x, series: frame.series.map(s => ({name: chart.seriesName(s.metric, '{{pod}} {{code}}'), values: s.values}))});
  return frame.series.length;
}"""


def _version(page: Any) -> str:
    src = page.eval_on_selector("script[type=module]", "e => e.getAttribute('src')")
    return str(src.split("/")[2])


def test_graph_legend_isolate_tooltip_and_zoom(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    page.goto(f"{ui_server.url}/setup")
    n = page.evaluate(CHART, [_version(page), {"legend": {"mode": "table", "calcs": ["min", "max", "mean", "lastNotNull"]}}])
    assert n == 8
    rows = page.locator(".ks-legend-item")
    assert rows.count() == 8
    assert set(page.eval_on_selector_all(".ks-legend-table th", "e => e.map(x => x.textContent)")) == \
        {"Name", "Min", "Max", "Mean", "Last *"}
    web3 = page.locator(".ks-legend-item[data-name='web-3 200']")
    # a counter growing 40/s: its rate's max is 40 (the last point is lower: the series ended at push time)
    assert web3.locator("td").nth(2).inner_text() == "40 req/s"
    web3.click()
    assert page.locator(".ks-legend-item.ks-off").count() == 7
    assert page.evaluate("graph.u.series.filter((s, i) => i > 0 && s.show).length") == 1
    web3.click()
    assert page.locator(".ks-legend-item.ks-off").count() == 0
    box = page.locator("#chart .u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    tip = page.locator(".ks-tooltip")
    assert tip.is_visible() and "req/s" in tip.inner_text()
    shot(page, "graph-tooltip", full_page=False)
    # drag over a fifth of the plot: the shared time range becomes that absolute window
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 40, steps=5)
    page.mouse.up()
    params = page.evaluate("Object.fromEntries(new URLSearchParams(location.search))")
    start, end = int(params["from"]), int(params["to"])
    assert 10 * 60_000 < end - start < 14 * 60_000, params  # a fifth of the hour shown


def test_stacked_percent_graph(ui_server: Server, page: Any) -> None:
    page.goto(f"{ui_server.url}/setup")
    page.evaluate(CHART, [_version(page), {"stacking": "percent"}])
    top = page.evaluate("graph.u.data[graph.u.data.length - 1].filter(v => v !== null)")
    assert top and all(abs(v - 1) < 1e-9 for v in top[-5:])


def test_align_matrix_on_the_step_grid(ui_server: Server, page: Any) -> None:
    page.goto(f"{ui_server.url}/setup")
    out = page.evaluate("""async ([version, r]) => {
        const m = await import(`/static/${version}/js/chart.js`);
        const f = m.alignMatrix(r, 10000, 40000, 10000);
        return {x: Array.from(f.x), values: f.series.map(s => s.values), metric: f.series[0].metric}; }""",
        [_version(page), [{"metric": {"a": "1"}, "values": [[10, "1.5"], [30, "NaN"], [40, "+Inf"]]},
                          {"metric": {"a": "2"}, "values": [[20, "-2"], [30, "3e3"], [50, "9"]]}]])
    assert out["x"] == [10, 20, 30, 40]
    # missing points, NaN and infinities are gaps; points off the range are dropped
    assert out["values"] == [[1.5, None, None, None], [None, -2, 3000, None]]
    assert out["metric"] == {"a": "1"}


def test_many_series_isolate_in_one_redraw(ui_server: Server, page: Any) -> None:
    """Past MANY_SERIES a graph has no fill and no hover focus; a legend click still isolates."""
    page.goto(f"{ui_server.url}/setup")
    page.evaluate("""async (version) => {
        const chart = await import(`/static/${version}/js/chart.js`);
        const n = 120, x = Float64Array.from({length: 60}, (_, i) => 1.7e9 + i * 15);
        const el = document.createElement('div'); document.getElementById('ks-page').replaceChildren(el);
        window.graph = new chart.Graph(el, {height: 240});
        window.graph.setData({x, series: Array.from({length: n}, (_, j) => ({name: `s${j}`, values: Array.from(x, (_, i) => j + Math.sin(i))}))});
    }""", _version(page))
    assert page.evaluate("graph.u.series.slice(1).every((s, i) => s.fill(graph.u, i + 1) == null)")
    assert page.evaluate("graph.u.cursor.focus.prox") < 0
    page.locator(".ks-legend-item[data-name='s7']").click()
    assert page.evaluate("graph.u.series.filter((s, i) => i > 0 && s.show).map(s => s.label)") == ["s7"]
    assert page.locator(".ks-legend-item.ks-off").count() == 119


def test_home_on_a_new_server_opens_on_the_minutes_it_has(tmp_path: Path, page: Any) -> None:
    from tests.conftest import start_server

    srv = start_server(tmp_path / "data", "--no-rules.defaults")
    try:
        page.goto(f"{srv.url}/")
        page.wait_for_function("() => document.body.dataset.dashboardState === 'done'", timeout=30_000)
        assert page.locator(".ks-range-label").inner_text() == "Last 5 minutes"
        page.goto(f"{srv.url}/?from=now-1h&to=now")  # a range in the link always wins
        assert page.locator(".ks-range-label").inner_text() == "Last hour"
        page.goto(f"{srv.url}/d/kubesight-node")  # the same dashboard by its address keeps its own
        assert page.locator(".ks-range-label").inner_text() == "Last hour"
    finally:
        srv.stop()
