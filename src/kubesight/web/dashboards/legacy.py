"""Legacy (Angular-era) Grafana panels converted the way Grafana itself migrates them.

``graph`` becomes ``timeseries``, ``singlestat`` becomes ``stat`` (``gauge``
when its gauge was shown), and ``table-old`` (or a ``table`` still carrying
``styles``) becomes ``table``. Each function returns the new ``options`` and
``fieldConfig`` plus notes naming what was ignored; they read the raw panel and
never change it. The semantics follow Grafana's migrations (timeseries
``flotToGraphOptions``, stat ``sharedSingleStatPanelChangedHandler``, table
``tablePanelChangedHandler``); the code is kubesight's own.
"""

from __future__ import annotations

import math
from typing import Any

from kubesight.web.dashboards._check import PanelError, number, opt_dict, opt_list, type_name

# Grafana's reducer ids for the legend values and singlestat ``valueName``s.
_LEGEND_CALCS = (("min", "min"), ("max", "max"), ("avg", "mean"), ("current", "lastNotNull"),
                 ("total", "sum"))
_VALUE_NAMES = {
    "min": "min", "max": "max", "avg": "mean", "mean": "mean", "median": "median",
    "current": "lastNotNull", "last": "lastNotNull", "name": "lastNotNull", "first": "firstNotNull",
    "total": "sum", "sum": "sum", "count": "count", "delta": "delta", "diff": "diff", "range": "range",
    "last_time": "lastNotNull",
}
DEFAULT_THRESHOLDS: dict[str, Any] = {
    "mode": "absolute",
    "steps": [{"color": "green", "value": None}, {"color": "red", "value": 80}],
}
Converted = tuple[dict[str, Any], dict[str, Any], list[str]]


def _axis(y: Any) -> dict[str, Any]:
    """One old y-axis as field config: unit, decimals, min, max and the axis look."""
    if not isinstance(y, dict):
        return {}
    custom: dict[str, Any] = {"axisPlacement": "auto" if y.get("show", True) is not False else "hidden"}
    if isinstance(y.get("label"), str) and y["label"]:
        custom["axisLabel"] = y["label"]
    if number(y.get("logBase")) in (2, 10):
        custom["scaleDistribution"] = {"type": "log", "log": number(y["logBase"])}
    out: dict[str, Any] = {"custom": custom}
    if isinstance(y.get("format"), str) and y["format"]:
        out["unit"] = y["format"]
    for key in ("decimals", "min", "max"):
        n = number(y.get(key))
        if n is not None:
            out[key] = n
    return out


def _threshold_color(t: dict[str, Any]) -> str:
    mode = t.get("colorMode")
    if mode == "warning":
        return "orange"
    if mode == "custom":
        c = t.get("fillColor") or t.get("lineColor")
        return c if isinstance(c, str) and c else "red"
    return "red"


def _graph_thresholds(raw: list[Any]) -> tuple[dict[str, Any], str] | None:
    """Old graph thresholds (``op`` gt/lt with a value) as threshold steps and a draw style."""
    items = [t for t in raw if isinstance(t, dict) and number(t.get("value")) is not None]
    if not items:
        return None
    items.sort(key=lambda t: number(t["value"]) or 0)
    steps: list[dict[str, Any]] = []
    area = any(t.get("fill") for t in items)
    line = any(t.get("line") for t in items)
    for i, t in enumerate(items):
        value = number(t["value"])
        nxt = items[i + 1] if i + 1 < len(items) else None
        if t.get("op", "gt") == "gt":
            steps.append({"color": _threshold_color(t), "value": value})
        elif t.get("op") == "lt":
            if not steps:
                steps.append({"color": _threshold_color(t), "value": None})
            if nxt is not None and nxt.get("op") == "lt":
                steps.append({"color": _threshold_color(nxt), "value": value})
            else:
                steps.append({"color": "transparent", "value": value})
    if steps and steps[0]["value"] is not None:
        steps.insert(0, {"color": "transparent", "value": None})
    mode = "line+area" if line and area else "area" if area else "line"
    return {"mode": "absolute", "steps": steps}, mode


