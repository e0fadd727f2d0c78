"""The Connect page (``/setup``): what is running and how to point tools at it.

Server-rendered whole, so it reads the same without JavaScript. It shows the
store's state and the endpoints a user points their tools at.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from kubesight import __version__
from kubesight.store.engine import StoreStats
from kubesight.web.layout import page

_ENDPOINTS = [
    ("POST", "/api/v1/write", "Prometheus remote write 1.0 and 2.0"),
    ("POST", "/api/v1/read", "Prometheus remote read"),
    ("GET", "/api/v1/query?query=up", "PromQL instant query"),
    ("GET", "/api/v1/query_range", "PromQL range query"),
    ("GET", "/api/v1/series?match[]=up", "series by selector"),
    ("GET", "/api/v1/labels", "label names"),
    ("GET", "/api/v1/label/__name__/values", "metric names"),
    ("GET", "/api/v1/metadata", "metric metadata"),
    ("GET", "/api/v1/status/tsdb", "series counts and cardinality"),
    ("GET", "/api/v1/status/buildinfo", "build information"),
    ("GET", "/metrics", "kubesight's own metrics"),
    ("GET", "/-/ready", "readiness probe"),
]

def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def _fmt_time(ms: int, empty: bool) -> str:
    if empty:
        return "—"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def routes(stats: Callable[[], StoreStats], data_dir: str) -> list[Route]:
    async def landing(request: Request) -> Response:
        st = stats()
        base = str(request.base_url).rstrip("/")
        cards = [
            (f"{st.series:,}", "series"),
            (f"{st.samples_appended:,}", "samples ingested since start"),
            (f"{st.head_samples:,}", "samples in memory"),
            (f"{st.blocks:,}", f"blocks on disk ({_fmt_bytes(st.block_bytes)})"),
            (_fmt_bytes(st.wal_bytes), "write-ahead log"),
        ]
        empty = st.head_samples == 0
        rows = "".join(
            f"<tr><td><code>{m}</code></td><td><a href='{html.escape(p)}'><code>{html.escape(p)}</code></a></td>"
            f"<td>{html.escape(d)}</td></tr>"
            if m == "GET"
            else f"<tr><td><code>{m}</code></td><td><code>{html.escape(p)}</code></td><td>{html.escape(d)}</td></tr>"
            for m, p, d in _ENDPOINTS
        )
        body = f"""<h1>Connect</h1><div class="ks-sub">kubesight {__version__} · data in <code>{html.escape(data_dir)}</code></div>
<div class="ks-cards">{''.join(f'<div class="ks-card"><div class="ks-num">{n}</div><div class="ks-lbl">{html.escape(lb)}</div></div>' for n, lb in cards)}</div>
<p>Head data from {_fmt_time(st.head_mint, empty)} to {_fmt_time(st.head_maxt, empty)}.</p>
<h2>Send data</h2><div class="ks-panel"><pre># prometheus.yml
remote_write:
  - url: {html.escape(base)}/api/v1/write</pre></div>
<h2>Query it</h2><div class="ks-panel">Grafana: add a <b>Prometheus</b> data source with URL <code>{html.escape(base)}</code>,
or use <a href="/graph">Explore</a> and the <a href="/dashboards">dashboards</a> here.</div>
<h2>Endpoints</h2><div class="ks-panel"><table class="ks-table">{rows}</table></div>"""
        return HTMLResponse(page("Connect", "/setup", "setup", None, body=body),
                            headers={"Cache-Control": "no-cache"})

    return [Route("/setup", landing, methods=["GET", "HEAD"])]
