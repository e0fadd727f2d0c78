"""Prometheus and kubesight scrape the same node_exporter with the same config, and agree."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_server
from tests.peers import node_exporter, prometheus

pytestmark = pytest.mark.peer

CONFIG = """
global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: [NODE]
        labels: {env: test, team: infra}
    relabel_configs:
      - source_labels: [__address__]
        regex: '(.*):(\\d+)'
        target_label: host
        replacement: 'h-$1'
      - target_label: team
        action: replace
        replacement: platform
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'go_.*|promhttp_.*'
        action: drop
      - source_labels: [__name__, mode]
        regex: 'node_cpu_seconds_total;(idle|user)'
        target_label: busy
        replacement: '${1}_mode'
      - regex: 'fstype'
        action: labeldrop
"""


def series_set(url: str, start: float, end: float) -> set[tuple[tuple[str, str], ...]]:
    r = httpx.get(f"{url}/api/v1/series", params={"match[]": '{job="node"}', "start": start, "end": end}, timeout=30)
    assert r.status_code == 200, r.text
    return {tuple(sorted(s.items())) for s in r.json()["data"]}


def active_target(url: str) -> dict[str, object]:
    data = httpx.get(f"{url}/api/v1/targets").json()["data"]
    (t,) = [t for t in data["activeTargets"] if t["scrapePool"] == "node"]
    return t


def test_same_targets_and_series_as_prometheus(tmp_path: Path) -> None:
    with node_exporter(tmp_path / "ne") as node:
        config = CONFIG.replace("NODE", node)
        cfg_file = tmp_path / "kubesight.yml"
        cfg_file.write_text(config)
        ks = start_server(tmp_path / "ks-data", "--config", str(cfg_file))
        try:
            with prometheus(tmp_path / "prom", config) as prom:
                time.sleep(9)  # several scrapes in both
                end = time.time() - 1
                start = end - 4
                for url in (prom, ks.url):
                    assert active_target(url)["health"] == "up", active_target(url)
                pt, kt = active_target(prom), active_target(ks.url)
                for field in ("labels", "discoveredLabels", "scrapeUrl", "scrapeInterval", "scrapeTimeout"):
                    assert kt[field] == pt[field], field
                want = series_set(prom, start, end)
                got = series_set(ks.url, start, end)
                assert len(want) > 200
                # node_exporter's own scrape metrics can differ by which
                # collectors raced a scrape; everything else must be identical.
                diff = {dict(s)["__name__"] for s in want ^ got}
                assert not diff, sorted(diff)[:20]
                assert not any(dict(s)["__name__"].startswith("go_") for s in got)
                assert any(dict(s).get("busy") == "idle_mode" for s in got)
                assert not any("fstype" in dict(s) for s in got)
                up = httpx.get(f"{ks.url}/api/v1/query", params={"query": 'up{job="node"}'}).json()
                assert up["data"]["result"][0]["value"][1] == "1"
                md = httpx.get(f"{ks.url}/api/v1/targets/metadata", params={"metric": "node_load1"}).json()
                assert md["data"][0]["type"] == "gauge" and md["data"][0]["target"]["host"].startswith("h-")
        finally:
            ks.stop()
