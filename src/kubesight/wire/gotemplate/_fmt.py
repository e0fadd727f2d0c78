"""Go's fmt for template values: Sprint, Sprintln, Sprintf and %v.

Python values stand for Go's: ``str`` string, ``bool`` bool, ``int`` int,
``float`` float64, ``None`` nil, sequences ``[]interface {}``, mappings
``map[string]interface {}``. Verbs: ``%v %s %d %f %F %e %E %g %G %q %x %X %o
%b %c %t %T %%`` with flags ``+ - # 0 space``, width and precision (``*`` too).
Bad verbs and arguments print as Go prints them (``%!d(string=x)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def type_name(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    if isinstance(v, list | tuple):
        return "[]interface {}"
    return str(getattr(type(v), "__go_type__", type(v).__name__))  # a class may name its Go type


def _shortest(v: float) -> tuple[str, int]:
    """Shortest decimal digits of a finite nonzero |v| and its decimal exponent (d.ddd x 10^exp)."""
    r = repr(abs(v))
    mant, _, exp_s = r.partition("e")
    exp = int(exp_s) if exp_s else 0
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    digits = (ip + fp).lstrip("0")
    lead_zeros = len(ip + fp) - len((ip + fp).lstrip("0"))
    dp = len(ip) - lead_zeros + exp  # position of the decimal point relative to digits
    digits = digits.rstrip("0") or "0"
    return digits, dp - 1


def format_float(v: float, verb: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(v, verb, prec, 64) for verbs e E f F g G (prec -1: shortest)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if verb in "fF":
        if prec < 0:
            if v == 0:
                return "-0" if math.copysign(1, v) < 0 else "0"
            digits, exp = _shortest(v)
            prec = max(len(digits) - exp - 1, 0)
        return f"{v:.{prec}f}"
    if verb in "eE":
        if prec < 0:
            if v == 0:
                s = "0e+00"
            else:
                digits, _ = _shortest(v)
                s = f"{v:.{len(digits) - 1}e}"
        else:
            s = f"{v:.{prec}e}"
        return s.upper() if verb == "E" else s
    # g / G
    if prec >= 0:
        s = f"{v:.{max(prec, 1)}g}"
        return s.upper() if verb == "G" else s
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    digits, exp = _shortest(v)
    sign = "-" if v < 0 else ""
    # Go's shortest %g switches to an exponent below 1e-4 and from 1e+06 on.
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        s = f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    elif exp < 0:
        s = f"{sign}0.{'0' * (-exp - 1)}{digits}"
    elif len(digits) <= exp + 1:
        s = f"{sign}{digits}{'0' * (exp + 1 - len(digits))}"
    else:
        s = f"{sign}{digits[:exp + 1]}.{digits[exp + 1:]}"
    return s.upper() if verb == "G" else s


def quote(s: str, ascii_only: bool = False) -> str:
    """strconv.Quote (and QuoteToASCII)."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in _ESC:
            out.append(_ESC[ch])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif o < 0x80 or (not ascii_only and ch.isprintable()):
            out.append(ch)
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


