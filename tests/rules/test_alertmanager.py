"""Alerts go to Alertmanagers as Prometheus sends them; checked against Debian's real Alertmanager."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from kubesight.errors import ConfigError
from kubesight.model import SampleBatch
from kubesight.model.alerts import Alert
from kubesight.model.labels import labels_from_dict
from kubesight.promql import Engine
from kubesight.rules import RuleManager, RuleManagerOptions, engine_query_func, parse_rule_file
from kubesight.rules.alertmanager import (
    AlertingConfig,
    AlertmanagerSender,
    Relabel,
    encode_alerts,
    parse_alerting_config,
)
from kubesight.scrape.relabel import parse_relabel_configs, relabel
from kubesight.store.memory import MemoryStore
from tests.peers import alertmanager


def parse_relabel(raw: Any, where: str) -> Relabel:
    """What the server wires in: scrape's relabelling applied to alert labels."""
    configs = parse_relabel_configs(raw, where)
    return lambda labels: relabel(labels, configs)


def alert(name: str, **labels: str) -> Alert:
    return Alert(labels_from_dict({"alertname": name, **labels}), (("summary", f"{name} happened"),),
                 starts_at=1_750_000_000.25, ends_at=1_750_000_240.0, generator_url="http://ks/graph?g0.expr=up")


def test_config_is_read_as_prometheus_reads_it(tmp_path: Path) -> None:
    cfg = parse_alerting_config({
        "alertmanagers": [
            {"static_configs": [{"targets": ["a:9093", "b:9093"]}], "path_prefix": "/am/", "timeout": "3s",
             "scheme": "https", "basic_auth": {"username": "u", "password": "p"}},
            {"static_configs": [{"targets": ["c:9093"]}]},
        ],
    }, tmp_path)
    first, second = cfg.alertmanagers
    assert first.urls == ("https://a:9093/am/api/v2/alerts", "https://b:9093/am/api/v2/alerts")
    assert first.timeout_s == 3.0 and first.http.username == "u"
    assert second.urls == ("http://c:9093/api/v2/alerts",) and second.timeout_s == 10.0
    bad = [
        ({"alertmanagers": [{"api_version": "v1"}]}, "api_version: 'v1' is not supported"),
        ({"alertmanagers": [{"scheme": "ftp"}]}, "scheme: must be http or https"),
        ({"alertmanagers": [{"static_configs": [{"targets": ["http://x:1"]}]}]}, "is not host:port"),
        ({"alertmanagers": [{"kubernetes_sd_configs": []}]}, "not supported by kubesight yet"),
        ({"alertmanagers": [{"timeout": "soon"}]}, "alerting.alertmanagers[0].timeout"),
        ({"alertmanagers": [{"basic_auth": {"username": "u"}, "authorization": {"credentials": "x"}}]},
         "at most one of basic_auth, authorization"),
        ({"alert_relabel_configs": [{"action": "nope"}]}, 'unknown relabel action "nope"'),
        ({"other": 1}, "alerting.other: unknown field"),
    ]
    for raw, msg in bad:
        with pytest.raises(ConfigError, match=msg.replace("[", r"\[").replace("(", r"\(")):
            parse_alerting_config(raw, tmp_path, parse_relabel)


def test_body_is_what_prometheus_posts() -> None:
    body = orjson.loads(encode_alerts([alert("A", job="x")]))
    assert body == [{
        "labels": {"alertname": "A", "job": "x"},
        "annotations": {"summary": "A happened"},
        "startsAt": "2025-06-15T15:06:40.250Z",
        "endsAt": "2025-06-15T15:10:40.000Z",
        "generatorURL": "http://ks/graph?g0.expr=up",
    }]


def test_external_labels_relabelling_queue_and_errors(tmp_path: Path) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(500 if "down" in str(request.url) else 200)

    cfg = parse_alerting_config({
        "alert_relabel_configs": [{"source_labels": ["severity"], "regex": "debug", "action": "drop"}],
        "alertmanagers": [
            {"static_configs": [{"targets": ["up:9093", "down:9093"]}],
             "authorization": {"credentials": "secret"}},
            {"static_configs": [{"targets": ["other:9093"]}],
             "alert_relabel_configs": [{"target_label": "via", "replacement": "other"}]},
        ],
    }, tmp_path, parse_relabel)
    sender = AlertmanagerSender(cfg, {"cluster": "c1", "job": "ignored"}, queue_capacity=3,
                                transport=httpx.MockTransport(handler))
    sender.send([alert("A", job="x"), alert("Debug", severity="debug")])
    assert sender.dropped == 1 and sender.queue_length() == 1  # relabelled away
    sender.send([alert(f"B{i}", job="b") for i in range(4)])
    assert sender.queue_length() == 3 and sender.dropped == 3  # the two oldest fell off the full queue
    asyncio.run(sender.flush_once())
    bodies = {str(r.url): orjson.loads(r.content) for r in requests}
    assert set(bodies) == {"http://up:9093/api/v2/alerts", "http://down:9093/api/v2/alerts",
                           "http://other:9093/api/v2/alerts"}
    sent = bodies["http://up:9093/api/v2/alerts"]
    # external labels fill in what an alert lacks and never override
    assert [a["labels"] for a in sent] == [{"alertname": f"B{i}", "cluster": "c1", "job": "b"} for i in (1, 2, 3)]
    assert all(a["labels"]["via"] == "other" for a in bodies["http://other:9093/api/v2/alerts"])
    assert requests[0].headers["authorization"] == "Bearer secret"
    assert sender.errors == {"http://down:9093/api/v2/alerts": 1}
    assert sender.sent["http://up:9093/api/v2/alerts"] == 3