def _series_override(o: dict[str, Any], yaxes: list[Any], notes: list[str]) -> dict[str, Any] | None:
    alias = o.get("alias")
    if not isinstance(alias, str) or not alias:
        return None
    regex = len(alias) > 1 and alias.startswith("/") and alias.endswith("/")
    props: list[dict[str, Any]] = []
    for key, v in o.items():
        if key in ("alias", "$$hashKey"):
            continue
        if key == "fill" and number(v) is not None:
            props.append({"id": "custom.fillOpacity", "value": (number(v) or 0) * 10})
        elif key == "fillBelowTo":
            props.append({"id": "custom.fillBelowTo", "value": v})
        elif key == "lines":
            if v is False:
                props.append({"id": "custom.lineWidth", "value": 0})
        elif key == "linewidth" and number(v) is not None:
            props.append({"id": "custom.lineWidth", "value": number(v)})
        elif key == "bars":
            props.append({"id": "custom.drawStyle", "value": "bars" if v else "line"})
            if v:
                props.append({"id": "custom.fillOpacity", "value": 100})
        elif key == "points":
            props.append({"id": "custom.showPoints", "value": "always" if v else "never"})
        elif key == "stack":
            props.append({"id": "custom.stacking", "value": {"mode": "normal", "group": str(v)}})
        elif key == "color" and isinstance(v, str):
            props.append({"id": "color", "value": {"mode": "fixed", "fixedColor": v}})
        elif key == "yaxis" and number(v) == 2:
            y2 = _axis(yaxes[1] if len(yaxes) > 1 else None)
            props.append({"id": "custom.axisPlacement", "value": "right"})
            for k in ("unit", "decimals", "min", "max"):
                if k in y2:
                    props.append({"id": k, "value": y2[k]})
        elif key == "transform" and v == "negative-Y":
            props.append({"id": "custom.transform", "value": "negative-Y"})
        elif key == "legend" and v is False:
            props.append({"id": "custom.hideFrom", "value": {"legend": True, "tooltip": False, "viz": False}})
        elif key == "hiddenSeries" and v is True:
            props.append({"id": "custom.hideFrom", "value": {"legend": False, "tooltip": False, "viz": True}})
        elif key == "dashes":
            props.append({"id": "custom.lineStyle", "value": {"fill": "dash" if v else "solid"}})
        elif key not in ("yaxis", "legend", "hiddenSeries", "zindex"):
            notes.append(f"series override {alias!r}: {key!r} is ignored")
    if not props:
        return None
    return {"matcher": {"id": "byRegexp" if regex else "byName", "options": alias}, "properties": props}


