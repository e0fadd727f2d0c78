"""Prometheus' template functions and the expansion of alert labels and annotations.

The functions behave as Prometheus' ``template`` package defines them
(``humanize`` and friends format with Go's ``%.4g``; ``query`` runs an instant
query at the evaluation time and gives samples with ``.Labels`` and
``.Value``; ``reReplaceAll`` and ``match`` use RE2 syntax). An alert's text is
expanded as Prometheus does: ``$labels``, ``$externalLabels``,
``$externalURL`` and ``$value`` are defined first, a missing label reads as
``""``, and an error becomes the text ``<error expanding template: ...>``.
"""

from __future__ import annotations

import math
import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from kubesight.model import re2
from kubesight.model.durations import parse_duration_ms
from kubesight.model.labels import Labels
from kubesight.wire.gotemplate import Template, TemplateError, sprintf, value_str

ALERT_DEFS = (
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}"
)

QueryFunc = Callable[[str, int], list[tuple[Labels, float]]]
"""Run an instant query at a time (ms); the result as (labels, value) pairs."""


def _to_float(v: Any) -> float:
    if isinstance(v, bool):
        raise TypeError("can't convert bool to float")
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip()) if v.strip().lower() not in ("infinity", "-infinity", "+infinity") else float(v)
        except ValueError:
            raise ValueError(f'strconv.ParseFloat: parsing "{v}": invalid syntax') from None
    raise TypeError(f"can't convert {_go_type(v)} to float")


def _go_type(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, dict):
        return "map[string]string" if all(isinstance(x, str) for x in v.values()) else "map[string]interface {}"
    if isinstance(v, list):
        return "[]interface {}"
    return {"str": "string", "int": "int", "float": "float64", "bool": "bool"}.get(type(v).__name__, type(v).__name__)


def _g4(v: float) -> str:
    return sprintf("%.4g", [v])


def humanize(i: Any) -> str:
    v = _to_float(i)
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    if abs(v) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return _g4(v) + prefix
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return _g4(v) + prefix


def humanize1024(i: Any) -> str:
    v = _to_float(i)
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return _g4(v) + prefix


