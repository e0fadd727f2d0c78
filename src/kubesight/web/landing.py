"""The page at ``/`` until the full UI lands: what is running and how to use it.

Server-rendered, no JavaScript, no external assets. It shows the store's state
and the endpoints a user points their tools at.
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

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2129}
@media(prefers-color-scheme:dark){body{background:#16181d;color:#d8dbe0}
 .card{background:#1f2229!important;border-color:#2c3039!important}code{background:#2c3039!important}}
main{max-width:960px;margin:0 auto;padding:24px}h1{margin:0 0 4px;font-size:24px}
.sub{opacity:.7;margin-bottom:20px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}
.card{background:#fff;border:1px solid #dfe2e6;border-radius:8px;padding:14px}
.num{font-size:22px;font-weight:600}.lbl{opacity:.7;font-size:13px}
table{border-collapse:collapse;width:100%}td{padding:6px 8px;border-top:1px solid #8882;vertical-align:top}
code,pre{font-family:ui-monospace,monospace;font-size:13px}code{background:#eef0f3;padding:1px 4px;border-radius:4px}
pre{margin:0;white-space:pre-wrap}
"""


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
        body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>kubesight</title>
<style>{_STYLE}</style></head><body><main>
<h1>kubesight</h1><div class="sub">version {__version__} · data in <code>{html.escape(data_dir)}</code></div>
<div class="grid">{''.join(f'<div class="card"><div class="num">{n}</div><div class="lbl">{html.escape(lb)}</div></div>' for n, lb in cards)}</div>
<p>Head data from {_fmt_time(st.head_mint, empty)} to {_fmt_time(st.head_maxt, empty)}.
The dashboards and query editor arrive with the web UI; until then, use Grafana or the API below.</p>
<h2>Send data</h2><div class="card"><pre># prometheus.yml
remote_write:
  - url: {html.escape(base)}/api/v1/write</pre></div>
<h2>Query it</h2><div class="card">Grafana: add a <b>Prometheus</b> data source with URL <code>{html.escape(base)}</code>.</div>
<h2>Endpoints</h2><div class="card"><table>{rows}</table></div>
</main></body></html>"""
        return HTMLResponse(body)

    return [Route("/", landing, methods=["GET", "HEAD"])]
