"""The v2 API answers as Debian's Alertmanager does, for the same config, alerts and silences."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubesight.notify.config import load_dict
from kubesight.notify.notifier import Notifier
from tests.notify.helpers import serve_notifier
from tests.peers import alertmanager

pytestmark = [pytest.mark.peer, pytest.mark.slow]

CONFIG = """
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: [team="db"]
      receiver: db
      continue: true
    - matchers: [severity=~"crit.*"]
      receiver: pager
      group_by: ['...']
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster]
receivers: [{name: default}, {name: db}, {name: pager}]
"""

TIMES = ("startsAt", "endsAt", "updatedAt")


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def strip(obj: Any, ids: dict[str, str]) -> Any:
    """Drop times that depend on when each server got the request; name silences by creation order."""
    if isinstance(obj, dict):
        return {k: strip(v, ids) for k, v in obj.items() if k not in TIMES}
    if isinstance(obj, list):
        return [strip(v, ids) for v in obj]
    if isinstance(obj, str):
        return ids.get(obj, obj)
    return obj


def test_api_answers_match_alertmanager(tmp_path: Path) -> None:
    start = datetime.now(UTC).replace(microsecond=250000) - timedelta(minutes=10)
    alerts = [
        {"labels": {"alertname": "Down", "severity": "critical", "cluster": "a"}, "startsAt": iso(start),
         "annotations": {"summary": "down"}, "generatorURL": "http://prom/graph?g0.expr=up"},
        {"labels": {"alertname": "Slow", "severity": "warning", "cluster": "a", "team": "db"}},
        {"labels": {"alertname": "Slow", "severity": "warning", "cluster": "b", "team": "db"}},
        {"labels": {"alertname": "Disk", "severity": "critical", "cluster": "b", "team": "db"}},
        {"labels": {"alertname": "Old"}, "startsAt": iso(start), "endsAt": iso(start + timedelta(minutes=1))},
    ]
    now = datetime.now(UTC)
    silence = {"matchers": [{"name": "cluster", "value": "b", "isRegex": False, "isEqual": True},
                            {"name": "alertname", "value": "Sl.*", "isRegex": True, "isEqual": True}],
               "startsAt": iso(now), "endsAt": iso(now + timedelta(hours=1)), "createdBy": "me", "comment": "c"}
    pending = {**silence, "startsAt": iso(now + timedelta(hours=1)), "endsAt": iso(now + timedelta(hours=2)),
               "matchers": [{"name": "x", "value": "y", "isRegex": False, "isEqual": True}]}
    queries: list[tuple[str, dict[str, Any]]] = [
        ("/api/v2/alerts", {}),
        ("/api/v2/alerts", {"silenced": "false"}),
        ("/api/v2/alerts", {"inhibited": "false", "active": "true"}),
        ("/api/v2/alerts", {"active": "false"}),
        ("/api/v2/alerts", {"receiver": "p.*"}),
        ("/api/v2/alerts", {"filter": ['severity=~"crit.*"', "cluster!=a"]}),
        ("/api/v2/alerts/groups", {}),
        ("/api/v2/alerts/groups", {"silenced": "false", "inhibited": "false"}),
        ("/api/v2/silences", {}),
        ("/api/v2/silences", {"filter": "cluster=b"}),
        ("/api/v2/receivers", {}),
    ]
    answers: dict[str, list[Any]] = {}
    silence_ids: dict[str, dict[str, str]] = {}
    with alertmanager(tmp_path / "am", CONFIG) as am_url:
        n = Notifier(load_dict(yaml.safe_load(CONFIG)), tmp_path / "notify")
        with serve_notifier(n, tmp_path / "data") as ks_url:
            for name, url in (("am", am_url), ("ks", ks_url)):
                assert httpx.post(f"{url}/api/v2/alerts", json=alerts).status_code == 200
                silence_ids[name] = {}
                for i, s in enumerate((silence, pending)):
                    r = httpx.post(f"{url}/api/v2/silences", json=s)
                    assert r.status_code == 200, r.text
                    silence_ids[name][r.json()["silenceID"]] = f"silence-{i}"
                got = []
                for path, params in queries:
                    r = httpx.get(f"{url}{path}", params=params)
                    assert r.status_code == 200, (name, path, r.text)
                    got.append(r.json())
                answers[name] = got
    (tmp_path / "answers.json").write_text(json.dumps(answers, indent=1))  # for diffing by hand
    for (path, params), theirs, ours in zip(queries, answers["am"], answers["ks"], strict=True):
        assert strip(ours, silence_ids["ks"]) == strip(theirs, silence_ids["am"]), (path, params)
    # times the client set come back as sent
    down = next(a for a in answers["ks"][0] if a["labels"]["alertname"] == "Down")
    assert down["startsAt"] == iso(start)
