"""Rules and the built-in Alertmanager in the real server process: a rule file fires an alert
that reaches a webhook run by the test; the rule, alert and Alertmanager APIs answer; amtool
reads it; reloads with broken files keep what runs."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Server, require_peer, start_server

RULES = """\
groups:
- name: wiring
  interval: 1s
  rules:
  - record: wiring:answer
    expr: vector(42)
  - alert: WiringTest
    expr: vector(1)
    labels: {severity: page}
    annotations:
      summary: "the answer is {{ $value }}"
"""


@contextmanager
def webhook() -> Iterator[tuple[str, queue.Queue[dict[str, Any]]]]:
    """A webhook receiver on 127.0.0.1: every POSTed JSON body goes into the queue."""
    got: queue.Queue[dict[str, Any]] = queue.Queue()

    class H(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got.put(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/hook", got
    finally:
        srv.shutdown()


def am_config(hook: str) -> str:
    return f"""\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
receivers:
- name: hook
  webhook_configs: [{{url: '{hook}'}}]
"""


def wait_for(what: str, fn: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def query(url: str, q: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{url}/api/v1/query", params={"query": q}, timeout=30)
    assert r.status_code == 200, r.text
    result: list[dict[str, Any]] = r.json()["data"]["result"]
    return result


@contextmanager
def alerting_server(tmp_path: Path, hook: str, *extra: str, inline: bool = True) -> Iterator[Server]:
    (tmp_path / "rules.yml").write_text(RULES)
    cfg = "rule_files: [rules.yml]\ndefault_rules: {enabled: false}\n"
    if inline:
        cfg += "alertmanager:\n" + "".join(f"  {line}\n" for line in am_config(hook).splitlines())
    (tmp_path / "k.yml").write_text(cfg)
    s = start_server(tmp_path / "data", "--config", str(tmp_path / "k.yml"), *extra)
    try:
        yield s
    finally:
        s.stop()


def test_a_rule_alert_reaches_the_webhook_and_every_api(tmp_path: Path) -> None:
    amtool = require_peer("amtool", "prometheus-alertmanager")
    with webhook() as (hook, got), alerting_server(tmp_path, hook) as s:
        note = got.get(timeout=60)
        assert note["version"] == "4" and note["status"] == "firing" and note["receiver"] == "hook"
        (alert,) = note["alerts"]
        assert alert["labels"] == {"alertname": "WiringTest", "severity": "page"}
        assert alert["annotations"] == {"summary": "the answer is 1"}
        assert alert["generatorURL"].startswith(s.url + "/graph?g0.expr=")
        assert note["externalURL"] == s.url and note["groupLabels"] == {"alertname": "WiringTest"}

        rules = httpx.get(f"{s.url}/api/v1/rules", timeout=30).json()["data"]["groups"]
        assert [(g["name"], g["file"]) for g in rules] == [("wiring", str(tmp_path / "rules.yml"))]
        assert [(r["name"], r["health"]) for r in rules[0]["rules"]] == [
            ("wiring:answer", "ok"), ("WiringTest", "ok")]
        alerts = httpx.get(f"{s.url}/api/v1/alerts", timeout=30).json()["data"]["alerts"]
        assert [(a["labels"]["alertname"], a["state"]) for a in alerts] == [("WiringTest", "firing")]
        wait_for("the recorded series", lambda: query(s.url, "wiring:answer"))
        assert query(s.url, "wiring:answer")[0]["value"][1] == "42"
        firing = wait_for("ALERTS", lambda: query(s.url, 'ALERTS{alertname="WiringTest"}'))
        assert firing[0]["metric"]["alertstate"] == "firing"

        v2 = httpx.get(f"{s.url}/api/v2/alerts", timeout=30).json()
        assert [(a["labels"]["alertname"], a["receivers"][0]["name"]) for a in v2] == [("WiringTest", "hook")]
        out = subprocess.run([amtool, f"--alertmanager.url={s.url}", "alert", "query", "-o", "json"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert [a["labels"]["alertname"] for a in json.loads(out.stdout)] == ["WiringTest"]
        # The notifier shares the app's registry: its counters are on /metrics.
        metrics = httpx.get(f"{s.url}/metrics", timeout=30).text
        assert 'alertmanager_notifications_total{integration="webhook"}' in metrics
        assert "alertmanager_alerts_received_total" in metrics


def test_the_alertmanager_config_file_flag_and_amtool_silence(tmp_path: Path) -> None:
    amtool = require_peer("amtool", "prometheus-alertmanager")
    with webhook() as (hook, got):
        am = tmp_path / "alertmanager.yml"
        am.write_text(am_config(hook))
        with alerting_server(tmp_path, hook, "--alertmanager.config.file", str(am), inline=False) as s:
            assert got.get(timeout=60)["alerts"][0]["labels"]["alertname"] == "WiringTest"
            status = httpx.get(f"{s.url}/api/v2/status", timeout=30).json()
            assert hook in status["config"]["original"]
            cmd = [amtool, f"--alertmanager.url={s.url}"]
            add = subprocess.run([*cmd, "silence", "add", "alertname=WiringTest", "-d", "1h", "-c", "test",
                                  "-a", "tests"], capture_output=True, text=True, timeout=60)
            assert add.returncode == 0, add.stderr
            silenced = wait_for("the silence to apply", lambda: [
                a for a in httpx.get(f"{s.url}/api/v2/alerts", timeout=30).json()
                if a["status"]["silencedBy"] == [add.stdout.strip()]])
            assert silenced[0]["status"]["state"] == "suppressed"


def test_reload_with_a_bad_rule_file_keeps_the_old_rules_and_says_why(tmp_path: Path) -> None:
    with webhook() as (hook, _), alerting_server(tmp_path, hook) as s:
        names = lambda: [r["name"] for g in httpx.get(f"{s.url}/api/v1/rules", timeout=30)  # noqa: E731
                         .json()["data"]["groups"] for r in g["rules"]]
        assert names() == ["wiring:answer", "WiringTest"]
        (tmp_path / "rules.yml").write_text("groups:\n- name: wiring\n  rules:\n  - alert: Broken\n    expr: up ==\n")
        r = httpx.post(f"{s.url}/-/reload", timeout=30)
        assert r.status_code == 500
        assert f"{tmp_path / 'rules.yml'}: 5:11: group \"wiring\", rule 1, \"Broken\": could not parse" in r.text
        assert names() == ["wiring:answer", "WiringTest"]
        info = httpx.get(f"{s.url}/api/v1/status/runtimeinfo", timeout=30).json()["data"]
        assert info["reloadConfigSuccess"] is False
        # A broken alertmanager config is refused the same way, and keeps the running one.
        (tmp_path / "rules.yml").write_text(RULES)
        cfg = (tmp_path / "k.yml").read_text()
        (tmp_path / "k.yml").write_text(cfg.replace("receiver: hook", "receiver: nobody"))
        r = httpx.post(f"{s.url}/-/reload", timeout=30)
        assert r.status_code == 500 and "undefined receiver 'nobody'" in r.text, r.text
        receivers = httpx.get(f"{s.url}/api/v2/receivers", timeout=30).json()
        assert receivers == [{"name": "hook"}]
        # A good file is taken.
        (tmp_path / "k.yml").write_text(cfg)
        (tmp_path / "rules.yml").write_text(RULES.replace("WiringTest", "WiringRenamed"))
        assert httpx.post(f"{s.url}/-/reload", timeout=30).status_code == 200
        assert names() == ["wiring:answer", "WiringRenamed"]
        # The shipped rules follow default_rules on reload too.
        (tmp_path / "k.yml").write_text(cfg.replace("default_rules: {enabled: false}",
                                                    "default_rules: {disable: [kubernetes, node, kubesight]}"))
        assert httpx.post(f"{s.url}/-/reload", timeout=30).status_code == 200
        assert names() == ["TargetDown", "Watchdog", "InfoInhibitor", "wiring:answer", "WiringRenamed"]


def test_a_bad_rule_file_at_start_is_refused_with_where(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text("groups:\n- name: g\n  rules:\n  - record: r\n    expr: sum(up\n")
    (tmp_path / "k.yml").write_text("rule_files: [rules.yml]\n")
    try:
        started = start_server(tmp_path / "data", "--config", str(tmp_path / "k.yml"))
    except RuntimeError as exc:
        assert f"{tmp_path / 'rules.yml'}: 5:11: group \"g\", rule 1, \"r\": could not parse expression" \
            in str(exc), str(exc)
    else:
        started.stop()  # never leave a server running behind a failed test
        raise AssertionError("the server started with a broken rule file")


def test_default_rules_run_with_no_config(server: Server) -> None:
    groups = httpx.get(f"{server.url}/api/v1/rules", timeout=30).json()["data"]["groups"]
    files = {g["file"] for g in groups}
    assert {"defaults/general.yaml", "defaults/node.yaml", "defaults/kubernetes.yaml",
            "defaults/kubesight.yaml"} <= files
    assert any(r["name"] == "Watchdog" for g in groups for r in g["rules"])


def test_default_rules_can_be_switched_off(tmp_path: Path) -> None:
    (tmp_path / "k.yml").write_text("default_rules:\n  disable: [kubernetes, Watchdog]\n")
    s = start_server(tmp_path / "data", "--config", str(tmp_path / "k.yml"))
    try:
        groups = httpx.get(f"{s.url}/api/v1/rules", timeout=30).json()["data"]["groups"]
        rules = {r["name"] for g in groups for r in g["rules"]}
        assert "TargetDown" in rules and "Watchdog" not in rules
        assert not any(g["file"] == "defaults/kubernetes.yaml" for g in groups)
    finally:
        s.stop()
    s = start_server(tmp_path / "data2", "--no-rules.defaults")
    try:
        assert httpx.get(f"{s.url}/api/v1/rules", timeout=30).json()["data"]["groups"] == []
    finally:
        s.stop()


def test_silences_persist_under_the_data_dir_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    silence = {"matchers": [{"name": "alertname", "value": "WiringTest", "isRegex": False}],
               "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2999-01-01T00:00:00Z",
               "createdBy": "tests", "comment": "kept"}
    s = start_server(data)
    try:
        r = httpx.post(f"{s.url}/api/v2/silences", json=silence, timeout=30)
        assert r.status_code == 200, r.text
        sid = r.json()["silenceID"]
    finally:
        s.stop()
    assert (data / "alertmanager").is_dir()
    s = start_server(data)
    try:
        got = httpx.get(f"{s.url}/api/v2/silence/{sid}", timeout=30).json()
        assert got["comment"] == "kept" and got["status"]["state"] == "active"
    finally:
        s.stop()
