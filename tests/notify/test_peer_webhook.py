"""Webhook payloads byte for byte against the real Alertmanager, same config, same alerts."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubesight.notify.config import load_dict
from kubesight.notify.notifier import Notifier
from tests.notify.helpers import Recorder, serve_notifier, webhook_receiver
from tests.peers import alertmanager

pytestmark = [pytest.mark.peer, pytest.mark.slow]

EXTERNAL = "http://am.example:9093"
CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: [team="db"]
      receiver: db
    - matchers: [team="web"]
      receiver: 'web (main)'
      group_by: ['...']
receivers:
  - name: hook
    webhook_configs: [{url: 'REC/hook'}]
  - name: db
    webhook_configs: [{url: 'REC/db', max_alerts: 1}]
  - name: 'web (main)'
    webhook_configs: [{url: 'REC/web'}]
"""


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def alerts(start: datetime, end: datetime | None) -> list[dict[str, Any]]:
    disk = {"summary": "<b>disk</b> & co", "runbook": "http://x/?a=1&b=2"}
    out: list[dict[str, Any]] = [
        {"labels": {"alertname": "A", "job": "node", "instance": "b:9100", "severity": "warning"},
         "annotations": disk, "generatorURL": "http://prom/graph?g0.expr=up"},
        {"labels": {"alertname": "A", "job": "node", "instance": "a:9100", "severity": "warning"},
         "annotations": disk},
        {"labels": {"alertname": "A", "job": "api", "severity": "critical"}, "annotations": {"note": "ü ß \u2028"}},
        {"labels": {"alertname": "Db", "team": "db", "instance": "x"}},
        {"labels": {"alertname": "Db", "team": "db", "instance": "y"}},
        {"labels": {"alertname": "W", "team": "web", "path": 'a"b'}},
    ]
    for a in out:
        a["startsAt"] = iso(start)
        if end is not None:
            a["endsAt"] = iso(end)
    return out


def wait_for(recs: list[Recorder], n: int) -> None:
    deadline = time.monotonic() + 60
    while any(len(r.bodies) < n for r in recs):
        assert time.monotonic() < deadline, [r.bodies for r in recs]
        time.sleep(0.2)


def by_group(rec: Recorder) -> dict[tuple[str, str, str], bytes]:
    out = {}
    for path, body in zip(rec.paths, rec.bodies, strict=True):
        msg = yaml.safe_load(body)
        out[(path, msg["groupKey"], msg["status"])] = body
    return out


def test_webhook_payloads_match_alertmanager(tmp_path: Path) -> None:
    with webhook_receiver() as theirs, webhook_receiver() as ours:
        start = datetime.now(UTC).replace(microsecond=123000) - timedelta(minutes=5)
        with alertmanager(tmp_path / "am", CONFIG.replace("REC", theirs.url),
                          f"--web.external-url={EXTERNAL}") as am_url:
            cfg = load_dict(yaml.safe_load(CONFIG.replace("REC", ours.url)))
            n = Notifier(cfg, tmp_path / "notify", external_url=EXTERNAL)
            with serve_notifier(n, tmp_path / "data") as ks_url:
                for url in (am_url, ks_url):
                    assert httpx.post(f"{url}/api/v2/alerts", json=alerts(start, None)).status_code == 200
                wait_for([theirs, ours], 3)
                time.sleep(2)  # nothing more should come (repeat_interval is 1h)
                end = datetime.now(UTC).replace(microsecond=456000) - timedelta(seconds=1)
                for url in (am_url, ks_url):
                    assert httpx.post(f"{url}/api/v2/alerts", json=alerts(start, end)).status_code == 200
                wait_for([theirs, ours], 6)
                time.sleep(2)
    mine, real = by_group(ours), by_group(theirs)
    assert len(real) == 6, list(real)
    assert sorted(mine) == sorted(real)
    for key in real:
        assert mine[key].decode() == real[key].decode(), key
