"""UI benchmark: how fast pages render in Chromium, kubesight's UI against Prometheus' own.

    python bench/ui.py                  # 6 h of node data at 15 s; 1,000 series x 1,440 points
    python bench/ui.py --quick          # 1 h and 100 series: a smoke test
    python bench/ui.py --markdown-out out.md

One run, one data set, both servers: this machine's host metrics (collected
once in-process, then played back as 6 h of history with realistic rates) and
a wave of N synthetic series are remote-written to kubesight and to Debian's
Prometheus 2.42 before any page opens. Then, in Debian's chromium driven by
Playwright:

- **dashboard**: kubesight's built-in Node dashboard over the last 6 h, from
  navigation start until every panel has drawn (``body[data-dashboard-state=done]``).
  The page's own query requests are recorded and replayed, the same bytes
  six at a time as chromium sends them, against kubesight and against
  Prometheus: the server's share of the page, compared on identical requests.
- **big graph**: one query returning N series x 1,440 points, drawn as one
  graph (chart.js on uPlot, fed by /api/v1/query_range), then how long a hover
  (mouse move to the next painted frame) and a legend click (isolate one
  series) take; the same query_range is timed on both servers.

Prometheus' own graph page is not the peer: Debian's build serves the classic
UI with a vendored module that fails to load ("Unexpected token 'export'"), and
it shows at most 10 graph panels, so it cannot draw the same page.

Each page is loaded ``--runs`` times in a fresh tab (the first with a cold
cache); the median is reported. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cramjam
import numpy as np

from bench.ingest import machine_info
from bench.servers import HOST, BenchError, Kubesight, Prometheus, ensure_packages
from kubesight.collect.host import HostCollector
from kubesight.model import SampleBatch
from kubesight.wire.remote_write import encode_write_v1

STEP_MS = 15_000
INSTANCE = "bench-host:9100"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-component-update", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
# Panels below the fold load only when scrolled to (as in Grafana): a screen tall enough for all 16
# Node panels makes "until every panel drew" mean the whole dashboard.
TALL = {"width": 1280, "height": 2400}
# 25 min of samples per request, the same slices for every series: Prometheus refuses samples more than
# 1 h older than the newest it has (out of bounds), so the history must arrive in time order.
STEPS_PER_BODY = 100


# --- data -----------------------------------------------------------------------------------------


def host_shape() -> tuple[list[tuple[tuple[str, str], ...]], np.ndarray, np.ndarray, np.ndarray]:
    """This machine's host series, their values now, per-second rates, and which are counters."""
    col = HostCollector()
    first = {lbls: v for f in col.collect() for lbls, v in _samples(f)}
    time.sleep(2.0)
    fams = col.collect()
    series, now, rate, kind = [], [], [], []
    for f in fams:
        counter = f.type == "counter"
        for lbls, v in _samples(f):
            series.append(lbls)
            now.append(v)
            rate.append(max(0.0, (v - first.get(lbls, v)) / 2.0) if counter else 0.0)
            kind.append(counter)
    return series, np.asarray(now), np.asarray(rate), np.asarray(kind, bool)


def _samples(f: Any) -> Iterator[tuple[tuple[tuple[str, str], ...], float]]:
    for lbls, v in f.samples:
        d = dict(lbls)
        d.update({"__name__": d.get("__name__", f.name), "job": "node", "instance": INSTANCE})
        yield tuple(sorted(d.items())), v


def host_history(end_ms: int, steps: int) -> Iterator[SampleBatch]:
    """``steps`` samples per host series ending at ``end_ms``: counters grow at their measured
    rate (+-20% noise), gauges wander +-5% around today's value; time-ordered batches."""
    series, now, rate, counters = host_shape()
    rng = np.random.default_rng(1)
    n = len(series)
    noise = rng.uniform(0.8, 1.2, (steps, n))
    increments = np.where(counters, rate * STEP_MS / 1000, 0.0) * noise
    # Counter value at each step: today's value minus what is still to come after it.
    after = np.cumsum(increments[::-1], axis=0)[::-1] - increments
    values = np.where(counters, now - after, now * (1 + 0.05 * np.sin(np.arange(steps)[:, None] / 40 + np.arange(n))))
    values = np.where(counters, np.maximum(values, 0), values)
    for s0 in range(0, steps, STEPS_PER_BODY):
        s1 = min(steps, s0 + STEPS_PER_BODY)
        ts = end_ms - (steps - 1 - np.arange(s0, s1)) * STEP_MS
        yield _batch(series, ts, values[s0:s1])