def humanize_duration(i: Any) -> str:
    v = _to_float(i)
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = ""
        if v < 0:
            sign, v = "-", -v
        d = int(v)
        seconds, minutes, hours, days = d % 60, (d // 60) % 60, (d // 3600) % 24, d // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


def humanize_percentage(i: Any) -> str:
    return sprintf("%.4g%%", [_to_float(i) * 100])


def _go_time(seconds: float) -> str:
    """Go's time.Time.String() of a UTC time: ``2025-06-15 14:26:40.5 +0000 UTC``."""
    ns = int(seconds * 1e9)
    whole, frac = divmod(ns, 1_000_000_000)
    dt = datetime.fromtimestamp(whole, UTC)
    s = dt.strftime("%Y-%m-%d %H:%M:%S")
    if frac:
        s += "." + f"{frac:09d}".rstrip("0")
    return s + " +0000 UTC"


def humanize_timestamp(i: Any) -> str:
    v = _to_float(i)
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if not -(2.0**63) <= v * 1e9 < 2.0**63:
        raise ValueError("timestamp out of bounds")
    return _go_time(v)


def _title(s: str) -> str:
    out: list[str] = []
    prev_letter = False
    for ch in s:
        out.append(ch.upper() if not prev_letter and ch.isalpha() else ch)
        prev_letter = ch.isalnum() or ch in "'_"
    return "".join(out)


@lru_cache(maxsize=256)
def _go_regex(pattern: str) -> tuple[re.Pattern[str], dict[str, tuple[int, ...]]]:
    """An unanchored RE2 regex (Go's regexp.MustCompile), translated once."""
    t = re2._Translator(pattern)
    try:
        compiled = re.compile(t.translate())
    except re.error as exc:
        raise re2.RegexError(f"kubesight cannot translate this regex ({exc})") from exc
    return compiled, dict(t.names)


def re_replace_all(pattern: str, repl: str, text: str) -> str:
    rx, names = _go_regex(pattern)
    tpl = re2.parse_template(repl, names, rx.groups)
    return rx.sub(lambda m: re2.expand(tpl, m), text)


def match(pattern: str, text: str) -> bool:
    return _go_regex(pattern)[0].search(text) is not None


def strip_port(host_port: str) -> str:
    if host_port.startswith("["):
        end = host_port.find("]")
        if end > 0 and host_port[end + 1:end + 2] == ":" and host_port.count("]") == 1:
            return host_port[1:end]
        return host_port
    if host_port.count(":") == 1:
        return host_port.split(":", 1)[0]
    return host_port


def strip_domain(host_port: str) -> str:
    host, sep, port = host_port.rpartition(":") if host_port.count(":") == 1 else (host_port, "", "")
    if not sep:
        host = host_port
    if host.replace(".", "").isdigit() or ":" in host:
        return host_port
    short = host.split(".", 1)[0]
    return f"{short}:{port}" if sep else short


def _sample_list(v: Any) -> list[dict[str, Any]]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise TypeError(f"wrong type for value; expected template.queryResult; got {_go_type(v)}")
    return v


def _first(v: Any) -> Any:
    samples = _sample_list(v)
    if not samples:
        raise ValueError("first() called on vector with no elements")
    return samples[0]


def _sample(s: Any) -> Mapping[str, Any]:
    if not isinstance(s, Mapping) or "Labels" not in s:
        raise TypeError(f"wrong type for value; expected *template.sample; got {_go_type(s)}")
    return s


def _label(name: str, s: Any) -> str:
    return str(_sample(s)["Labels"].get(name, ""))


def _value(s: Any) -> float:
    return float(_sample(s)["Value"])


def _strvalue(s: Any) -> str:
    return str(_sample(s)["Labels"].get("__value__", ""))


def _sort_by_label(name: str, v: Any) -> list[dict[str, Any]]:
    return sorted(_sample_list(v), key=lambda s: str(s["Labels"].get(name, "")))


def _args(*a: Any) -> dict[str, Any]:
    return {f"arg{i}": x for i, x in enumerate(a)}


def _parse_duration(s: str) -> float:
    return parse_duration_ms(s) / 1000.0


def template_funcs(
    query: QueryFunc | None = None, time_ms: int = 0, external_url: str = ""
) -> dict[str, Callable[..., Any]]:
    """Prometheus' template functions for an expansion at ``time_ms``."""

    def run_query(q: str) -> list[dict[str, Any]]:
        if query is None:
            raise ValueError("queries are not available here")
        return [{"Labels": dict(lbls), "Value": v} for lbls, v in query(q, time_ms)]

    parsed = urllib.parse.urlsplit(external_url)

    def link(expr: str, tab: int) -> str:
        return f"/graph?g0.expr={urllib.parse.quote_plus(expr, safe='')}&g0.tab={tab}"

    return {
        "query": run_query,
        "first": _first,
        "label": _label,
        "value": _value,
        "strvalue": _strvalue,
        "args": _args,
        "reReplaceAll": re_replace_all,
        "safeHtml": lambda s: str(s),
        "match": match,
        "title": _title,
        "toUpper": lambda s: str(s).upper(),
        "toLower": lambda s: str(s).lower(),
        "graphLink": lambda e: link(e, 0),
        "tableLink": lambda e: link(e, 1),
        "sortByLabel": _sort_by_label,
        "humanize": humanize,
        "humanize1024": humanize1024,
        "humanizeDuration": humanize_duration,
        "humanizePercentage": humanize_percentage,
        "humanizeTimestamp": humanize_timestamp,
        "toTime": lambda i: _GoTime(_to_float(i)),
        "pathPrefix": lambda: parsed.path,
        "externalURL": lambda: external_url,
        "parseDuration": _parse_duration,
        "stripPort": strip_port,
        "stripDomain": strip_domain,
        "now": lambda: time_ms / 1000.0,
    }


class _GoTime:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __str__(self) -> str:
        return _go_time(self.seconds)

    def Unix(self) -> int:  # noqa: N802 - Go's method name
        return math.floor(self.seconds)


class AlertTemplateData:
    """What an alert's template runs on: a Go struct in Prometheus, so ``.Nope`` is an error
    (not "<no value>") and ``{{ . }}`` prints as a struct."""

    __slots__ = ("ExternalLabels", "ExternalURL", "Labels", "Value")
    __go_type__ = ("struct { Labels map[string]string; ExternalLabels map[string]string; "
                   "ExternalURL string; Value float64 }")

    def __init__(self, labels: dict[str, str], external_labels: dict[str, str], external_url: str,
                 value: float) -> None:
        # Go's field names, since templates read .Labels, .Value...
        self.Labels = labels
        self.ExternalLabels = external_labels
        self.ExternalURL = external_url
        self.Value = value

    def __str__(self) -> str:
        return "{" + " ".join(value_str(v) for v in (self.Labels, self.ExternalLabels, self.ExternalURL,
                                                     self.Value)) + "}"


class _Context(threading.local):
    """What the functions of a cached template read: set for each expansion."""

    query: QueryFunc | None = None
    time_ms: int = 0
    external_url: str = ""


_CTX = _Context()


def _ctx_query(q: str, t_ms: int) -> list[tuple[Labels, float]]:
    if _CTX.query is None:
        raise ValueError("queries are not available here")
    return _CTX.query(q, t_ms)


def _context_funcs() -> dict[str, Callable[..., Any]]:
    """Prometheus' functions reading the time, query and URL of the current expansion."""
    base = template_funcs(_ctx_query)
    base["query"] = lambda q: [{"Labels": dict(lb), "Value": v} for lb, v in _ctx_query(q, _CTX.time_ms)]
    base["now"] = lambda: _CTX.time_ms / 1000.0
    base["externalURL"] = lambda: _CTX.external_url
    base["pathPrefix"] = lambda: urllib.parse.urlsplit(_CTX.external_url).path
    return base


_FUNCS = _context_funcs()


@lru_cache(maxsize=4096)
def _compiled(name: str, text: str) -> Template | str:
    """The parsed template, or the parse error's text (parsing dominates expansion time)."""
    try:
        return Template.parse(ALERT_DEFS + text, name, _FUNCS, missing_key="zero")
    except TemplateError as exc:
        return str(exc)


def expand_alert_text(
    text: str,
    alert_name: str,
    labels: Mapping[str, str],
    value: float,
    *,
    external_labels: Mapping[str, str] | None = None,
    external_url: str = "",
    query: QueryFunc | None = None,
    time_ms: int = 0,
) -> str:
    """One label or annotation value of an alert, as Prometheus expands it."""
    if "{{" not in text:
        return text
    name = "__alert_" + alert_name
    tmpl = _compiled(name, text)
    if isinstance(tmpl, str):
        return f"<error expanding template: error parsing template {name}: {tmpl}>"
    data = AlertTemplateData(dict(labels), dict(external_labels or {}), external_url, value)
    _CTX.query, _CTX.time_ms, _CTX.external_url = query, time_ms, external_url
    try:
        return tmpl.execute(data)
    except TemplateError as exc:
        return f"<error expanding template: error executing template {name}: {exc}>"
    except RecursionError:
        return f"<error expanding template: error executing template {name}: too deeply nested>"
    finally:
        _CTX.query = None


def expand_labels_annotations(
    items: Sequence[tuple[str, str]], alert_name: str, labels: Mapping[str, str], value: float, **kw: Any
) -> list[tuple[str, str]]:
    return [(k, expand_alert_text(v, alert_name, labels, value, **kw)) for k, v in items]
