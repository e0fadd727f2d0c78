"""End to end in one process: rule evaluation hands alerts to the notifier, a webhook gets them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import yaml

from kubesight.model import SampleBatch
from kubesight.model.labels import labels_from_dict
from kubesight.notify import Notifier, load_config
from kubesight.promql import Engine
from kubesight.rules import parse_rules_config
from kubesight.rules.runtime import build_rules_runtime
from kubesight.store.memory import MemoryStore
from tests.notify.helpers import FakeClock, webhook_receiver


def test_rule_alert_is_notified_then_resolved(tmp_path: Path) -> None:
    store = MemoryStore()
    now = float(int(time.time()))
    up = labels_from_dict({"__name__": "up", "job": "x", "instance": "a"})
    store.append(SampleBatch.from_series([(up, [(int(now * 1000) - 1000, 0.0)])]))
    (tmp_path / "r.yml").write_text(
        "groups: [{name: g, rules: [{alert: Down, expr: up == 0, labels: {severity: page},"
        " annotations: {summary: '{{ $labels.instance }} is down'}}]}]")
    cfg = parse_rules_config({"rule_files": ["r.yml"], "global": {"external_labels": {"cluster": "c1"}}},
                             tmp_path)
    with webhook_receiver() as hook:
        am = load_config(inline=yaml.safe_load(f"""
route: {{receiver: hook, group_by: [alertname, cluster], group_wait: 10s, group_interval: 1m}}
receivers: [{{name: hook, webhook_configs: [{{url: '{hook.url}/'}}]}}]
"""))
        clock = FakeClock(now)
        notifier = Notifier(am, tmp_path / "am", clock=clock, sleep=clock.sleep)
        rt = build_rules_runtime(store, store, Engine(store), cfg, notifier=notifier, defaults=False)

        async def go() -> None:
            (group,) = rt.manager.groups
            group.eval(int(now * 1000))
            clock.advance(10)
            await notifier.tick()
            assert len(hook.bodies) == 1
            # the target comes back: the next evaluation resolves the alert
            store.append(SampleBatch.from_series([(up, [(int(now * 1000) + 59_000, 1.0)])]))
            clock.advance(50)
            group.eval(int(clock.now * 1000))
            clock.advance(60)
            await notifier.tick()
            await notifier.stop()

        asyncio.run(go())
    firing, resolved = hook.json()
    assert firing["status"] == "firing" and firing["groupKey"] == '{}:{alertname="Down", cluster="c1"}'
    a = firing["alerts"][0]
    assert a["labels"] == {"alertname": "Down", "cluster": "c1", "instance": "a", "job": "x", "severity": "page"}
    assert a["annotations"] == {"summary": "a is down"}
    assert resolved["status"] == "resolved" and resolved["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"
