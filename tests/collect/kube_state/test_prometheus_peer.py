"""Debian's Prometheus scrapes a collection as served text and answers the kubernetes-mixin
queries as kubesight's engine does: the exposition parses as intended, and the series join
the way the mixin expects in the real thing too."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from kubesight.collect.family import encode
from kubesight.discovery.fake_kube import FakeKube
from tests.peers import prometheus

from .harness import load_cluster, read_families, running
from .test_mixin_queries import QUERIES

pytestmark = [pytest.mark.peer, pytest.mark.slow, pytest.mark.timeout(180)]


@contextmanager
def serve(body: bytes) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def _collected() -> bytes:
    async def main() -> bytes:
        async with FakeKube() as kube:
            load_cluster(kube)
            async with running(kube) as c:
                return encode(c.collect())
    return asyncio.run(main())


def test_prometheus_reads_the_collection_and_answers_the_mixin(tmp_path: Path) -> None:
    body = _collected()
    ours = {name: fam for name, fam in read_families(body).items() if fam[2]}
    with serve(body) as target:
        config = f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
- job_name: kube-state-metrics
  honor_labels: true
  static_configs: [{{targets: ["{target}"]}}]
"""
        with prometheus(tmp_path, config) as url:
            def query(q: str) -> list[dict[str, str]]:
                r = httpx.get(f"{url}/api/v1/query", params={"query": q}, timeout=10).json()
                assert r["status"] == "success", r
                return [s["metric"] for s in r["data"]["result"]]

            deadline = time.monotonic() + 60
            while not query('up{job="kube-state-metrics"} == 1') or not query("kube_pod_info"):
                assert time.monotonic() < deadline, "Prometheus never scraped the collection"
                time.sleep(0.5)
            time.sleep(1.5)  # a second scrape: max_over_time sees more than one sample

            # Every series of every family, as Prometheus stored it.
            got = query('{__name__=~"kube_.+", job="kube-state-metrics"}')
            stored = {(m.pop("__name__"), tuple(sorted((k, v) for k, v in m.items()
                                                        if k not in ("job", "instance")))) for m in got}
            want = {(name, lbls) for name, fam in ours.items() if name.startswith("kube_") for lbls in fam[2]}
            assert stored == want
            # Metadata (HELP/TYPE) as scraped.
            meta = httpx.get(f"{url}/api/v1/metadata", params={"metric": "kube_pod_container_status_restarts_total"},
                             timeout=10).json()["data"]["kube_pod_container_status_restarts_total"][0]
            assert meta == {"type": "counter", "help": "[STABLE] The number of container restarts per container.",
                            "unit": ""}

            for name, (q, expected) in QUERIES.items():
                answer = query(q)
                for m in answer:
                    if "instance" in m:
                        m["instance"] = "kubesight"
                key = lambda d: sorted(d.items())  # noqa: E731
                assert sorted(answer, key=key) == sorted(expected, key=key), name
