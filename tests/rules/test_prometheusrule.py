"""PrometheusRule objects become rule groups named as the Prometheus Operator names its files."""

from __future__ import annotations

import pytest

from kubesight.rules import RuleFileError
from kubesight.rules.prometheusrule import parse_prometheus_rule


def obj(groups: object) -> dict[str, object]:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": "app", "namespace": "prod", "uid": "u-1"}, "spec": {"groups": groups}}


def test_groups_are_read_and_named() -> None:
    groups = parse_prometheus_rule(obj([{
        "name": "app.rules", "interval": "30s", "partial_response_strategy": "warn",
        "rules": [{"alert": "AppDown", "expr": "up{job='app'} == 0", "for": "5m",
                   "labels": {"severity": "page"}, "annotations": {"summary": "{{ $labels.instance }}"}}],
    }]))
    (g,) = groups
    assert (g.name, g.file, g.interval_ms) == ("app.rules", "prod-app-u-1.yaml", 30_000)
    assert g.rules[0].name == "AppDown" and g.rules[0].for_ms == 300_000


def test_errors_name_the_object() -> None:
    with pytest.raises(RuleFileError) as info:
        parse_prometheus_rule(obj([{"name": "g", "rules": [{"alert": "A"}]}]))
    assert info.value.errors == [
        "PrometheusRule prod/app: prod-app-u-1.yaml: 0:0: group \"g\", rule 1, \"A\": field 'expr' must be set in rule"]
    with pytest.raises(RuleFileError, match=r"not a monitoring\.coreos\.com/v1 PrometheusRule"):
        parse_prometheus_rule({"kind": "ConfigMap", "apiVersion": "v1"})
    assert parse_prometheus_rule(obj(None)) == []