def convert_graph(raw: dict[str, Any], where: str) -> Converted:
    """A ``graph`` panel as ``timeseries``: (options, fieldConfig, notes)."""
    notes: list[str] = []
    yaxes = opt_list(raw, "yaxes", where)
    old_fc = opt_dict(raw, "fieldConfig", where)
    defaults: dict[str, Any] = dict(old_fc.get("defaults") or {}) if isinstance(old_fc.get("defaults"), dict) else {}
    y1 = _axis(yaxes[0] if yaxes else None)
    custom: dict[str, Any] = dict(defaults.get("custom") or {}) if isinstance(defaults.get("custom"), dict) else {}
    custom.update(y1.pop("custom", {}))
    defaults.update(y1)

    bars, lines, points = bool(raw.get("bars")), raw.get("lines", True) is not False, bool(raw.get("points"))
    custom["drawStyle"] = "bars" if bars else "line" if lines else "points"
    if points:
        custom["showPoints"] = "always"
        if number(raw.get("pointradius")) is not None:
            custom["pointSize"] = 2 + (number(raw["pointradius"]) or 0) * 2
    elif custom["drawStyle"] != "points":
        custom["showPoints"] = "never"
    lw = number(raw.get("linewidth"))
    custom["lineWidth"] = lw if lw is not None else 1
    if raw.get("dashes"):
        custom["lineStyle"] = {"fill": "dash", "dash": [number(raw.get("dashLength")) or 10,
                                                         number(raw.get("spaceLength")) or 10]}
    fill = number(raw.get("fill"))
    custom["fillOpacity"] = (fill if fill is not None else 1) * 10
    gradient = number(raw.get("fillGradient"))
    if gradient:
        custom["gradientMode"] = "opacity"
        custom["fillOpacity"] = gradient * 10
    if bars:
        custom["fillOpacity"] = 100
    custom["spanNulls"] = raw.get("nullPointMode") == "connected"
    if raw.get("steppedLine"):
        custom["lineInterpolation"] = "stepAfter"
    if raw.get("stack"):
        custom["stacking"] = {"mode": "percent" if raw.get("percentage") else "normal", "group": "A"}
    else:
        custom["stacking"] = {"mode": "none", "group": "A"}

    overrides: list[Any] = [o for o in (old_fc.get("overrides") or []) if isinstance(o, dict)] \
        if isinstance(old_fc.get("overrides"), list) else []
    alias_colors = raw.get("aliasColors")
    if isinstance(alias_colors, dict):
        for alias, color in alias_colors.items():
            if isinstance(color, str) and color:
                overrides.append({"matcher": {"id": "byName", "options": alias},
                                  "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": color}}]})
    for o in opt_list(raw, "seriesOverrides", where):
        if isinstance(o, dict):
            rule = _series_override(o, yaxes, notes)
            if rule is not None:
                overrides.append(rule)

    thresholds = raw.get("thresholds")
    if isinstance(thresholds, list) and thresholds:
        got = _graph_thresholds(thresholds)
        if got is not None:
            defaults["thresholds"], custom["thresholdsStyle"] = got[0], {"mode": got[1]}
    defaults["custom"] = custom

    legend = raw.get("legend") if isinstance(raw.get("legend"), dict) else {}
    assert isinstance(legend, dict)
    show = legend.get("show", True) is not False
    calcs = [calc for key, calc in _LEGEND_CALCS if legend.get(key)] if legend.get("values") else []
    tooltip = raw.get("tooltip") if isinstance(raw.get("tooltip"), dict) else {}
    assert isinstance(tooltip, dict)
    sort = {1: "asc", 2: "desc"}.get(int(number(tooltip.get("sort")) or 0), "none")
    options = {
        "legend": {
            "showLegend": show,
            "displayMode": ("table" if legend.get("alignAsTable") else "list") if show else "hidden",
            "placement": "right" if legend.get("rightSide") else "bottom",
            "calcs": calcs,
        },
        "tooltip": {"mode": "multi" if tooltip.get("shared") else "single", "sort": sort},
    }
    xaxis = raw.get("xaxis")
    if isinstance(xaxis, dict) and xaxis.get("mode") not in (None, "time"):
        notes.append(f"x-axis mode {xaxis.get('mode')!r} is drawn as a time series")
    return options, {"defaults": defaults, "overrides": overrides}, notes


