"""RE2 (Go) regular expressions in Python, as Prometheus evaluates them.

Prometheus compiles label matchers, relabel regexes and ``label_replace``
patterns with Go's RE2 after wrapping them as ``^(?s:`` + regex + ``)$``, and
expands replacements with Go's ``Regexp.Expand``. :func:`compile_go_regex`
translates RE2 syntax into Python ``re`` with the same meaning, or refuses as
Go would: RE2-only syntax (``\\z``, ``\\Q...\\E``, ``[[:alpha:]]``, ``(?U)``,
``{,n}`` as a literal) is spelled the Python way, Python-only syntax
(lookarounds, backreferences, possessive repeats, ``(?x)``) is an error, and
ASCII-only classes (``\\d``, ``\\w``, ``\\s``, ``\\b``) stay ASCII-only. Under
``(?i)`` a class is folded before it is negated, and dotted/dotless i fold as
in Go. :func:`parse_template` and :func:`expand` implement ``Regexp.Expand``.

Known differences, all at the edges: ``\\p{...}`` classes are refused; a
capture inside a loop whose body can match empty keeps Python's answer
(``(a*)*`` on ``a`` captures ``""``, Go ``"a"``; whether it matches is the same).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

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


def compile_anchored(expr: str) -> re.Pattern[str]:
    """A label matcher's regex, compiled as Prometheus does (``^(?s:expr)$`` in RE2).

    Use ``search`` on the result, as Go's ``MatchString`` does: the anchors are
    in the pattern, and a regex that closes the wrapper group (``a)|(b``)
    behaves as it does in Prometheus.
    """
    return compile_go_regex(expr).pattern
