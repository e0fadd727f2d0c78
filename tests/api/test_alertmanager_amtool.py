"""amtool, Alertmanager's own CLI, driving kubesight: alerts, silences, config and routes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kubesight.notify.config import load_dict
from kubesight.notify.notifier import Notifier
from tests.conftest import require_peer
from tests.notify.helpers import serve_notifier

pytestmark = pytest.mark.peer

CONFIG = """
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: [severity="critical"]
      receiver: pager
receivers:
  - name: default
  - name: pager
    webhook_configs: [{url: 'http://127.0.0.1:9/hook'}]
"""


@pytest.fixture
def amtool(tmp_path: Path) -> Iterator[tuple[list[str], Notifier]]:
    binary = require_peer("amtool", "prometheus-alertmanager")
    n = Notifier(load_dict(yaml.safe_load(CONFIG)), tmp_path / "notify")
    with serve_notifier(n, tmp_path / "data") as url:
        yield [binary, f"--alertmanager.url={url}"], n


def run(cmd: list[str], *args: str) -> str:
    res = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, (args, res.stdout, res.stderr)
    return res.stdout


def test_alert_add_and_query(amtool: tuple[list[str], Notifier]) -> None:
    cmd, n = amtool
    run(cmd, "alert", "add", "alertname=DiskFull", "severity=critical", "instance=db1",
        "--annotation=summary=disk is full", "--generator-url=http://prom/x")
    run(cmd, "alert", "add", "alertname=Slow", "severity=warning")
    got = json.loads(run(cmd, "alert", "query", "-o", "json"))
    by = {a["labels"]["alertname"]: a for a in got}
    assert set(by) == {"DiskFull", "Slow"}
    assert by["DiskFull"]["annotations"] == {"summary": "disk is full"}
    assert by["DiskFull"]["receivers"] == [{"name": "pager"}]
    assert by["DiskFull"]["generatorURL"] == "http://prom/x"
    assert by["DiskFull"]["status"]["state"] == "active"
    # amtool's matcher arguments are the API's filter
    got = json.loads(run(cmd, "alert", "query", "-o", "json", "severity=~crit.*"))
    assert [a["labels"]["alertname"] for a in got] == ["DiskFull"]
    assert len(n.alerts()) == 2
    simple = run(cmd, "alert", "query")
    assert "DiskFull" in simple and "Slow" in simple
    got = json.loads(run(cmd, "alert", "query", "-o", "json", "--receiver=pag.*"))
    assert [a["labels"]["alertname"] for a in got] == ["DiskFull"]
    extended = run(cmd, "alert", "query", "-o", "extended", "alertname=DiskFull")
    assert "disk is full" in extended and "http://prom/x" in extended


def test_silence_add_query_expire(amtool: tuple[list[str], Notifier]) -> None:
    cmd, n = amtool
    run(cmd, "alert", "add", "alertname=DiskFull", "instance=db1")
    sid = run(cmd, "silence", "add", "-a", "ops", "-c", "replacing disk", "-d", "2h",
              "alertname=DiskFull", 'instance=~"db.*"').strip()
    assert n.silences.get(sid).comment == "replacing disk"
    listed = json.loads(run(cmd, "silence", "query", "-o", "json"))
    assert [(s["id"], s["createdBy"], s["status"]["state"]) for s in listed] == [(sid, "ops", "active")]
    assert {(m["name"], m["value"], m["isRegex"]) for m in listed[0]["matchers"]} == {
        ("alertname", "DiskFull", False), ("instance", "db.*", True)}
    assert run(cmd, "silence", "query", "-q").split() == [sid]
    assert json.loads(run(cmd, "alert", "query", "-o", "json")) == []  # silenced ones are hidden
    silenced = json.loads(run(cmd, "alert", "query", "-s", "-o", "json"))
    assert silenced[0]["status"]["silencedBy"] == [sid]
    run(cmd, "silence", "expire", sid)
    assert run(cmd, "silence", "query", "-q").split() == []
    assert json.loads(run(cmd, "silence", "query", "--expired", "-o", "json"))[0]["status"]["state"] == "expired"
    assert json.loads(run(cmd, "alert", "query", "-o", "json"))[0]["labels"]["alertname"] == "DiskFull"


def test_config_show_and_routes_from_the_api(amtool: tuple[list[str], Notifier]) -> None:
    cmd, _ = amtool
    shown = run(cmd, "config", "show")
    assert "receiver: pager" in shown
    tree = run(cmd, "config", "routes", "show")
    assert "pager" in tree and "default" in tree
    assert run(cmd, "config", "routes", "test", "severity=critical").strip() == "pager"
