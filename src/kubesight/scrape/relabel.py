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

Regexes are RE2 (Go) syntax. :func:`compile_go_regex` translates them into
Python ``re`` with the same meaning, or refuses: RE2-only syntax (``\\z``,
``\\Q...\\E``, ``[[:alpha:]]``, ``(?U)``, ``{,n}`` as a literal) is spelled the
Python way, Python-only syntax (lookarounds, backreferences, possessive
repeats, ``(?x)``) is an error as it is in Prometheus, and ASCII-only classes
(``\\d``, ``\\w``, ``\\s``, ``\\b``) stay ASCII-only. Under ``(?i)`` a class
is folded before it is negated, and dotted/dotless i fold as in Go.

Known differences from Prometheus, all at the edges: ``\\p{...}`` Unicode
classes are refused; a capture inside a loop whose body can match empty keeps
Python's answer (``(a*)*`` on ``a`` captures ``""``, Go ``"a"``; whether it
matches is the same); the 2.x line (e.g. Debian's 2.42) did not put
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
# RE2 → Python re
# --------------------------------------------------------------------------

_MAX_CP = 0x10FFFF
_Ranges = list[tuple[int, int]]

# RE2's Perl classes are ASCII-only; Python's are Unicode-aware, so they are
# spelled out as ranges rather than passed through.
_PERL: dict[str, _Ranges] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}
_POSIX: dict[str, _Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_SIMPLE_ESCAPES = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_MAX_REPEAT = 1000  # RE2's limit on a counted repetition (and on nested products)
# RE2 allows 1000 levels of nesting; Python's own parser and this translator
# recurse per level, so a lower bound keeps them clear of the recursion limit.
_MAX_DEPTH = 100
_REPEAT = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")


class RegexError(ValueError):
    """An RE2 regex that Go would refuse, or that kubesight cannot translate."""


def _negate(ranges: _Ranges) -> _Ranges:
    out: _Ranges = []
    nxt = 0
    for lo, hi in sorted(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    if nxt <= _MAX_CP:
        out.append((nxt, _MAX_CP))
    return out


def _cls_char(cp: int) -> str:
    c = chr(cp)
    if c.isascii() and c.isalnum():
        return c
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


# Python's case-insensitive matching merges i, I, U+0130 and U+0131 (dotted
# capital and dotless small i, through their simple lower/upper mappings); Go
# folds with CaseFolding.txt's simple mappings only, where those two fold to
# nothing else. Atoms that involve them get a guard (see _fold_guard).
_TURKIC = (0x69, 0x49, 0x130, 0x131)
_GO_ORBIT = {0x69: (0x69, 0x49), 0x49: (0x69, 0x49), 0x130: (0x130,), 0x131: (0x131,)}


def _in_ranges(ranges: _Ranges, cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _fold_ascii(ranges: _Ranges) -> _Ranges:
    """Go's case folding of an ASCII class: s also folds to U+017F, k to U+212A.

    Needed before negating a Perl or POSIX class under (?i), which Go does
    fold-then-negate: (?i)\\W matches neither k nor K (U+212A).
    """
    out = list(ranges)
    if _in_ranges(ranges, 0x73) or _in_ranges(ranges, 0x53):
        out.append((0x17F, 0x17F))
    if _in_ranges(ranges, 0x6B) or _in_ranges(ranges, 0x4B):
        out.append((0x212A, 0x212A))
    return out


def _fold_guard(text: str, ranges: _Ranges, negated: bool) -> tuple[str, bool]:
    """``(?i:text)``, corrected where Python's folding of the i family differs from Go's.

    Returns the text and whether it is still a single atom.
    """
    py = f"(?i:{text})"
    if not any(_in_ranges(ranges, cp) for cp in _TURKIC):
        return py, True  # Python and Go agree when the set holds none of them
    compiled = re.compile(py)
    excl, incl = [], []
    for cp in _TURKIC:
        go = any(_in_ranges(ranges, o) for o in _GO_ORBIT[cp]) != negated
        ours = compiled.fullmatch(chr(cp)) is not None
        if ours and not go:
            excl.append(_cls_char(cp))
        elif go and not ours:
            incl.append(_cls_char(cp))
    if not excl and not incl:
        return py, True
    out = py
    if excl:
        out = f"(?![{''.join(excl)}]){out}"
    if incl:
        out = f"[{''.join(incl)}]|{out}"
    return f"(?:{out})", True


@dataclass
class _Flags:
    i: bool = False  # FoldCase
    m: bool = False  # multi-line ^ $ (RE2's OneLine off)
    s: bool = False  # . matches \n
    U: bool = False  # ungreedy: swap greedy and lazy

    def copy(self) -> _Flags:
        return _Flags(self.i, self.m, self.s, self.U)


@dataclass
class _Item:
    text: str
    atomic: bool  # can take a quantifier as it is
    weight: int = 1  # product of nested counted repeats (RE2's repeatIsValid)
    quantified: bool = False


class _Translator:
    def __init__(self, src: str) -> None:
        self.src = src
        self.i = 0
        self.ngroups = 0
        self.names: dict[str, tuple[int, ...]] = {}  # Go allows a name twice
        self.close_of: dict[int, int] = {}  # group open offset -> its ')' offset
        self.prev_rep = 0  # where the last repetition operator started
        self.depth = 0

    def err(self, code: str, expr: str) -> RegexError:
        return RegexError(f"error parsing regexp: {code}: `{expr}`")

    def translate(self) -> str:
        text, _ = self.alternation(_Flags(), top=True)
        return text

    def alternation(self, flags: _Flags, top: bool) -> tuple[str, int]:
        src, n = self.src, len(self.src)
        alts: list[str] = []
        items: list[_Item] = []
        weight = 1
        last_was_repeat = False
        while self.i < n:
            c = src[self.i]
            if c == "|":
                alts.append(self.concat(items))
                weight = max([weight, *(it.weight for it in items)])
                items = []
                self.i += 1
                last_was_repeat = False
                continue
            if c == ")":
                if top:
                    raise self.err("unexpected )", src)
                break
            rep = self.repeat_at(self.i)
            if rep is not None:
                start = self.i
                lo, hi, end = rep
                lazy = end < n and src[end] == "?"
                if lazy:
                    end += 1
                op = src[start:end]
                if last_was_repeat:
                    raise self.err("invalid nested repetition operator", src[self.prev_rep:end])
                if not items:
                    raise self.err("missing argument to repetition operator", op)
                it = items[-1]
                counted = src[start] == "{"
                w = it.weight
                if counted:
                    m = hi if hi is not None else lo
                    if m == 0:
                        w = 1
                    else:
                        if (lo >= 2 or (hi or 0) >= 2) and m * it.weight > _MAX_REPEAT:
                            raise self.err("invalid repeat count", op)
                        w = m * it.weight
                body = it.text if it.atomic and not it.quantified else f"(?:{it.text})"
                if src[start] == "{":
                    q = f"{{{lo}}}" if hi == lo else f"{{{lo},{'' if hi is None else hi}}}"
                else:
                    q = src[start]
                if lazy != flags.U:
                    q += "?"
                items[-1] = _Item(body + q, True, w, quantified=True)
                self.prev_rep = start
                self.i = end
                last_was_repeat = True
                continue
            last_was_repeat = False
            got = self.atom(flags)
            items.extend(got)
        alts.append(self.concat(items))
        weight = max([weight, *(it.weight for it in items)])
        return "|".join(alts), weight

    @staticmethod
    def concat(items: list[_Item]) -> str:
        return "".join(it.text for it in items)

    def repeat_at(self, i: int) -> tuple[int, int | None, int] | None:
        """``(min, max or None, end)`` of a repetition operator at ``i``."""
        src = self.src
        c = src[i]
        if c == "*":
            return 0, None, i + 1
        if c == "+":
            return 1, None, i + 1
        if c == "?":
            return 0, 1, i + 1
        if c != "{":
            return None
        # RE2: {n}, {n,}, {n,m}; anything else (including {,m}) is a literal '{'.
        m = _REPEAT.match(src, i)
        if m is None:
            return None

        def num(s: str) -> int | None:
            if len(s) >= 2 and s[0] == "0":
                return None  # RE2 refuses leading zeros: the '{' is a literal
            return int(s) if len(s) <= 8 else _MAX_REPEAT + 1

        lo = num(m.group(1))
        if lo is None:
            return None
        hi: int | None
        if m.group(2) is None:
            hi = lo
        elif m.group(3) == "":
            hi = None
        else:
            hi = num(m.group(3))
            if hi is None:
                return None
        end = m.end()
        if lo > _MAX_REPEAT or (hi is not None and (hi > _MAX_REPEAT or lo > hi)):
            raise self.err("invalid repeat count", src[i:end])
        return lo, hi, end

    def lit(self, cp: int, flags: _Flags) -> _Item:
        text = re.escape(chr(cp))
        if flags.i and chr(cp).lower() != chr(cp).upper():
            return _Item(*_fold_guard(text, [(cp, cp)], False))
        return _Item(text, True)

    def atom(self, flags: _Flags) -> list[_Item]:
        src = self.src
        c = src[self.i]
        if c == "(":
            return self.group(flags)
        if c == "[":
            return [self.char_class(flags)]
        if c == ".":
            self.i += 1
            return [_Item("(?s:.)" if flags.s else ".", True)]
        if c == "^":
            self.i += 1
            return [_Item("(?m:^)" if flags.m else r"\A", False)]
        if c == "$":
            self.i += 1
            # Python's bare '$' also matches before a final newline; RE2's does not.
            return [_Item("(?m:$)" if flags.m else r"\Z", False)]
        if c == "\\":
            return self.escape(flags)
        self.i += 1
        return [self.lit(ord(c), flags)]

    def escape(self, flags: _Flags) -> list[_Item]:
        src, n = self.src, len(self.src)
        start = self.i
        if start + 1 >= n:
            raise self.err("trailing backslash at end of expression", "")
        c = src[start + 1]
        if c == "Q":
            end = src.find(r"\E", start + 2)
            body = src[start + 2:] if end < 0 else src[start + 2:end]
            self.i = n if end < 0 else end + 2
            return [self.lit(ord(ch), flags) for ch in body]
        if c in "AzbB":
            self.i = start + 2
            # Python's \B never matches in an empty string; RE2's does.
            text = {"A": r"\A", "z": r"\Z", "b": r"(?a:\b)", "B": r"(?a:(?!\b))"}[c]
            return [_Item(text, False)]
        if c.lower() in _PERL:
            self.i = start + 2
            return [self.class_item(self.perl(c.lower(), c.isupper(), flags), flags)]
        if c in "pP":
            raise self.err("kubesight does not support Unicode classes", src[start:start + 3])
        cp = self.escape_char()
        return [self.lit(cp, flags)]

    def escape_char(self) -> int:
        """A single-character escape (shared by classes): returns the code point."""
        src, n = self.src, len(self.src)
        start = self.i
        if start + 1 >= n:
            raise self.err("trailing backslash at end of expression", "")
        c = src[start + 1]
        self.i = start + 2
        if "1" <= c <= "7" and not (self.i < n and "0" <= src[self.i] <= "7"):
            # A lone \1..\7 would be a backreference; RE2 has none.
            raise self.err("invalid escape sequence", src[start:self.i])
        if "0" <= c <= "7":
            v = int(c)
            for _ in range(2):
                if self.i < n and "0" <= src[self.i] <= "7":
                    v = v * 8 + int(src[self.i])
                    self.i += 1
            return v
        if c == "x":
            if self.i < n and src[self.i] == "{":
                end = src.find("}", self.i)
                digits = src[self.i + 1:end] if end > 0 else ""
                if end < 0 or not digits or not all(ch in "0123456789abcdefABCDEF" for ch in digits):
                    raise self.err("invalid escape sequence", src[start:(end + 1) if end > 0 else n])
                v = int(digits, 16)
                self.i = end + 1
                if v > _MAX_CP:
                    raise self.err("invalid escape sequence", src[start:self.i])
                return v
            hx = src[self.i:self.i + 2]
            if len(hx) < 2 or not all(ch in "0123456789abcdefABCDEF" for ch in hx):
                raise self.err("invalid escape sequence", src[start:self.i + 2])
            self.i += 2
            return int(hx, 16)
        if c in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[c]
        if c.isascii() and not c.isalnum():
            return ord(c)
        raise self.err("invalid escape sequence", src[start:self.i])

    @staticmethod
    def perl(name: str, negated: bool, flags: _Flags, table: dict[str, _Ranges] = _PERL) -> _Ranges:
        ranges = table[name]
        if not negated:
            return ranges
        return _negate(_fold_ascii(ranges) if flags.i else ranges)

    def class_item(self, ranges: _Ranges, flags: _Flags, negated: bool = False) -> _Item:
        if not ranges:
            # Nothing to match (a class RE2 can express but Python cannot spell).
            text = "[^\\x00-\\U0010ffff]" if not negated else "[\\x00-\\U0010ffff]"
        else:
            body = "".join(
                _cls_char(lo) if lo == hi else f"{_cls_char(lo)}-{_cls_char(hi)}"
                for lo, hi in sorted(ranges))
            text = f"[{'^' if negated else ''}{body}]"
        if flags.i:
            return _Item(*_fold_guard(text, ranges, negated))
        return _Item(text, True)

    def char_class(self, flags: _Flags) -> _Item:
        src, n = self.src, len(self.src)
        start = self.i
        self.i += 1
        negated = False
        if self.i < n and src[self.i] == "^":
            negated = True
            self.i += 1
        ranges: _Ranges = []
        first = True
        while True:
            if self.i >= n:
                raise self.err("missing closing ]", src[start:])
            c = src[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "[" and src.startswith("[:", self.i):
                end = src.find(":]", self.i + 2)
                if end >= 0:
                    name = src[self.i + 2:end]
                    neg = name.startswith("^")
                    if (name[1:] if neg else name) not in _POSIX:
                        raise self.err("invalid character class range", src[self.i:end + 2])
                    ranges.extend(self.perl(name[1:] if neg else name, neg, flags, _POSIX))
                    self.i = end + 2
                    continue
            if c == "\\" and self.i + 1 < n:
                e = src[self.i + 1]
                if e.lower() in _PERL:
                    ranges.extend(self.perl(e.lower(), e.isupper(), flags))
                    self.i += 2
                    continue
                if e in "pP":
                    raise self.err("kubesight does not support Unicode classes", src[self.i:self.i + 3])
            lo_at = self.i
            lo = self.class_char()
            hi = lo
            if self.i + 1 < n and src[self.i] == "-" and src[self.i + 1] != "]":
                self.i += 1
                hi = self.class_char()
                if hi < lo:
                    raise self.err("invalid character class range", src[lo_at:self.i])
            ranges.append((lo, hi))
        return self.class_item(ranges, flags, negated)

    def class_char(self) -> int:
        src = self.src
        if src[self.i] == "\\":
            return self.escape_char()
        self.i += 1
        return ord(src[self.i - 1])

    def group(self, flags: _Flags) -> list[_Item]:
        src, n = self.src, len(self.src)
        start = self.i
        inner = flags.copy()
        capture = True
        name: str | None = None
        if src.startswith("(?", start):
            capture = False
            j = start + 2
            if src.startswith("P<", j) or (src.startswith("<", j) and not src.startswith(("<=", "<!"), j)):
                j += 2 if src[j] == "P" else 1
                end = src.find(">", j)
                if end < 0:
                    raise self.err("invalid named capture", src[start:])
                name = src[j:end]
                if not name or not all(ch == "_" or (ch.isascii() and ch.isalnum()) for ch in name):
                    raise self.err("invalid named capture", src[start:end + 1])
                capture = True
                self.i = end + 1
            else:
                sign = True
                saw = False
                while True:
                    if j >= n:
                        raise self.err("missing closing )", src)
                    ch = src[j]
                    j += 1
                    if ch in "imsU":
                        setattr(inner, ch, sign)
                        saw = True
                    elif ch == "-" and sign:
                        sign = False
                        saw = False
                    elif ch in ":)":
                        if not sign and not saw:
                            raise self.err("invalid or unsupported Perl syntax", src[start:j])
                        break
                    else:
                        raise self.err("invalid or unsupported Perl syntax", src[start:j])
                if ch == ")":
                    # (?flags) changes the flags up to the end of the enclosing group,
                    # across later alternatives too.
                    flags.i, flags.m, flags.s, flags.U = inner.i, inner.m, inner.s, inner.U
                    self.i = j
                    return []
                self.i = j
        else:
            self.i = start + 1
        if capture:
            self.ngroups += 1
            if name is not None:
                self.names[name] = (*self.names.get(name, ()), self.ngroups)
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.err("expression nests too deeply", src[start:start + 20])
        body, weight = self.alternation(inner, top=False)
        self.depth -= 1
        if self.i >= n:
            raise self.err("missing closing )", src)
        self.close_of[start] = self.i
        self.i += 1
        # Names are kept apart (Go allows names Python refuses, such as '1x'),
        # so every capture is emitted unnamed and numbered the same way.
        return [_Item(f"({body})" if capture else f"(?:{body})", True, weight)]


@dataclass(frozen=True)
class GoRegex:
    """An RE2 regex translated to Python, with Go's group names kept aside."""

    source: str
    pattern: re.Pattern[str]
    group_names: Mapping[str, tuple[int, ...]]
    anchored_whole: bool
    """True when the regex is one anchored group: ``match`` then spans the input."""


def compile_go_regex(expr: str) -> GoRegex:
    """Compile ``expr`` as Prometheus' relabel regex: ``^(?s:`` + expr + ``)$``."""
    wrapped = f"^(?s:{expr})$"
    t = _Translator(wrapped)
    text = t.translate()
    try:
        pattern = re.compile(text)
    except re.error as exc:  # a translation Python refuses: say so rather than guess
        raise RegexError(f"kubesight cannot translate this regex ({exc})") from exc
    whole = t.close_of.get(1) == len(wrapped) - 2
    return GoRegex(expr, pattern, dict(t.names), whole)


# --------------------------------------------------------------------------
# Go's Regexp.Expand
# --------------------------------------------------------------------------

Template = tuple[str | int | tuple[int, ...], ...]
"""Literal text, group numbers, and for a name given to several groups all of
them (Go takes the first that took part in the match); a group Go would not
find is dropped."""


def _name_char(c: str) -> bool:
    # Go: unicode.IsLetter || unicode.IsDigit || '_' (Python: L* and Nd).
    return c == "_" or c.isalpha() or c.isdecimal()


def parse_template(template: str, group_names: Mapping[str, tuple[int, ...]], ngroups: int) -> Template:
    """Split a Go ``Expand`` template into literals and group numbers, once."""
    parts: list[str | int | tuple[int, ...]] = []
    lit: list[str] = []
    i, n = 0, len(template)
    while i < n:
        j = template.find("$", i)
        if j < 0:
            lit.append(template[i:])
            break
        lit.append(template[i:j])
        i = j + 1
        if i < n and template[i] == "$":
            lit.append("$")
            i += 1
            continue
        brace = i < n and template[i] == "{"
        k = i + 1 if brace else i
        e = k
        while e < n and _name_char(template[e]):
            e += 1
        name = template[k:e]
        if not name or (brace and (e >= n or template[e] != "}")):
            lit.append("$")  # malformed: the '$' is literal text
            continue
        i = e + 1 if brace else e
        num = -1
        # Go reads up to 9 digits as a number; a leading zero makes it a name.
        if name.isascii() and name.isdigit() and len(name) <= 9 and not (len(name) > 1 and name[0] == "0"):
            num = int(name)
        groups = (num,) if 0 <= num <= ngroups else () if num >= 0 else group_names.get(name, ())
        if groups:
            if lit:
                parts.append("".join(lit))
                lit = []
            parts.append(groups[0] if len(groups) == 1 else groups)
    if lit and "".join(lit):
        parts.append("".join(lit))
    return tuple(parts)


def expand(template: Template, m: re.Match[str]) -> str:
    """Apply a parsed template to a match (unmatched groups give ``""``)."""
    out = []
    for p in template:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, int):
            out.append(m.group(p) or "")
        else:
            out.append(next((g for g in map(m.group, p) if g is not None), ""))
    return "".join(out)


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
