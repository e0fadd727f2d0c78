"""The rules kubesight ships: host, Kubernetes and its own alerts, and the recording rules the
standard dashboards read (YAML files under ``defaults/``, loaded like any rule file).

Written for kubesight from what the kubernetes-mixin and node-mixin compute, not copied from
them. On by default; :func:`default_groups` leaves out whole files, groups or single rules by
name so that each one can be switched off.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

from kubesight.rules.files import GroupSpec, load_rule_files

DEFAULTS_DIR = Path(__file__).parent / "defaults"


def default_rule_files() -> list[Path]:
    """The shipped rule files: general, kubernetes, kubesight, node."""
    return sorted(DEFAULTS_DIR.glob("*.yaml"))


def default_groups(disabled: Collection[str] = ()) -> list[GroupSpec]:
    """The shipped groups without what ``disabled`` names.

    A name matches a file stem (``kubernetes``), a group (``node-alerts``) or a
    rule (``KubeCPUOvercommit``, ``instance:node_cpu_utilisation:rate5m``);
    groups left with no rules are dropped. Files are named ``defaults/<stem>.yaml``
    in errors and in ``/api/v1/rules``.
    """
    files = [f for f in default_rule_files() if f.stem not in disabled]
    out: list[GroupSpec] = []
    for g in load_rule_files(files):
        if g.name in disabled:
            continue
        rules = tuple(r for r in g.rules if r.name not in disabled)
        if rules:
            out.append(replace(g, rules=rules, file="defaults/" + Path(g.file).name))
    return out