def _mappings(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Old ``valueMaps``/``rangeMaps`` as Grafana 8+ value mappings."""
    kind = raw.get("mappingType")
    value_maps = raw.get("valueMaps") if isinstance(raw.get("valueMaps"), list) else []
    range_maps = raw.get("rangeMaps") if isinstance(raw.get("rangeMaps"), list) else []
    assert isinstance(value_maps, list) and isinstance(range_maps, list)
    if kind is None:
        kind = 1 if value_maps else 2 if range_maps else 0
    out: list[dict[str, Any]] = []
    if kind == 1:
        values: dict[str, Any] = {}
        for m in value_maps:
            if not isinstance(m, dict) or m.get("value") is None:
                continue
            if str(m["value"]) == "null":
                out.append({"type": "special", "options": {"match": "null", "result": {"text": m.get("text", "")}}})
            else:
                values[str(m["value"])] = {"text": m.get("text", ""), "index": len(values)}
        if values:
            out.insert(0, {"type": "value", "options": values})
    elif kind == 2:
        for i, m in enumerate(range_maps):
            if isinstance(m, dict):
                out.append({"type": "range", "options": {"from": number(m.get("from")), "to": number(m.get("to")),
                                                         "result": {"text": m.get("text", ""), "index": i}}})
    return out


def convert_singlestat(raw: dict[str, Any], where: str) -> tuple[str, dict[str, Any], dict[str, Any], list[str]]:
    """A ``singlestat`` panel as ``stat``, or ``gauge`` when its gauge was shown: (type, options, fieldConfig, notes)."""
    notes: list[str] = []
    gauge = raw.get("gauge") if isinstance(raw.get("gauge"), dict) else {}
    assert isinstance(gauge, dict)
    is_gauge = gauge.get("show") is True
    value_name = raw.get("valueName")
    calc = _VALUE_NAMES.get(value_name, "mean") if isinstance(value_name, str) else "mean"
    table_column = raw.get("tableColumn")
    options: dict[str, Any] = {
        "reduceOptions": {"calcs": [calc], "values": False,
                          "fields": f"/^{table_column}$/" if isinstance(table_column, str) and table_column else ""},
        "orientation": "horizontal" if not is_gauge else "auto",
        "textMode": "name" if value_name == "name" else "auto",
        "colorMode": "background" if raw.get("colorBackground") else "value" if raw.get("colorValue") else "none",
        "graphMode": "area" if isinstance(raw.get("sparkline"), dict) and raw["sparkline"].get("show") else "none",
        "justifyMode": "auto",
    }
    if is_gauge:
        options["showThresholdLabels"] = bool(gauge.get("thresholdLabels"))
        options["showThresholdMarkers"] = gauge.get("thresholdMarkers", True) is not False
    # Grafana's stat has no prefix/postfix: kubesight keeps them for the renderer to draw.
    for key in ("prefix", "postfix"):
        if isinstance(raw.get(key), str) and raw[key]:
            options[key] = raw[key]
    defaults: dict[str, Any] = {}
    if isinstance(raw.get("format"), str) and raw["format"]:
        defaults["unit"] = raw["format"]
    if number(raw.get("decimals")) is not None:
        defaults["decimals"] = number(raw["decimals"])
    if isinstance(raw.get("nullText"), str) and raw["nullText"]:
        defaults["noValue"] = raw["nullText"]
    thresholds, colors = raw.get("thresholds"), raw.get("colors")
    if isinstance(thresholds, str) and thresholds.strip() and isinstance(colors, list) and colors:
        levels = [number(t.strip()) for t in thresholds.split(",")]
        steps = [{"color": c, "value": None if i == 0 else (levels[i - 1] if i - 1 < len(levels) else None)}
                 for i, c in enumerate(colors) if isinstance(c, str)]
        defaults["thresholds"] = {"mode": "absolute", "steps": [s for i, s in enumerate(steps)
                                                                if i == 0 or s["value"] is not None]}
    elif isinstance(colors, list) and colors and isinstance(colors[0], str):
        # No levels: the Angular panel showed its first color whatever the value. (Grafana's own
        # migration puts its green/red-at-80 default here, which turns an uptime in seconds red.)
        defaults["thresholds"] = {"mode": "absolute", "steps": [{"color": colors[0], "value": None}]}
    mappings = _mappings(raw)
    if mappings:
        defaults["mappings"] = mappings
    if is_gauge:
        for key, src in (("min", "minValue"), ("max", "maxValue")):
            if number(gauge.get(src)) is not None:
                defaults[key] = number(gauge[src])
    if defaults.get("unit") == "percent":
        defaults.setdefault("min", 0)
        defaults.setdefault("max", 100)
    elif defaults.get("unit") == "percentunit":
        defaults.setdefault("min", 0)
        defaults.setdefault("max", 1)
    return "gauge" if is_gauge else "stat", options, {"defaults": defaults, "overrides": []}, notes


_COLOR_MODES = {"cell": "color-background", "row": "color-background", "value": "color-text"}
_OLD_TRANSFORMS = {"timeseries_to_rows": "seriesToRows", "timeseries_to_columns": "seriesToColumns",
                   "timeseries_aggregations": "reduce", "table": "merge"}


def _style_thresholds(style: dict[str, Any]) -> dict[str, Any] | None:
    levels, colors = style.get("thresholds"), style.get("colors")
    if not isinstance(levels, list) or not levels or not isinstance(colors, list):
        return None
    values = [None, *(number(v) for v in levels)]
    steps = [{"color": colors[i], "value": v} for i, v in enumerate(values) if i < len(colors)]
    return {"mode": "absolute", "steps": steps}


def _style_properties(style: dict[str, Any]) -> list[dict[str, Any]]:
    props: list[dict[str, Any]] = []
    if isinstance(style.get("alias"), str) and style["alias"]:
        props.append({"id": "displayName", "value": style["alias"]})
    if isinstance(style.get("unit"), str) and style["unit"]:
        props.append({"id": "unit", "value": style["unit"]})
    if number(style.get("decimals")) is not None:
        props.append({"id": "decimals", "value": number(style["decimals"])})
    if style.get("type") == "date":
        props.append({"id": "unit", "value": f"time: {style.get('dateFormat') or 'YYYY-MM-DD HH:mm:ss'}"})
    if style.get("type") == "hidden":
        props.append({"id": "custom.hidden", "value": True})
    if style.get("colorMode") in _COLOR_MODES:
        props.append({"id": "custom.cellOptions", "value": {"type": _COLOR_MODES[style["colorMode"]]}})
    if style.get("align") in ("left", "right", "center"):
        props.append({"id": "custom.align", "value": style["align"]})
    if style.get("link"):
        props.append({"id": "links", "value": [{"title": style.get("linkTooltip") or "",
                                                "url": style.get("linkUrl") or "",
                                                "targetBlank": bool(style.get("linkTargetBlank"))}]})
    t = _style_thresholds(style)
    if t is not None:
        props.append({"id": "thresholds", "value": t})
    return props


def convert_table_old(raw: dict[str, Any], where: str) -> tuple[dict[str, Any], dict[str, Any], list[Any], list[str]]:
    """An Angular table's ``styles`` as field config: (options, fieldConfig, transformations, notes)."""
    notes: list[str] = []
    styles = opt_list(raw, "styles", where)
    defaults: dict[str, Any] = {"custom": {}}
    overrides: list[dict[str, Any]] = []
    for i, style in enumerate(styles):
        if not isinstance(style, dict):
            raise PanelError(f"{where}.styles[{i}]: expected an object, got {type_name(style)}")
        pattern = style.get("pattern")
        if not isinstance(pattern, str):
            continue
        props = _style_properties(style)
        if pattern == "/.*/":
            for p in props:
                key = p["id"]
                if key.startswith("custom."):
                    defaults["custom"][key[7:]] = p["value"]
                elif key != "links":
                    defaults[key] = p["value"]
        elif props:
            regex = len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/")
            overrides.append({"matcher": {"id": "byRegexp" if regex else "byName", "options": pattern},
                              "properties": props})
    transformations: list[Any] = list(raw.get("transformations") or []) \
        if isinstance(raw.get("transformations"), list) else []
    old = raw.get("transform")
    if isinstance(old, str) and old in _OLD_TRANSFORMS:
        opts: dict[str, Any] = {"reducers": []}
        if old == "timeseries_aggregations":
            columns = raw.get("columns") if isinstance(raw.get("columns"), list) else []
            assert isinstance(columns, list)
            calc = {"avg": "mean", "min": "min", "max": "max", "total": "sum", "current": "lastNotNull",
                    "count": "count"}
            opts = {"reducers": [calc[c["value"]] for c in columns
                                 if isinstance(c, dict) and c.get("value") in calc], "includeTimeField": False}
        transformations.append({"id": _OLD_TRANSFORMS[old], "options": opts})
    elif isinstance(old, str) and old:
        notes.append(f"table transform {old!r} is ignored")
    options: dict[str, Any] = {"showHeader": raw.get("showHeader", True) is not False}
    return options, {"defaults": defaults, "overrides": overrides}, transformations, notes


def _old_mapping_list(items: Any) -> list[dict[str, Any]]:
    """Grafana 6's ``[{type: 1|2, value|from/to, text}]`` mappings as Grafana 8+ ones."""
    if not isinstance(items, list):
        return []
    if all(isinstance(m, dict) and isinstance(m.get("type"), str) for m in items):
        return [m for m in items if isinstance(m, dict)]  # already the new format
    values: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    for i, m in enumerate(items):
        if not isinstance(m, dict):
            continue
        if m.get("type") == 2:
            out.append({"type": "range", "options": {"from": number(m.get("from")), "to": number(m.get("to")),
                                                     "result": {"text": m.get("text", ""), "index": i}}})
        elif m.get("value") is not None:
            values[str(m["value"])] = {"text": m.get("text", ""), "index": i}
    if values:
        out.insert(0, {"type": "value", "options": values})
    return out


def _old_steps(items: list[Any]) -> dict[str, Any]:
    steps = sorted(({"color": t.get("color", "green"), "value": number(t.get("value"))}
                    for t in items if isinstance(t, dict)),
                   key=lambda s: -math.inf if s["value"] is None else s["value"])
    if steps:
        steps[0]["value"] = None
    return {"mode": "absolute", "steps": steps}


def convert_pre7_options(options: dict[str, Any], defaults: dict[str, Any],
                         overrides: list[Any]) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """Grafana 6's stat/gauge/bargauge ``options.fieldOptions`` (and 6.0's ``valueOptions``) as Grafana 7+ has them."""
    opts = dict(options)
    value_options = opts.pop("valueOptions", None)
    if isinstance(value_options, dict) and "fieldOptions" not in opts:
        stat = value_options.get("stat")
        opts["fieldOptions"] = {
            "mappings": opts.pop("valueMappings", None), "thresholds": opts.pop("thresholds", None),
            "defaults": {"unit": value_options.get("unit"), "decimals": value_options.get("decimals"),
                         "min": opts.pop("minValue", None), "max": opts.pop("maxValue", None)},
            "calcs": [_VALUE_NAMES.get(stat, stat)] if isinstance(stat, str) and stat else ["mean"],
        }
    field_options = opts.pop("fieldOptions", None)
    if not isinstance(field_options, dict):
        return opts, defaults, overrides
    old = dict(field_options.get("defaults") or {}) if isinstance(field_options.get("defaults"), dict) else {}
    new: dict[str, Any] = {k: v for k, v in old.items() if v is not None and k not in ("title", "color", "thresholds")}
    thresholds = old.get("thresholds", field_options.get("thresholds"))
    if isinstance(thresholds, list) and thresholds:
        new["thresholds"] = _old_steps(thresholds)
    elif isinstance(thresholds, dict):
        new["thresholds"] = thresholds
    mappings = _old_mapping_list(old.get("mappings", field_options.get("mappings")))
    if mappings:
        new["mappings"] = mappings
    if isinstance(old.get("title"), str) and old["title"]:
        new["displayName"] = old["title"]
    if isinstance(old.get("color"), str):
        new["color"] = {"mode": "fixed", "fixedColor": old["color"]}
    elif isinstance(old.get("color"), dict):
        new["color"] = old["color"]
    if "reduceOptions" not in opts:
        calcs = field_options.get("calcs")
        opts["reduceOptions"] = {"values": field_options.get("values") is True,
                                 "calcs": calcs if isinstance(calcs, list) and calcs else ["mean"],
                                 "fields": field_options.get("fields") if isinstance(field_options.get("fields"), str)
                                 else ""}
        if isinstance(field_options.get("limit"), int):
            opts["reduceOptions"]["limit"] = field_options["limit"]
    more = field_options.get("overrides")
    return opts, {**defaults, **new}, [*overrides, *(more if isinstance(more, list) else [])]


def hide_from_viz(fc: dict[str, Any]) -> None:
    """Grafana 7's ``custom.hideFrom.graph`` is ``viz`` since 8 (Grafana's own migration)."""
    custom = fc["defaults"].get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("hideFrom"), dict) and "graph" in custom["hideFrom"]:
        custom["hideFrom"] = {**{k: v for k, v in custom["hideFrom"].items() if k != "graph"},
                              "viz": custom["hideFrom"]["graph"]}
    for o in fc["overrides"]:
        for p in o.get("properties", []) if isinstance(o, dict) and isinstance(o.get("properties"), list) else []:
            if isinstance(p, dict) and p.get("id") == "custom.hideFrom" and isinstance(p.get("value"), dict) \
                    and "graph" in p["value"]:
                p["value"] = {**{k: v for k, v in p["value"].items() if k != "graph"}, "viz": p["value"]["graph"]}