def wave_history(end_ms: int, steps: int, n: int) -> Iterator[SampleBatch]:
    series = [(("__name__", "bench_wave"), ("i", f"{i:04d}"), ("job", "bench")) for i in range(n)]
    phase = np.arange(n) / n * 2 * math.pi
    for s0 in range(0, steps, STEPS_PER_BODY):
        s1 = min(steps, s0 + STEPS_PER_BODY)
        k = np.arange(s0, s1)[:, None]
        ts = end_ms - (steps - 1 - np.arange(s0, s1)) * STEP_MS
        yield _batch(series, ts, 100 + np.arange(n) + 20 * np.sin(k / 60 + phase))


def _batch(series: list[Any], ts: np.ndarray, values: np.ndarray) -> SampleBatch:
    steps, n = values.shape
    return SampleBatch(series, np.tile(np.arange(n, dtype=np.int32), steps), np.repeat(ts.astype(np.int64), n),
                       values.reshape(-1).astype(np.float64))


def bodies(batches: Iterator[SampleBatch]) -> list[bytes]:
    return [bytes(cramjam.snappy.compress_raw(encode_write_v1(b))) for b in batches]


def load(port: int, payload: list[bytes]) -> None:
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
               "X-Prometheus-Remote-Write-Version": "0.1.0"}
    conn = http.client.HTTPConnection(HOST, port, timeout=300)
    try:
        for i, body in enumerate(payload):
            conn.request("POST", "/api/v1/write", body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read()
            if resp.status // 100 != 2:
                raise BenchError(f"remote write {i} answered {resp.status}: {text[:300]!r}")
    finally:
        conn.close()


# --- browser ----------------------------------------------------------------------------------------

DASH_DONE = "() => document.body.dataset.dashboardState === 'done'"

BIG_GRAPH = """async ([version, expr, start, end, stepMs]) => {
  const t0 = performance.now();
  const chart = await import(`/static/${version}/js/chart.js`);
  const core = await import(`/static/${version}/js/core.js`);
  const data = await core.queryRange(expr, start, end, stepMs / 1000);
  const t1 = performance.now();
  const frame = chart.alignMatrix(data.result, start, end, stepMs);
  const el = document.createElement('div'); el.style.height = '600px';
  document.getElementById('ks-page').replaceChildren(el);
  window.graph = new chart.Graph(el, {height: 420, legend: {mode: 'list'}});
  window.graph.setData({x: frame.x, series: frame.series.map(s => ({name: chart.seriesName(s.metric, '{{i}}'), values: s.values}))});
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return {fetch_ms: t1 - t0, total_ms: performance.now() - t0, series: frame.series.length, points: frame.x.length};
}"""

HOVER_PROBE = """() => { window.__lat = []; const over = document.querySelector('.u-over');
  over.addEventListener('mousemove', () => { const t = performance.now();
    requestAnimationFrame(() => requestAnimationFrame(() => window.__lat.push(performance.now() - t))); }); }"""

Request = tuple[str, str, bytes | None]  # method, path with query, form body


def replay(port: int, requests: list[Request], connections: int = 6) -> float:
    """Wall seconds to answer ``requests``, ``connections`` at a time (chromium's limit per host)."""
    def one(req: Request) -> None:
        method, path, body = req
        conn = http.client.HTTPConnection(HOST, port, timeout=300)
        try:
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read()
            if resp.status != 200:
                raise BenchError(f"{method} {path} answered {resp.status}: {text[:200]!r}")
        finally:
            conn.close()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(one, requests))
    return time.perf_counter() - t0


