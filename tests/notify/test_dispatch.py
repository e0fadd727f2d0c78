"""Grouping, timers, resolution, silences, inhibition, retries and restarts, on a test clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesight.model.alerts import Alert
from kubesight.model.instrument import Registry
from kubesight.model.labels import labels_from_dict
from kubesight.model.matchers import Matcher
from kubesight.notify.config import load_dict
from kubesight.notify.notifier import Notifier
from kubesight.notify.silences import Silence
from tests.notify.helpers import FakeClock, Recorder, webhook_receiver

CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: [team="quiet"]
      receiver: quiet
    - matchers: [team="nightly"]
      receiver: hook
      mute_time_intervals: [night]
receivers:
  - name: hook
    webhook_configs: [{url: 'URL/hook'}]
  - name: quiet
    webhook_configs: [{url: 'URL/quiet', send_resolved: false}]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster]
time_intervals:
  - name: night
    time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]
"""


@pytest.fixture
def hook() -> Iterator[Recorder]:
    with webhook_receiver() as rec:
        yield rec


def make(rec: Recorder, clock: FakeClock, data_dir: Path | None = None, **kw: Any) -> Notifier:
    cfg = load_dict(yaml.safe_load(CONFIG.replace("URL", rec.url)))
    return Notifier(cfg, data_dir, clock=clock, sleep=clock.sleep, **kw)


def alert(name: str, ends: float = 0.0, **labels: str) -> Alert:
    return Alert(labels_from_dict({"alertname": name, **labels}), ends_at=ends)


