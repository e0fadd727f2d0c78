"""Run templates through the real Prometheus (``promtool test rules``) and read back the text.

promtool expands an alert's annotations with Go's text/template and
Prometheus' own template functions and, when the expected alerts do not
match, prints the annotations it got. Each template becomes one annotation of
an alert over ``vector(VALUE)``; the annotations come back Go-quoted.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from tests.conftest import require_peer

_ANNOTATION = re.compile(r'(t\d+)="((?:[^"\\]|\\.)*)"')
_GO_PREFIX = "<error expanding template: "


def _go_unquote(body: str) -> str:
    # strconv.Quote's output is valid JSON except for \x.. and \a \v escapes
    body = re.sub(r"\\x([0-9a-f]{2})", lambda m: f"\\u00{m.group(1)}", body)
    body = body.replace("\\a", "\\u0007").replace("\\v", "\\u000b")
    return str(json.loads('"' + body + '"'))


_PARSE_ERROR = re.compile(r'annotation "(t\d+)": template: (.*)')


def expand_with_promtool(
    tmp: Path, templates: list[str], labels: dict[str, str], value: float,
    external_labels: dict[str, str] | None = None, external_url: str = "",
) -> list[str]:
    """The text Prometheus makes of each template (or ``ERROR:<message>`` as Go words it)."""
    result = _run(tmp, templates, labels, value, external_labels, external_url)
    if isinstance(result, list):
        return result
    # promtool refuses a rule file with a template that does not parse: run the rest again
    rest = [i for i in range(len(templates)) if i not in result]
    again = _run(tmp, [templates[i] for i in rest], labels, value, external_labels, external_url)
    assert isinstance(again, list), again
    out = [""] * len(templates)
    for i, msg in result.items():
        out[i] = "ERROR:template: " + msg
    for i, text in zip(rest, again, strict=True):
        out[i] = text
    return out


def _run(
    tmp: Path, templates: list[str], labels: dict[str, str], value: float,
    external_labels: dict[str, str] | None, external_url: str,
) -> list[str] | dict[int, str]:
    promtool = require_peer("promtool", "prometheus")
    tmp.mkdir(parents=True, exist_ok=True)
    expr = f"vector({value!r})" if value == value else "vector(0) / 0"  # NaN
    if labels:
        for k, v in labels.items():
            expr = f"label_replace({expr}, {k!r}, {v!r}, '', '')"
    rule = {
        "alert": "T",
        "expr": expr,
        "annotations": {f"t{i}": t for i, t in enumerate(templates)},
    }
    (tmp / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    test: dict[str, object] = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "external_labels": external_labels or {},
            "external_url": external_url,
            "input_series": [],
            "alert_rule_test": [{"eval_time": "0m", "alertname": "T", "exp_alerts": []}],
        }],
    }
    (tmp / "test.yml").write_text(yaml.safe_dump(test))
    proc = subprocess.run([promtool, "test", "rules", "test.yml"], cwd=tmp, capture_output=True,
                          text=True, timeout=120)
    out = proc.stdout + proc.stderr
    parse_errors = {int(m.group(1)[1:]): m.group(2) for m in _PARSE_ERROR.finditer(out)}
    if parse_errors:
        return parse_errors
    got = {m.group(1): _go_unquote(m.group(2)) for m in _ANNOTATION.finditer(out.split("Annotations:", 1)[-1])}
    assert len(got) == len(templates), out
    result = []
    for i in range(len(templates)):
        text = got[f"t{i}"]
        if text.startswith(_GO_PREFIX) and text.endswith(">"):
            msg = text[len(_GO_PREFIX):-1]
            msg = re.sub(r"^error (?:executing|parsing) template __alert_T: ", "", msg)
            text = "ERROR:" + msg
        result.append(text)
    return result


_SAMPLE = re.compile(r'\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\} ([^,\s]+)')
_LABEL = re.compile(r'([^=,\s]+)="((?:[^"\\]|\\.)*)"')
_CASE = re.compile(r'expr: "((?:[^"\\]|\\.)*)", time: ([^,]+),')

Vec = dict[frozenset[tuple[str, str]], float]


def _vector(text: str) -> Vec:
    out: Vec = {}
    for m in _SAMPLE.finditer(text):
        labels = frozenset((k, _go_unquote(v)) for k, v in _LABEL.findall(m.group(1)))
        out[labels] = float(m.group(2))
    return out


def _minutes(text: str) -> int:
    total = 0
    for n, unit in re.findall(r"(\d+)([hms])", text):
        total += int(n) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


def query_with_promtool(
    tmp: Path, rules_yaml: str, series: list[tuple[str, str]], queries: list[str],
    times_s: list[int], interval: str = "1m", external_labels: dict[str, str] | None = None,
    input_interval: str | None = None,
) -> dict[tuple[str, int], Vec]:
    """Evaluate a rule file in Prometheus' own rule engine (promtool test rules) and run
    instant ``queries`` at each of ``times_s`` (seconds from 0); the results by (query, time).

    promtool evaluates every group at every ``interval`` tick whatever its own
    interval, in the order of ``group_eval_order`` (set here to the file's order;
    without it the order is random).
    """
    promtool = require_peer("promtool", "prometheus")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "rules.yml").write_text(rules_yaml)
    cases = [{"expr": q, "eval_time": f"{t}s", "exp_samples": []} for t in times_s for q in queries]
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": interval,
        "group_eval_order": [g["name"] for g in yaml.safe_load(rules_yaml)["groups"]],
        "tests": [{
            "interval": input_interval or interval,
            "external_labels": external_labels or {},
            "input_series": [{"series": s, "values": v} for s, v in series],
            "promql_expr_test": cases,
        }],
    }
    (tmp / "test.yml").write_text(yaml.safe_dump(test))
    proc = subprocess.run([promtool, "test", "rules", "test.yml"], cwd=tmp, capture_output=True,
                          text=True, timeout=300)
    out = proc.stdout + proc.stderr
    results: dict[tuple[str, int], Vec] = {(q, t): {} for t in times_s for q in queries}
    blocks = _CASE.split(out)
    assert len(blocks) > 1, out
    # split gives [head, expr, time, body, expr, time, body, ...]
    for i in range(1, len(blocks) - 2, 3):
        expr = _go_unquote(blocks[i])
        t = _minutes(blocks[i + 1])
        body = blocks[i + 2]
        got = body.split("got:", 1)[1] if "got:" in body else ""
        if "err:" in body and "got:" not in body:
            raise AssertionError(f"promtool could not run {expr!r} at {t}s: {body.strip()}")
        results[(expr, t)] = _vector(got.split("\n", 1)[0])
    return results


_ALERT_CASE = re.compile(r"alertname: ([^,]+), time: ([^,]+), \n")
_GOT_ALERT = re.compile(r"Labels:\{(.*)\}\n\s*Annotations:\{(.*)\}")

AlertSet = set[tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]]


def firing_alerts_with_promtool(
    tmp: Path, rules_yaml: str, series: list[tuple[str, str]], alertnames: list[str], times_s: list[int],
    interval: str = "1m",
) -> dict[tuple[str, int], AlertSet]:
    """The firing alerts (labels, annotations) of each alert rule at each time, from promtool."""
    promtool = require_peer("promtool", "prometheus")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "rules.yml").write_text(rules_yaml)
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": interval,
        "group_eval_order": [g["name"] for g in yaml.safe_load(rules_yaml)["groups"]],
        "tests": [{
            "interval": interval,
            "input_series": [{"series": s, "values": v} for s, v in series],
            # a label no alert has: every check fails and promtool prints what it got
            "alert_rule_test": [{"eval_time": f"{t}s", "alertname": n,
                                 "exp_alerts": [{"exp_labels": {"__never__": "x"}}]}
                                for t in times_s for n in alertnames],
        }],
    }
    (tmp / "test.yml").write_text(yaml.safe_dump(test))
    proc = subprocess.run([promtool, "test", "rules", "test.yml"], cwd=tmp, capture_output=True,
                          text=True, timeout=300)
    out = proc.stdout + proc.stderr
    blocks = _ALERT_CASE.split(out)
    assert len(blocks) > 1, out
    results: dict[tuple[str, int], AlertSet] = {}
    for i in range(1, len(blocks) - 2, 3):
        name, t, body = blocks[i], _minutes(blocks[i + 1]), blocks[i + 2]
        got = body.split("got:", 1)[1]
        results[(name, t)] = {
            (frozenset((k, _go_unquote(v)) for k, v in _LABEL.findall(m.group(1))),
             frozenset((k, _go_unquote(v)) for k, v in _LABEL.findall(m.group(2))))
            for m in _GOT_ALERT.finditer(got)
        }
    assert len(results) == len(times_s) * len(alertnames), out[:2000]
    return results
