"""The rule manager on a clock the test drives: schedule, health, limits, sending, restore, reload."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from kubesight.model import Matcher, MatchOp, SampleBatch
from kubesight.model.alerts import Alert
from kubesight.model.labels import labels_from_dict
from kubesight.promql import Engine
from kubesight.rules import Health, RuleManager, RuleManagerOptions, State, engine_query_func
from kubesight.store.memory import MemoryStore

T0 = 1_750_000_000  # seconds; a round base so evaluation times are easy to read


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class ListSink:
    def __init__(self) -> None:
        self.batches: list[list[Alert]] = []

    def send(self, alerts: Sequence[Alert]) -> None:
        self.batches.append(list(alerts))


def up(store: MemoryStore, instance: str, values: list[float], start: int = T0 - 600, step: int = 30) -> None:
    lbls = labels_from_dict({"__name__": "up", "job": "node", "instance": instance})
    store.append(SampleBatch.from_series([(lbls, [((start + i * step) * 1000, v) for i, v in enumerate(values)])]))


def manager(tmp_path: Path, rules: str, store: MemoryStore, clock: Clock, **kw: object) -> RuleManager:
    f = tmp_path / "rules.yml"
    f.write_text(rules)
    opts = RuleManagerOptions(appender=store, querier=store, query=engine_query_func(Engine(store)),
                              clock=clock, **kw)  # type: ignore[arg-type]
    m = RuleManager(opts)
    m.reload([f])
    return m


def series(store: MemoryStore, name: str) -> dict[tuple[tuple[str, str], ...], list[tuple[int, float]]]:
    data = store.select([Matcher("__name__", MatchOp.EQ, name)], 0, 2**62)
    out = {}
    for i, lbls in enumerate(data.labels):
        ts, vs = data.samples(i)
        out[lbls] = list(zip((ts // 1000).tolist(), vs.tolist(), strict=True))
    return out


def test_groups_run_on_their_interval_and_skip_missed_evaluations(tmp_path: Path) -> None:
    store = MemoryStore()
    up(store, "a", [1.0] * 200)
    clock = Clock(T0)
    m = manager(tmp_path, """
groups:
- name: fast
  interval: 10s
  rules: [{record: "n:up", expr: "count(up)"}]
- name: slow
  interval: 1m
  rules: [{record: "n:up:slow", expr: "count(up)"}]
""", store, clock)
    fast, slow = m.groups
    assert (fast.interval_ms, slow.interval_ms) == (10_000, 60_000)
    assert m.run_due() <= 10 and not series(store, "n:up")  # nothing is due at load time
    for _ in range(12):
        clock.t += 10
        m.run_due()
    fast_ts = [t for t, _ in next(iter(series(store, "n:up").values()))]
    slow_ts = [t for t, _ in next(iter(series(store, "n:up:slow").values()))]
    assert len(fast_ts) == 12 and all(b - a == 10 for a, b in itertools.pairwise(fast_ts))
    assert len(slow_ts) == 2 and slow_ts[1] - slow_ts[0] == 60
    assert fast.last_evaluation_ms // 1000 == fast_ts[-1]
    clock.t += 300  # the process was stalled: one evaluation, not thirty
    m.run_due()
    assert len(next(iter(series(store, "n:up").values()))) == 13


def test_a_failing_rule_is_unhealthy_and_the_others_run(tmp_path: Path) -> None:
    store = MemoryStore()
    up(store, "a", [1.0] * 40)
    up(store, "b", [1.0] * 40)
    clock = Clock(T0)
    m = manager(tmp_path, """
groups:
- name: g
  limit: 1
  rules:
  - {record: "str", expr: '"a string"'}
  - {record: "too:many", expr: up}
  - {record: "dup", expr: up, labels: {instance: x}}
  - {record: "ok", expr: count(up)}
""", store, clock)
    clock.t += 60
    m.run_due()
    health = {r.name: (r.status.health, r.status.last_error) for r in m.groups[0].rules}
    assert health == {
        "str": (Health.ERR, "rule result is not a vector or scalar"),
        "too:many": (Health.ERR, "exceeded limit 1 with 2 series"),
        "dup": (Health.ERR, "vector contains metrics with the same labelset after applying rule labels"),
        "ok": (Health.OK, ""),
    }
    assert next(iter(series(store, "ok").values()))[0][1] == 2.0
    assert not series(store, "too:many")


def test_alerts_pending_firing_resolved_and_resent(tmp_path: Path) -> None:
    store = MemoryStore()
    # instance a: up until T0+60, down from T0+90 to T0+300, up again after
    up(store, "a", [1.0] * 23 + [0.0] * 8 + [1.0] * 20)
    sink = ListSink()
    clock = Clock(T0)
    m = manager(tmp_path, """
