"""The rule-related keys of a Prometheus-style config, and ``check config`` for them.

Reads ``global.evaluation_interval``, ``global.rule_query_offset``,
``global.external_labels``, ``rule_files`` (globs relative to the config
file's directory) and ``alerting``. The server's config tree owns the file;
this module turns those keys into what :class:`~kubesight.rules.RuleManager`
and :class:`~kubesight.rules.alertmanager.AlertmanagerSender` take.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubesight.errors import ConfigError
from kubesight.model.durations import parse_duration_ms
from kubesight.rules.alertmanager import AlertingConfig, RelabelParser, parse_alerting_config
from kubesight.rules.files import check_rules, expand_globs

DEFAULT_EVALUATION_INTERVAL_MS = 60_000  # Prometheus' default global evaluation_interval


@dataclass(frozen=True)
class RulesConfig:
    rule_files: tuple[str, ...] = ()
    evaluation_interval_ms: int = DEFAULT_EVALUATION_INTERVAL_MS
    rule_query_offset_ms: int = 0
    external_labels: dict[str, str] = field(default_factory=dict)
    alerting: AlertingConfig = field(default_factory=AlertingConfig)


def parse_rules_config(
    raw: Mapping[str, Any], base_dir: Path, parse_relabel: RelabelParser | None = None
) -> RulesConfig:
    """Raise ConfigError naming the field."""
    glob = raw.get("global") or {}
    if not isinstance(glob, Mapping):
        raise ConfigError("global: expected a map")

    def duration(key: str, default: int) -> int:
        v = glob.get(key)
        if v is None:
            return default
        try:
            return parse_duration_ms(str(v))
        except ValueError as exc:
            raise ConfigError(f"global.{key}: {exc}") from None

    interval = duration("evaluation_interval", DEFAULT_EVALUATION_INTERVAL_MS)
    if interval <= 0:
        raise ConfigError("global.evaluation_interval: must be greater than 0")
    ext = glob.get("external_labels") or {}
    if not isinstance(ext, Mapping) or not all(isinstance(v, str | int | float) for v in ext.values()):
        raise ConfigError("global.external_labels: expected a map of label names to values")
    files = raw.get("rule_files") or []
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ConfigError("rule_files: expected a list of file globs")
    for f in files:
        if "**" in f:
            raise ConfigError(f"rule_files: {f!r}: ** is not supported (Prometheus matches one level)")
    return RulesConfig(
        tuple(expand_globs(files, base_dir)),
        interval,
        duration("rule_query_offset", 0),
        {str(k): str(v) for k, v in ext.items()},
        parse_alerting_config(raw.get("alerting"), base_dir, parse_relabel),
    )


def check_config(path: str | Path, parse_relabel: RelabelParser | None = None) -> list[str]:
    """What ``promtool check config`` reports for the rule-related keys and the rule files they name."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{p}: cannot read: {exc}"]
    except yaml.YAMLError as exc:
        return [f"{p}: yaml: {exc}".replace("\n", " ")]
    if not isinstance(raw, Mapping):
        return [f"{p}: expected a map at the top level"]
    try:
        cfg = parse_rules_config(raw, p.parent, parse_relabel)
    except ConfigError as exc:
        return [f"{p}: {exc}"]
    return check_rules(cfg.rule_files)
