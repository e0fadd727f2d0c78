"""Prometheus rule files: read, validate, and say what is wrong where.

The format and the checks are Prometheus' ``rulefmt`` (what ``promtool check
rules`` runs): unknown fields are refused, every rule needs exactly one of
``record``/``alert`` and an ``expr`` that parses, recording rules take no
``for``, ``keep_firing_for`` or ``annotations``, label names are valid, and an
alert's label and annotation templates parse. Each problem is one line::

    rules.yml: 6:11: group "g", rule 1, "A": could not parse expression: 1:6: parse error: ...

Names follow Prometheus 3: any non-empty UTF-8 recording rule and label name
is accepted (Prometheus 2.x only the classic ``[a-zA-Z_:][a-zA-Z0-9_:]*``).
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubesight.errors import ConfigError
from kubesight.model.durations import parse_duration_ms
from kubesight.promql import PromQLError, parse
from kubesight.rules.template import ALERT_DEFS, template_funcs
from kubesight.wire.gotemplate import Template, TemplateError

_GROUP_FIELDS = ("name", "interval", "limit", "query_offset", "labels", "rules")
_RULE_FIELDS = ("record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations")
_QUERY_PREFIX = 'invalid parameter "query": '


@dataclass(frozen=True)
class RuleSpec:
    """One rule as written in its file (templates not yet expanded)."""

    name: str
    expr: str
    alert: bool
    for_ms: int = 0
    keep_firing_for_ms: int = 0
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GroupSpec:
    name: str
    file: str
    rules: tuple[RuleSpec, ...]
    interval_ms: int = 0  # 0: the global evaluation_interval
    limit: int = 0
    query_offset_ms: int | None = None  # None: the global rule_query_offset
    labels: tuple[tuple[str, str], ...] = ()


class RuleFileError(ConfigError):
    """A rule file is invalid; ``errors`` holds one line per problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


@dataclass
class _Ctx:
    file: str
    errors: list[str] = field(default_factory=list)


def _pos(node: yaml.Node | None) -> str:
    if node is None:
        return "0:0"
    return f"{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _mapping(node: yaml.Node, allowed: Sequence[str], type_name: str, ctx: _Ctx) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise RuleFileError([f"{ctx.file}: yaml: line {node.start_mark.line + 1}: expected a map for {type_name}"])
    out: dict[str, yaml.Node] = {}
    unknown: list[str] = []
    for k, v in node.value:
        key = str(k.value)
        if key not in allowed:
            unknown.append(f"  line {k.start_mark.line + 1}: field {key} not found in type {type_name}")
            continue
        if key in out:
            unknown.append(f"  line {k.start_mark.line + 1}: mapping key {key!r} already defined".replace("'", '"'))
        out[key] = v
    if unknown:
        raise RuleFileError([f"{ctx.file}: yaml: unmarshal errors:\n" + "\n".join(unknown)])
    return out


def _str(node: yaml.Node | None, what: str, ctx: _Ctx) -> str:
    if node is None:
        return ""
    if not isinstance(node, yaml.ScalarNode):
        raise RuleFileError([f"{ctx.file}: yaml: line {node.start_mark.line + 1}: {what} must be a string"])
    if node.tag == "tag:yaml.org,2002:null":
        return ""
    return str(node.value)


def _duration(node: yaml.Node | None, ctx: _Ctx) -> int:
    text = _str(node, "a duration", ctx)
    if not text:
        return 0
    try:
        return parse_duration_ms(text)
    except ValueError:
        raise RuleFileError([f'{ctx.file}: not a valid duration string: "{text}"']) from None


def _string_map(node: yaml.Node | None, what: str, ctx: _Ctx) -> tuple[tuple[str, str], ...]:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        return ()
    if not isinstance(node, yaml.MappingNode):
        raise RuleFileError([f"{ctx.file}: yaml: line {node.start_mark.line + 1}: {what} must be a map of strings"])
    out: dict[str, str] = {}
    for k, v in node.value:
        out[str(k.value)] = _str(v, f"the value of {what} {k.value!r}", ctx)
    return tuple(out.items())


def parse_rule_file(text: str, file: str = "rules.yml") -> list[GroupSpec]:
    """Parse and validate one rule file; raise :class:`RuleFileError` listing every problem."""
    ctx = _Ctx(file)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise RuleFileError([f"{file}: yaml: {exc}".replace("\n", " ")]) from None
    if root is None:
        return []
    top = _mapping(root, ("groups",), "rulefmt.RuleGroups", ctx)
    groups_node = top.get("groups")
    if groups_node is None or (isinstance(groups_node, yaml.ScalarNode) and groups_node.value in ("", "null", "~")):
        return []
    if not isinstance(groups_node, yaml.SequenceNode):
        raise RuleFileError([f"{file}: yaml: line {groups_node.start_mark.line + 1}: groups must be a list"])
    groups: list[GroupSpec] = []
    seen: set[str] = set()
    for gnode in groups_node.value:
        g = _mapping(gnode, _GROUP_FIELDS, "rulefmt.RuleGroup", ctx)
        name = _str(g.get("name"), "name", ctx)
        if not name:
            ctx.errors.append(f"{file}: {_pos(gnode)}: Groupname must not be empty")
        if name in seen:
            ctx.errors.append(f'{file}: {_pos(gnode)}: groupname: "{name}" is repeated in the same file')
        seen.add(name)
        interval = _duration(g.get("interval"), ctx)
        limit_text = _str(g.get("limit"), "limit", ctx) or "0"
        try:
            limit = int(limit_text)
        except ValueError:
            raise RuleFileError([f"{file}: yaml: line {_pos(g.get('limit')).split(':')[0]}: "
                                 f"cannot unmarshal !!str `{limit_text}` into int"]) from None
        offset = _duration(g.get("query_offset"), ctx) if "query_offset" in g else None
        glabels = _string_map(g.get("labels"), "labels", ctx)
        _check_labels(glabels, lambda m, name=name: f'{file}: group "{name}": {m}', ctx)
        rules_node = g.get("rules")
        rules: list[RuleSpec] = []
        if rules_node is not None and isinstance(rules_node, yaml.SequenceNode):
            for i, rnode in enumerate(rules_node.value, start=1):
                spec = _rule(rnode, name, i, ctx)
                if spec is not None:
                    rules.append(spec)
        elif rules_node is not None and not (
            isinstance(rules_node, yaml.ScalarNode) and rules_node.tag == "tag:yaml.org,2002:null"
        ):
            raise RuleFileError([f"{file}: yaml: line {rules_node.start_mark.line + 1}: rules must be a list"])
        groups.append(GroupSpec(name, file, tuple(rules), interval, limit, offset, glabels))
    if ctx.errors:
        raise RuleFileError(ctx.errors)
    return groups


