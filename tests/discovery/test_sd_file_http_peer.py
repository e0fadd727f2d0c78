"""Differential: Prometheus 2.42 and kubesight discover the same file_sd, http_sd and static targets.

Prometheus reports what it discovered as ``discoveredLabels`` in
/api/v1/targets?state=any; kubesight's groups (group labels under target
labels) must give the same label sets. Prometheus never scrapes the fake
addresses: a relabel rule points every target at a closed port on 127.0.0.1.
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
from test_sd_http import SDServer  # type: ignore[import-not-found]

from kubesight.discovery.config import build_discoverers
from tests.conftest import free_port, require_peer

pytestmark = [pytest.mark.peer, pytest.mark.timeout(120)]
_SCRAPE_LABELS = {"job", "__scheme__", "__metrics_path__", "__scrape_interval__", "__scrape_timeout__"}
_RELABEL = [{"action": "labelmap", "regex": "(.+)", "replacement": "d_$1"},
            {"target_label": "__address__", "replacement": "127.0.0.1:9"}]


def _canon(labels: dict[str, str]) -> str:
    return json.dumps({k: v for k, v in sorted(labels.items()) if k not in _SCRAPE_LABELS})


def test_file_http_static_sd_match_prometheus(tmp_path: Path) -> None:
    prometheus = require_peer("prometheus", "prometheus")
    sd = tmp_path / "sd"
    sd.mkdir()
    (sd / "a.yml").write_text("- targets: ['a:1', 'b:2']\n  labels: {env: prod, port: 80, on: true}\n"
                              "- targets: ['c:3']\n")
    (sd / "b.json").write_text(json.dumps([{"targets": ["d:4"], "labels": {"x": "y", "__param_q": "1"}},
                                           {"targets": [], "labels": {"empty": "group"}}]))
    (sd / "c.yaml").write_text("[]\n")
    srv = SDServer()
    srv.body = json.dumps([{"targets": ["h:1", "h:2"], "labels": {"src": "http"}},
                           {"targets": ["h:3"]}]).encode()

    async def main() -> None:
        async with srv as url:
            jobs: list[dict[str, Any]] = [
                {"job_name": "file", "file_sd_configs": [{"files": ["sd/*.yml", "sd/*.json"]},
                                                         {"files": ["sd/c.yaml"]}]},
                {"job_name": "http", "http_sd_configs": [{"url": url}]},
                {"job_name": "static", "static_configs": [{"targets": ["s:1"], "labels": {"k": "v"}},
                                                          {"targets": ["s:2", "s:3"]}]},
            ]
            for j in jobs:
                j.update(scrape_interval="1h", relabel_configs=_RELABEL)
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
                    loop = asyncio.get_running_loop()
                    deadline = loop.time() + 60
                    while True:
                        assert loop.time() < deadline, (tmp_path / "prometheus.log").read_text()[-3000:]
                        await asyncio.sleep(0.5)
                        try:
                            r = await client.get(f"http://127.0.0.1:{port}/api/v1/targets?state=any")
                        except httpx.HTTPError:
                            continue
                        data = r.json()["data"]
                        theirs.clear()
                        for t in data["activeTargets"] + data["droppedTargets"]:
                            theirs.setdefault(t["discoveredLabels"]["job"], set()).add(
                                _canon(t["discoveredLabels"]))
                        if {k: len(v) for k, v in theirs.items()} == {"file": 4, "http": 3, "static": 3}:
                            break
                for job in jobs:
                    ours: set[str] = set()
                    for _, d in build_discoverers(job["job_name"], job, tmp_path):
                        async with Running(d) as out:
                            await wait_for(lambda o=out: bool(o.sends))  # type: ignore[misc]
                        ours |= {_canon({**g.labels, **t}) for g in out.groups.values() for t in g.targets}
                    assert ours == theirs[job["job_name"]], job["job_name"]
            finally:
                proc.terminate()
                proc.wait(30)
                log.close()
    asyncio.run(main())
