"""Number formatting exactly as Prometheus' JSON API writes it.

Prometheus writes sample values with Go's ``strconv.FormatFloat(v, 'f', -1, 64)``:
the shortest decimal that round-trips, never in exponent notation.
"""

from __future__ import annotations

import numpy as np

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


def format_floats(values: F64) -> list[str]:
    """Vectorised :func:`format_float`: numpy's shortest round-trip repr, fixed up.

    numpy's float-to-str cast is the same shortest round-trip algorithm as
    Python's repr; only the spelling differs from Go's (``3.0``, ``nan``,
    ``1e+21``), so the common cases are fixed with array string operations and
    the rare exponent forms go through :func:`format_float`.
    """
    if values.size == 0:
        return []
    s = values.astype(np.str_)
    s = np.where(np.char.endswith(s, ".0"), np.char.rstrip(np.char.rstrip(s, "0"), "."), s)
    out: list[str] = s.tolist()
    special = ~np.isfinite(values) | (np.char.find(s, "e") >= 0)
    if special.any():
        lst = values.tolist()
        for i in np.flatnonzero(special).tolist():
            out[i] = format_float(lst[i])
    return out


def format_time(t_ms: int) -> float:
    """Prometheus writes timestamps as float seconds (millisecond precision)."""
    return t_ms / 1000.0
