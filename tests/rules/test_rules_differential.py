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

import math
import re
from pathlib import Path

import pytest

from kubesight.model import SampleBatch
from kubesight.model.labels import labels_from_dict
from kubesight.model.samples import stale_nan
from kubesight.promql import Engine, Vector
from kubesight.rules import RuleManager, RuleManagerOptions, engine_query_func, parse_rule_file
from kubesight.store.memory import MemoryStore
from tests.rules.promtool import Vec, query_with_promtool

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


def expand_values(text: str) -> list[float | None]:
    """promtool's expanding notation: ``1+2x3``, ``5x2``, ``_``, ``_x3``, ``stale``."""
    out: list[float | None] = []
    for item in text.split():
        if item == "stale":
            out.append(stale_nan())
            continue
        m = re.fullmatch(r"(_|[-+]?[0-9.e]+)(?:([-+])([0-9.e]+))?(?:x(\d+))?", item)
        assert m, item
        start, sign, step, times = m.groups()
        n = int(times) if times else 0
        if start == "_":
            out.extend([None] * (n if times else 1))  # "_x3" is three gaps, "1x3" four values
            continue
        s = float(start)
        d = float(step or 0) * (-1 if sign == "-" else 1)
        out.extend(s + d * k for k in range(n + 1))
    return out


def parse_series(text: str) -> dict[str, str]:
    name, _, rest = text.partition("{")
    labels = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    labels["__name__"] = name
    return labels


def kubesight_results(times_s: list[int]) -> dict[tuple[str, int], Vec]:
    store = MemoryStore()
    items = []
    for s, v in SERIES:
        samples = [(k * 60_000, x) for k, x in enumerate(expand_values(v)) if x is not None]
        items.append((labels_from_dict(parse_series(s)), samples))
    store.append(SampleBatch.from_series(items))
    engine = Engine(store)
    now = [0.0]
    mgr = RuleManager(RuleManagerOptions(
        appender=store, querier=store, query=engine_query_func(engine), restore=False,
        clock=lambda: now[0],
    ))
    mgr.update(parse_rule_file(RULES, "rules.yml"))
    out: dict[tuple[str, int], Vec] = {}
    for t in range(0, max(times_s) + 1, 60):
        for g in mgr.groups:
            if t * 1000 % g.interval_ms == 0:
                g.eval(t * 1000)
        if t in times_s:
            for q in QUERIES:
                res = engine.instant(q, t * 1000).value
                assert isinstance(res, Vector)
                out[(q, t)] = {frozenset(lbls): v for lbls, v in zip(res.labels, res.values.tolist(), strict=True)}
    return out


def test_recorded_series_and_alerts_match_prometheus(tmp_path: Path) -> None:
    times = [m * 60 for m in range(MINUTES)]
    prom = query_with_promtool(tmp_path, RULES, SERIES, QUERIES, times)
    ours = kubesight_results(times)
    assert any(prom[(QUERIES[0], t)] for t in times)  # the comparison is not vacuous
    assert any(k for t in times for k in prom[(QUERIES[0], t)] if ("__name__", "ALERTS") in k)
    diffs = []
    for t in times:
        for q in QUERIES:
            p, o = prom[(q, t)], ours[(q, t)]
            if p.keys() != o.keys() or any(not math.isclose(p[k], o[k], rel_tol=1e-9) for k in p):
                only_p = {_show(k): p[k] for k in p if k not in o or not math.isclose(p[k], o[k], rel_tol=1e-9)}
                only_o = {_show(k): o[k] for k in o if k not in p or not math.isclose(p[k], o[k], rel_tol=1e-9)}
                diffs.append(f"t={t}s {q[:9]}: prometheus {only_p} kubesight {only_o}")
    assert not diffs, "\n".join(diffs)


def _show(k: frozenset[tuple[str, str]]) -> str:
    return ",".join(f"{a}={b}" for a, b in sorted(k))
