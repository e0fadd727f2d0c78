"""Slack and email receivers: payloads, templates, STARTTLS and AUTH against a local SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesight.errors import ConfigError
from kubesight.model.alerts import Alert
from kubesight.model.labels import labels_from_dict
from kubesight.notify.config import load_dict
from kubesight.notify.notifier import Notifier
from kubesight.notify.templates import GoTime, Templates, go_format
from tests.notify.helpers import FakeClock, webhook_receiver
from tests.notify.smtp_fake import smtp_server


def fire(n: Notifier, clock: FakeClock, *alerts: Alert) -> None:
    async def go() -> None:
        n.send(list(alerts))
        clock.advance(30)
        await n.tick()
        await n.stop()

    asyncio.run(go())


def a(**labels: str) -> Alert:
    return Alert(labels_from_dict(labels), annotations=(("summary", "disk <full>"),),
                 generator_url="http://prom/g")


def test_slack_default_payload_and_custom_templates(tmp_path: Path) -> None:
    (tmp_path / "my.tmpl").write_text('{{ define "my.title" }}{{ len .Alerts }} x {{ .CommonLabels.alertname }}{{ end }}')
    with webhook_receiver() as rec:
        cfg = load_dict(yaml.safe_load(f"""
global: {{slack_api_url: '{rec.url}/global'}}
route: {{receiver: chat, group_by: [alertname]}}
receivers:
  - name: chat
    slack_configs:
      - channel: '#ops'
      - api_url: '{rec.url}/own'
        title: '{{{{ template "my.title" . }}}}'
        text: '{{{{ range .Alerts }}}}{{{{ .Annotations.summary | toUpper }}}};{{{{ end }}}}'
        color: warning
templates: ['*.tmpl']
"""), base_dir=tmp_path)
        clock = FakeClock()
        n = Notifier(cfg, None, clock=clock, sleep=clock.sleep, external_url="http://am:9093")
        fire(n, clock, a(alertname="Disk", instance="h1", team="ops"), a(alertname="Disk", instance="h2", team="ops"))
    got = dict(zip(rec.paths, rec.json(), strict=True))
    assert got["/global"] == {
        "channel": "#ops",
        "username": "Alertmanager",
        "attachments": [{
            "title": "[FIRING:2] Disk (ops)",
            "title_link": "http://am:9093/#/alerts?receiver=chat",
            "text": "",
            "fallback": "[FIRING:2] Disk (ops) | http://am:9093/#/alerts?receiver=chat",
            "callback_id": "",
            "footer": "",
            "color": "danger",
            "mrkdwn_in": ["fallback", "pretext", "text"],
        }],
    }
    own = got["/own"]["attachments"][0]
    assert (own["title"], own["text"], own["color"]) == ("2 x Disk", "DISK <FULL>;DISK <FULL>;", "warning")


def test_broken_templates_are_config_errors(tmp_path: Path) -> None:
    cfg = load_dict(yaml.safe_load("""
route: {receiver: chat}
receivers: [{name: chat, slack_configs: [{api_url: 'http://127.0.0.1:9/', title: '{{ if }}'}]}]
"""))
    with pytest.raises(ConfigError, match=r"receivers 'chat': slack_configs\[0\].title: template: "):
        Notifier(cfg)
    (tmp_path / "bad.tmpl").write_text("{{ define }}")
    with pytest.raises(ConfigError, match=r"bad\.tmpl"):
        Templates([str(tmp_path / "bad.tmpl")])


def test_reload_with_broken_template_keeps_running_config(tmp_path: Path) -> None:
    good = load_dict(yaml.safe_load("route: {receiver: r}\nreceivers: [{name: r}]"))
    bad = load_dict(yaml.safe_load("""
