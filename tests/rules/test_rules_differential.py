"""The same rule file over the same data in Prometheus' rule engine and in kubesight.

Prometheus runs the rules through ``promtool test rules`` (its own rules
package on a simulated clock, from Debian's prometheus). kubesight runs the
same file on a MemoryStore with the clock driven by the test. At every
evaluation the recorded series and the ``ALERTS``/``ALERTS_FOR_STATE`` series,
values and sample timestamps, must be the same.

promtool evaluates every group at every tick, so all groups here use the
default interval (group intervals are tested in test_manager.py). Samples sit
on the minute grid and rules run on it, so range windows are 150s long: a
window bound never lands on a sample, where Debian's Prometheus 2.42 (closed
windows) and kubesight (3.x, left-open) legitimately differ; for the same
reason no series has a gap of 5 minutes (the lookback) or more.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubesight.promql import Engine
from kubesight.rules import (
    RuleManager,
    RuleManagerOptions,
    State,
    engine_query_func,
    parse_rule_file,
)
from kubesight.store.memory import MemoryStore
from tests.rules.diffrun import differences, load_series, run_kubesight
from tests.rules.promtool import firing_alerts_with_promtool, query_with_promtool

pytestmark = pytest.mark.peer

RULES = """
groups:
- name: recording
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - record: job:up:ratio
    expr: job:up:sum / on(job) count by (job) (up)
    labels: {team: infra}
  - record: instance:errors:rate2m
    expr: rate(errors_total[150s])
  - record: scalar:value
    expr: scalar(sum(up))
- name: alerts
  rules:
  - alert: InstanceDown
    expr: up == 0
    for: 2m
    labels: {severity: page, where: "{{ $labels.instance }}"}
    annotations:
      summary: "{{ $labels.instance }} of {{ $labels.job }} is down ({{ $value }})"
  - alert: KeepsFiring
    expr: up{instance="x"} == 0
    keep_firing_for: 3m
  - alert: NoFor
    expr: errors_total > 8
    labels: {severity: info}
  - alert: HighErrorRate
    expr: rate(errors_total[150s]) * 60 > 1.5
    for: 1m
    annotations: {rate: "{{ printf \\"%.2f\\" $value }}/min"}
  - alert: UsesRecorded
    expr: job:up:sum < 2
    for: 3m
- name: more
  rules:
  - record: job:errors:sum
    expr: sum by (job) (errors_total)
  - alert: SlowGroup
    expr: sum(errors_total) > 10
    for: 4m
"""

SERIES = [
    ('up{job="a",instance="x"}', "1 1 0 0 0 0 0 1 1 1 1 1 1 1 1 0 0 0 0 0 0 0 0"),
    ('up{job="a",instance="y"}', "1 1 1 _ 1 stale 1 1 0 0 0 0 1 1 1 1 1 1 1 1 1 1 1"),
    ('up{job="b",instance="z"}', "0x22"),
    ('errors_total{job="a",instance="x"}', "0+1x10 10+3x12"),
    ('errors_total{job="b",instance="z"}', "5 5 _ _ 7 9 12 _x3 13x10"),
]
NAMES = "job:up:sum|job:up:ratio|instance:errors:rate2m|scalar:value|job:errors:sum|ALERTS|ALERTS_FOR_STATE"
QUERIES = [
    f'{{__name__=~"{NAMES}"}}',
    f'timestamp(label_replace({{__name__=~"{NAMES}"}}, "name", "$1", "__name__", "(.+)"))',
]
MINUTES = 24


def test_recorded_series_and_alerts_match_prometheus(tmp_path: Path) -> None:
    times = [m * 60 for m in range(MINUTES)]
    prom = query_with_promtool(tmp_path, RULES, SERIES, QUERIES, times)
    ours = run_kubesight(parse_rule_file(RULES, "rules.yml"), SERIES, QUERIES, times)
    assert any(prom[(QUERIES[0], t)] for t in times)  # the comparison is not vacuous
    assert any(k for t in times for k in prom[(QUERIES[0], t)] if ("__name__", "ALERTS") in k)
    diffs = differences(prom, ours)
    assert not diffs, "\n".join(diffs)


def test_firing_alerts_and_their_annotations_match_prometheus(tmp_path: Path) -> None:
    names = ["InstanceDown", "KeepsFiring", "NoFor", "HighErrorRate", "UsesRecorded", "SlowGroup"]
    times = [m * 60 for m in range(MINUTES)]
    prom = firing_alerts_with_promtool(tmp_path, RULES, SERIES, names, times)
    store = MemoryStore()
    load_series(store, SERIES, 60)
    mgr = RuleManager(RuleManagerOptions(appender=store, querier=store, query=engine_query_func(Engine(store)),
                                         restore=False, clock=lambda: 0.0))
    mgr.update(parse_rule_file(RULES, "rules.yml"))
    ours = {}
    for t in times:
        for g in mgr.groups:
            g.eval(t * 1000)
        for r in mgr.alerting_rules():
            ours[(r.name, t)] = {(frozenset(a.labels), frozenset(a.annotations)) for a in r.active.values()
                                 if a.state is State.FIRING and not a.resolved_at_ms}
    assert any(prom.values())
    assert any(dict(ann).get("summary") for v in prom.values() for _, ann in v)
    diffs = [f"{k}: prometheus {sorted(map(sorted, prom[k]))} kubesight {sorted(map(sorted, ours[k]))}"
             for k in sorted(prom, key=lambda k: (k[1], k[0])) if prom[k] != ours[k]]
    assert not diffs, "\n".join(diffs)
