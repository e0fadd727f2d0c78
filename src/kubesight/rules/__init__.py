"""Prometheus rules: rule files, recording and alerting rule evaluation, Alertmanager sending.

Public surface:

- :func:`check_rules` / :func:`check_config`: what ``promtool check`` says, as lines.
- :class:`RuleManager` (with :class:`RuleManagerOptions`): runs the groups of
  the loaded files on their intervals; ``reload(files)``, ``start()``, ``stop()``.
- :func:`engine_query_func`: rules query through a PromQL :class:`~kubesight.promql.Engine`.
- :class:`AlertmanagerSender` (see :mod:`.alertmanager`): an AlertSink posting to Alertmanagers.
"""

from kubesight.rules.config import RulesConfig, check_config, parse_rules_config
from kubesight.rules.files import (
    GroupSpec,
    RuleFileError,
    RuleSpec,
    check_rules,
    expand_globs,
    load_rule_files,
    parse_rule_file,
)
from kubesight.rules.group import Group
from kubesight.rules.manager import RuleManager, RuleManagerOptions, engine_query_func
from kubesight.rules.rule import AlertingRule, Health, RecordingRule, State

__all__ = [
    "AlertingRule",
    "Group",
    "GroupSpec",
    "Health",
    "RecordingRule",
    "RuleFileError",
    "RuleManager",
    "RuleManagerOptions",
    "RuleSpec",
    "RulesConfig",
    "State",
    "check_config",
    "check_rules",
    "engine_query_func",
    "expand_globs",
    "load_rule_files",
    "parse_rule_file",
    "parse_rules_config",
]