route: {receiver: x}
receivers: [{name: x, slack_configs: [{api_url: 'http://127.0.0.1:9/', text: '{{ .Nope | nofunc }}'}]}]
"""))
    n = Notifier(good)
    with pytest.raises(ConfigError):
        asyncio.run(n.reload(bad))
    assert n.config is good and list(n.receivers) == ["r"]
    asyncio.run(n.stop())


def email_cfg(port: int, **extra: Any) -> dict[str, Any]:
    conf = {"to": "ops@example.org, boss@example.org", "from": "am@example.org",
            "smarthost": f"127.0.0.1:{port}", "auth_username": "am", "auth_password": "s3cret",
            "tls_config": {"insecure_skip_verify": True}, "headers": {"X-Team": "{{ .GroupLabels.alertname }}"}}
    conf.update(extra)
    return {"route": {"receiver": "mail", "group_by": ["alertname"]},
            "receivers": [{"name": "mail", "email_configs": [conf]}]}


def test_email_with_starttls_and_auth(tmp_path: Path) -> None:
    with smtp_server(tmp_path, users={"am": "s3cret"}) as smtp:
        clock = FakeClock()
        n = Notifier(load_dict(email_cfg(smtp.port)), None, clock=clock, sleep=clock.sleep,
                     external_url="http://am:9093")
        fire(n, clock, a(alertname="Disk", instance="h1"))
    assert len(smtp.mails) == 1
    m = smtp.mails[0]
    assert (m.sender, m.rcpts, m.tls, m.user) == ("am@example.org", ["ops@example.org", "boss@example.org"], True, "am")
    msg = email.message_from_bytes(m.data, policy=email.policy.default)
    assert msg["Subject"] == "[FIRING:1] Disk (h1)"
    assert msg["To"] == "ops@example.org, boss@example.org" and msg["X-Team"] == "Disk"
    body = msg.get_body(("html",))
    assert body is not None
    html = body.get_content()
    assert "disk &lt;full&gt;" in html and "instance = h1" in html and 'href="http://prom/g"' in html
    assert n.counters.notifications.get("email") == 1 and n.counters.failed.get("email") == 0


@pytest.mark.parametrize(("extra", "users", "tls", "why"), [
    ({"auth_password": "wrong"}, {"am": "s3cret"}, True, "authentication failed"),
    ({}, {"am": "s3cret"}, False, "STARTTLS"),
])
def test_email_failures_are_counted_not_retried(tmp_path: Path, extra: dict[str, Any], users: dict[str, str],
                                                tls: bool, why: str, caplog: pytest.LogCaptureFixture) -> None:
    with smtp_server(tmp_path, users=users, tls=tls) as smtp:
        clock = FakeClock()
        n = Notifier(load_dict(email_cfg(smtp.port, **extra)), None, clock=clock, sleep=clock.sleep)
        fire(n, clock, a(alertname="Disk"))
    assert smtp.mails == []
    assert n.counters.failed.get("email") == 1 and n.counters.requests.get("email") == 1
    assert why in caplog.text


def test_email_plain_smtp_when_tls_not_required(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls=False) as smtp:
        clock = FakeClock()
        cfg = email_cfg(smtp.port, require_tls=False, auth_username="", auth_password="", text="{{ .Status }}")
        n = Notifier(load_dict(cfg), None, clock=clock, sleep=clock.sleep)
        fire(n, clock, a(alertname="Disk"))
    msg = email.message_from_bytes(smtp.mails[0].data, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    assert plain is not None and plain.get_content().strip() == "firing"
    assert not smtp.mails[0].tls


def test_go_time_formatting() -> None:
    t = GoTime(1_700_000_000.25)
    assert str(t) == "2023-11-14 22:13:20.25 +0000 UTC"
    assert t.Format("2006-01-02T15:04:05.000Z07:00") == "2023-11-14T22:13:20.250Z"
    assert go_format(t.dt, "Jan _2 3:04PM") == "Nov 14 10:13PM"


def test_http_config_auth_is_sent(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("tok-from-file\n")
    with webhook_receiver() as rec:
        cfg = load_dict(yaml.safe_load(f"""
global:
  http_config: {{authorization: {{credentials_file: token}}}}
route: {{receiver: r, group_by: [alertname]}}
receivers:
  - name: r
    webhook_configs:
      - url: '{rec.url}/basic'
        http_config: {{basic_auth: {{username: u, password: p}}}}
      - url: '{rec.url}/inherited'
    slack_configs:
      - api_url: '{rec.url}/slack'
        http_config: {{bearer_token: 'abc'}}
"""), base_dir=tmp_path)
        clock = FakeClock()
        n = Notifier(cfg, None, clock=clock, sleep=clock.sleep)
        fire(n, clock, a(alertname="X"))
    auth = {p: h.get("Authorization") for p, h in zip(rec.paths, rec.headers, strict=True)}
    assert auth == {"/basic": "Basic dTpw", "/inherited": "Bearer tok-from-file", "/slack": "Bearer abc"}


@pytest.mark.parametrize(("http_config", "message"), [
    ("{nope: 1}", "webhook_configs[0].http_config: field nope not found"),
    ("{proxy_url: 'http://p'}", "http_config.proxy_url: not supported by kubesight"),
    ("{basic_auth: {username: u}, bearer_token: x}", "at most one of basic_auth, bearer_token"),
])
def test_bad_http_config(http_config: str, message: str) -> None:
    raw = yaml.safe_load(f"""
route: {{receiver: r}}
receivers: [{{name: r, webhook_configs: [{{url: 'http://127.0.0.1:9/', http_config: {http_config}}}]}}]
""")
    with pytest.raises(ConfigError) as exc:
        load_dict(raw)
    assert message in str(exc.value) and str(exc.value).startswith("alertmanager: ")
