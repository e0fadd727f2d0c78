"""Prometheus relabeling: ``relabel_configs``, ``metric_relabel_configs`` and friends.

Semantics follow Prometheus 3's ``model/relabel`` package (the one applied by
``ProcessBuilder``), so a pasted ``scrape_configs`` block relabels exactly as
Prometheus does:

- the regex is anchored by plain concatenation, ``^(?s:`` + regex + ``)$``, so
  ``.`` also matches a newline and a regex may even close the wrapper group;
- ``replacement`` and a templated ``target_label`` are expanded with Go's
  ``Regexp.Expand`` rules (``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``;
  ``$1x`` names the group ``1x``; an unknown or unmatched group is ``""``);
- a label set to ``""`` is deleted; ``hashmod`` takes the *last* 8 bytes of
  the MD5 of the joined source values as a big-endian integer;
- ``lowercase``/``uppercase`` map rune by rune (Go's simple case mapping,
  never ``ß`` → ``SS``);
- ``labelmap`` walks the labels as Prometheus' ``labels.Builder.Range`` does:
  the input labels first, then those set by earlier rules, in the order set.

Regexes are RE2 (Go) syntax, translated by :mod:`kubesight.model.re2`.

Known differences from Prometheus, beyond the regex ones listed in
:mod:`kubesight.model.re2`: the 2.x line (e.g. Debian's 2.42) did not put
``(?s)`` in the wrapper, deleted the *unexpanded* ``target_label`` when an
expanded one was invalid, and always accepted only classic label names.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kubesight.errors import ConfigError
from kubesight.model.labels import Labels
from kubesight.model.re2 import (
    GoRegex,
    RegexError,
    Template,
    compile_go_regex,
    expand,
    parse_template,
)

NameValidation = Literal["utf8", "legacy"]
"""Prometheus 3's ``metric_name_validation_scheme``: ``utf8`` is its default."""

ACTIONS = (
    "replace", "keep", "drop", "keepequal", "dropequal", "hashmod",
    "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase",
)
DEFAULT_REGEX = "(.*)"
DEFAULT_SEPARATOR = ";"
DEFAULT_REPLACEMENT = "$1"

_FIELDS = ("source_labels", "separator", "regex", "modulus", "target_label",
           "replacement", "action")


# --------------------------------------------------------------------------
# Case mapping as Go's strings.ToLower/ToUpper (simple, rune by rune)
# --------------------------------------------------------------------------

def _simple_upper(c: str) -> str:
    u = c.upper()
    if len(u) == 1:
        return u
    cp = ord(c)
    # Only these have a one-rune uppercase in UnicodeData beside a longer
    # SpecialCasing one (Greek with ypogegrammeni); the rest stay as they are.
    if 0x1F80 <= cp <= 0x1FA7 and (cp & 0xF) < 8:
        return chr(cp + 8)
    if cp in (0x1FB3, 0x1FC3, 0x1FF3):
        return chr(cp + 9)
    return c


def _simple_lower(c: str) -> str:
    lo = c.lower()
    if len(lo) == 1:
        return lo
    return "i" if c == "\u0130" else c


def go_lower(s: str) -> str:
    if s.isascii():
        return s.lower()
    return "".join(map(_simple_lower, s))


def go_upper(s: str) -> str:
    if s.isascii():
        return s.upper()
    return "".join(map(_simple_upper, s))