groups:
- name: g
  interval: 30s
  rules:
  - alert: Down
    expr: up == 0
    for: 1m
    labels: {severity: page}
    annotations: {summary: "{{ $labels.instance }} down"}
""", store, clock, sink=sink, restore=False, external_labels={"cluster": "c"},
        external_url="http://ks:9595")
    rule = m.alerting_rules()[0]
    g = m.groups[0]
    states = []
    for k in range(0, 14):
        g.eval((T0 + 30 * k) * 1000)
        states.append(rule.state.value)
    # down from T0+90: pending at +90 and +120, firing from +150 to +300, resolved at +330
    assert states == ["inactive"] * 3 + ["pending"] * 2 + ["firing"] * 6 + ["inactive"] * 3
    sent = [(a.starts_at, a.ends_at) for batch in sink.batches for a in batch]
    fire_t = T0 + 150
    # sent when it fires (valid for 4 x max(interval, resend delay)), again once the
    # 1m resend delay has passed, then once resolved with endsAt = when it resolved
    assert sent[0] == (fire_t, fire_t + 4 * 60)
    assert sent[1] == (fire_t, fire_t + 90 + 4 * 60)
    resolved_t = T0 + 30 * 11
    assert sent[-1] == (fire_t, resolved_t)
    alert = sink.batches[0][0]
    assert dict(alert.labels) == {"alertname": "Down", "instance": "a", "job": "node", "severity": "page"}
    assert dict(alert.annotations) == {"summary": "a down"}
    assert alert.generator_url == "http://ks:9595/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
    alerts_series = series(store, "ALERTS")
    pending = next(v for k, v in alerts_series.items() if ("alertstate", "pending") in k)
    assert math.isnan(pending[-1][1])  # pending series marked stale when the alert fired


def test_keep_firing_for_and_for_state_restore_after_restart(tmp_path: Path) -> None:
    store = MemoryStore()
    up(store, "a", [0.0] * 200, start=T0 - 60)
    clock = Clock(T0)
    rules = """
groups:
- name: g
  rules:
  - alert: LongFor
    expr: up == 0
    for: 30m
"""
    m = manager(tmp_path, rules, store, clock, restore=False)
    g = m.groups[0]
    for k in range(0, 11):  # 10 minutes pending
        g.eval((T0 + 60 * k) * 1000)
    rule = m.alerting_rules()[0]
    assert rule.state is State.PENDING
    active_at = next(iter(rule.active.values())).active_at_ms
    assert active_at == T0 * 1000
    # "restart" 5 minutes later: a new manager on the same store restores the 'for' clock,
    # shifted by the downtime, as Prometheus does
    clock.t = T0 + 15 * 60
    m2 = manager(tmp_path, rules, store, clock)
    g2 = m2.groups[0]
    g2.eval(int(clock.t) * 1000)
    r2 = m2.alerting_rules()[0]
    # the first evaluation after a restart writes no ALERTS: the 'for' state is not restored yet
    assert not r2.restored
    assert max(t for v in series(store, "ALERTS").values() for t, _ in v) == T0 + 600
    clock.t += 60
    g2.eval(int(clock.t) * 1000)
    assert r2.restored
    restored = next(iter(r2.active.values())).active_at_ms
    down_at = (T0 + 600) * 1000
    assert restored == active_at + (int((T0 + 16 * 60) * 1000) - down_at)


def test_restore_within_grace_period_fires_after_the_grace_period() -> None:
    from kubesight.rules.rule import restore_active_at

    # 29 of 30 minutes pending when it went down: fire 10m (grace) after the restart, not at once
    assert restore_active_at(0, 29 * 60_000, 40 * 60_000, 30 * 60_000, 10 * 60_000) == 20 * 60_000
    # it had fired: keep its ActiveAt
    assert restore_active_at(0, 31 * 60_000, 40 * 60_000, 30 * 60_000, 10 * 60_000) == 0


def test_reload_keeps_alert_state_and_stales_removed_groups(tmp_path: Path) -> None:
    store = MemoryStore()
    up(store, "a", [0.0] * 200, start=T0 - 60)
    clock = Clock(T0)
    m = manager(tmp_path, """
groups:
- name: keep
  rules: [{alert: Down, expr: up == 0, for: 10m}]
- name: drop
  rules: [{record: "gone", expr: count(up)}]