def names(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["labels"].get("instance", ""), a["status"]) for a in payload["alerts"]]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_group_wait_interval_and_repeat(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock()
        n = make(hook, clock)
        n.send([alert("A", instance="1")])
        await n.tick()
        assert hook.bodies == []  # group_wait not over
        clock.advance(29)
        await n.tick()
        assert hook.bodies == []
        clock.advance(1)
        await n.tick()
        assert [names(p) for p in hook.json()] == [[("1", "firing")]]
        clock.advance(10)
        n.send([alert("A", instance="1"), alert("A", instance="2")])  # 1 resent, as Prometheus does
        await n.tick()
        assert len(hook.bodies) == 1  # waits for group_interval
        clock.advance(290)
        await n.tick()
        assert names(hook.json()[1]) == [("1", "firing"), ("2", "firing")]
        # Nothing new: quiet until repeat_interval passes (alerts kept alive by resends).
        for _ in range(47):
            clock.advance(300)
            n.send([alert("A", instance="1"), alert("A", instance="2")])
            await n.tick()
        assert len(hook.bodies) == 2
        clock.advance(300)
        n.send([alert("A", instance="1"), alert("A", instance="2")])
        await n.tick()
        assert len(hook.bodies) == 3
        await n.stop()

    run(go())


def test_old_alert_skips_group_wait_and_groups_split_by_label(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock()
        n = make(hook, clock)
        n.send([Alert(labels_from_dict({"alertname": "Old"}), starts_at=clock.now - 60)])
        n.send([alert("Other")])
        await n.tick()
        assert [p["groupLabels"] for p in hook.json()] == [{"alertname": "Old"}]
        assert hook.json()[0]["groupKey"] == '{}:{alertname="Old"}'
        await n.stop()

    run(go())


def test_resolved_alerts_are_notified_and_leave_the_group(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock()
        n = make(hook, clock)
        n.send([alert("A", instance="1"), alert("B", team="quiet")])
        clock.advance(30)
        await n.tick()
        assert len(hook.bodies) == 2
        n.send([alert("A", ends=clock.now, instance="1"), alert("B", ends=clock.now, team="quiet")])
        clock.advance(300)
        await n.tick()
        # send_resolved (webhook default) gets the resolution; send_resolved: false does not.
        assert sorted(hook.paths[:2]) == ["/hook", "/quiet"] and hook.paths[2:] == ["/hook"]
        last = hook.json()[2]
        assert last["status"] == "resolved" and names(last) == [("1", "resolved")]
        assert n.dispatcher.groups == {}
        await n.stop()

    run(go())


def test_alert_without_end_resolves_after_resolve_timeout(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock()
        n = make(hook, clock)
        n.send([alert("A")])
        clock.advance(30)
        await n.tick()
        clock.advance(300)  # resolve_timeout (5m) passed with no resend
        await n.tick()
        assert [p["status"] for p in hook.json()] == ["firing", "resolved"]
        await n.stop()

    run(go())


def test_silence_suppresses_and_expiry_releases(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock()
        n = make(hook, clock)
        sid = n.silences.set(Silence("", (Matcher.of("instance", "=~", "1|3"),), clock.now, clock.now + 3600))
        n.send([alert("A", instance="1"), alert("A", instance="2")])
        clock.advance(30)
        await n.tick()
        assert names(hook.json()[0]) == [("2", "firing")]
        assert n.silenced_by({"alertname": "A", "instance": "1"}, clock.now) == [sid]
        n.silences.expire(sid)
        clock.advance(300)
        n.send([alert("A", instance="1"), alert("A", instance="2")])
        await n.tick()
        assert names(hook.json()[1]) == [("1", "firing"), ("2", "firing")]
        await n.stop()

    run(go())


def test_inhibition_needs_equal_labels(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock()
        n = make(hook, clock)
        crit = alert("Down", severity="critical", cluster="a")
        n.send([crit, alert("Slow", severity="warning", cluster="a", instance="x"),
                alert("Slow", severity="warning", cluster="b", instance="y")])
        clock.advance(30)
        await n.tick()
        got = {p["groupLabels"]["alertname"]: names(p) for p in hook.json()}
        assert got == {"Down": [("", "firing")], "Slow": [("y", "firing")]}
        inh = n.inhibited_by({"alertname": "Slow", "severity": "warning", "cluster": "a"}, clock.now)
        assert inh == [n.alerts()[0].fp_hex]
        await n.stop()

    run(go())


def test_mute_time_interval(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock(1_700_006_400.0)  # 2023-11-15 00:00 UTC: inside "night"
        n = make(hook, clock)
        n.send([alert("A", team="nightly")])
        clock.advance(30)
        await n.tick()
        assert hook.bodies == []
        clock.advance(6 * 3600)
        n.send([alert("A", team="nightly")])
        await n.tick()
        assert len(hook.bodies) == 1
        await n.stop()

    run(go())


def test_failed_notifications_are_retried_with_backoff_and_counted(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock()
        reg = Registry()
        n = make(hook, clock, registry=reg)
        hook.status[:] = [500, 503]
        n.send([alert("A")])
        clock.advance(30)
        start = clock.now
        await n.tick()
        assert len(hook.bodies) == 1
        assert clock.now - start == pytest.approx(0.5 + 0.75)  # two backoff waits
        c = n.counters
        assert (c.notifications.get("webhook"), c.failed.get("webhook")) == (1, 0)
        assert (c.requests.get("webhook"), c.requests_failed.get("webhook")) == (3, 2)
        # A 4xx is not worth repeating: one attempt, counted as failed, tried again next interval.
        hook.status[:] = [400]
        n.send([alert("B")])
        clock.advance(30)
        await n.tick()
        assert c.failed.get("webhook") == 1 and c.requests.get("webhook") == 4
        clock.advance(300)
        n.send([alert("B")])
        await n.tick()
        firing = [p["groupLabels"]["alertname"] for p in hook.json() if p["status"] == "firing"]
        assert firing == ["A", "B"]
        assert 'alertmanager_notifications_failed_total{integration="webhook"} 1' in reg.render()
        await n.stop()

    run(go())


def test_hung_receiver_does_not_block_the_others(hook: Recorder) -> None:
    import socket

    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(1)  # accepts connections, never answers
    port = hang.getsockname()[1]

    async def go() -> None:
        clock = FakeClock()
        cfg = load_dict(yaml.safe_load(f"""
route: {{receiver: both, group_wait: 0s, group_interval: 1s}}
receivers:
  - name: both
    webhook_configs: [{{url: 'http://127.0.0.1:{port}/'}}, {{url: '{hook.url}/ok'}}]
"""))
        n = Notifier(cfg, None, clock=clock, sleep=clock.sleep, attempt_timeout=1.0)
        n.send([alert("A")])
        clock.advance(1)
        await n.tick()
        assert hook.paths == ["/ok"]
        assert n.counters.failed.get("webhook") == 1
        await n.stop()

    try:
        run(go())
    finally:
        hang.close()


def test_silences_and_notification_log_survive_restart(hook: Recorder, tmp_path: Path) -> None:
    async def go() -> None:
        clock = FakeClock()
        n = make(hook, clock, tmp_path)
        sid = n.silences.set(Silence("", (Matcher.of("instance", "=", "9"),), clock.now, clock.now + 86400,
                                     created_by="me", comment="c"))
        n.send([alert("A")])
        clock.advance(30)
        await n.tick()
        await n.stop()
        assert len(hook.bodies) == 1
        assert {p.name for p in tmp_path.iterdir()} == {"silences.json", "nflog.json"}

        clock.advance(60)
        n2 = make(hook, clock, tmp_path)
        assert n2.silences.get(sid).created_by == "me"
        assert n2.silenced_by({"alertname": "A", "instance": "9"}, clock.now) == [sid]
        n2.send([Alert(labels_from_dict({"alertname": "A"}), starts_at=clock.now - 90)])
        await n2.tick()  # flushes at once (old alert) but the log says it was already sent
        assert len(hook.bodies) == 1
        clock.advance(4 * 3600)
        n2.send([alert("A")])
        await n2.tick()
        assert len(hook.bodies) == 2  # repeat_interval counted from before the restart
        await n2.stop()

    run(go())


def test_reload_reroutes_held_alerts(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock()
        n = make(hook, clock)
        n.send([alert("A", team="x")])
        new = load_dict(yaml.safe_load(CONFIG.replace("URL", hook.url).replace('team="quiet"', 'team="x"')))
        await n.reload(new)
        clock.advance(30)
        await n.tick()
        assert hook.paths == ["/quiet"]
        await n.stop()

    run(go())


def test_invalid_alerts_are_refused_and_counted(hook: Recorder) -> None:
    from kubesight.errors import ValidationError

    clock = FakeClock()
    n = make(hook, clock)
    with pytest.raises(ValidationError, match="invalid label set"):
        n.post([Alert((("bad-name", "x"),)), alert("Fine")])
    assert [a.labels["alertname"] for a in n.alerts()] == ["Fine"]
    assert n.counters.invalid.get() == 1
    run(n.stop())


def test_active_time_interval_only_sends_inside_it(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock(1_700_006_400.0)  # 2023-11-15 00:00 UTC, a Wednesday
        cfg = load_dict(yaml.safe_load(f"""
route:
  receiver: hook
  routes: [{{matchers: [a=b], receiver: hook, active_time_intervals: [office]}}]
receivers: [{{name: hook, webhook_configs: [{{url: '{hook.url}/'}}]}}]
time_intervals:
  - name: office
    time_intervals: [{{weekdays: ['monday:friday'], times: [{{start_time: '09:00', end_time: '17:00'}}]}}]
"""))
        n = Notifier(cfg, None, clock=clock, sleep=clock.sleep)
        n.send([alert("A", a="b")])
        clock.advance(30)
        await n.tick()
        assert hook.bodies == []  # midnight: outside office hours
        for _ in range(9 * 12):  # keep it firing until 09:00
            clock.advance(300)
            n.send([alert("A", a="b")])
            await n.tick()
        assert len(hook.bodies) == 1
        await n.stop()

    run(go())


def test_resolved_alerts_are_forgotten_by_gc(hook: Recorder) -> None:
    async def go() -> None:
        clock = FakeClock()
        n = make(hook, clock)
        n.send([alert("A", ends=clock.now + 10), alert("B")])
        clock.advance(1800)
        n.send([alert("B")])
        await n.tick()
        assert [a.labels["alertname"] for a in n.alerts()] == ["B"]
        await n.stop()

    run(go())