def hashmod(value: str, modulus: int) -> int:
    """Prometheus' hashmod: the last 8 bytes of MD5(value), big-endian, mod ``modulus``."""
    digest = hashlib.md5(value.encode("utf-8", "surrogateescape"), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


# --------------------------------------------------------------------------
# Label name rules
# --------------------------------------------------------------------------

_LEGACY_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# Prometheus' relabelTargetLegacy, (?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+,
# rewritten to the same language without nested repeats (which backtrack
# exponentially in Python): one letter-or-variable, then letters, digits or
# variables.
_VAR = r"\$(?:\{[a-zA-Z0-9_]+\}|[a-zA-Z0-9_]+)"
_LEGACY_TARGET = re.compile(rf"(?:[a-zA-Z_]|{_VAR})(?:[a-zA-Z0-9_]|{_VAR})*")


def valid_label_name(name: str, scheme: NameValidation) -> bool:
    if scheme == "legacy":
        return _LEGACY_NAME.fullmatch(name) is not None
    if not name:
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _valid_with_vars(name: str, scheme: NameValidation) -> bool:
    if scheme == "legacy":
        return _LEGACY_TARGET.fullmatch(name) is not None
    return valid_label_name(name, scheme)


def _q(s: str) -> str:
    # Go's %q, close enough for messages: a double-quoted, escaped string.
    return json.dumps(s, ensure_ascii=False)


# --------------------------------------------------------------------------
# The config
# --------------------------------------------------------------------------

# Action codes: small ints so the hot loop compares ints, not strings.
_REPLACE, _KEEP, _DROP, _KEEPEQ, _DROPEQ, _HASHMOD, _LABELMAP, _LABELDROP, _LABELKEEP, \
    _LOWER, _UPPER = range(11)
_CODE = {a: i for i, a in enumerate(ACTIONS)}
# A regex of plain alternatives (``a|b_c``) matches exactly those strings:
# a set lookup instead of a regex call.
_LITERAL_ALTS = re.compile(r"[A-Za-z0-9_:/\-]*(?:\|[A-Za-z0-9_:/\-]*)*")


@dataclass(frozen=True)
class RelabelConfig:
    """One validated ``relabel_config``; build it with :func:`parse_relabel_config`.

    ``regex=None`` and ``source_labels=None`` mean 'not given' (Prometheus tells
    them apart from the defaults for keepequal/dropequal and labeldrop/labelkeep).
    Constructing one directly validates it too, raising :class:`ConfigError`.
    """

    source_labels: tuple[str, ...] | None = None
    separator: str = DEFAULT_SEPARATOR
    regex: str | None = None
    modulus: int = 0
    target_label: str = ""
    replacement: str = DEFAULT_REPLACEMENT
    action: str = "replace"
    name_validation: NameValidation = "utf8"

    _code: int = field(init=False, repr=False, compare=False)
    _src: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _rx: GoRegex = field(init=False, repr=False, compare=False)
    _match: Callable[[str], re.Match[str] | None] = field(init=False, repr=False, compare=False)
    _literals: frozenset[str] | None = field(init=False, repr=False, compare=False)
    _target_tpl: Template = field(init=False, repr=False, compare=False)
    _repl_tpl: Template = field(init=False, repr=False, compare=False)
    _fixed_target: str | None = field(init=False, repr=False, compare=False)
    _repl_group: int = field(init=False, repr=False, compare=False)
    _copy: bool = field(init=False, repr=False, compare=False)
    _memo: dict[str, Any] = field(init=False, repr=False, compare=False)
    _const: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _validate(self)
        regex = DEFAULT_REGEX if self.regex is None else self.regex
        try:
            rx = compile_go_regex(regex)
        except RegexError as exc:
            raise ConfigError(f"regex {_q(regex)}: {exc}") from exc
        ngroups = rx.pattern.groups
        literals = None
        if rx.anchored_whole and _LITERAL_ALTS.fullmatch(regex):
            literals = frozenset(regex.split("|"))
        default_rx = regex == DEFAULT_REGEX
        sets = object.__setattr__
        sets(self, "_code", _CODE[self.action])
        sets(self, "_memo", {})
        sets(self, "_src", self.source_labels or ())
        sets(self, "_rx", rx)
        sets(self, "_match", rx.pattern.match if rx.anchored_whole else rx.pattern.search)
        sets(self, "_literals", literals)
        target_tpl = parse_template(self.target_label, rx.group_names, ngroups)
        sets(self, "_target_tpl", target_tpl)
        # A target without '$' was checked above; it needs neither expansion nor a check.
        sets(self, "_fixed_target", self.target_label if "$" not in self.target_label else None)
        repl_tpl = parse_template(self.replacement, rx.group_names, ngroups)
        sets(self, "_repl_tpl", repl_tpl)
        # The usual '$1': one group, nothing around it (0 = use the template).
        sets(self, "_repl_group", repl_tpl[0] if len(repl_tpl) == 1 and isinstance(repl_tpl[0], int)
             and repl_tpl[0] > 0 else 0)
        # '(.*)' always matches and its group 1 is the whole value: copying a
        # label or setting a constant needs no regex call at all.
        plain_target = "$" not in self.target_label
        sets(self, "_copy", default_rx and plain_target and self.replacement in ("$1", "${1}"))
        sets(self, "_const", default_rx and plain_target and "$" not in self.replacement)


def _validate(c: RelabelConfig) -> None:
    """Prometheus' checks, in Prometheus' order, with Prometheus' messages."""
    a = c.action
    scheme = c.name_validation
    if scheme not in ("utf8", "legacy"):
        raise ConfigError(f"name validation scheme must be 'utf8' or 'legacy', got {scheme!r}")
    if a not in _CODE:
        raise ConfigError("relabel action cannot be empty" if a == "" else
                          f"unknown relabel action {_q(a)}")
    for name in c.source_labels or ():
        if not (valid_label_name(name, scheme) if scheme == "legacy" else name):
            raise ConfigError(f"source_labels: {_q(name)} is not a valid label name")
    if c.modulus < 0 or c.modulus >= 1 << 64:
        raise ConfigError(f"modulus: {c.modulus} is not an unsigned 64-bit integer")
    if c.modulus == 0 and a == "hashmod":
        raise ConfigError("relabel configuration for hashmod requires non-zero modulus")
    needs_target = a in ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal")
    if needs_target and c.target_label == "":
        raise ConfigError(f"relabel configuration for {a} action requires 'target_label' value")
    bad_target = f"{_q(c.target_label)} is invalid 'target_label' for {a} action"
    if a == "replace":
        ok = (_valid_with_vars(c.target_label, scheme) if "$" in c.target_label
              else valid_label_name(c.target_label, scheme))
        if not ok:
            raise ConfigError(bad_target)
    simple = a in ("lowercase", "uppercase", "keepequal", "dropequal")
    if simple and not valid_label_name(c.target_label, scheme):
        raise ConfigError(bad_target)
    if simple and c.replacement != DEFAULT_REPLACEMENT:
        raise ConfigError(f"'replacement' can not be set for {a} action")
    if a == "labelmap" and not _valid_with_vars(c.replacement, scheme):
        raise ConfigError(f"{_q(c.replacement)} is invalid 'replacement' for {a} action")
    if a == "hashmod" and not valid_label_name(c.target_label, scheme):
        raise ConfigError(bad_target)
    if a in ("keepequal", "dropequal") and (
            c.regex is not None or c.modulus != 0 or c.separator != DEFAULT_SEPARATOR
            or c.replacement != DEFAULT_REPLACEMENT):
        raise ConfigError(
            f"{a} action requires only 'source_labels' and `target_label`, and no other fields")
    if a in ("labeldrop", "labelkeep") and (
            c.source_labels is not None or c.target_label != "" or c.modulus != 0
            or c.separator != DEFAULT_SEPARATOR or c.replacement != DEFAULT_REPLACEMENT):
        raise ConfigError(f"{a} action requires only 'regex', and no other fields")


def _string(raw: Mapping[str, Any], key: str, default: str) -> str:
    if key not in raw:
        return default
    v = raw[key]
    if v is None:
        return ""  # YAML null sets Go's zero value, not the default
    return _scalar(key, v)


def _scalar(key: str, v: object) -> str:
    # Go's YAML decoder puts a scalar's text into a string field: `regex: true`
    # (the usual prometheus.io/scrape keep rule) is the regex "true". A YAML 1.1
    # loader has already turned it into a bool, so its usual spelling is used;
    # a loader that keeps scalars as text (yaml.BaseLoader) is exact.
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str | int | float):
        return str(v)
    raise ConfigError(f"{key}: expected a string, got {v!r}")


