"""Literals as Go reads them: numbers, quoted strings, regexes, label names."""

from __future__ import annotations

import re

from kubesight.promql.syntax.lexer import _is_alnum, _is_alpha


def _go_number_error(val: str) -> str:
    """Why Go's ParseInt(val, 0, 64) and ParseFloat(val, 64) both refuse a
    NUMBER token, or "" when one accepts it."""
    low = val.lower()
    digits = low.replace("_", "")
    try:
        int(digits, 16 if digits.startswith("0x") else 10)
        if digits.startswith("0x") and len(digits) > 2:
            return ""
        if not digits.startswith("0x"):
            return ""
    except ValueError:
        pass
    if low.startswith("0x"):
        # A hexadecimal float needs a "p" exponent, which the lexer never takes.
        return "invalid syntax"
    try:
        f = float(val)
    except ValueError:
        return "invalid syntax"
    if f in (float("inf"), float("-inf")) and low not in ("inf", "+inf", "-inf", "infinity"):
        return "value out of range"
    return ""


def _float_or_zero(val: str) -> float:
    try:
        return float(int(val, 0)) if val.lower().startswith("0x") else float(val)
    except ValueError:
        return 0.0


def _is_label(s: str) -> bool:
    return bool(s) and _is_alpha(s[0]) and all(_is_alnum(c) for c in s[1:])


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unquote(raw: str) -> str:
    """strutil.Unquote for strings the lexer has already validated."""
    body = raw[1:-1]
    if raw[0] == "`":
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[e])
            i += 2
        elif e in "01234567":
            out.append(chr(int(body[i + 1:i + 4], 8)))
            i += 4
        elif e in "xuU":
            n = {"x": 2, "u": 4, "U": 8}[e]
            out.append(chr(int(body[i + 2:i + 2 + n], 16)))
            i += 2 + n
        else:
            out.append(e)
            i += 2
    return "".join(out)


def _regex_error(value: str) -> str | None:
    """Go's regexp error for the anchored matcher regex, for the cases whose
    wording we can reproduce; other invalid regexes fall back to promql-parser."""
    anchored = f"^(?:{value})$"
    try:
        re.compile(anchored)
    except re.error as exc:
        text = str(exc)
        if text.startswith("missing ), unterminated subpattern"):
            return f"error parsing regexp: missing closing ): `{anchored}`"
        if text.startswith("unbalanced parenthesis"):
            return f"error parsing regexp: unexpected ): `{anchored}`"
        if text.startswith("unterminated character set") and exc.pos is not None:
            return f"error parsing regexp: missing closing ]: `{anchored[exc.pos:]}`"
        if text.startswith("nothing to repeat") and exc.pos is not None:
            return f"error parsing regexp: missing argument to repetition operator: `{anchored[exc.pos]}`"
        return ""
    return None


def _matches_empty(m: tuple[str, str, str]) -> bool:
    _, op, value = m
    if op == "EQL":
        return value == ""
    if op == "NEQ":
        return value != ""
    try:
        hit = re.fullmatch(f"(?:{value})", "", re.S) is not None
    except re.error:
        return True
    return hit if op == "EQL_REGEX" else not hit
