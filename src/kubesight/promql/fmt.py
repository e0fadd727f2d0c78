"""Number formatting exactly as Prometheus' JSON API writes it.

Prometheus writes sample values with Go's ``strconv.FormatFloat(v, 'f', -1, 64)``:
the shortest decimal that round-trips, never in exponent notation.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import orjson

from kubesight.model.samples import F64


def format_float(v: float) -> str:
    if v != v:
        return "NaN"
    if v == float("inf"):
        return "+Inf"
    if v == float("-inf"):
        return "-Inf"
    r = repr(v)
    if "e" not in r and "E" not in r:
        return r[:-2] if r.endswith(".0") else r
    return _expand_exponent(r)


def _expand_exponent(r: str) -> str:
    # repr gives the shortest round-trip digits; only the notation changes.
    mant, exp_s = r.lower().split("e")
    exp = int(exp_s)
    sign = ""
    if mant.startswith("-"):
        sign, mant = "-", mant[1:]
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    digits = (ip + fp).lstrip("0") or "0"
    point = len(ip) + exp  # position of the decimal point within ip+fp
    lead_zeros = len(ip + fp) - len((ip + fp).lstrip("0"))
    point -= lead_zeros
    if point <= 0:
        out = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        out = digits + "0" * (point - len(digits))
    else:
        out = digits[:point] + "." + digits[point:]
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return sign + out


def format_go_g(v: float, precision: int | None = None) -> str:
    """Go's ``%g`` (shortest digits; exponent form below 1e-4 and from 1e6 on), as annotations print numbers.

    With ``precision``, Go's ``%.<precision>g``, which C's ``%g`` matches for finite values.
    """
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    if precision is not None:
        return f"%.{precision}g" % v
    if v == 0:
        return "-0" if str(v).startswith("-") else "0"
    sign, digits, exp = Decimal(repr(v)).normalize().as_tuple()
    assert isinstance(exp, int)
    ds = "".join(map(str, digits))
    x = len(ds) + exp - 1  # the decimal exponent of the first digit
    if x < -4 or x >= 6:
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return ("-" if sign else "") + f"{mant}e{'-' if x < 0 else '+'}{abs(x):02d}"
    return format_float(v)


def format_floats(values: F64) -> list[str]:
    """Vectorised :func:`format_float`.

    Python's float repr is the same shortest round-trip algorithm as Go's
    FormatFloat; only the spelling differs (``3.0``, ``nan``, ``1e+21``).
    Integral values are printed through int64 (no ``.0`` to strip), the
    ordinary rest through ``float.__repr__`` with C-level ``map`` calls, and
    only the rare exponent forms and specials go through :func:`format_float`.
    """
    n = values.size
    if n == 0:
        return []
    out = np.empty(n, dtype=object)
    finite = np.isfinite(values)
    mag = np.abs(np.where(finite, values, 0.0))
    integral = finite & (values == np.trunc(values)) & (mag < 1e16)
    # -0.0 is integral but must print as "-0".
    integral &= ~((values == 0) & np.signbit(values))
    plain = finite & ~integral & (mag >= 1e-4) & (mag < 1e16)
    rest = ~integral & ~plain
    if integral.any():
        out[integral] = list(map(str, values[integral].astype(np.int64).tolist()))
    if plain.any():
        # orjson's float writer (Ryu) gives the same shortest digits as repr,
        # in one C call for the whole array; in this magnitude range it never
        # uses an exponent.
        raw = orjson.dumps(values[plain].tolist())[1:-1].split(b",")
        out[plain] = list(map(bytes.decode, raw))
    if rest.any():
        out[rest] = [format_float(v) for v in values[rest].tolist()]
    res: list[str] = out.tolist()
    return res


def format_openmetrics_float(v: float) -> str:
    """Prometheus' FormatOpenMetricsFloat: Go's 'g' format, with ``.0`` on integers."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    s = repr(v)
    if "e" in s:
        mant, exp = s.split("e")
        e = int(exp)
        # Go's shortest 'g' switches to exponent form only below 1e-4 or at 1e21.
        s = format_float(v) if -4 <= e < 21 else f"{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if s.endswith(".0"):
        return s
    if "." not in s and "e" not in s:
        s += ".0"
    return s


def format_time(t_ms: int) -> float:
    """Prometheus writes timestamps as float seconds (millisecond precision)."""
    return t_ms / 1000.0
