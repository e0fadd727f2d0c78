"""Alertmanager's label-set conventions: fingerprints, matcher syntax, Go quoting.

Alertmanager identifies an alert by the 64-bit FNV-1a hash of its sorted label
pairs (``prometheus/common`` ``LabelSet.Fingerprint``), prints label sets and
matchers the way Go's ``%q`` does, and parses matchers written as
``{a="b", c=~"d.*"}`` or ``a=b`` (the "classic" matcher syntax of amtool and
``matchers:`` in alertmanager.yml). Those conventions leak into what users see
(group keys, fingerprints, webhook payloads), so they are reproduced exactly.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from kubesight.errors import ValidationError
from kubesight.model.labels import Labels
from kubesight.model.matchers import Matcher, MatchOp
from kubesight.model.re2 import RegexError, compile_go_regex

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1
_SEP = 0xFF  # prometheus/common's SeparatorByte: never valid UTF-8, so pairs cannot run together


def new_matcher(name: str, op: str | MatchOp, value: str) -> Matcher:
    """A matcher with Alertmanager's regex semantics: anchored, and ``.`` not matching newlines.

    (Prometheus' matchers, which ``Matcher.of`` builds, let ``.`` match newlines.)
    """
    mop = op if isinstance(op, MatchOp) else MatchOp(op)
    if mop not in (MatchOp.RE, MatchOp.NRE):
        return Matcher(name, mop, value)
    try:
        rx = compile_go_regex(f"(?-s:{value})").pattern
    except RegexError as exc:
        raise ValidationError(f"invalid regex {value!r} for label {name!r}: {exc}") from exc
    return Matcher(name, mop, value, rx)


def fingerprint(labels: Labels | Mapping[str, str]) -> int:
    """The alert's identity as Alertmanager computes it (FNV-1a 64 over sorted pairs)."""
    pairs = tuple(sorted(labels.items())) if isinstance(labels, Mapping) else tuple(sorted(labels))
    return _fingerprint(pairs)


# Senders resend the same alerts every minute; hashing byte by byte in Python
# costs ~30µs an alert, so identical label sets are remembered.
@functools.lru_cache(maxsize=1 << 16)
def _fingerprint(pairs: Labels) -> int:
    h = _FNV_OFFSET
    for name, value in pairs:
        for part in (name, value):
            for b in part.encode("utf-8"):
                h = ((h ^ b) * _FNV_PRIME) & _MASK
            h = ((h ^ _SEP) * _FNV_PRIME) & _MASK
    return h


def fingerprint_hex(labels: Labels | Mapping[str, str]) -> str:
    return f"{fingerprint(labels):016x}"


def labels_before(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    """prometheus/common's ``LabelSet.Before``: shorter sets first, then pair by pair."""
    if len(a) != len(b):
        return len(a) < len(b)
    for name in sorted(set(a) | set(b)):
        if name not in a:
            return True
        if name not in b:
            return False
        if a[name] != b[name]:
            return a[name] < b[name]
    return False


def compare_labels(a: Mapping[str, str], b: Mapping[str, str]) -> int:
    return -1 if labels_before(a, b) else 1 if labels_before(b, a) else 0


_PLAIN = re.compile(r'^[ !#-\[\]-~]*$')  # printable ASCII without " and \\: quoted as is


def go_quote(s: str) -> str:
    """Go's ``strconv.Quote``: double quotes, escapes for controls and non-printables."""
    if _PLAIN.match(s):
        return f'"{s}"'
    out = ['"']
    for ch in s:
        cp = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\v":
            out.append("\\v")
        elif cp < 0x20 or cp == 0x7F:
            out.append(f"\\x{cp:02x}")
        elif cp > 0x7F and not ch.isprintable():
            out.append(f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def labelset_str(labels: Labels | Mapping[str, str]) -> str:
    """``{a="b", c="d"}``: prometheus/common's ``LabelSet.String`` (group keys use it)."""
    pairs = sorted(labels.items()) if isinstance(labels, Mapping) else sorted(labels)
    return "{" + ", ".join(f"{k}={go_quote(v)}" for k, v in pairs) + "}"


_RESERVED = set('{}!=~,\\"\'`')


def _om_escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def matcher_str(m: Matcher) -> str:
    """A matcher as Alertmanager prints it (route keys are built from these)."""
    if any(c.isspace() or c in _RESERVED for c in m.name):
        return f"{go_quote(m.name)}{m.op.value}{go_quote(m.value)}"
    return f'{m.name}{m.op.value}"{_om_escape(m.value)}"'


def sort_matchers(ms: Iterable[Matcher]) -> list[Matcher]:
    """Alertmanager's order: name, then value, then type (=, !=, =~, !~)."""
    order = {MatchOp.EQ: 0, MatchOp.NE: 1, MatchOp.RE: 2, MatchOp.NRE: 3}
    return sorted(ms, key=lambda m: (m.name, m.value, order[m.op]))


def matchers_str(ms: Iterable[Matcher]) -> str:
    return "{" + ",".join(matcher_str(m) for m in ms) + "}"


def matches_all(ms: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels.get(m.name, "")) for m in ms)


# The classic matcher grammar: a label name, an operator, then the rest of the
# token as the value (quoted or not), blanks around each part ignored.
_MATCHER = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*(.*?)\s*$", re.DOTALL)


def parse_matchers(text: str) -> list[Matcher]:
    """``{a="b",c=~"d"}`` or ``a=b, c!=d``: the syntax of amtool and ``matchers:``.

    Raises :class:`ValidationError` saying which matcher is bad and why.
    """
    s = text.strip()
    if s.startswith("{"):
        s = s[1:]
    if s.endswith("}"):
        s = s[:-1]
    tokens: list[str] = []
    token: list[str] = []
    quoted = False
    escaped = False
    for ch in s:
        if not quoted and ch == ",":
            tokens.append("".join(token))
            token = []
            continue
        token.append(ch)
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
    last = "".join(token).strip()
    if last:
        tokens.append(last)
    return [parse_matcher(t) for t in tokens]


def parse_matcher(token: str) -> Matcher:
    m = _MATCHER.match(token)
    if m is None:
        raise ValidationError(f"bad matcher format: {token}")
    name, op, raw = m.group(1), m.group(2), m.group(3)
    quoted = raw.startswith('"')
    if quoted:
        raw = raw[1:]
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i < len(raw) - 1:
            nxt = raw[i + 1]
            out.append("\n" if nxt == "n" else nxt if nxt in '"\\' else "\\" + nxt)
            i += 2
            continue
        if ch == '"':
            if not quoted or i < len(raw) - 1:
                raise ValidationError(f"matcher value contains unescaped double quote: {m.group(3)}")
            quoted = False
        else:
            out.append(ch)
        i += 1
    if quoted:
        raise ValidationError(f"matcher value contains unescaped double quote: {m.group(3)}")
    return new_matcher(name, op, "".join(out))
