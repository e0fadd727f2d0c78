"""Target groups as file_sd and http_sd documents spell them.

Both mechanisms read the same shape, a list of ``{"targets": [...], "labels":
{...}}`` objects, and validate it as Prometheus' ``targetgroup.Group`` does:
targets are strings, label names match ``[a-zA-Z_][a-zA-Z0-9_]*`` and label
values are strings.
"""

from __future__ import annotations

import re
from typing import Any

from kubesight.discovery.targetgroup import TargetGroup

# What a text-keeping YAML loader returns for null; Go leaves the field at its zero value.
_YAML_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Prometheus' strutil.SanitizeLabelName: every byte outside [a-zA-Z0-9_] becomes "_".
_INVALID_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def sanitize_label_name(name: str) -> str:
    return _INVALID_LABEL_CHARS.sub("_", name)


def parse_groups(
    data: Any, source_prefix: str, meta: dict[str, str], *, yaml_scalars: bool = False,
    text_nulls: bool = False,
) -> list[TargetGroup]:
    """A decoded document -> groups with sources ``<prefix>:<index>``; ValueError says why.

    ``yaml_scalars``: Go's YAML decoder reads ``port: 80`` or ``on: true`` into a
    string field as its text, JSON's does not. ``text_nulls``: the document came from
    a loader that keeps scalars as text, so ``~``/``null`` mean null.
    """
    if data is None:
        # An empty YAML file is an empty list to Go's yaml decoder.
        return []
    if not isinstance(data, list):
        raise ValueError(f"expected a list of target groups, got {type(data).__name__}")
    groups = []
    for i, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise ValueError(f"target group {i}: expected an object, got {type(raw).__name__}")
        unknown = set(raw) - {"targets", "labels"}
        if unknown:
            raise ValueError(f"target group {i}: unknown field {sorted(unknown)[0]!r}")
        if text_nulls:
            raw = {k: (None if isinstance(v, str) and v in _YAML_NULLS else v) for k, v in raw.items()}
        targets = raw.get("targets") or []
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise ValueError(f"target group {i}: targets must be a list of strings")
        labels_raw = raw.get("labels") or {}
        if not isinstance(labels_raw, dict):
            raise ValueError(f"target group {i}: labels must be a map of strings")
        labels: dict[str, str] = {}
        for name, value in labels_raw.items():
            if yaml_scalars and isinstance(name, bool):
                # A YAML 1.1 loader made `on:`/`yes:` a bool; its usual spelling is the best guess.
                name = "true" if name else "false"
            if (yaml_scalars and value is None) or (text_nulls and value in _YAML_NULLS):
                value = ""
            if not isinstance(name, str) or not _LABEL_NAME.match(name):
                raise ValueError(f"target group {i}: {name!r} is not a valid label name")
            if yaml_scalars and isinstance(value, bool):
                value = "true" if value else "false"
            elif yaml_scalars and isinstance(value, int | float):
                value = str(value)
            if not isinstance(value, str):
                raise ValueError(f"target group {i}: label {name!r}: value must be a string")
            labels[name] = value
        labels.update(meta)
        groups.append(TargetGroup(
            source=f"{source_prefix}:{i}",
            targets=tuple({"__address__": t} for t in targets),
            labels=labels,
        ))
    return groups
