"""A real Prometheus with ``alerting.alertmanagers`` pointed at kubesight delivers its alerts."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import yaml

from kubesight.notify.config import load_dict
from kubesight.notify.notifier import Notifier
from tests.notify.helpers import serve_notifier, webhook_receiver
from tests.peers import prometheus

pytestmark = [pytest.mark.peer, pytest.mark.slow]

RULES = """
groups:
  - name: always
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {severity: test}
        annotations: {summary: 'fires on every evaluation'}
"""


def test_prometheus_delivers_firing_alerts(tmp_path: Path) -> None:
    with webhook_receiver() as hook:
        cfg = load_dict(yaml.safe_load(f"""
route: {{receiver: hook, group_wait: 1s, group_interval: 1s}}
receivers: [{{name: hook, webhook_configs: [{{url: '{hook.url}/'}}]}}]
"""))
        n = Notifier(cfg, tmp_path / "notify")
        with serve_notifier(n, tmp_path / "data") as url:
            (tmp_path / "prom").mkdir()
            (tmp_path / "prom" / "rules.yml").write_text(RULES)
            target = url.removeprefix("http://")
            config = f"""
global: {{evaluation_interval: 1s}}
rule_files: ['{tmp_path / "prom" / "rules.yml"}']
alerting:
  alertmanagers:
    - api_version: v2
      static_configs: [{{targets: ['{target}']}}]
"""
            # Prometheus drops alerts sent before its notifier discovers targets (~5s) and
            # resends after resend-delay (1m by default); 1s keeps the test short.
            with prometheus(tmp_path / "prom", config, "--rules.alert.resend-delay=1s"):
                deadline = time.monotonic() + 60
                alerts: list[dict[str, object]] = []
                while not alerts or not hook.bodies:
                    assert time.monotonic() < deadline, (alerts, hook.bodies)
                    time.sleep(0.5)
                    alerts = httpx.get(f"{url}/api/v2/alerts").json()
        a = alerts[0]
        assert a["labels"] == {"alertname": "AlwaysFiring", "severity": "test"}
        assert a["annotations"] == {"summary": "fires on every evaluation"}
        assert str(a["generatorURL"]).startswith("http://") and "graph" in str(a["generatorURL"])
        assert a["status"] == {"inhibitedBy": [], "silencedBy": [], "state": "active"}
        sent = hook.json()[0]
        assert sent["status"] == "firing" and sent["alerts"][0]["labels"]["alertname"] == "AlwaysFiring"