""", store, clock, restore=False)
    for k in range(3):
        for g in m.groups:
            g.eval((T0 + 60 * k) * 1000)
    before = next(iter(m.alerting_rules()[0].active.values())).active_at_ms
    (tmp_path / "rules.yml").write_text("groups:\n- name: keep\n  rules: [{alert: Down, expr: up == 0, for: 10m}]\n")
    clock.t = T0 + 150
    m.reload([tmp_path / "rules.yml"])
    assert [g.name for g in m.groups] == ["keep"]
    assert next(iter(m.alerting_rules()[0].active.values())).active_at_ms == before
    assert math.isnan(next(iter(series(store, "gone").values()))[-1][1])
    # a broken file keeps the running groups
    (tmp_path / "rules.yml").write_text("groups: [{name: x, rules: [{alert: A}]}]")
    with pytest.raises(Exception, match="field 'expr' must be set"):
        m.reload([tmp_path / "rules.yml"])
    assert [g.name for g in m.groups] == ["keep"]


def test_start_and_stop_run_in_the_background(tmp_path: Path) -> None:
    store = MemoryStore()
    up(store, "a", [1.0] * 100)
    clock = Clock(T0)
    slept: list[float] = []

    async def fake_sleep(s: float) -> None:
        slept.append(s)
        clock.t += max(s, 0.001)
        await asyncio.sleep(0)

    m = manager(tmp_path, "groups: [{name: g, interval: 15s, rules: [{record: r, expr: count(up)}]}]",
                store, clock, sleep=fake_sleep)

    def evaluations() -> int:
        return sum(len(v) for v in series(store, "r").values())

    async def run() -> None:
        await m.start()
        while evaluations() < 3:
            await asyncio.sleep(0.01)
        await m.stop()

    asyncio.run(asyncio.wait_for(run(), 30))
    assert len(next(iter(series(store, "r").values()))) >= 3


def test_query_offset_group_labels_and_alert_limit(tmp_path: Path) -> None:
    store = MemoryStore()
    lbls = labels_from_dict({"__name__": "g", "job": "x"})
    store.append(SampleBatch.from_series([(lbls, [((T0 + 60 * k) * 1000, float(k)) for k in range(10)])]))
    up(store, "a", [0.0] * 40, start=T0)
    up(store, "b", [0.0] * 40, start=T0)
    clock = Clock(T0)
    m = manager(tmp_path, """
groups:
- name: offset
  query_offset: 2m
  labels: {team: infra, tier: group}
  rules:
  - record: g:late
    expr: g
    labels: {tier: rule}
- name: limited
  limit: 1
  rules:
  - alert: TooMany
    expr: up == 0
""", store, clock, restore=False)
    offset, limited = m.groups
    offset.eval((T0 + 300) * 1000)
    ((labels, samples),) = series(store, "g:late").items()
    # evaluated as of 2 minutes earlier, and stamped with that time, as Prometheus does
    assert samples == [(T0 + 180, 3.0)]
    assert dict(labels) == {"__name__": "g:late", "job": "x", "team": "infra", "tier": "rule"}
    limited.eval((T0 + 60) * 1000)
    rule = m.alerting_rules()[0]
    assert rule.status.last_error == "exceeded limit of 1 with 2 alerts" and not rule.active


def test_resolved_alerts_are_forgotten_after_15_minutes(tmp_path: Path) -> None:
    store = MemoryStore()
    up(store, "a", [0.0] * 2 + [1.0] * 60, start=T0, step=60)
    m = manager(tmp_path, "groups: [{name: g, rules: [{alert: Down, expr: up == 0}]}]", store, Clock(T0),
                restore=False)
    g, rule = m.groups[0], m.alerting_rules()[0]
    kept = []
    for k in range(0, 20):
        g.eval((T0 + 60 * k) * 1000)
        kept.append(len(rule.active))
    # firing at 0 and 60, resolved at 120, kept while 15 minutes have not passed since
    assert kept == [1] * 18 + [0] * 2


def test_a_store_that_refuses_marks_the_rule_unhealthy(tmp_path: Path) -> None:
    store = MemoryStore()
    up(store, "a", [1.0] * 40)

    class Refusing:
        def append(self, batch: SampleBatch) -> None:
            raise RuntimeError("store is closing")

    clock = Clock(T0)
    m = manager(tmp_path, "groups: [{name: g, rules: [{record: r, expr: count(up)}, {record: s, expr: up}]}]",
                store, clock)
    m.groups[0].opts.appender = Refusing()  # type: ignore[assignment]
    m.groups[0].eval(T0 * 1000)
    assert [(r.status.health, r.status.last_error) for r in m.groups[0].rules] == [
        (Health.ERR, "appending the results failed: store is closing")] * 2