def test_basic_auth_header(tmp_path: Path) -> None:
    seen: list[str] = []
    cfg = parse_alerting_config({"alertmanagers": [{"static_configs": [{"targets": ["a:1"]}],
                                                     "basic_auth": {"username": "u", "password": "p"}}]}, tmp_path)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200)

    s = AlertmanagerSender(cfg, transport=httpx.MockTransport(handler))
    s.send([alert("A")])
    asyncio.run(s.flush_once())
    assert seen == ["Basic " + base64.b64encode(b"u:p").decode()]


@pytest.mark.peer
def test_real_alertmanager_receives_what_rules_fire(tmp_path: Path) -> None:
    am_config = "route: {receiver: 'null', group_wait: 1h}\nreceivers: [{name: 'null'}]\n"
    with alertmanager(tmp_path / "am", am_config) as url:
        host = url.removeprefix("http://")
        cfg = parse_alerting_config({"alertmanagers": [{"static_configs": [{"targets": [host]}],
                                                        "timeout": "5s"}]}, tmp_path)
        sender = AlertmanagerSender(cfg, {"cluster": "c1"})
        store = MemoryStore()
        now = time.time()
        lbls = labels_from_dict({"__name__": "up", "job": "node", "instance": "n1:9100"})
        store.append(SampleBatch.from_series([(lbls, [(int(now * 1000) - 1000, 0.0)])]))
        mgr = RuleManager(RuleManagerOptions(
            appender=store, querier=store, query=engine_query_func(Engine(store)), sink=sender,
            restore=False, external_url="http://kubesight:9595", clock=lambda: now,
        ))
        mgr.update(parse_rule_file("""
groups:
- name: g
  rules:
  - alert: NodeDown
    expr: up == 0
    labels: {severity: critical}
    annotations:
      summary: "{{ $labels.instance }} is down"
      value: "{{ $value }}"
""", "r.yml"))
        mgr.groups[0].eval(int(now * 1000))

        async def deliver() -> None:
            await sender.start()
            await sender.stop()

        asyncio.run(deliver())
        got = httpx.get(f"{url}/api/v2/alerts", timeout=10).json()
    assert len(got) == 1
    a = got[0]
    assert a["labels"] == {"alertname": "NodeDown", "cluster": "c1", "instance": "n1:9100", "job": "node",
                           "severity": "critical"}
    assert a["annotations"] == {"summary": "n1:9100 is down", "value": "0"}
    assert a["status"]["state"] == "active"
    assert a["generatorURL"] == "http://kubesight:9595/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
    assert a["startsAt"].startswith(time.strftime("%Y-%m-%dT", time.gmtime(now)))


def test_sender_is_an_alert_sink() -> None:
    from kubesight.model.alerts import AlertSink

    sink: AlertSink = AlertmanagerSender(AlertingConfig())
    sink.send([alert("A")])  # no Alertmanager configured: queued, nothing raised


@pytest.mark.peer
def test_real_alertmanager_under_a_path_prefix_with_relabelling(tmp_path: Path) -> None:
    from tests.peers import alertmanager_at_prefix

    am_config = "route: {receiver: 'null', group_wait: 1h}\nreceivers: [{name: 'null'}]\n"
    with alertmanager_at_prefix(tmp_path / "am", am_config, "/am") as url:
        host = url.removeprefix("http://").split("/", 1)[0]
        cfg = parse_alerting_config({
            "alert_relabel_configs": [{"source_labels": ["severity"], "regex": "debug", "action": "drop"},
                                      {"target_label": "via", "replacement": "kubesight"}],
            "alertmanagers": [{"static_configs": [{"targets": [host]}], "path_prefix": "/am/"}],
        }, tmp_path, parse_relabel)
        sender = AlertmanagerSender(cfg, {"cluster": "c1"})
        now = time.time()
        # still firing: ends in the future (an endsAt in the past would arrive resolved)
        kept, dropped = (Alert(a.labels, a.annotations, now - 60, now + 240, a.generator_url)
                         for a in (alert("Kept", severity="page"), alert("Dropped", severity="debug")))
        sender.send([kept, dropped])

        async def deliver() -> None:
            await sender.start()
            await sender.stop()

        asyncio.run(deliver())
        got = httpx.get(f"{url}/api/v2/alerts", timeout=10).json()
    assert [a["labels"] for a in got] == [{"alertname": "Kept", "cluster": "c1", "severity": "page",
                                           "via": "kubesight"}]
    assert got[0]["annotations"] == {"summary": "Kept happened"}
    assert sender.dropped == 1 and sender.sent == {f"{url}/api/v2/alerts": 1}
