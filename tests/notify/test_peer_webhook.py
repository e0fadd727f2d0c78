"""Notifications byte for byte against the real Alertmanager, same config, same alerts.

Webhook and Slack payloads must be identical bytes; emails must have the same
envelope and headers (the HTML body is kubesight's own).
"""

from __future__ import annotations

import email
import email.policy
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
from tests.notify.smtp_fake import smtp_server
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
    - matchers: [team="chat"]
      receiver: chat
    - matchers: [team="mail"]
      receiver: mail
receivers:
  - name: chat
    slack_configs:
      - {api_url: 'REC/slack', channel: '#ops', send_resolved: true}
      - api_url: 'REC/slack2'
        send_resolved: true
        title: '{{ len .Alerts.Firing }}/{{ len .Alerts }} {{ .CommonLabels.alertname | toLower }}'
        text: '{{ template "__text_alert_list" .Alerts }}'
        footer: '{{ range .CommonLabels.SortedPairs }}{{ .Name }}:{{ .Value }},{{ end }}'
        short_fields: true
        fields:
          - {title: 'Status', value: '{{ .Status }}'}
          - {title: 'Count', value: '{{ len .Alerts }}', short: false}
        actions:
          - {type: button, text: 'Runbook {{ .CommonLabels.alertname }}', url: 'http://rb/{{ .GroupLabels.alertname }}', style: primary}
  - name: mail
    email_configs:
      - to: 'ops@example.org'
        from: 'am@example.org'
        smarthost: 'SMTP'
        auth_username: am
        auth_password: s3cret
        tls_config: {insecure_skip_verify: true}
        headers: {X-Group: '{{ .GroupLabels.alertname }}'}
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
        {"labels": {"alertname": "Chat", "team": "chat", "instance": "i1"}, "annotations": disk},
        {"labels": {"alertname": "Chat", "team": "chat", "instance": "i2"}, "annotations": disk,
         "generatorURL": "http://prom/x"},
        {"labels": {"alertname": "Mail", "team": "mail", "instance": "m1"}},
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


def by_path(rec: Recorder) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for path, body in zip(rec.paths, rec.bodies, strict=True):
        out.setdefault(path, []).append(body)
    return {p: sorted(b) for p, b in out.items()}


def test_notifications_match_alertmanager(tmp_path: Path) -> None:
    with webhook_receiver() as theirs, webhook_receiver() as ours, \
            smtp_server(tmp_path / "smtp1", users={"am": "s3cret"}) as their_smtp, \
            smtp_server(tmp_path / "smtp2", users={"am": "s3cret"}) as our_smtp:
        start = datetime.now(UTC).replace(microsecond=123000) - timedelta(minutes=5)
        their_cfg = CONFIG.replace("REC", theirs.url).replace("SMTP", f"127.0.0.1:{their_smtp.port}")
        with alertmanager(tmp_path / "am", their_cfg, f"--web.external-url={EXTERNAL}") as am_url:
            our_cfg = CONFIG.replace("REC", ours.url).replace("SMTP", f"127.0.0.1:{our_smtp.port}")
            n = Notifier(load_dict(yaml.safe_load(our_cfg)), tmp_path / "notify", external_url=EXTERNAL)
            with serve_notifier(n, tmp_path / "data") as ks_url:
                for url in (am_url, ks_url):
                    assert httpx.post(f"{url}/api/v2/alerts", json=alerts(start, None)).status_code == 200
                wait_for([theirs, ours], 5)
                time.sleep(2)  # nothing more should come (repeat_interval is 1h)
                end = datetime.now(UTC).replace(microsecond=456000) - timedelta(seconds=1)
                for url in (am_url, ks_url):
                    assert httpx.post(f"{url}/api/v2/alerts", json=alerts(start, end)).status_code == 200
                wait_for([theirs, ours], 10)
                time.sleep(2)
    mine, real = by_path(ours), by_path(theirs)
    for name, got in (("real", real), ("mine", mine)):  # kept beside the test's files for diffing
        (tmp_path / f"{name}.txt").write_bytes(b"".join(b"".join(v) for _, v in sorted(got.items())))
    assert {p: len(b) for p, b in real.items()} == {"/hook": 2, "/db": 2, "/web": 2, "/slack": 2, "/slack2": 2}
    assert sorted(mine) == sorted(real)
    for path in real:
        for m, r in zip(mine[path], real[path], strict=True):
            assert m.decode() == r.decode(), path
    assert len(their_smtp.mails) == len(our_smtp.mails) == 1  # send_resolved is off for email
    theirs_m, ours_m = their_smtp.mails[0], our_smtp.mails[0]
    assert (ours_m.sender, ours_m.rcpts, ours_m.tls, ours_m.user) == (
        theirs_m.sender, theirs_m.rcpts, theirs_m.tls, theirs_m.user)
    their_msg = email.message_from_bytes(theirs_m.data, policy=email.policy.default)
    our_msg = email.message_from_bytes(ours_m.data, policy=email.policy.default)
    for header in ("Subject", "To", "From", "X-Group"):
        assert our_msg[header] == their_msg[header], header
