"""Numbers as Prometheus reads and Go writes them.

Go's ``strconv.ParseFloat`` syntax (as Prometheus' parsers accept it) and
``strconv.FormatFloat(f, 'g', -1, 64)``, the form of every value a Go exporter
writes; also the two internal exceptions the parsers raise.
"""

from __future__ import annotations

import math
import re
import struct
from typing import Final

# Go's strconv.ParseFloat in decimal form; Prometheus rejects hex floats and
# underscores ('p', 'P', '_'), and Go accepts a sign on Inf but not on NaN.
_GO_FLOAT_RE = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)|[nN][aA][nN]"
)
# Prometheus' canonical NaN (value.NormalNaN): stored NaNs never look stale.
_NORMAL_NAN_BITS: Final = 0x7FF8000000000001
_NORMAL_NAN: Final = struct.unpack("<d", struct.pack("<Q", _NORMAL_NAN_BITS))[0]
_INT64_MAX: Final = (1 << 63) - 1
_INT64_MIN: Final = -(1 << 63)
# Characters of a float token other than those of nan/inf/infinity.
_NUMERIC_BYTES: Final = b"0123456789.eE+-\n"
_SPECIAL_LETTERS: Final = b"nNaAiIfFtTyY"


class _LineError(Exception):
    """A problem in one line; the caller adds the line number."""


class _RedoError(Exception):
    """The batched value check failed: parse again line by line to find where."""


def _go_float(tok: str, what: str = "value") -> float:
    if _GO_FLOAT_RE.fullmatch(tok) is None:
        hint = " (carriage return: CRLF line endings are not allowed)" if "\r" in tok else ""
        raise _LineError(
            f"invalid {what} {tok!r}, expected a float like 1.5, 1e-3, NaN or +Inf{hint}"
        )
    f = float(tok)
    if math.isinf(f) and "i" not in tok.lower():
        raise _LineError(f"{what} {tok!r} out of range for a 64-bit float")
    return f


def format_go_float(f: float) -> str:
    """``f`` as Go's ``strconv.FormatFloat(f, 'g', -1, 64)`` writes it.

    That is the form of values in every Go exporter's output (client_golang),
    so encoding with it gives byte-identical exposition: shortest round-trip
    digits, exponent form when the decimal exponent is below -4 or at least 6
    (``1e+06``, ``1.445729e+06``, ``1e-05``), ``NaN``, ``+Inf``, ``-Inf``.
    """
    if f != f:
        return "NaN"
    if f == math.inf:
        return "+Inf"
    if f == -math.inf:
        return "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    r = repr(f)  # Python's repr is the shortest round-trip form too
    sign = ""
    if r[0] == "-":
        sign, r = "-", r[1:]
    mant, _, e = r.partition("e")
    ip, _, fp = mant.partition(".")
    if fp == "0":
        fp = ""
    digits = ip + fp
    dp = len(ip) + (int(e) if e else 0)  # decimal point position within digits
    stripped = digits.lstrip("0")
    dp -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    x = dp - 1
    if x < -4 or x >= 6:  # 6: Go's %g precision when asked for the shortest form
        frac = "." + digits[1:] if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{frac}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def format_openmetrics_float(f: float) -> str:
    """Prometheus' ``labels.FormatOpenMetricsFloat``: Go's form, plus ``.0`` on integers."""
    if f == 0:
        return "0.0"
    s = format_go_float(f)
    if f != f or math.isinf(f) or "e" in s or "." in s:
        return s
    return s + ".0"
