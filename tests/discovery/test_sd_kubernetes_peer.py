"""Differential: Prometheus 2.42 and kubesight discover the same targets from one fake API server.

Both read every role from the same FakeKube; Prometheus' ``discoveredLabels``
(from /api/v1/targets?state=any) must equal the label sets kubesight builds.
Prometheus never scrapes the fake addresses: a relabel rule points every
target at a closed port on 127.0.0.1, and labelmap keeps targets distinct.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sd_helpers import Running, wait_for  # type: ignore[import-not-found]
from test_sd_kubernetes import ENDPOINTS, NODE, POD, SERVICE  # type: ignore[import-not-found]

from kubesight.discovery.config import build_discoverers
from kubesight.discovery.fake_kube import FakeKube
from kubesight.discovery.kubernetes import KubernetesDiscoverer
from tests.conftest import free_port, require_peer

pytestmark = [pytest.mark.peer, pytest.mark.timeout(120)]
ROLES = ["node", "pod", "service", "endpoints", "endpointslice", "ingress"]
# Labels Prometheus adds to every discovered target from the scrape config, not from discovery.
_SCRAPE_LABELS = {"job", "__scheme__", "__metrics_path__", "__scrape_interval__", "__scrape_timeout__"}

SLICE: dict[str, Any] = {
    "metadata": {"name": "testservice-abc", "namespace": "default",
                 "labels": {"kubernetes.io/service-name": "testservice"}},
    "addressType": "IPv4",
    "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}],
    "endpoints": [{"addresses": ["1.2.3.4"], "conditions": {"ready": True},
                   "targetRef": {"kind": "Pod", "name": "testpod", "namespace": "default"},
                   "nodeName": "testnode"},
                  {"addresses": ["5.6.7.8"], "conditions": {"ready": False}, "hostname": "h"}]}
INGRESS: dict[str, Any] = {
    "metadata": {"name": "ing", "namespace": "default", "labels": {"a.b/c": "d"}},
    "spec": {"tls": [{"hosts": ["*.example.com"]}],
             "rules": [{"host": "x.example.com", "http": {"paths": [{"path": "/p"}, {}]}},
                       {"host": "plain.org"}]}}


def _populate(kube: FakeKube) -> None:
    kube.add("nodes", {**NODE, "metadata": {**NODE["metadata"], "name": "testnode"}})  # type: ignore[dict-item]
    kube.add("pods", POD)
    kube.add("services", SERVICE)
    kube.add("endpoints", ENDPOINTS)
    kube.add("endpointslices", SLICE)
    kube.add("ingresses", INGRESS)


def _canon(labels: dict[str, str]) -> str:
    return json.dumps({k: v for k, v in sorted(labels.items()) if k not in _SCRAPE_LABELS})


def _has_kubernetes_sd(promtool: str, tmp_path: Path) -> bool:
    # Debian builds Prometheus without some SD mechanisms (kubernetes among them);
    # such a binary rejects the key instead of discovering anything.
    probe = tmp_path / "probe.yml"
    probe.write_text(yaml.safe_dump({"scrape_configs": [{"job_name": "p", "kubernetes_sd_configs": [
        {"role": "pod", "api_server": "http://127.0.0.1:1"}]}]}))
    r = subprocess.run([promtool, "check", "config", str(probe)], capture_output=True, timeout=60)
    return b"kubernetes_sd_configs not found" not in r.stdout + r.stderr


def test_kubernetes_sd_matches_prometheus(tmp_path: Path) -> None:
    prometheus = require_peer("prometheus", "prometheus")
    promtool = require_peer("promtool", "prometheus")
    if not _has_kubernetes_sd(promtool, tmp_path):
        pytest.skip(f"{prometheus} is built without kubernetes_sd_configs (Debian drops it)")

    async def main() -> None:
        async with FakeKube() as kube:
            _populate(kube)
            jobs = [{"job_name": role, "scrape_interval": "1h",
                     "kubernetes_sd_configs": [{"role": role, "api_server": kube.url,
                                                **({"attach_metadata": {"node": True}} if role == "pod" else {})}],
                     "relabel_configs": [
                         {"action": "labelmap", "regex": "__meta_kubernetes_(.+)"},
                         {"target_label": "__address__", "replacement": "127.0.0.1:9"}]}
                    for role in ROLES]
            cfg = tmp_path / "prometheus.yml"
            cfg.write_text(yaml.safe_dump({"scrape_configs": jobs}))
            port = free_port()
            log = (tmp_path / "prometheus.log").open("wb")
            proc = subprocess.Popen(
                [prometheus, f"--config.file={cfg}", f"--web.listen-address=127.0.0.1:{port}",
                 f"--storage.tsdb.path={tmp_path / 'data'}"], stdout=log, stderr=subprocess.STDOUT)
            try:
                theirs: dict[str, set[str]] = {}
                async with httpx.AsyncClient(trust_env=False) as client:
                    async def poll() -> bool:
                        try:
                            r = await client.get(f"http://127.0.0.1:{port}/api/v1/targets?state=any")
                        except httpx.HTTPError:
                            return False
                        data = r.json()["data"]
                        theirs.clear()
                        for t in data["activeTargets"] + data["droppedTargets"]:
                            theirs.setdefault(t["discoveredLabels"]["job"], set()).add(
                                _canon(t["discoveredLabels"]))
                        return set(theirs) == set(ROLES)

                    loop = asyncio.get_running_loop()
                    deadline = loop.time() + 60
                    while not await poll():
                        assert loop.time() < deadline, (tmp_path / "prometheus.log").read_text()[-3000:]
                        await asyncio.sleep(0.5)
                    await asyncio.sleep(2)  # let every role settle
                    await poll()
                for job in jobs:
                    [(_, d)] = build_discoverers(str(job["job_name"]), job, tmp_path)
                    assert isinstance(d, KubernetesDiscoverer)
                    async with Running(d) as out:
                        await wait_for(lambda: bool(out.groups))
                        await asyncio.sleep(0.1)
                    ours = {_canon({**g.labels, **t}) for g in out.groups.values() for t in g.targets}
                    assert ours == theirs[str(job["job_name"])], job["job_name"]
            finally:
                proc.terminate()
                proc.wait(30)
                log.close()
    asyncio.run(main())