def parse_relabel_config(raw: Any, name_validation: NameValidation = "utf8") -> RelabelConfig:
    """Build one config from its YAML mapping, as Prometheus' UnmarshalYAML does."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"expected a mapping of relabel fields, got {raw!r}")
    unknown = [k for k in raw if k not in _FIELDS]
    if unknown:
        raise ConfigError(f"unknown field {unknown[0]!r} (expected one of {', '.join(_FIELDS)})")
    src_raw = raw.get("source_labels")
    source: tuple[str, ...] | None = None
    if src_raw is not None:
        if not isinstance(src_raw, list):
            raise ConfigError(f"source_labels: expected a list of label names, got {src_raw!r}")
        names = []
        for v in src_raw:
            names.append(_scalar("source_labels", v))
        source = tuple(names)
    modulus = raw.get("modulus", 0)
    if modulus is None:
        modulus = 0
    if isinstance(modulus, bool) or not isinstance(modulus, int):
        raise ConfigError(f"modulus: expected an unsigned integer, got {modulus!r}")
    regex: str | None = None
    if "regex" in raw:
        regex = _string(raw, "regex", DEFAULT_REGEX)
    action = _string(raw, "action", "replace")
    if action and action.lower() not in _CODE:
        raise ConfigError(f"unknown relabel action {_q(action)}")  # as written, not lowercased
    return RelabelConfig(
        source_labels=source,
        separator=_string(raw, "separator", DEFAULT_SEPARATOR),
        regex=regex,
        modulus=modulus,
        target_label=_string(raw, "target_label", ""),
        replacement=_string(raw, "replacement", DEFAULT_REPLACEMENT),
        action=action.lower(),
        name_validation=name_validation,
    )


def parse_relabel_configs(raw: Any, where: str,
                          name_validation: NameValidation = "utf8") -> list[RelabelConfig]:
    """Build a list of configs; errors read ``<where>[i]: <what is wrong>``.

    ``where`` names the list, e.g. ``"job 'node': relabel_configs"``.
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected a list of relabel configs, got {raw!r}")
    out = []
    for i, item in enumerate(raw):
        try:
            out.append(parse_relabel_config(item, name_validation))
        except ConfigError as exc:
            raise ConfigError(f"{where}[{i}]: {exc}") from None
    return out