_ESC = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def value_str(v: Any) -> str:
    """``%v`` of one value."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{value_str(k)}:{value_str(x)}" for k, x in items) + "]"
    if isinstance(v, list | tuple):
        return "[" + " ".join(value_str(x) for x in v) + "]"
    return str(v)


def _sort_key(k: Any) -> tuple[int, Any]:
    if isinstance(k, bool):
        return (0, k)
    if isinstance(k, int | float):
        return (1, k)
    return (2, str(k))


def sprint(args: Sequence[Any]) -> str:
    """fmt.Sprint: spaces between operands when neither side is a string."""
    out: list[str] = []
    for i, a in enumerate(args):
        if i > 0 and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(value_str(a))
    return "".join(out)


def sprintln(args: Sequence[Any]) -> str:
    return " ".join(value_str(a) for a in args) + "\n"


class _Spec:
    __slots__ = ("minus", "plus", "prec", "sharp", "space", "width", "zero")

    def __init__(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.width = -1
        self.prec = -1


def _pad(s: str, spec: _Spec, numeric: bool = False) -> str:
    if spec.width < 0 or len(s) >= spec.width:
        return s
    fill = spec.width - len(s)
    if spec.minus:
        return s + " " * fill
    if spec.zero and numeric:
        sign = s[0] if s[:1] in ("-", "+", " ") else ""
        body = s[len(sign):]
        return sign + "0" * fill + body
    if spec.zero and not numeric:
        return "0" * fill + s
    return " " * fill + s


def _bad(verb: str, v: Any) -> str:
    if v is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(v)}={value_str(v)})"


def _sign(s: str, neg: bool, spec: _Spec) -> str:
    if neg:
        return "-" + s
    if spec.plus:
        return "+" + s
    if spec.space:
        return " " + s
    return s


def _fmt_int(n: int, verb: str, spec: _Spec) -> str:
    neg = n < 0
    a = abs(n)
    if verb in "dv":
        s = str(a)
    elif verb == "x":
        s = f"{a:x}"
        s = "0x" + s if spec.sharp else s
    elif verb == "X":
        s = f"{a:X}"
        s = "0X" + s if spec.sharp else s
    elif verb == "o":
        s = f"{a:o}"
        s = "0" + s if spec.sharp else s
    elif verb == "O":
        s = "0o" + f"{a:o}"
    elif verb == "b":
        s = f"{a:b}"
    elif verb == "c":
        return _pad(chr(n) if 0 <= n <= 0x10FFFF else "\ufffd", spec)
    elif verb == "q":
        return _pad("'" + quote(chr(n))[1:-1].replace("\\\"", '"').replace("'", "\\'") + "'", spec)
    elif verb == "U":
        return _pad(f"U+{n:04X}", spec)
    else:
        return _bad(verb, n)
    if spec.prec >= 0:
        s = s.zfill(spec.prec) if spec.prec else ("" if a == 0 else s)
        return _pad(_sign(s, neg, spec), spec)
    return _pad(_sign(s, neg, spec), spec, numeric=True)


def _hex_float(x: float, upper: bool) -> str:
    """Go's %x of a float: ``0x1.cp+01`` (shortest hex mantissa, two-digit exponent)."""
    if math.isnan(x) or math.isinf(x):
        return format_float(x)
    h = float.hex(abs(x))  # 0x1.c000000000000p+1
    mant, _, exp = h.partition("p")
    mant = mant.rstrip("0").rstrip(".")
    e = int(exp)
    out = f"{'-' if math.copysign(1, x) < 0 else ''}{mant}p{'-' if e < 0 else '+'}{abs(e):02d}"
    return out.upper().replace("0X", "0X") if upper else out


def _fmt_float(x: float, verb: str, spec: _Spec) -> str:
    v = "g" if verb == "v" else verb
    if v in "xX" and spec.prec < 0:
        return _pad(_hex_float(x, v == "X"), spec)
    if v not in "eEfFgG":
        return _bad(verb, x)
    s = format_float(x, v, spec.prec if spec.prec >= 0 else (-1 if v in "gG" else 6))
    if s in ("+Inf", "-Inf", "NaN"):
        if s == "+Inf" and spec.space and not spec.plus:
            s = " Inf"
        elif s == "NaN" and (spec.plus or spec.space):
            s = ("+" if spec.plus else " ") + s
        return _pad(s, spec)
    neg = s.startswith("-")
    return _pad(_sign(s.lstrip("-"), neg, spec), spec, numeric=True)


