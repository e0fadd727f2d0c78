"""The routing tree, compared label set by label set with ``amtool config routes test``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from kubesight.notify.config import load_dict
from kubesight.notify.labels import fingerprint_hex, labelset_str, parse_matchers
from kubesight.notify.route import Route
from tests.conftest import require_peer

TREE = """
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
      routes:
        - matchers: ['team="db"']
          receiver: db-pager
    - matchers: ['team=~"db|web"', 'env!="dev"']
      receiver: team
      group_by: ['...']
      routes:
        - match: {service: mysql}
          receiver: mysql
        - match_re: {service: 'post.*'}
          receiver: postgres
          continue: true
        - matchers: [service!~"postgres-.*"]
          receiver: not-pg
    - matchers: ['alertname=Watchdog']
      receiver: deadman
    - matchers: ['instance=~".+:9100"', 'job=node']
      receiver: nodes
receivers: [{name: default}, {name: pager}, {name: db-pager}, {name: team}, {name: mysql},
            {name: postgres}, {name: not-pg}, {name: deadman}, {name: nodes}]
"""

LABEL_SETS = [
    {"alertname": "A"},
    {"alertname": "A", "severity": "critical"},
    {"alertname": "A", "severity": "critical", "team": "db"},
    {"alertname": "A", "severity": "critical", "team": "web"},
    {"alertname": "A", "team": "db", "env": "dev"},
    {"alertname": "A", "team": "db", "service": "mysql"},
    {"alertname": "A", "team": "web", "service": "postgres"},
    {"alertname": "A", "team": "web", "service": "postgres-main"},
    {"alertname": "A", "team": "web", "service": "redis"},
    {"alertname": "A", "team": "dbx"},
    {"alertname": "Watchdog"},
    {"alertname": "Watchdog", "severity": "critical", "team": "db", "service": "mysql"},
    {"alertname": "B", "instance": "h:9100", "job": "node"},
    {"alertname": "B", "instance": "h:9101", "job": "node"},
    {"alertname": "B", "instance": ":9100", "job": "node"},
]


def _receivers(root: Route, labels: dict[str, str]) -> list[str]:
    out: list[str] = []
    for r in root.match(labels):
        if r.opts.receiver not in out:
            out.append(r.opts.receiver)
    return out


@pytest.mark.peer
def test_same_receivers_as_amtool(tmp_path: Path) -> None:
    amtool = require_peer("amtool", "prometheus-alertmanager")
    p = tmp_path / "alertmanager.yml"
    p.write_text(TREE)
    root = Route.build(load_dict(yaml.safe_load(TREE)).route)
    for labels in LABEL_SETS:
        res = subprocess.run([amtool, "config", "routes", "test", f"--config.file={p}",
                              *(f"{k}={v}" for k, v in labels.items())],
                             capture_output=True, text=True, check=True)
        assert _receivers(root, labels) == res.stdout.strip().split(","), labels


def test_inheritance_keys_and_group_labels() -> None:
    root = Route.build(load_dict(yaml.safe_load(TREE)).route)
    team = root.routes[1]
    assert team.opts.group_by_all and root.opts.group_by == frozenset({"alertname"})
    assert team.routes[0].opts.group_by_all  # inherited
    assert (root.opts.group_wait, root.opts.group_interval, root.opts.repeat_interval) == (30, 300, 14400)
    assert team.key() == '{}/{env!="dev",team=~"db|web"}'
    assert team.routes[0].key() == '{}/{env!="dev",team=~"db|web"}/{service="mysql"}'
    assert team.routes[0].id() == '{}/{env!="dev",team=~"db|web"}/{service="mysql"}/0'
    assert root.group_labels({"alertname": "x", "a": "b"}) == {"alertname": "x"}
    assert team.group_labels({"alertname": "x", "a": "b"}) == {"alertname": "x", "a": "b"}


def test_fingerprint_and_labelset_string() -> None:
    # Values the real Alertmanager reports (see test_peer_webhook for the live comparison).
    assert fingerprint_hex({}) == "cbf29ce484222325"
    assert labelset_str({"b": 'x"y', "a": "1"}) == '{a="1", b="x\\"y"}'


@pytest.mark.parametrize(("text", "expected"), [
    ('a="b"', ['a="b"']),
    ("a=b", ['a="b"']),
    ('{a="b", c=~"d|e"}', ['a="b"', 'c=~"d|e"']),
    ('a!="x,y", b!~z', ['a!="x,y"', 'b!~"z"']),
    ('a="q\\"uote"', ['a="q\\"uote"']),
    ("  foo = bar ", ['foo="bar"']),
])
def test_matcher_syntax(text: str, expected: list[str]) -> None:
    assert [str(m) for m in parse_matchers(text)] == expected


@pytest.mark.parametrize("text", ['a="b', "1a=b", "a==b\"", 'a=b"c'])
def test_bad_matchers(text: str) -> None:
    from kubesight.errors import ValidationError

    with pytest.raises(ValidationError):
        parse_matchers(text)


def test_regex_dot_does_not_match_newline_as_in_alertmanager() -> None:
    (m,) = parse_matchers('a=~"x.y"')
    assert m.matches("x-y") and not m.matches("x\ny")
    (n,) = parse_matchers('a!~"x.*"')
    assert n.matches("y") and not n.matches("xyz")
