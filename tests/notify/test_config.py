"""alertmanager.yml loading: defaults, inheritance and refusals, checked against amtool check-config."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from kubesight.errors import ConfigError
from kubesight.notify.config import check_config, load_dict, load_file
from tests.conftest import require_peer

GOOD = """
global:
  resolve_timeout: 2m
  smtp_smarthost: 'localhost:25'
  smtp_from: 'am@example.org'
  slack_api_url: 'http://127.0.0.1:1/slack'
route:
  receiver: default
  group_by: ['alertname', 'cluster']
  group_wait: 10s
  routes:
    - matchers: ['severity="critical"', 'team=~"db|web"']
      receiver: pager
      continue: true
      group_by: ['...']
    - match: {team: ops}
      match_re: {service: 'a.*'}
      receiver: ops
      mute_time_intervals: [weekends]
      active_time_intervals: [workhours]
receivers:
  - name: default
  - name: pager
    webhook_configs:
      - url: 'http://127.0.0.1:1/hook'
        max_alerts: 5
  - name: ops
    slack_configs:
      - channel: '#ops'
    email_configs:
      - to: 'ops@example.org'
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
time_intervals:
  - name: weekends
    time_intervals:
      - weekdays: ['saturday', 'sunday']
  - name: workhours
    time_intervals:
      - times: [{start_time: '09:00', end_time: '17:00'}]
        weekdays: ['monday:friday']
        location: Europe/Berlin
templates: ['*.tmpl']
"""


def test_good_config_loads_with_defaults_and_inheritance(tmp_path: Path) -> None:
    (tmp_path / "a.tmpl").write_text("")
    p = tmp_path / "alertmanager.yml"
    p.write_text(GOOD)
    cfg = load_file(p)
    assert cfg.global_.resolve_timeout == 120
    assert cfg.route.group_wait == 10 and cfg.route.group_interval is None
    pager = cfg.route.routes[0]
    assert pager.group_by_all and pager.continue_
    assert [str(m) for m in pager.matchers] == ['severity="critical"', 'team=~"db|web"']
    ops = cfg.route.routes[1]
    assert [str(m) for m in ops.matchers] == ['service=~"a.*"', 'team="ops"']
    recv = {r.name: r for r in cfg.receivers}
    assert recv["pager"].webhooks[0].send_resolved is True
    assert recv["pager"].webhooks[0].max_alerts == 5
    assert recv["ops"].slacks[0].api_url == "http://127.0.0.1:1/slack"
    assert recv["ops"].slacks[0].send_resolved is False
    email = recv["ops"].emails[0]
    assert (email.smarthost, email.sender, email.require_tls) == ("localhost:25", "am@example.org", True)
    assert email.headers["Subject"] == '{{ template "email.default.subject" . }}'
    assert cfg.templates == (str(tmp_path / "a.tmpl"),)
    assert set(cfg.time_intervals) == {"weekends", "workhours"}
    assert "<secret>" in cfg.original and "127.0.0.1:1/slack" not in cfg.original
    assert check_config(p) == []


def test_inline_dict_is_accepted() -> None:
    cfg = load_dict(yaml.safe_load(GOOD.replace("templates: ['*.tmpl']", "")))
    assert cfg.source == ""


# (config, what the error must say); every one of these is refused by amtool too.
BAD = [
    ("route: {receiver: x}\nreceivers: [{name: y}]", "route.receiver: undefined receiver 'x' used in route"),
    ("receivers: [{name: y}]", "route: no routes provided"),
    ("route: {}\nreceivers: [{name: y}]", "route.receiver: root route must specify a default receiver"),
    ("route: {receiver: y, group_wait: 5x}\nreceivers: [{name: y}]", 'route.group_wait: not a valid duration string: "5x"'),
    ("route: {receiver: y, routes: [{receiver: y, group_interval: 0s}]}\nreceivers: [{name: y}]",
     "route.routes[0].group_interval: group_interval cannot be zero"),
    ("route: {receiver: y, group_by: [a, a]}\nreceivers: [{name: y}]", "duplicated label 'a' in group_by"),
    ("route: {receiver: y, group_by: ['...', a]}\nreceivers: [{name: y}]", "cannot have wildcard group_by"),
    ("route: {receiver: y, routes: [{matchers: ['a=\"b']}]}\nreceivers: [{name: y}]",
     "route.routes[0].matchers[0]: matcher value contains unescaped double quote"),
    ("route: {receiver: y, routes: [{match_re: {a: '(x'}}]}\nreceivers: [{name: y}]", "route.routes[0].match_re.a"),
    ("route: {receiver: y}\nreceivers: [{name: y}, {name: y}]", "receivers[1].name: notification config name 'y' is not unique"),
    ("route: {receiver: y}\nreceivers: [{name: y, webhook_configs: [{}]}]",
     "receivers[0].webhook_configs[0]: one of url or url_file must be configured"),
    ("route: {receiver: y}\nreceivers: [{name: y, webhook_configs: [{url: 'ftp://x'}]}]", "unsupported scheme"),
    ("route: {receiver: y}\nreceivers: [{name: y, slack_configs: [{channel: x}]}]", "no global Slack API URL set"),
    ("route: {receiver: y}\nreceivers: [{name: y, email_configs: [{to: a@b}]}]", "no global SMTP"),
    ("route: {receiver: y, routes: [{mute_time_intervals: [nope]}]}\nreceivers: [{name: y}]",
     "undefined time interval 'nope' used in route"),
    ("route: {receiver: y}\nreceivers: [{name: y}]\nfoo: 1", "field foo not found"),
    ("route: {receiver: y, continue: true}\nreceivers: [{name: y}]", "cannot have continue in root route"),
    ("route: {receiver: y}\nreceivers: [{name: y}]\ntime_intervals: [{name: t, time_intervals: [{times: [{start_time: '10:00', end_time: '09:00'}]}]}]",
     "time_intervals[0].time_intervals[0].times[0]"),
    ("route: {receiver: y}\nreceivers: [{name: y}]\ntime_intervals: [{name: t, time_intervals: [{weekdays: [funday]}]}]",
     "time_intervals[0].time_intervals[0].weekdays[0]"),
    ("global: {resolve_timeout: x}\nroute: {receiver: y}\nreceivers: [{name: y}]", "global.resolve_timeout"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_configs_are_refused_naming_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "am.yml"
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_file(p)
    assert str(exc.value).startswith(f"{p}: ")
    assert message in str(exc.value)
    assert check_config(p) == [str(exc.value)]


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    assert "cannot read" in check_config(tmp_path / "missing.yml")[0]
    p = tmp_path / "bad.yml"
    p.write_text("route: [")
    assert check_config(p)[0].startswith(f"{p}: invalid YAML")


@pytest.mark.peer
def test_amtool_agrees_on_what_is_valid(tmp_path: Path) -> None:
    amtool = require_peer("amtool", "prometheus-alertmanager")
    cases = [(GOOD.replace("templates: ['*.tmpl']", ""), True), *((t, False) for t, _ in BAD)]
    for i, (text, ok) in enumerate(cases):
        p = tmp_path / f"c{i}.yml"
        p.write_text(text)
        res = subprocess.run([amtool, "check-config", str(p)], capture_output=True, text=True, check=False)
        assert (res.returncode == 0) == ok, (text, res.stdout, res.stderr)
        assert (check_config(p) == []) == ok, (text, check_config(p))
