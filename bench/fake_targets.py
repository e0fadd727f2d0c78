"""Many fake node_exporters behind one port, for the scrape benchmark.

    python bench/fake_targets.py --targets 1000 --series 500 --port 9100

``GET /metrics/N`` (``0 <= N < targets``) answers target N's text exposition
0.0.4: ``--series`` series of node_exporter's names and labels (the first ones
of :func:`bench.workload.node_exporter_catalog`, HELP and TYPE per family, as
node_exporter writes them), rendered by kubesight's own ``encode_text``.
Values move between scrapes as on a real host: every target has ``--variants``
bodies, consecutive steps of :class:`bench.workload.Workload`, served in turn
(a counter goes back when the rotation wraps; scrapers only see a reset).

The server must not be what the benchmark measures, so every body is rendered
and gzip-compressed before it answers ``/-/ready``; a request costs a dict
lookup and a write. Both Prometheus and kubesight ask for gzip; a client that
does not gets the body inflated on the fly (slower, but nobody measured asks).

``GET /arrivals`` returns when each target's requests arrived (Unix seconds,
taken on entry to the handler) as ``{"arrivals": {"N": [t, ...]}}``: the
benchmark's ground truth for whether scrapes happened on time, independent of
the timestamps the scraper writes.

Only ever binds 127.0.0.1.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import orjson

if __package__ in (None, ""):  # run as a script: make "bench" importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.workload import Workload, WorkloadSpec
from kubesight.model import MetricMetadata
from kubesight.wire.exposition import CONTENT_TYPE_TEXT, EncodeSample, encode_text

HOST = "127.0.0.1"
# Fixed so that every run serves the same bytes (the workload's values depend on it).
END_MS = 1_700_000_000_000
# Go's compress/gzip default, which node_exporter's promhttp handler uses.
GZIP_LEVEL = 6

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def render_bodies(targets: int, series: int, variants: int) -> list[list[bytes]]:
    """``bodies[target][variant]``: gzip-compressed text exposition, ``series`` lines each."""
    wl = Workload(WorkloadSpec(instances=targets, steps=variants, end_ms=END_MS))
    if series > wl.series_per_instance:
        raise SystemExit(
            f"fake_targets: at most {wl.series_per_instance} series per target "
            f"(the node_exporter catalog), asked for {series}"
        )
    defs = wl.catalog[:series]
    # Target labels (instance, job) are the scraper's to attach, not the exporter's.
    own = [tuple((k, v) for k, v in lbls if k not in ("instance", "job")) for lbls in wl.series]
    order: dict[str, int] = {}
    for d in defs:
        order.setdefault(d.name, len(order))
    metas = [
        MetricMetadata(
            name,
            "counter" if name.endswith("_total") else "gauge",
            f"node_exporter metric {name}.",
            "",
        )
        for name in order
    ]
    per = wl.series_per_instance
    bodies: list[list[bytes]] = [[] for _ in range(targets)]
    for _, values in wl.steps():
        vals = values.tolist()
        for t in range(targets):
            base = t * per
            grouped: list[list[EncodeSample]] = [[] for _ in metas]
            for j, d in enumerate(defs):
                grouped[order[d.name]].append((own[base + j], vals[base + j], None))
            text = encode_text(zip(metas, grouped, strict=True))
            bodies[t].append(gzip.compress(text, compresslevel=GZIP_LEVEL, mtime=0))
    return bodies


class FakeTargets:
    """The ASGI app: target bodies by path, arrival times by target."""

    def __init__(self, bodies: list[list[bytes]]) -> None:
        self.bodies = bodies
        self.turn = [0] * len(bodies)
        self.arrivals: list[list[float]] = [[] for _ in bodies]
        self.raw_size = len(gzip.decompress(bodies[0][0])) if bodies else 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        now = time.time()
        path: str = scope["path"]
        if path.startswith("/metrics/"):
            try:
                i = int(path[len("/metrics/") :])
                variants = self.bodies[i]
            except (ValueError, IndexError):
                await _answer(send, 404, b"no such target\n", b"text/plain")
                return
            self.arrivals[i].append(now)
            k = self.turn[i]
            self.turn[i] = (k + 1) % len(variants)
            accept = next((v for n, v in scope["headers"] if n == b"accept-encoding"), b"")
            if b"gzip" in accept:
                await _answer(send, 200, variants[k], CONTENT_TYPE_TEXT.encode(), b"gzip")
            else:
                await _answer(send, 200, gzip.decompress(variants[k]), CONTENT_TYPE_TEXT.encode())
        elif path == "/arrivals":
            body = orjson.dumps({"arrivals": {str(i): a for i, a in enumerate(self.arrivals)}})
            await _answer(send, 200, body, b"application/json")
        elif path == "/-/ready":
            await _answer(send, 200, b"ready\n", b"text/plain")
        else:
            await _answer(send, 404, b"not found\n", b"text/plain")


async def _answer(
    send: Send, status: int, body: bytes, ctype: bytes, encoding: bytes | None = None
) -> None:
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    if encoding:
        headers.append((b"content-encoding", encoding))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/fake_targets.py", description=__doc__.split("\n")[0])
    p.add_argument("--targets", type=int, default=1000)
    p.add_argument("--series", type=int, default=500, help="series per target")
    p.add_argument("--variants", type=int, default=4, help="bodies per target, served in turn")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)

    import uvicorn

    t0 = time.monotonic()
    app = FakeTargets(render_bodies(args.targets, args.series, args.variants))
    wire = sum(len(b) for bs in app.bodies for b in bs) / max(1, args.targets * args.variants)
    print(
        f"fake_targets: {args.targets} targets x {args.series} series, {args.variants} variants "
        f"rendered in {time.monotonic() - t0:.1f}s; body {app.raw_size / 1e3:.1f} kB, "
        f"{wire / 1e3:.1f} kB gzip",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=HOST,
        port=args.port,
        # uvloop + httptools: the fastest stack at hand, so the targets are never the bottleneck.
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        # A real exporter (Go's net/http) keeps idle connections open; uvicorn's
        # 5 s default would make every 15 s scrape open a new connection.
        timeout_keep_alive=120,
        # The default 2048 could refuse a scraper that opens one connection per target.
        backlog=4096,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
