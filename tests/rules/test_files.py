"""Rule files are read and refused as Prometheus' rulefmt does (``promtool check rules``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kubesight.rules import RuleFileError, check_rules, parse_rule_file
from tests.conftest import require_peer

BAD = Path(__file__).parent / "testdata" / "bad_rules.yml"

# What promtool check rules prints for testdata/bad_rules.yml, less the two lines
# where Prometheus 2.x refuses names that 3.x (and kubesight) accept: "bad name"
# as a recording rule name and "0bad" as a label name.
BAD_EXPECTED = [
    'BAD: 6:11: group "g", rule 1, "A": could not parse expression: 1:6: parse error: unexpected end of input',
    "BAD: 7:13: group \"g\", rule 2, \"bad name\": invalid field 'annotations' in recording rule",
    "BAD: 7:13: group \"g\", rule 2, \"bad name\": invalid field 'for' in recording rule",
    "BAD: 0:0: group \"g\", rule 3, \"\": one of 'record' or 'alert' must be set",
    "BAD: 13:13: 12:12: group \"g\", rule 4, \"B\": only one of 'record' and 'alert' must be set",
    'BAD: group "g", rule 5, "C": invalid label name: __name__',
    'BAD: group "g", rule 6, "D": annotation "a": template: __alert_D:1: function "nosuch" not defined',
    "BAD: 0:0: group \"g\", rule 7, \"\": one of 'record' or 'alert' must be set",
    "BAD: 0:0: group \"g\", rule 8, \"x\": field 'expr' must be set in rule",
    'BAD: 24:3: groupname: "g" is repeated in the same file',
    "BAD: 26:3: Groupname must not be empty",
]
ONLY_2X = ("invalid recording rule name: bad name", "invalid label name: 0bad")

SMALL_CASES = [
    ("groups: [{name: g, rules: [{alert: a, expr: up, foo: 1}]}]",
     "F: yaml: unmarshal errors:\n  line 1: field foo not found in type rulefmt.RuleNode"),
    ("groups: [{name: g, interval: 5x, rules: []}]", 'F: not a valid duration string: "5x"'),
    ("groups:\n- name: g\n  rules:\n  - record: x\n    expr: up\n    keep_firing_for: 1m\n",
     "F: 4:13: group \"g\", rule 1, \"x\": invalid field 'keep_firing_for' in recording rule"),
    ("groupz: []", "F: yaml: unmarshal errors:\n  line 1: field groupz not found in type rulefmt.RuleGroups"),
    ("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels: {x: '{{ if }}'}\n",
     'F: group "g", rule 1, "A": label "x": template: __alert_A:1: missing value for if'),
]


def test_bad_file_lists_every_problem_as_promtool_does() -> None:
    assert check_rules([BAD]) == [line.replace("BAD", str(BAD)) for line in BAD_EXPECTED]


@pytest.mark.parametrize(("text", "expected"), SMALL_CASES)
def test_small_files(tmp_path: Path, text: str, expected: str) -> None:
    f = tmp_path / "F"
    f.write_text(text)
    assert check_rules([f]) == [expected.replace("F", str(f), 1)]


@pytest.mark.peer
def test_promtool_says_the_same(tmp_path: Path) -> None:
    promtool = require_peer("promtool", "prometheus")
    files = [BAD]
    for i, (text, _) in enumerate(SMALL_CASES):
        files.append(tmp_path / f"f{i}.yml")
        files[-1].write_text(text)
    for f in files:
        out = subprocess.run([promtool, "check", "rules", str(f)], capture_output=True, text=True, timeout=60)
        theirs = out.stderr.split("FAILED:\n", 1)[1].rstrip("\n")
        theirs_lines = [line for line in theirs.split(f"\n{f}") if not line.endswith(ONLY_2X)]
        ours = "\n".join(check_rules([f])).split(f"\n{f}")
        assert [s.removeprefix(str(f)) for s in ours] == [s.removeprefix(str(f)) for s in theirs_lines]


def test_good_file_parses_into_groups() -> None:
    groups = parse_rule_file(
        """
groups:
- name: g
  interval: 30s
  limit: 10
  query_offset: 1m
  labels: {team: a}
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
    labels: {x: y}
  - alert: Down
    expr: up == 0
    for: 5m
    keep_firing_for: 10m
    labels: {severity: page}
    annotations: {summary: "{{ $labels.instance }} down"}
- name: empty
""",
        "f.yml",
    )
    g = groups[0]
    assert (g.name, g.file, g.interval_ms, g.limit, g.query_offset_ms, g.labels) == (
        "g", "f.yml", 30_000, 10, 60_000, (("team", "a"),))
    rec, alert = g.rules
    assert (rec.name, rec.alert, rec.labels) == ("job:up:sum", False, (("x", "y"),))
    assert (alert.name, alert.for_ms, alert.keep_firing_for_ms) == ("Down", 300_000, 600_000)
    assert groups[1].rules == () and groups[1].query_offset_ms is None


def test_unreadable_and_empty_files(tmp_path: Path) -> None:
    assert check_rules([tmp_path / "missing.yml"])[0].startswith(f"{tmp_path / 'missing.yml'}: cannot read")
    (tmp_path / "e.yml").write_text("")
    assert check_rules([tmp_path / "e.yml"]) == []
    (tmp_path / "y.yml").write_text("groups: [")
    assert "yaml:" in check_rules([tmp_path / "y.yml"])[0]
    with pytest.raises(RuleFileError):
        parse_rule_file("groups: {a: 1}", "x")
