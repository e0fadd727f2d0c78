"""The status pages' pure JS (matchers, rule definitions), run in chromium as the pages run it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server

RUN = """async ([version, fn, args]) => {
  const m = await import(`/static/${version}/js/status/matchers.js`);
  const r = await import(`/static/${version}/js/status/rules-common.js`);
  const f = {...m, ...r}[fn];
  try { return {ok: f(...args)}; } catch (e) { return {error: e.message}; }
}"""


def _version(page: Any) -> str:
    src = page.eval_on_selector("script[type=module]", "e => e.getAttribute('src')")
    return str(src.split("/")[2])


@pytest.fixture
def run(ui_server: Server, page: Any) -> Any:
    page.goto(f"{ui_server.url}/flags")
    version = _version(page)

    def call(fn: str, *args: Any) -> Any:
        return page.evaluate(RUN, [version, fn, list(args)])
    return call


def M(name: str, value: str, op: str = "=") -> dict[str, Any]:  # noqa: N802 - reads like the matcher it builds
    return {"name": name, "value": value, "isRegex": "~" in op, "isEqual": not op.startswith("!")}


PARSE = [
    ('{alertname="X"}', [M("alertname", "X")]),
    ('alertname="X", severity=~"crit|warn"', [M("alertname", "X"), M("severity", "crit|warn", "=~")]),
    ('{a!="1",b!~"x.*"}', [M("a", "1", "!="), M("b", "x.*", "!~")]),
    ('{ a = "sp ace" , b="q\\"uote" }', [M("a", "sp ace"), M("b", 'q"uote')]),
    ("{job=node}", [M("job", "node")]),
    ("{a='single'}", [M("a", "single")]),
    ("", []),
    ("{}", []),
]

BAD = [
    ('{alertname="X"', 'missing closing "}"'),
    ('{1a="x"}', "expected a label name"),
    ('{a>"x"}', "expected =, !=, =~ or !~"),
    ('{a="x}', "unterminated quoted value"),
]


@pytest.mark.parametrize(("text", "want"), PARSE)
def test_parse_matchers(run: Any, text: str, want: list[dict[str, Any]]) -> None:
    assert run("parseMatchers", text) == {"ok": want}


@pytest.mark.parametrize(("text", "message"), BAD)
def test_parse_matchers_errors_say_what(run: Any, text: str, message: str) -> None:
    got = run("parseMatchers", text)
    assert message in got["error"], got


def test_format_round_trips(run: Any) -> None:
    ms = [M("alertname", "X"), M("sev", "a|b", "=~"), M("team", 'q"t', "!="), M("env", "prod.*", "!~")]
    text = run("formatMatchers", ms)["ok"]
    assert text == '{alertname="X", sev=~"a|b", team!="q\\"t", env!~"prod.*"}'
    assert run("parseMatchers", text) == {"ok": ms}


def test_matches_and_silence_state(run: Any) -> None:
    labels = {"alertname": "X", "severity": "critical"}
    assert run("matches", M("severity", "crit.*", "=~"), labels) == {"ok": True}
    assert run("matches", M("severity", "crit", "=~"), labels) == {"ok": False}  # anchored, as Alertmanager's
    assert run("matches", M("team", "", "="), labels) == {"ok": True}  # a missing label is ""
    assert run("matches", M("alertname", "X", "!="), labels) == {"ok": False}
    assert run("silenceState", 0, 10, 5) == {"ok": "active"}
    assert run("silenceState", 6, 10, 5) == {"ok": "pending"}
    assert run("silenceState", 0, 5, 5) == {"ok": "expired"}


def test_rule_text_reads_like_the_rule_file(run: Any) -> None:
    rule = {"type": "alerting", "name": "HighLoad", "query": 'node_load1 > on(instance) 2 * count by (instance) (node_cpu_seconds_total{mode="idle"})',
            "duration": 900, "keepFiringFor": 300, "labels": {"severity": "warning"},
            "annotations": {"summary": "Load is high: {{ $value }}", "description": "line one\nline two"}}
    assert run("ruleText", rule)["ok"] == "\n".join([
        "alert: HighLoad",
        'expr: node_load1 > on(instance) 2 * count by (instance) (node_cpu_seconds_total{mode="idle"})',
        "for: 15m",
        "keep_firing_for: 5m",
        "labels:",
        "  severity: warning",
        "annotations:",
        "  description: |",
        "    line one",
        "    line two",
        '  summary: "Load is high: {{ $value }}"',
    ])
    rec = {"type": "recording", "name": "job:up:sum", "query": "sum by (job) (up)"}
    assert run("ruleText", rec)["ok"] == "record: job:up:sum\nexpr: sum by (job) (up)"