# --------------------------------------------------------------------------
# Applying configs
# --------------------------------------------------------------------------

def relabel(labels: Labels, configs: Sequence[RelabelConfig]) -> Labels | None:
    """Apply ``configs`` in order; the new sorted label set, or None if dropped."""
    cur = dict(labels)
    # Names set by rules in the order first set: labels.Builder's 'add' list,
    # which labelmap walks after the input labels.
    added: dict[str, None] = {}
    changed = False
    hit: bool | None
    for cfg in configs:
        code = cfg._code
        src = cfg._src
        if len(src) == 1:
            val = cur.get(src[0], "")
        else:
            val = cfg.separator.join([cur.get(n, "") for n in src])
        if code in (_DROP, _KEEP):
            lits = cfg._literals
            if lits is not None:
                hit = val in lits
            else:
                memo = cfg._memo
                hit = memo.get(val)
                if hit is None:
                    hit = cfg._match(val) is not None
                    _remember(memo, val, hit)
            if hit == (code == _DROP):
                return None
        elif code == _REPLACE:
            if cfg._copy:
                target, res = cfg.target_label, val
            elif cfg._const:
                target, res = cfg.target_label, cfg.replacement
            else:
                memo = cfg._memo
                done = memo.get(val)
                if done is None:
                    done = _replace(cfg, val)
                    _remember(memo, val, done)
                if done is _SKIP:
                    continue
                target, res = done
            if res:
                if cur.get(target) != res:
                    cur[target] = res
                    changed = True
                added[target] = None
            elif target in cur:
                del cur[target]
                added.pop(target, None)
                changed = True
        elif code in (_LABELDROP, _LABELKEEP):
            lits = cfg._literals
            keep = code == _LABELKEEP
            if lits is not None and not keep:
                for name in lits:
                    if name in cur:
                        del cur[name]
                        added.pop(name, None)
                        changed = True
            else:
                match = cfg._match
                memo = cfg._memo
                for name in list(cur):
                    if lits is not None:
                        hit = name in lits
                    else:
                        hit = memo.get(name)
                        if hit is None:
                            hit = match(name) is not None
                            _remember(memo, name, hit)
                    if hit != keep:
                        del cur[name]
                        added.pop(name, None)
                        changed = True
        elif code == _LABELMAP:
            match = cfg._match
            tpl = cfg._repl_tpl
            whole = cfg._rx.anchored_whole
            snapshot = [(k, cur[k]) for k in cur if k not in added]
            snapshot.sort()
            snapshot += [(k, cur[k]) for k in added]
            memo = cfg._memo
            for name, value in snapshot:
                new = memo.get(name)
                if new is None:
                    m = match(name)
                    if m is None:
                        new = _SKIP
                    else:
                        new = expand(tpl, m) if whole else _replace_all(cfg._rx.pattern, name, tpl)
                    _remember(memo, name, new)
                if new is _SKIP:
                    continue
                if cur.get(new) != value:
                    cur[new] = value
                    changed = True
                added[new] = None
        elif code in (_KEEPEQ, _DROPEQ):
            if (cur.get(cfg.target_label, "") == val) != (code == _KEEPEQ):
                return None
        else:
            if code == _HASHMOD:
                res = str(hashmod(val, cfg.modulus))
            elif code == _LOWER:
                res = go_lower(val)
            else:
                res = go_upper(val)
            target = cfg.target_label
            if res:
                if cur.get(target) != res:
                    cur[target] = res
                    changed = True
                added[target] = None
            elif target in cur:
                del cur[target]
                added.pop(target, None)
                changed = True
    if not changed:
        return labels
    return tuple(sorted(cur.items()))


