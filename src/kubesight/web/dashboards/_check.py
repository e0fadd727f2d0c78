"""Small checks shared by the dashboard normalizer: JSON type names and lenient numbers."""

from __future__ import annotations

import math
from typing import Any


class PanelError(Exception):
    """One panel cannot be read; the panel is marked unsupported with this message (never raised out)."""


def type_name(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages ("got a number")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def number(value: Any) -> float | int | None:
    """A number from a JSON number or a numeric string (Grafana stores axis min/max as "0"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and value.strip():
        try:
            f = float(value)
        except ValueError:
            return None
        if not math.isfinite(f):
            return None
        return int(f) if f.is_integer() and "." not in value and "e" not in value.lower() else f
    return None


def opt_str(raw: dict[str, Any], key: str, where: str, default: str = "") -> str:
    """``raw[key]`` as a string; absent or null gives ``default``; another type is a PanelError."""
    v = raw.get(key)
    if v is None:
        return default
    if not isinstance(v, str):
        raise PanelError(f"{where}.{key}: expected a string, got {type_name(v)}")
    return v


def opt_dict(raw: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    v = raw.get(key)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise PanelError(f"{where}.{key}: expected an object, got {type_name(v)}")
    return v


def opt_list(raw: dict[str, Any], key: str, where: str) -> list[Any]:
    v = raw.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise PanelError(f"{where}.{key}: expected a list, got {type_name(v)}")
    return v


def opt_int(raw: dict[str, Any], key: str, where: str, default: int | None = None) -> int | None:
    """An integer field; Grafana sometimes writes them as numeric strings ("3"), which are accepted."""
    v = raw.get(key)
    if v is None or v == "":
        return default
    n = number(v)
    if n is None:
        raise PanelError(f"{where}.{key}: expected a number, got {type_name(v)}")
    return int(n)
