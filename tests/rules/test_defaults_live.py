"""The default node rules on this machine's real host metrics, from kubesight's own collector:
every rule evaluates without error and the recording rules the dashboards read have values."""

from __future__ import annotations

import math
import time

from kubesight.collect.family import to_batch
from kubesight.collect.host import HostCollector, HostOptions
from kubesight.promql import Engine
from kubesight.rules import Health, RuleManager, RuleManagerOptions, engine_query_func
from kubesight.rules.defaults import default_groups
from kubesight.store.memory import MemoryStore


def test_node_rules_on_real_host_metrics() -> None:
    store = MemoryStore()
    collector = HostCollector(HostOptions())
    now_ms = int(time.time() * 1000)
    # three collections 15s apart (stamped so; rates need two points in the window)
    for k in range(3):
        if k:
            time.sleep(0.5)
        store.append(to_batch(collector.collect(), now_ms - (2 - k) * 15_000, (("instance", "host-a"), ("job", "node"))))
    mgr = RuleManager(RuleManagerOptions(appender=store, querier=store, query=engine_query_func(Engine(store)),
                                         restore=False, clock=time.time))
    mgr.update(default_groups({"kubernetes"}))
    for g in mgr.groups:
        g.eval(now_ms)
    bad = [(r.name, r.status.last_error) for g in mgr.groups for r in g.rules if r.status.health is not Health.OK]
    assert not bad
    engine = Engine(store)
    for name in ("instance:node_num_cpu:sum", "instance:node_cpu_utilisation:rate5m",
                 "instance:node_memory_utilisation:ratio", "instance:node_load1_per_cpu:ratio"):
        res = engine.instant(name, now_ms).value
        values = res.values.tolist()  # type: ignore[union-attr]
        assert len(values) == 1 and math.isfinite(values[0]), name
    cpus = engine.instant("instance:node_num_cpu:sum", now_ms).value.values[0]  # type: ignore[union-attr]
    assert cpus >= 1
    util = engine.instant("instance:node_memory_utilisation:ratio", now_ms).value.values[0]  # type: ignore[union-attr]
    assert 0 < util < 1