def _fmt_str(s: str, verb: str, spec: _Spec) -> str:
    if verb in "sv":
        if spec.prec >= 0:
            s = s[: spec.prec]
        return _pad(s, spec)
    if verb == "q":
        if spec.sharp and "`" not in s and all(c.isprintable() or c == "\t" for c in s):
            return _pad("`" + s + "`", spec)
        return _pad(quote(s, ascii_only=spec.plus), spec)
    if verb in "xX":
        b = s.encode("utf-8")
        if spec.prec >= 0:
            b = b[: spec.prec]
        h = b.hex() if verb == "x" else b.hex().upper()
        if spec.space:
            pre = ("0x" if verb == "x" else "0X") if spec.sharp else ""
            h = " ".join(pre + h[i:i + 2] for i in range(0, len(h), 2))
        elif spec.sharp:
            h = ("0x" if verb == "x" else "0X") + h
        return _pad(h, spec)
    return _bad(verb, s)


def format_one(v: Any, verb: str, spec: _Spec) -> str:
    if verb == "T":
        return _pad(type_name(v), spec)
    if verb == "v" and spec.sharp:
        return _pad(_go_syntax(v), spec)
    if v is None:
        return _pad("<nil>", spec) if verb in "vs" else _bad(verb, v)
    if isinstance(v, bool):
        if verb in "tv":
            return _pad("true" if v else "false", spec)
        return _bad(verb, v)
    if isinstance(v, int):
        return _fmt_int(v, verb, spec)
    if isinstance(v, float):
        return _fmt_float(v, verb, spec)
    if isinstance(v, str):
        return _fmt_str(v, verb, spec)
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: _sort_key(kv[0]))
        inner = " ".join(f"{format_one(k, verb, _Spec())}:{format_one(x, verb, _Spec())}" for k, x in items)
        return _pad("map[" + inner + "]", spec)
    if isinstance(v, list | tuple):
        return _pad("[" + " ".join(format_one(x, verb, spec) for x in v) + "]", _Spec())
    if verb in "sv":
        return _pad(str(v), spec)
    if verb == "q":
        return _pad(quote(str(v)), spec)
    return _bad(verb, v)


def _go_syntax(v: Any) -> str:
    if isinstance(v, str):
        return quote(v)
    if v is None:
        return "<nil>"
    if isinstance(v, list | tuple):
        return "[]interface {}{" + ", ".join(_go_syntax(x) for x in v) + "}"
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[string]interface {}{" + ", ".join(f"{_go_syntax(k)}:{_go_syntax(x)}" for k, x in items) + "}"
    return value_str(v)


def sprintf(fmt: str, args: Sequence[Any]) -> str:
    """fmt.Sprintf."""
    out: list[str] = []
    argi = 0
    i = 0
    n = len(fmt)
    while i < n:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        spec = _Spec()
        while i < n and fmt[i] in "+-# 0":
            c = fmt[i]
            if c == "+":
                spec.plus = True
            elif c == "-":
                spec.minus = True
            elif c == "#":
                spec.sharp = True
            elif c == " ":
                spec.space = True
            else:
                spec.zero = True
            i += 1
        if i < n and fmt[i] == "*":
            i += 1
            if argi < len(args) and isinstance(args[argi], int) and not isinstance(args[argi], bool):
                spec.width = args[argi]
                if spec.width < 0:
                    spec.minus, spec.width = True, -spec.width
            else:
                out.append("%!(BADWIDTH)")
            argi += 1
        else:
            k = i
            while i < n and fmt[i].isdigit():
                i += 1
            if i > k:
                spec.width = int(fmt[k:i])
        if i < n and fmt[i] == ".":
            i += 1
            if i < n and fmt[i] == "*":
                i += 1
                if argi < len(args) and isinstance(args[argi], int) and not isinstance(args[argi], bool):
                    spec.prec = max(args[argi], -1)
                else:
                    out.append("%!(BADPREC)")
                argi += 1
            else:
                k = i
                while i < n and fmt[i].isdigit():
                    i += 1
                spec.prec = int(fmt[k:i]) if i > k else 0
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        if spec.minus:
            spec.zero = False
        out.append(format_one(args[argi], verb, spec))
        argi += 1
    if argi < len(args):
        extra = ", ".join(
            "<nil>" if a is None else f"{type_name(a)}={value_str(a)}" for a in args[argi:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
