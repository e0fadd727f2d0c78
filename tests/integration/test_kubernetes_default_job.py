"""In a cluster with no scrape config, annotated pods are scraped (fake API server, real process)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from kubesight.discovery.fake_kube import FakeKube
from tests.conftest import start_server


@contextmanager
def fake_kube() -> Iterator[tuple[FakeKube, asyncio.AbstractEventLoop]]:
    loop = asyncio.new_event_loop()
    t = threading.Thread(target=loop.run_forever, daemon=True)
    t.start()
    kube = FakeKube()
    asyncio.run_coroutine_threadsafe(kube.__aenter__(), loop).result(10)
    try:
        yield kube, loop
    finally:
        asyncio.run_coroutine_threadsafe(kube.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        t.join(10)


@contextmanager
def exporter(body: bytes) -> Iterator[int]:
    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/custom":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()


def pod(name: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}",
                     "labels": {"app": name}, "annotations": annotations},
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]},
        "status": {"podIP": "127.0.0.1", "phase": "Running", "hostIP": "10.0.0.1",
                   "conditions": [{"type": "Ready", "status": "True"}]},
    }


def test_annotated_pods_are_scraped_by_default(tmp_path: Path) -> None:
    with exporter(b"# TYPE demo_metric gauge\ndemo_metric 42\n") as port, fake_kube() as (kube, loop):
        ann = {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/custom"}
        loop.call_soon_threadsafe(kube.add, "pods", pod("web", ann))
        loop.call_soon_threadsafe(kube.add, "pods", pod("quiet", {}))
        srv = start_server(tmp_path / "data", "--kubernetes.api-server", kube.url)
        try:
            deadline = time.monotonic() + 40
            while True:
                r = httpx.get(f"{srv.url}/api/v1/query", params={"query": "demo_metric"}).json()
                if r["data"]["result"] or time.monotonic() > deadline:
                    break
                time.sleep(1)
            (series,) = r["data"]["result"]
            assert series["value"][1] == "42"
            assert series["metric"] == {
                "__name__": "demo_metric", "app": "web", "instance": f"127.0.0.1:{port}",
                "job": "kubernetes-pods", "namespace": "shop", "pod": "web",
            }
            t = httpx.get(f"{srv.url}/api/v1/targets").json()["data"]
            pools = {x["scrapePool"] for x in t["activeTargets"]}
            # the scrape jobs, beside the built-in collectors (listed as targets too)
            assert pools == {"kubesight", "kubernetes-pods", "node", "cadvisor", "kube-state-metrics"}
            dropped = [d["discoveredLabels"]["__meta_kubernetes_pod_name"] for d in t["droppedTargets"]]
            assert dropped == ["quiet"]
        finally:
            srv.stop()


def test_service_monitor_becomes_a_job(tmp_path: Path) -> None:
    with exporter(b"demo_metric 7\n") as port, fake_kube() as (kube, loop):
        add = lambda res, obj: loop.call_soon_threadsafe(kube.add, res, obj)  # noqa: E731
        add("pods", pod("api-0", {}))
        add("services", {
            "metadata": {"name": "api", "namespace": "shop", "uid": "svc-api", "labels": {"app": "api"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.1.0.5",
                     "ports": [{"name": "metrics", "port": port, "protocol": "TCP", "targetPort": port}]},
        })
        add("endpoints", {
            "metadata": {"name": "api", "namespace": "shop", "labels": {"app": "api"}},
            "subsets": [{
                "addresses": [{"ip": "127.0.0.1", "nodeName": "node-1",
                               "targetRef": {"kind": "Pod", "name": "api-0", "namespace": "shop", "uid": "uid-api-0"}}],
                "ports": [{"name": "metrics", "port": port, "protocol": "TCP"}],
            }],
        })
        add("servicemonitors", {
            "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "api"}},
                     "endpoints": [{"port": "metrics", "path": "/custom", "interval": "1s"}]},
        })
        srv = start_server(tmp_path / "data", "--kubernetes.api-server", kube.url, "--kubernetes.monitors")
        try:
            deadline = time.monotonic() + 40
            while True:
                r = httpx.get(f"{srv.url}/api/v1/query", params={"query": 'demo_metric{job="api"}'}).json()
                if r["data"]["result"] or time.monotonic() > deadline:
                    break
                time.sleep(1)
            (series,) = r["data"]["result"]
            assert series["value"][1] == "7"
            m = series["metric"]
            assert (m["namespace"], m["service"], m["endpoint"], m["pod"]) == ("shop", "api", "metrics", "api-0")
            pools = httpx.get(f"{srv.url}/api/v1/scrape_pools").json()["data"]["scrapePools"]
            assert "serviceMonitor/shop/api/0" in pools
        finally:
            srv.stop()