_SKIP: Any = object()  # memo entry: the rule does nothing for this input
_MEMO_MAX = 4096
"""Answers kept per rule. Scrapes repeat the same metric names, label names and
instance values, so a rule's regex mostly sees inputs it has seen before; the
memo is cleared when full, so high-cardinality inputs only cost a miss."""


def _remember(memo: dict[str, Any], key: str, value: Any) -> None:
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value


def _replace(cfg: RelabelConfig, val: str) -> Any:
    """The (target, value) a replace rule writes for ``val``, or _SKIP."""
    m = cfg._match(val)
    if m is None:
        return _SKIP
    target = cfg._fixed_target
    if target is None:
        target = expand(cfg._target_tpl, m)
        if not valid_label_name(target, cfg.name_validation):
            return _SKIP
    g = cfg._repl_group
    return target, (m.group(g) or "") if g else expand(cfg._repl_tpl, m)


def _replace_all(pattern: re.Pattern[str], src: str, tpl: Template) -> str:
    """Go's ReplaceAllString (only reachable when a regex escapes its anchors)."""
    out: list[str] = []
    last_end = 0
    pos = 0
    n = len(src)
    while pos <= n:
        m = pattern.search(src, pos)
        if m is None:
            break
        a, b = m.span()
        out.append(src[last_end:a])
        # Go skips an empty match right after a previous match.
        if b > last_end or a == 0:
            out.append(expand(tpl, m))
        last_end = b
        pos = pos + 1 if pos + 1 > b else b
    out.append(src[last_end:])
    return "".join(out)


def relabel_many(series: Sequence[Labels], configs: Sequence[RelabelConfig],
                 cache: dict[Labels, Labels | None] | None = None) -> list[Labels | None]:
    """:func:`relabel` over many series, remembering answers in ``cache``.

    A scrape returns the same series every time, so a cache kept per target
    turns relabeling into one dict lookup per series. The cache belongs to one
    ``configs`` list: start a new one when the configs change, and clear it
    when it outgrows the target (series churn).
    """
    if not configs:
        return list(series)
    if cache is None:
        return [relabel(s, configs) for s in series]
    out: list[Labels | None] = []
    append = out.append
    get = cache.get
    miss = _MISS
    for s in series:
        r = get(s, miss)
        if r is miss:
            r = relabel(s, configs)
            cache[s] = r
        append(r)
    return out


_MISS: Any = object()