def percentile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    ensure_packages({"prometheus": "prometheus", "chromium": "chromium"})
    hours = 1 if args.quick else 6
    n_wave = 100 if args.quick else args.series
    steps = hours * 3600_000 // STEP_MS
    end_ms = int(time.time() * 1000) // STEP_MS * STEP_MS
    print(f"generating {hours} h of host history and {n_wave} wave series ...", flush=True)
    # Interleaved slice by slice, so every server receives the history in time order.
    payload = [b for pair in zip(bodies(host_history(end_ms, steps)), bodies(wave_history(end_ms, steps, n_wave)),
                                 strict=True) for b in pair]
    result: dict[str, Any] = {"hours": hours, "wave_series": n_wave, "points": steps, "machine": machine_info()}
    work = Path(tempfile.mkdtemp(prefix="ks-ui-bench-"))
    ks, prom = Kubesight(work), Prometheus(work)
    # kubesight's own host collector off: the dashboard shows the backfilled host only.
    ks.command = lambda: [*Kubesight.command(ks), "--no-collectors.host", "--no-collectors.containers"]  # type: ignore[method-assign]
    try:
        for srv in (ks, prom):
            srv.start()
            t0 = time.monotonic()
            load(srv.port, payload)
            print(f"{srv.name}: loaded {len(payload)} bodies in {time.monotonic() - t0:.1f}s", flush=True)
        time.sleep(3)  # kubesight's rules evaluate once over the fresh data (gauges on the dashboard)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            ctx = browser.new_context(viewport=TALL)
            result["dashboard"] = dashboard_runs(ctx, ks, prom, hours, args.runs)
            ctx.close()
            ctx = browser.new_context(viewport=VIEWPORT)
            result["big_graph"] = big_graph_runs(ctx, ks, prom, hours, end_ms, args.runs)
            browser.close()
    finally:
        ks.stop()
        prom.stop()
    return result


def dashboard_runs(ctx: Any, ks: Kubesight, prom: Prometheus, hours: int, runs: int) -> dict[str, Any]:
    url = (f"http://{HOST}:{ks.port}/d/kubesight-node?from=now-{hours}h&to=now&var-job=node"
           f"&var-instance={urllib.parse.quote(INSTANCE)}&refresh=")
    page_ms: list[float] = []
    ks_s: list[float] = []
    prom_s: list[float] = []
    states: dict[str, int] = {}
    requests: list[Request] = []
    for _ in range(runs):
        page = ctx.new_page()
        seen: list[Request] = []

        def record(req: Any, seen: list[Request] = seen) -> None:
            path = urllib.parse.urlsplit(req.url)
            if path.path.startswith("/api/v1/query"):
                seen.append((req.method, path.path + (f"?{path.query}" if path.query else ""), req.post_data_buffer))

        page.on("request", record)
        page.goto(url)
        page.wait_for_function(DASH_DONE, timeout=120_000)
        page_ms.append(page.evaluate("performance.now()"))
        states = page.evaluate("""() => { const c = {}; document.querySelectorAll('[data-state]').forEach(
            e => c[e.dataset.state] = (c[e.dataset.state] || 0) + 1); return c; }""")
        page.close()
        requests = seen
        # The same requests, the same moment's data, to both servers in turn.
        ks_s.append(replay(ks.port, seen))
        prom_s.append(replay(prom.port, seen))
    return {"panels": sum(states.values()), "panel_states": states, "queries": len(requests),
            "kubesight_page_ms": page_ms, "kubesight_queries_s": ks_s, "prometheus_queries_s": prom_s}


