"""Alerts both ways between the real server and Debian's peers: a Prometheus sends its alerts to
kubesight's built-in Alertmanager, and kubesight sends its alerts to a real Alertmanager."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import start_server
from tests.integration.test_alerting import am_config, webhook
from tests.peers import alertmanager, prometheus


def eventually(what: str, fn: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


PROM_RULES = """\
groups:
- name: from-prometheus
  interval: 1s
  rules:
  - alert: FromPrometheus
    expr: vector(1)
    labels: {severity: info}
"""


def test_a_prometheus_sends_its_alerts_to_kubesight(tmp_path: Path) -> None:
    with webhook() as (hook, got):
        (tmp_path / "k.yml").write_text("default_rules: {enabled: false}\nscrape_configs: []\nalertmanager:\n"
                                        + "".join(f"  {line}\n" for line in am_config(hook).splitlines()))
        ks = start_server(tmp_path / "data", "--config", str(tmp_path / "k.yml"),
                          "--no-collectors.host", "--no-collectors.containers")
        try:
            prom_dir = tmp_path / "prom"
            prom_dir.mkdir()
            (prom_dir / "rules.yml").write_text(PROM_RULES)
            config = (f"global: {{evaluation_interval: 1s, external_labels: {{from: prom}}}}\n"
                      f"rule_files: [{prom_dir / 'rules.yml'}]\n"
                      "alerting:\n  alertmanagers:\n  - api_version: v2\n"
                      f"    static_configs: [{{targets: ['{ks.url.removeprefix('http://')}']}}]\n")
            with prometheus(prom_dir, config):
                note = got.get(timeout=90)
                (alert,) = note["alerts"]
                assert alert["labels"] == {"alertname": "FromPrometheus", "severity": "info", "from": "prom"}
                assert alert["status"] == "firing" and "/graph?g0.expr=" in alert["generatorURL"]
                v2 = httpx.get(f"{ks.url}/api/v2/alerts", timeout=30).json()
                assert [a["labels"]["alertname"] for a in v2] == ["FromPrometheus"]
        finally:
            ks.stop()


def test_kubesight_sends_its_alerts_to_a_real_alertmanager(tmp_path: Path) -> None:
    quiet = "route: {receiver: none, group_wait: 0s}\nreceivers: [{name: none}]\n"
    with alertmanager(tmp_path / "am", quiet) as am:
        (tmp_path / "rules.yml").write_text(PROM_RULES.replace("from-prometheus", "from-kubesight")
                                            .replace("FromPrometheus", "FromKubesight"))
        (tmp_path / "k.yml").write_text(
            "global: {external_labels: {cluster: c1}}\nrule_files: [rules.yml]\n"
            "default_rules: {enabled: false}\nscrape_configs: []\n"
            "alerting:\n  alertmanagers:\n"
            f"  - static_configs: [{{targets: ['{am.removeprefix('http://')}']}}]\n")
        ks = start_server(tmp_path / "data", "--config", str(tmp_path / "k.yml"),
                          "--no-collectors.host", "--no-collectors.containers")
        try:
            alerts = eventually("the alert at Alertmanager", lambda: [
                a for a in httpx.get(f"{am}/api/v2/alerts", timeout=30).json()
                if a["labels"].get("alertname") == "FromKubesight"])
            assert alerts[0]["labels"] == {"alertname": "FromKubesight", "severity": "info", "cluster": "c1"}
            assert alerts[0]["generatorURL"].startswith(ks.url + "/graph?g0.expr=")
            # The same alert, with the external labels, in the built-in notifier too.
            ours = httpx.get(f"{ks.url}/api/v2/alerts", timeout=30).json()
            assert [a["labels"] for a in ours] == [alerts[0]["labels"]]
        finally:
            ks.stop()
