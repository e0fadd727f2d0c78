"""A real Prometheus (Debian's package) remote-writes to kubesight and reads back from it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from kubesight.model import Matcher
from tests.conftest import Server
from tests.integration.test_server import read
from tests.peers import prometheus

pytestmark = pytest.mark.peer


def prom_metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_prometheus_remote_write_delivers_everything(server: Server, tmp_path: Path) -> None:
    config = f"""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs: [{{targets: [SELF]}}]
remote_write:
  - url: {server.url}/api/v1/write
    queue_config: {{batch_send_deadline: 1s, max_samples_per_send: 2000}}
    metadata_config: {{send_interval: 2s}}
"""
    with prometheus(tmp_path / "prom", config) as purl:
        deadline = time.monotonic() + 60
        while prom_metric(purl, "prometheus_remote_storage_samples_total") < 5000:
            assert time.monotonic() < deadline, "prometheus sent too few samples"
            time.sleep(1)
        time.sleep(3)  # let the queue drain what it has scraped
        sent = prom_metric(purl, "prometheus_remote_storage_samples_total")
        failed = prom_metric(purl, "prometheus_remote_storage_samples_failed_total")
        dropped = prom_metric(purl, "prometheus_remote_storage_samples_dropped_total")
        retried = prom_metric(purl, "prometheus_remote_storage_samples_retried_total")
        assert (failed, dropped, retried) == (0, 0, 0), (failed, dropped, retried)
        assert sent > 5000
        # Compare raw samples of a series over a window already delivered.
        end = int(time.time() * 1000) - 5000
        start = end - 10_000
        series = "prometheus_tsdb_head_samples_appended_total"
        r = httpx.get(f"{purl}/api/v1/query", params={"query": f"{series}[10s]", "time": end / 1000}).json()
        want = {
            tuple(sorted(s["metric"].items())): [(round(float(t) * 1000), float(v)) for t, v in s["values"]]
            for s in r["data"]["result"]
        }
        got = {
            tuple(sorted(lb.items())): [p for p in pts if start < p[0] <= end]
            for lb, pts in read(server.url, [Matcher.of("__name__", "=", series)], start, end)
        }
        assert want and got == want
        # Only what Prometheus sent: kubesight also monitors itself (job kubesight).
        sel = {"match[]": '{job="prometheus"}'}
        names_prom = set(httpx.get(f"{purl}/api/v1/label/__name__/values", params=sel).json()["data"])
        names_ks = set(httpx.get(f"{server.url}/api/v1/label/__name__/values", params=sel).json()["data"])
        assert len(names_ks) > 100 and names_ks <= names_prom
        # Metadata sent by Prometheus (every metadata_config.send_interval) is kept.
        deadline = time.monotonic() + 20
        metric = "prometheus_http_requests_total"
        while True:
            md = httpx.get(f"{server.url}/api/v1/metadata", params={"metric": metric}).json()["data"]
            if md or time.monotonic() > deadline:
                break
            time.sleep(1)
        want_md = httpx.get(f"{purl}/api/v1/metadata", params={"metric": metric}).json()["data"]
        assert md == want_md and md[metric][0]["type"] == "counter"


def test_prometheus_remote_read_from_kubesight(server: Server, tmp_path: Path) -> None:
    from tests.integration.test_server import batch, write

    t = int(time.time() * 1000) - 60_000
    for step in range(5):
        assert write(server.url, batch(3, t + step * 15_000, "from_ks", step)).status_code == 204
    config = f"""
global: {{scrape_interval: 1h}}
remote_read:
  - url: {server.url}/api/v1/read
    read_recent: true
"""
    with prometheus(tmp_path / "reader", config) as purl:
        r = httpx.get(f"{purl}/api/v1/query",
                      params={"query": "from_ks[2m]", "time": (t + 61_000) / 1000}).json()
        assert r["status"] == "success", r
        got = {s["metric"]["i"]: [float(v) for _, v in s["values"]] for s in r["data"]["result"]}
        assert got == {"0": [0, 1, 2, 3, 4], "1": [1, 2, 3, 4, 5], "2": [2, 3, 4, 5, 6]}
