"""Reading Kubernetes values the way kube-state-metrics reports them.

Quantities (``100m``, ``1Gi``, ``2e3``), RFC 3339 timestamps, label names made
from Kubernetes label keys (``label_app_kubernetes_io_name``), the
labels/annotations allowlists, and defensive accessors: an object of an
unexpected shape yields empty values, never an exception.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

Obj = dict[str, Any]

log = logging.getLogger("kubesight.collect.kube_state")

# ---- defensive accessors --------------------------------------------------------


def sub(obj: Any, *keys: str) -> Obj:
    """``obj[k1][k2]...`` as a dict, ``{}`` where any step is missing or not a dict."""
    cur = obj
    for k in keys:
        cur = cur.get(k) if isinstance(cur, dict) else None
    return cur if isinstance(cur, dict) else {}


def items(obj: Any, key: str) -> list[Obj]:
    """``obj[key]`` as a list of dicts (entries of another type are skipped)."""
    v = obj.get(key) if isinstance(obj, dict) else None
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def text(obj: Any, key: str) -> str:
    """``obj[key]`` as a string, ``""`` when missing; numbers and booleans as Go prints them."""
    v = obj.get(key) if isinstance(obj, dict) else None
    if v is None or isinstance(v, (dict, list)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def number(obj: Any, key: str) -> float | None:
    """``obj[key]`` as a float, ``None`` when missing or not a number (as a nil pointer)."""
    v = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def count(obj: Any, key: str) -> float:
    """An int32 status field: missing means 0 (Go's zero value)."""
    v = number(obj, key)
    return 0.0 if v is None else v


def flag(obj: Any, key: str) -> bool:
    v = obj.get(key) if isinstance(obj, dict) else None
    return v is True


def strings(obj: Any, key: str) -> list[str]:
    v = obj.get(key) if isinstance(obj, dict) else None
    return [str(x) for x in v if isinstance(x, (str, int))] if isinstance(v, list) else []


def str_map(obj: Any, key: str) -> dict[str, str]:
    v = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(v, dict):
        return {}
    return {str(k): x if isinstance(x, str) else text(v, k) for k, x in v.items()}


# ---- timestamps -----------------------------------------------------------------


def unix(value: Any) -> float | None:
    """An RFC 3339 time as whole Unix seconds (Go's ``Time.Unix()``), ``None`` if absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return float(math.floor(dt.timestamp()))


# ---- quantities -----------------------------------------------------------------

_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
_SUFFIX = {
    "": Fraction(1), "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
    "Pi": Fraction(2**50), "Ei": Fraction(2**60),
}
# resource.MaxMilliValue: past it a quantity's milli-value would overflow int64.
_MAX_MILLI = (2**63 - 1) // 1000


def quantity(value: Any) -> Fraction | None:
    """A Kubernetes resource quantity, exactly; ``None`` when it does not parse."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Fraction(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    m = _QUANTITY.match(value.strip())
    if m is None or len(value) > 64:
        return None  # the API server canonicalises quantities; a longer one is not one of them
    num = Fraction(m.group(1))
    suffix = m.group(2) or ""
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        exp = int(suffix[1:])
        # Past 10^±100 no resource quantity makes sense, and 10^999999 would take seconds.
        return num * Fraction(10) ** exp if abs(exp) <= 100 else None
    return num * _SUFFIX[suffix]


def q_value(value: Any) -> float | None:
    """``Quantity.Value()``: rounded up to a whole number (bytes, counts)."""
    if isinstance(value, str):
        return _q_value_text(value)
    q = quantity(value)
    return None if q is None else _float(math.ceil(q))


def q_float(value: Any) -> float | None:
    """kube-state-metrics' ``convertValueToFloat64``: cores keep their milli precision."""
    if isinstance(value, str):
        return _q_float_text(value)
    return _q_float(quantity(value))


# The same few quantities ("250m", "256Mi") recur in every pod: parse each once.
@functools.lru_cache(maxsize=4096)
def _q_value_text(value: str) -> float | None:
    q = quantity(value)
    return None if q is None else _float(math.ceil(q))


@functools.lru_cache(maxsize=4096)
def _q_float_text(value: str) -> float | None:
    return _q_float(quantity(value))


def _q_float(q: Fraction | None) -> float | None:
    if q is None:
        return None
    whole = math.ceil(q)
    if whole > _MAX_MILLI:
        return _float(whole)
    return math.ceil(q * 1000) / 1000


def _float(n: int) -> float:
    try:
        return float(n)
    except OverflowError:
        return math.inf if n > 0 else -math.inf


# ---- label names ------------------------------------------------------------------

_INVALID = re.compile(r"[^a-zA-Z0-9_]")
_CAPS = re.compile(r"([a-z0-9])([A-Z])")


def sanitize(name: str) -> str:
    """Every character outside ``[a-zA-Z0-9_]`` becomes ``_`` (``nvidia.com/gpu`` → ``nvidia_com_gpu``)."""
    return _INVALID.sub("_", name)


def label_name(prefix: str, key: str) -> str:
    """``label_<key>``: sanitised, then camelCase turned to snake_case, as kube-state-metrics."""
    return prefix + "_" + _CAPS.sub(r"\1_\2", sanitize(key)).lower()


def map_to_labels(prefix: str, mapping: Mapping[str, str]) -> list[tuple[str, str]]:
    """Kubernetes labels/annotations as Prometheus labels, in key order.

    Keys that sanitise to the same name (``a.b`` and ``a_b``) are told apart by
    ``_conflict1``, ``_conflict2``... in key order, as kube-state-metrics does.
    """
    names: list[str] = []
    values: list[str] = []
    used: dict[str, int] = {}
    conflicts: dict[str, int] = {}

    def next_free(base: str, n: int) -> tuple[str, int]:
        while True:
            n += 1
            cand = f"{base}_conflict{n}"
            if cand not in used:
                return cand, n

    for key in sorted(mapping):
        base = label_name(prefix, key)
        name = base
        if base in conflicts:
            name, conflicts[base] = next_free(base, conflicts[base])
        elif name in used:
            idx = used.pop(name)
            renamed, n = next_free(base, 0)
            names[idx] = renamed
            used[renamed] = idx
            name, conflicts[base] = next_free(base, n)
        used[name] = len(names)
        names.append(name)
        values.append(mapping[key])
    return list(zip(names, values, strict=True))


# ---- allowlists -----------------------------------------------------------------


class AllowlistError(ValueError):
    """A labels/annotations allowlist that cannot be used, saying which entry and why."""


class Allowlist:
    """kube-state-metrics' ``--metric-labels-allowlist`` / ``--metric-annotations-allowlist``.

    ``{"pods": ["app", "team"], "nodes": ["*"], "*": [...]}``: which Kubernetes
    label (annotation) keys become ``label_<key>`` (``annotation_<key>``) on
    ``kube_<resource>_labels`` (``_annotations``). A resource absent from the list
    (or with an empty list) gets no such series at all (kube-state-metrics
    v2.10+). ``"*"`` first in a list allows every key; a key with one ``*``
    inside is a pattern (``team.example.com/*``); ``"*"`` as the resource
    applies its list to every resource.
    """

    def __init__(self, spec: Mapping[str, Iterable[str]] | None, resources: Iterable[str],
                 what: str = "metric-labels-allowlist", enabled: Iterable[str] | None = None) -> None:
        """``resources``: every resource name there is; ``enabled``: those ``"*"`` stands for."""
        known = set(resources)
        spec = dict(spec or {})
        for res, keys_ in spec.items():
            if isinstance(keys_, str) or not isinstance(keys_, Iterable):
                raise AllowlistError(f"{what}: {res}: expected a list of keys, got {keys_!r}")
            if res != "*" and res not in known:
                raise AllowlistError(f"{what}: resource {res!r} does not exist; "
                                     f"available resources: {', '.join(sorted(known))}")
        if "*" in spec:
            spec = {res: spec["*"] for res in (known if enabled is None else enabled)}
        self.lists: dict[str, list[str]] = {}
        self.patterns: dict[str, list[re.Pattern[str]]] = {}
        for res, keys in spec.items():
            keys = [str(k) for k in keys]
            self.lists[res] = keys
            self.patterns[res] = []
            for k in keys:
                if "*" not in k or k == "*":
                    continue
                if k.count("*") > 1:
                    # kube-state-metrics warns and skips such a pattern; so do we.
                    log.warning("kube-state: %s: %s=[%s]: more than one '*' in a key pattern, ignored",
                                what, res, k)
                    continue
                self.patterns[res].append(
                    re.compile("^" + ".*".join(re.escape(p) for p in k.split("*")) + "$"))

    def enabled(self, resource: str) -> bool:
        return bool(self.lists.get(resource))

    def select(self, resource: str, mapping: Mapping[str, str]) -> dict[str, str]:
        keys = self.lists.get(resource) or []
        if keys and keys[0] == "*":
            return dict(mapping)
        out = {k: mapping[k] for k in keys if "*" not in k and k in mapping}
        for pat in self.patterns.get(resource, ()):
            out.update((k, v) for k, v in mapping.items() if pat.match(k))
        return out


def parse_allowlist(text_: str, what: str = "metric-labels-allowlist") -> dict[str, list[str]]:
    """The command-line form ``pods=[app,team],nodes=[*]`` as a mapping."""
    out: dict[str, list[str]] = {}
    s = text_.strip()
    pos = 0
    while pos < len(s):
        m = re.compile(r"\s*([^=,\s\[\]]+)\s*=\s*\[([^\]]*)\]\s*(,|$)").match(s, pos)
        if m is None:
            raise AllowlistError(f"{what}: cannot parse {s[pos:]!r} at offset {pos}: "
                                 "expected resource=[key,...] entries separated by commas")
        out[m.group(1)] = [k.strip() for k in m.group(2).split(",") if k.strip()]
        pos = m.end()
    return out
