"""Grafana template variables (``templating.list``) in the normalized shape.

``query`` variables keep their query as one string (Grafana stores it as a
string or as ``{"query": ..., "refId": ...}``); the browser runs
``label_values()``, ``query_result()``, ``label_names()`` and ``metrics()``
against kubesight. ``custom`` and ``interval`` variables get their options
from the comma list as Grafana computes them; ``constant`` and ``textbox``
hold one value; a ``datasource`` variable has the one option there is
(kubesight). ``adhoc`` and any other type are kept but marked unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypedDict

from kubesight.web.dashboards._check import PanelError, number, type_name

KUBESIGHT_OPTION = {"text": "kubesight", "value": "kubesight", "selected": True}
ALL_VALUE = "$__all"
# Grafana's custom list: commas separate, "\," is a literal comma, "text : value" names a value.
_CSV_ITEM = re.compile(r"(?:\\,|[^,])+")
_TEXT_VALUE = re.compile(r"^\s*(.+)\s:\s(.+)$")
# Grafana's interval list: quoted strings or runs of word characters ("1m,10m,'1h'").
_INTERVAL_ITEM = re.compile(r"([\"'])(.*?)\1|\w+")


class Option(TypedDict):
    text: str
    value: str
    selected: bool


class Current(TypedDict):
    text: str | list[str]
    value: str | list[str]


class Variable(TypedDict):
    name: str
    label: str | None
    description: str
    type: str
    hide: int
    query: str
    definition: str
    regex: str
    sort: int
    multi: bool
    includeAll: bool
    allValue: str | None
    current: Current
    options: list[Option]
    refresh: int
    auto: bool
    auto_count: int
    auto_min: str
    supported: bool
    unsupported: list[str]


def custom_options(query: str) -> list[Option]:
    out: list[Option] = []
    for m in _CSV_ITEM.finditer(query):
        text = m.group(0).replace("\\,", ",")
        tv = _TEXT_VALUE.match(text)
        if tv:
            out.append({"text": tv.group(1).strip(), "value": tv.group(2).strip(), "selected": False})
        elif text.strip():
            out.append({"text": text.strip(), "value": text.strip(), "selected": False})
    return out


def interval_options(query: str) -> list[Option]:
    out: list[Option] = []
    for m in _INTERVAL_ITEM.finditer(query):
        text = (m.group(2) if m.group(1) else m.group(0)).strip()
        if text:
            out.append({"text": text, "value": text, "selected": False})
    return out


def _texts(v: Any) -> str | list[str]:
    if isinstance(v, list):
        return [str(x) for x in v if x is not None]
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _current(raw: Any, options: list[Option]) -> Current:
    if isinstance(raw, dict) and ("value" in raw or "text" in raw):
        value = _texts(raw.get("value", raw.get("text")))
        return {"text": _texts(raw.get("text", value)), "value": value}
    for o in options:
        if o["selected"]:
            return {"text": o["text"], "value": o["value"]}
    if options:
        return {"text": options[0]["text"], "value": options[0]["value"]}
    return {"text": "", "value": ""}


def _saved_options(raw: Any) -> list[Option]:
    out: list[Option] = []
    if isinstance(raw, list):
        for o in raw:
            if isinstance(o, dict) and "value" in o:
                value = _texts(o["value"])
                text = _texts(o.get("text", value))
                if isinstance(value, str) and isinstance(text, str):
                    out.append({"text": text, "value": value, "selected": o.get("selected") is True})
    return out


def _query_string(q: Any, where: str) -> str:
    if q is None:
        return ""
    if isinstance(q, str):
        return q
    if isinstance(q, dict):
        inner = q.get("query", "")
        if isinstance(inner, str):
            return inner
    if isinstance(q, int | float) and not isinstance(q, bool):
        return str(q)
    raise PanelError(f"{where}.query: expected a string or an object with a query, got {type_name(q)}")


def normalize_variable(raw: Any, where: str, ds_kind: Callable[[Any], str]) -> Variable:
    """One variable; a field of the wrong type makes it unsupported with the reason."""
    if not isinstance(raw, dict):
        return _broken("", f"{where}: expected an object, got {type_name(raw)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        return _broken("", f"{where}.name: expected a non-empty string, got {type_name(name)}")
    try:
        return _variable(raw, name, where, ds_kind)
    except PanelError as exc:
        return _broken(name, str(exc))


def _broken(name: str, reason: str) -> Variable:
    return {"name": name, "label": None, "description": "", "type": "unknown", "hide": 2, "query": "",
            "definition": "", "regex": "", "sort": 0, "multi": False, "includeAll": False, "allValue": None,
            "current": {"text": "", "value": ""}, "options": [], "refresh": 0, "auto": False,
            "auto_count": 30, "auto_min": "10s", "supported": False, "unsupported": [reason]}


def _str(raw: dict[str, Any], key: str, where: str, default: str = "") -> str:
    v = raw.get(key)
    if v is None:
        return default
    if isinstance(v, str):
        return v
    raise PanelError(f"{where}.{key}: expected a string, got {type_name(v)}")


def _variable(raw: dict[str, Any], name: str, where: str, ds_kind: Callable[[Any], str]) -> Variable:
    kind = _str(raw, "type", where, "query")
    query = _query_string(raw.get("query"), where)
    if not query and kind == "query" and isinstance(raw.get("definition"), str):
        query = raw["definition"]  # the editor's text of a query saved without one
    label = raw.get("label")
    hide = number(raw.get("hide"))
    refresh = raw.get("refresh")
    refresh_n = (1 if refresh else 0) if isinstance(refresh, bool) else int(number(refresh) or 0)
    all_value = raw.get("allValue")
    unsupported: list[str] = []
    options = _saved_options(raw.get("options"))
    if kind == "custom":
        options = custom_options(query)
    elif kind == "interval":
        options = interval_options(query)
        if raw.get("auto") is True:
            options.insert(0, {"text": "auto", "value": f"$__auto_interval_{name}", "selected": False})
    elif kind == "constant":
        options = [{"text": query, "value": query, "selected": True}]
    elif kind == "textbox":
        cur = raw.get("current")
        value = query
        if isinstance(cur, dict) and isinstance(cur.get("value"), str):
            value = cur["value"]
        options = [{"text": value, "value": value, "selected": True}]
    elif kind == "datasource":
        plugin = query or "prometheus"
        if "prometheus" not in plugin:
            unsupported.append(f"data source type {plugin!r} is not Prometheus")
        query = plugin
        options = [dict(KUBESIGHT_OPTION)]  # type: ignore[list-item]
    elif kind == "query":
        ds = ds_kind(raw.get("datasource"))
        if not _is_prometheus(ds):
            unsupported.append(f"the query runs on data source {ds!r}, not Prometheus")
    elif kind == "adhoc":
        unsupported.append("ad hoc filters are not supported")
    else:
        unsupported.append(f"variable type {kind!r} is not supported")
    include_all = raw.get("includeAll") is True
    if include_all and kind in ("custom",) and not any(o["value"] == ALL_VALUE for o in options):
        options.insert(0, {"text": "All", "value": ALL_VALUE, "selected": False})
    current = _current(raw.get("current"), options)
    if kind == "datasource":
        current = {"text": "kubesight", "value": "kubesight"}
    return {
        "name": name,
        "label": label if isinstance(label, str) and label else None,
        "description": raw["description"] if isinstance(raw.get("description"), str) else "",
        "type": kind,
        "hide": int(hide) if hide in (0, 1, 2) else 0,
        "query": query,
        "definition": raw["definition"] if isinstance(raw.get("definition"), str) else "",
        "regex": _str(raw, "regex", where),
        "sort": int(number(raw.get("sort")) or 0),
        "multi": raw.get("multi") is True,
        "includeAll": include_all,
        "allValue": all_value if isinstance(all_value, str) and all_value else None,
        "current": current,
        "options": options,
        "refresh": refresh_n,
        "auto": raw.get("auto") is True,
        "auto_count": int(number(raw.get("auto_count")) or 30),
        "auto_min": raw["auto_min"] if isinstance(raw.get("auto_min"), str) else "10s",
        "supported": not unsupported,
        "unsupported": unsupported,
    }


def _is_prometheus(kind: str) -> bool:
    return kind == "default" or "prometheus" in kind