def _check_labels(labels: Iterable[tuple[str, str]], say: Any, ctx: _Ctx) -> None:
    for k, _v in labels:
        if not k or k == "__name__":
            ctx.errors.append(say(f"invalid label name: {k}"))


def _rule(node: yaml.Node, group: str, index: int, ctx: _Ctx) -> RuleSpec | None:
    r = _mapping(node, _RULE_FIELDS, "rulefmt.RuleNode", ctx)
    record = _str(r.get("record"), "record", ctx)
    alert = _str(r.get("alert"), "alert", ctx)
    expr = _str(r.get("expr"), "expr", ctx)
    for_ms = _duration(r.get("for"), ctx)
    keep_ms = _duration(r.get("keep_firing_for"), ctx)
    labels = _string_map(r.get("labels"), "labels", ctx)
    annotations = _string_map(r.get("annotations"), "annotations", ctx)
    name = alert or record
    before = len(ctx.errors)

    def say(msg: str, at: yaml.Node | bool | None = False, alt: yaml.Node | None = None) -> None:
        where = ""
        if at is not False:
            where = f"{_pos(at)}: " if not isinstance(at, bool) else ""
            if alt is not None:
                where += f"{_pos(alt)}: "
        ctx.errors.append(f'{ctx.file}: {where}group "{group}", rule {index}, "{name}": {msg}')

    if record and alert:
        say("only one of 'record' and 'alert' must be set", r.get("record"), r.get("alert"))
    if not record and not alert:
        say("one of 'record' or 'alert' must be set", r.get("record"))
    if not expr:
        say("field 'expr' must be set in rule", r.get("expr"))
    else:
        try:
            parse(expr)
        except PromQLError as exc:
            msg = str(exc).removeprefix(_QUERY_PREFIX)
            say(f"could not parse expression: {msg}", r.get("expr"))
    if record:
        if annotations:
            say("invalid field 'annotations' in recording rule", r.get("record"))
        if for_ms:
            say("invalid field 'for' in recording rule", r.get("record"))
        if keep_ms:
            say("invalid field 'keep_firing_for' in recording rule", r.get("record"))
    _check_labels(labels, lambda m: f'{ctx.file}: group "{group}", rule {index}, "{name}": {m}', ctx)
    for k, _ in annotations:
        if not k:
            say(f"invalid annotation name: {k}")
    if alert and not record:
        funcs = template_funcs()
        for kind, items in (("label", labels), ("annotation", annotations)):
            for k, v in items:
                try:
                    Template.parse(ALERT_DEFS + v, "__alert_" + alert, funcs)
                except TemplateError as exc:
                    say(f'{kind} "{k}": {exc}')
    if len(ctx.errors) > before:
        return None
    return RuleSpec(name, expr, bool(alert), for_ms, keep_ms, labels, annotations)


def load_rule_file(path: str | Path) -> list[GroupSpec]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError([f"{p}: cannot read: {exc}"]) from None
    return parse_rule_file(text, str(p))


def expand_globs(patterns: Iterable[str], base_dir: Path | None = None) -> list[str]:
    """``rule_files`` entries (globs, relative to ``base_dir``) as sorted paths; a glob matching nothing is fine."""
    out: list[str] = []
    for pat in patterns:
        full = pat if base_dir is None or Path(pat).is_absolute() else str(base_dir / pat)
        if glob.has_magic(full):
            out.extend(sorted(glob.glob(full)))
        else:
            out.append(full)
    return out


def load_rule_files(paths: Iterable[str | Path]) -> list[GroupSpec]:
    """Every group of every file; raises :class:`RuleFileError` with the problems of all files."""
    groups: list[GroupSpec] = []
    errors: list[str] = []
    for path in paths:
        try:
            groups.extend(load_rule_file(path))
        except RuleFileError as exc:
            errors.extend(exc.errors)
    if errors:
        raise RuleFileError(errors)
    return groups


def check_rules(paths: Iterable[str | Path]) -> list[str]:
    """What ``promtool check rules`` reports: one line per problem, empty when all is well."""
    errors: list[str] = []
    for path in paths:
        try:
            load_rule_file(path)
        except RuleFileError as exc:
            errors.extend(exc.errors)
    return errors
