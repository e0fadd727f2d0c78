"""Prometheus durations, byte sizes and API timestamps.

Durations use Prometheus' units ``ms s m h d w y`` in descending order
(``1h30m``); a plain number in an API parameter is seconds. Sizes use
Prometheus' base-1024 units ``B KB MB GB TB PB EB``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
             "w": 604_800_000, "y": 31_536_000_000}
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_ORDER = ["y", "w", "d", "h", "m", "s", "ms"]
_SIZE = re.compile(r"^(\d+)\s*(B|KB|MB|GB|TB|PB|EB)?$", re.IGNORECASE)
_SIZE_UNITS = {"B": 0, "KB": 1, "MB": 2, "GB": 3, "TB": 4, "PB": 5, "EB": 6}


def parse_duration_ms(text: str) -> int:
    """``"1h30m"`` -> 5400000. Raises ValueError with the reason."""
    s = text.strip()
    if s == "0":
        return 0
    pos = 0
    total = 0
    last = -1
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        unit = m.group(2)
        rank = _ORDER.index(unit)
        if rank <= last:
            raise ValueError(f"not a valid duration string: {text!r} (units must be in order y w d h m s ms)")
        last = rank
        total += int(m.group(1)) * _UNITS_MS[unit]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError(f"not a valid duration string: {text!r} (expected e.g. 15s, 5m, 1h30m, 15d)")
    return total


def format_duration_ms(ms: int) -> str:
    if ms == 0:
        return "0s"
    out = []
    for unit in _ORDER:
        n, ms = divmod(ms, _UNITS_MS[unit])
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def parse_api_duration_ms(text: str) -> int:
    """An API step/timeout: a float number of seconds or a Prometheus duration."""
    try:
        v = float(text)
    except ValueError:
        return parse_duration_ms(text)
    if not math.isfinite(v):
        raise ValueError(f"cannot parse {text!r} to a valid duration")
    return round(v * 1000)


def parse_size_bytes(text: str) -> int:
    m = _SIZE.match(text.strip())
    if not m:
        raise ValueError(f"not a valid size: {text!r} (expected e.g. 512MB, 10GB)")
    power: int = _SIZE_UNITS[(m.group(2) or "B").upper()]
    number = int(m.group(1))
    return number * (1 << (10 * power))


def parse_time_ms(text: str) -> int:
    """An API timestamp: RFC 3339 or float Unix seconds (Prometheus' parseTime)."""
    try:
        v = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(v):
            raise ValueError(f"cannot parse {text!r} to a valid timestamp")
        return round(v * 1000)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"cannot parse {text!r} to a valid timestamp") from exc
    if dt.tzinfo is None:
        raise ValueError(f"cannot parse {text!r} to a valid timestamp (RFC 3339 needs a zone)")
    return round(dt.timestamp() * 1000)