def big_graph_runs(ctx: Any, ks: Kubesight, prom: Prometheus, hours: int, end_ms: int,
                   runs: int) -> dict[str, Any]:
    start = end_ms - (hours * 3600_000 - STEP_MS)
    out: dict[str, Any] = {"kubesight": [], "hover_ms": [], "isolate_ms": [], "kubesight_query_s": [],
                           "prometheus_query_s": []}
    form = urllib.parse.urlencode({"query": "bench_wave", "start": start / 1000, "end": end_ms / 1000,
                                   "step": STEP_MS / 1000}).encode()
    req: list[Request] = [("POST", "/api/v1/query_range", form)]
    for _ in range(runs):
        page = ctx.new_page()
        page.goto(f"http://{HOST}:{ks.port}/setup")
        version = page.eval_on_selector("script[type=module]", "e => e.getAttribute('src')").split("/")[2]
        out["kubesight"].append(page.evaluate(BIG_GRAPH, [version, "bench_wave", start, end_ms, STEP_MS]))
        page.evaluate(HOVER_PROBE)
        box = page.locator(".u-over").bounding_box()
        for k in range(40):
            page.mouse.move(box["x"] + box["width"] * (0.05 + 0.9 * k / 39), box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(200)
        out["hover_ms"] += page.evaluate("window.__lat")
        t = page.evaluate("""async () => { const el = document.querySelector('.ks-legend-item');
            const t0 = performance.now(); el.click();
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            return performance.now() - t0; }""")
        out["isolate_ms"].append(t)
        page.close()
        out["kubesight_query_s"].append(replay(ks.port, req))
        out["prometheus_query_s"].append(replay(prom.port, req))
    return out


# --- report -----------------------------------------------------------------------------------------


def report(r: dict[str, Any]) -> str:
    d, g = r["dashboard"], r["big_graph"]
    med = statistics.median
    page = med(d["kubesight_page_ms"])
    ksq, prq = med(d["kubesight_queries_s"]) * 1000, med(d["prometheus_queries_s"]) * 1000
    total = med(x["total_ms"] for x in g["kubesight"])
    fetch = med(x["fetch_ms"] for x in g["kubesight"])
    gk, gp = med(g["kubesight_query_s"]) * 1000, med(g["prometheus_query_s"]) * 1000
    m = r["machine"]
    n = len(d["kubesight_page_ms"])
    return "\n".join([
        f"UI benchmark, {m['date']}, {m['nproc']} CPUs ({m['cpu']}), chromium headless, "
        f"{r['hours']} h of data at 15 s; medians of {n} runs.",
        "",
        "| measurement | kubesight | Prometheus 2.42 | ratio |",
        "|---|---|---|---|",
        f"| Node dashboard ({d['panels']} panels, {d['queries']} queries), page open until every panel drew "
        f"(1280x2400) | {page:,.0f} ms | - | - |",
        f"| the same {d['queries']} query requests, 6 at a time | {ksq:,.0f} ms | {prq:,.0f} ms | {ksq / prq:.2f}x |",
        f"| one graph, {r['wave_series']:,} series x {r['points']:,} points: query, transfer, draw (1280x800) "
        f"| {total:,.0f} ms (of which fetch {fetch:,.0f} ms) | - | - |",
        f"| that query_range alone | {gk:,.0f} ms | {gp:,.0f} ms | {gk / gp:.2f}x |",
        f"| hover on that graph, move to painted frame (p50 / p95 of {len(g['hover_ms'])}) "
        f"| {percentile(g['hover_ms'], 0.5):.0f} / {percentile(g['hover_ms'], 0.95):.0f} ms | - | - |",
        f"| isolate one series by legend click | {med(g['isolate_ms']):.0f} ms | - | - |",
        "",
        f"Dashboard panel states at the end: {d['panel_states']}.",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 h of data and 100 wave series")
    ap.add_argument("--series", type=int, default=1000, help="wave series in the big graph (default 1000)")
    ap.add_argument("--runs", type=int, default=5, help="page loads per measurement (default 5)")
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--markdown-out", type=Path)
    args = ap.parse_args(argv)
    try:
        r = measure(args)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    text = report(r)
    print(text)
    if args.json_out:
        args.json_out.write_text(json.dumps(r, indent=2, default=str))
    if args.markdown_out:
        args.markdown_out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
