"""PrometheusRule objects (monitoring.coreos.com/v1) as rule groups.

The object's ``spec.groups`` is a rule file's ``groups``; it is validated the
same way and named as the Prometheus Operator names the file it generates,
``<namespace>-<name>-<uid>.yaml``. Thanos' ``partial_response_strategy`` is
ignored, as the operator does for Prometheus. Watching the objects is the
discovery layer's job (``--kubernetes.monitors``); this is the pure part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from kubesight.rules.files import GroupSpec, RuleFileError, parse_rule_file

API_VERSION = "monitoring.coreos.com/v1"
KIND = "PrometheusRule"


def prometheus_rule_file_name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    parts = [str(meta.get("namespace") or "default"), str(meta.get("name") or "")]
    if meta.get("uid"):
        parts.append(str(meta["uid"]))
    return "-".join(parts) + ".yaml"


def parse_prometheus_rule(obj: Mapping[str, Any]) -> list[GroupSpec]:
    """The groups of one PrometheusRule; raises RuleFileError naming the object."""
    meta = obj.get("metadata") or {}
    who = f"PrometheusRule {meta.get('namespace', 'default')}/{meta.get('name', '?')}"
    if obj.get("kind") != KIND or not str(obj.get("apiVersion", "")).startswith("monitoring.coreos.com/"):
        raise RuleFileError([f"{who}: not a {API_VERSION} {KIND} (kind {obj.get('kind')!r}, "
                             f"apiVersion {obj.get('apiVersion')!r})"])
    spec = obj.get("spec") or {}
    groups = spec.get("groups") if isinstance(spec, Mapping) else None
    if groups is None:
        return []
    if not isinstance(groups, list):
        raise RuleFileError([f"{who}: spec.groups must be a list"])
    cleaned = []
    for g in groups:
        if isinstance(g, Mapping):
            g = {k: v for k, v in g.items() if k != "partial_response_strategy"}
        cleaned.append(g)
    text = yaml.safe_dump({"groups": cleaned}, sort_keys=False)
    try:
        return parse_rule_file(text, prometheus_rule_file_name(obj))
    except RuleFileError as exc:
        raise RuleFileError([f"{who}: {e}" for e in exc.errors]) from None
