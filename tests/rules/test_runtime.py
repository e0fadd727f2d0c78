"""build_rules_runtime: the one call the server makes, end to end on a real store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from kubesight.model import SampleBatch
from kubesight.model.alerts import Alert
from kubesight.model.labels import labels_from_dict
from kubesight.promql import Engine
from kubesight.rules import RuleFileError, parse_rules_config
from kubesight.rules.runtime import build_rules_runtime
from kubesight.store.memory import MemoryStore


class ListSink:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alerts: Sequence[Alert]) -> None:
        self.alerts.extend(alerts)


def test_runtime_loads_defaults_and_files_and_reloads(tmp_path: Path) -> None:
    store = MemoryStore()
    now = time.time()
    lbls = labels_from_dict({"__name__": "up", "job": "x", "instance": "a"})
    store.append(SampleBatch.from_series([(lbls, [(int(now * 1000) - 1000, 0.0)])]))
    (tmp_path / "mine.yml").write_text("groups: [{name: mine, rules: [{alert: Down, expr: up == 0}]}]")
    cfg = parse_rules_config({"rule_files": ["*.yml"], "global": {"external_labels": {"cluster": "c1"}},
                              "alerting": {"alertmanagers": []}}, tmp_path)
    notifier = ListSink()
    rt = build_rules_runtime(store, store, Engine(store), cfg, notifier=notifier,
                             disabled_defaults={"kubernetes"})
    names = [g.name for g in rt.manager.groups]
    assert "mine" in names and "node-alerts" in names and "k8s-apps" not in names
    for g in rt.manager.groups:
        g.eval(int(now * 1000))
    sent = {a.name: dict(a.labels) for a in notifier.alerts}
    # the built-in notifier sees external labels, as an Alertmanager behind Prometheus does
    assert sent["Down"] == {"alertname": "Down", "cluster": "c1", "instance": "a", "job": "x"}
    assert "Watchdog" in sent
    # a reload with a broken file keeps everything as it was
    (tmp_path / "broken.yml").write_text("groups: [{name: b, rules: [{alert: B}]}]")
    cfg2 = parse_rules_config({"rule_files": ["*.yml"], "global": {"evaluation_interval": "10s"}}, tmp_path)
    with pytest.raises(RuleFileError):
        asyncio.run(rt.reload(cfg2))
    assert [g.name for g in rt.manager.groups] == names
    assert rt.manager.opts.evaluation_interval_ms == 60_000
    (tmp_path / "broken.yml").unlink()
    rt.defaults = False
    cfg2 = parse_rules_config({"rule_files": ["*.yml"], "global": {"evaluation_interval": "10s"}}, tmp_path)
    asyncio.run(rt.reload(cfg2))
    assert [g.name for g in rt.manager.groups] == ["mine"]
    assert rt.manager.groups[0].interval_ms == 10_000

    async def start_stop() -> None:
        await rt.start()
        await rt.stop()

    asyncio.run(start_stop())
