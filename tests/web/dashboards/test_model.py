"""Grafana dashboard JSON to the normalized shape: layouts, legacy conversions, variables, bad input.

Each table reads as the spec: a Grafana snippet and what the browser gets for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesight.errors import DecodeError
from kubesight.web.dashboards.model import (
    MAX_DASHBOARD_BYTES,
    Dashboard,
    DashboardError,
    Panel,
    load_json,
    normalize,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    d: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return d


def panels(d: Dashboard) -> list[Panel]:
    return [p for r in d["rows"] for p in r["panels"]]


def one_panel(panel: dict[str, Any], **dash: Any) -> Panel:
    """The single panel a dashboard holding only ``panel`` normalizes to."""
    d = normalize({"title": "t", "panels": [panel], **dash})
    (p,) = panels(d)
    return p


# --- layouts ----------------------------------------------------------------


def test_modern_layout_rows_split_the_flat_list_and_positions_are_relative_to_the_row() -> None:
    d = normalize({"title": "t", "panels": [
        {"id": 1, "type": "stat", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 4}},
        {"id": 2, "type": "gauge", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 4}},
        {"id": 3, "type": "row", "title": "Disks", "gridPos": {"x": 0, "y": 4, "w": 24, "h": 1}},
        {"id": 4, "type": "timeseries", "gridPos": {"x": 0, "y": 5, "w": 24, "h": 8}},
        {"id": 5, "type": "table", "gridPos": {"x": 0, "y": 13, "w": 6, "h": 3}},
    ]})
    assert [(r["title"], [p["id"] for p in r["panels"]]) for r in d["rows"]] == [(None, [1, 2]), ("Disks", [4, 5])]
    assert [p["gridPos"] for p in d["rows"][1]["panels"]] == [{"x": 0, "y": 0, "w": 24, "h": 8},
                                                              {"x": 0, "y": 8, "w": 6, "h": 3}]


def test_panels_are_ordered_by_position_as_grafana_orders_them() -> None:
    d = normalize({"title": "t", "panels": [
        {"id": 9, "type": "stat", "gridPos": {"x": 0, "y": 10, "w": 4, "h": 4}},
        {"id": 8, "type": "row", "title": "R", "gridPos": {"x": 0, "y": 9, "w": 24, "h": 1}},
        {"id": 7, "type": "stat", "gridPos": {"x": 12, "y": 0, "w": 4, "h": 4}},
        {"id": 6, "type": "stat", "gridPos": {"x": 0, "y": 0, "w": 4, "h": 4}},
    ]})
    assert [[p["id"] for p in r["panels"]] for r in d["rows"]] == [[6, 7], [9]]


def test_a_collapsed_row_carries_its_panels_and_a_row_at_the_top_leaves_no_empty_implicit_row() -> None:
    d = normalize({"title": "t", "panels": [
        {"id": 1, "type": "row", "title": "Load", "collapsed": True, "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1},
         "panels": [{"id": 2, "type": "timeseries", "gridPos": {"x": 0, "y": 31, "w": 12, "h": 8}},
                    {"id": 3, "type": "timeseries", "gridPos": {"x": 12, "y": 31, "w": 12, "h": 8}}]},
        {"id": 4, "type": "row", "title": "Net", "collapsed": False, "gridPos": {"x": 0, "y": 1, "w": 24, "h": 1}},
        {"id": 5, "type": "stat", "gridPos": {"x": 0, "y": 2, "w": 4, "h": 4}},
    ]})
    assert [(r["title"], r["collapsed"]) for r in d["rows"]] == [("Load", True), ("Net", False)]
    assert [p["gridPos"]["y"] for p in d["rows"][0]["panels"]] == [0, 0]
    assert [p["gridPos"]["x"] for p in d["rows"][0]["panels"]] == [0, 12]


def test_repeats_of_rows_and_panels_are_kept_and_saved_repeat_copies_dropped() -> None:
    d = normalize({"title": "t", "panels": [
        {"id": 1, "type": "row", "title": "$dev", "repeat": "dev", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}},
        {"id": 2, "type": "timeseries", "repeat": "cpu", "repeatDirection": "v", "maxPerRow": 4,
         "gridPos": {"x": 0, "y": 1, "w": 6, "h": 4}},
        {"id": 3, "type": "timeseries", "repeatPanelId": 2, "repeatIteration": 1,
         "gridPos": {"x": 6, "y": 1, "w": 6, "h": 4}},
    ]})
    (row,) = d["rows"]
    assert row["repeat"] == "dev"
    (p,) = row["panels"]
    assert (p["repeat"], p["repeatDirection"], p["maxPerRow"]) == ("cpu", "v", 4)


@pytest.mark.parametrize(
    ("height", "span", "expected"),
    [
        # Grafana's upgrade: ceil(max(px, 90) / (30 px + 8 px margin)), span of 12 -> w of 24.
        ("250px", 6, {"x": 0, "y": 0, "w": 12, "h": 7}),
        (250, 12, {"x": 0, "y": 0, "w": 24, "h": 7}),
        ("300", 3, {"x": 0, "y": 0, "w": 6, "h": 8}),
        ("40px", 4, {"x": 0, "y": 0, "w": 8, "h": 3}),
        (None, None, {"x": 0, "y": 0, "w": 8, "h": 7}),
    ],
)
def test_old_row_height_and_span(height: Any, span: Any, expected: dict[str, int]) -> None:
    panel: dict[str, Any] = {"type": "graph"}
    if span is not None:
        panel["span"] = span
    row: dict[str, Any] = {"panels": [panel]}
    if height is not None:
        row["height"] = height
    assert panels(normalize({"rows": [row]}))[0]["gridPos"] == expected


def test_old_rows_lay_panels_left_to_right_and_wrap_at_24_columns() -> None:
    d = normalize({"rows": [
        {"height": "250px", "panels": [{"type": "graph", "span": s} for s in (6, 4, 4, 6, 12)]},
        {"height": 100, "panels": [{"type": "singlestat", "span": 2}]},
    ]})
    got = [(p["gridPos"]["x"], p["gridPos"]["y"], p["gridPos"]["w"]) for p in panels(d)]
    # No row shows a title: one implicit row, the second old row below the first.
    assert len(d["rows"]) == 1
    assert got == [(0, 0, 12), (12, 0, 8), (0, 7, 8), (8, 7, 12), (0, 14, 24), (0, 21, 4)]


def test_old_rows_with_titles_become_rows_and_a_collapsed_one_stays_collapsed() -> None:
    d = normalize({"rows": [
        {"title": "A", "showTitle": True, "height": "200px", "panels": [{"type": "graph", "id": 4}]},
        {"title": "B", "collapse": True, "repeat": "node", "panels": [{"type": "graph"}, {"type": "text"}]},
        {"title": "C (repeat copy)", "repeatIteration": 1, "panels": [{"type": "graph"}]},
    ]})
    assert [(r["title"], r["collapsed"], r["repeat"]) for r in d["rows"]] == [("A", False, None), ("B", True, "node")]
    assert [p["gridPos"]["y"] for p in d["rows"][1]["panels"]] == [0, 0]
    ids = [p["id"] for p in panels(d)]
    assert len(set(ids)) == 3 and 4 in ids  # saved ids kept, missing ones made unique


def test_a_tall_old_panel_pushes_the_next_line_down_instead_of_overlapping() -> None:
    d = normalize({"rows": [{"height": "250px", "panels": [
        {"type": "graph", "span": 12, "height": "400px"}, {"type": "graph", "span": 12}]}]})
    a, b = panels(d)
    assert b["gridPos"]["y"] >= a["gridPos"]["y"] + a["gridPos"]["h"]


@pytest.mark.parametrize(("min_span", "max_per_row"), [(3, 4), (4, 3), (6, 2), (12, 1), (1, 12), (5, 2)])
def test_old_min_span_becomes_max_per_row_as_grafana_converts_it(min_span: int, max_per_row: int) -> None:
    d = normalize({"rows": [{"panels": [{"type": "graph", "repeat": "x", "minSpan": min_span}]}]})
    assert panels(d)[0]["maxPerRow"] == max_per_row


def test_panels_without_gridpos_are_placed_below_the_others() -> None:
    d = normalize({"panels": [{"type": "stat", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 5}}, {"type": "text"}]})
    assert panels(d)[1]["gridPos"] == {"x": 0, "y": 5, "w": 12, "h": 8}


# --- legacy panels ----------------------------------------------------------


GRAPH_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("y axis unit, min, max", {"yaxes": [{"format": "bytes", "min": "0", "max": 100, "decimals": 1}]},
     {"defaults.unit": "bytes", "defaults.min": 0, "defaults.max": 100, "defaults.decimals": 1}),
    ("stack", {"stack": True}, {"custom.stacking": {"mode": "normal", "group": "A"}}),
    ("stack percent", {"stack": True, "percentage": True}, {"custom.stacking": {"mode": "percent", "group": "A"}}),
    ("no stack", {}, {"custom.stacking": {"mode": "none", "group": "A"}}),
    ("fill and linewidth", {"fill": 3, "linewidth": 2}, {"custom.fillOpacity": 30, "custom.lineWidth": 2}),
    ("bars", {"bars": True, "lines": False}, {"custom.drawStyle": "bars", "custom.fillOpacity": 100}),
    ("points only", {"lines": False, "points": True, "pointradius": 2},
     {"custom.drawStyle": "points", "custom.showPoints": "always", "custom.pointSize": 6}),
    ("lines", {"lines": True}, {"custom.drawStyle": "line", "custom.showPoints": "never"}),
    ("connected nulls", {"nullPointMode": "connected"}, {"custom.spanNulls": True}),
    ("stepped", {"steppedLine": True}, {"custom.lineInterpolation": "stepAfter"}),
    ("log axis", {"yaxes": [{"logBase": 10, "format": "short"}]}, {"custom.scaleDistribution": {"type": "log", "log": 10}}),
    ("hidden legend", {"legend": {"show": False}},
     {"legend": {"showLegend": False, "displayMode": "hidden", "placement": "bottom", "calcs": []}}),
    ("legend table right with values",
     {"legend": {"show": True, "values": True, "min": True, "max": True, "avg": True, "current": True, "total": True,
                 "alignAsTable": True, "rightSide": True}},
     {"legend": {"showLegend": True, "displayMode": "table", "placement": "right",
                 "calcs": ["min", "max", "mean", "lastNotNull", "sum"]}}),
    ("legend values off ignores the calcs", {"legend": {"show": True, "values": False, "avg": True}},
     {"legend": {"showLegend": True, "displayMode": "list", "placement": "bottom", "calcs": []}}),
    ("shared tooltip sorted", {"tooltip": {"shared": True, "sort": 2}}, {"tooltip": {"mode": "multi", "sort": "desc"}}),
    ("thresholds gt", {"thresholds": [{"op": "gt", "value": 90, "colorMode": "critical", "fill": True, "line": True},
                                      {"op": "gt", "value": 80, "colorMode": "warning", "fill": True}]},
     {"defaults.thresholds": {"mode": "absolute", "steps": [{"color": "transparent", "value": None},
                                                            {"color": "orange", "value": 80},
                                                            {"color": "red", "value": 90}]},
      "custom.thresholdsStyle": {"mode": "line+area"}}),
    ("thresholds lt", {"thresholds": [{"op": "lt", "value": 10, "colorMode": "custom", "fillColor": "#f00", "line": True}]},
     {"defaults.thresholds": {"mode": "absolute", "steps": [{"color": "#f00", "value": None},
                                                            {"color": "transparent", "value": 10}]},
      "custom.thresholdsStyle": {"mode": "line"}}),
]


def _pick(p: Panel, key: str) -> Any:
    if key.startswith("defaults."):
        return p["fieldConfig"]["defaults"].get(key[9:])
    if key.startswith("custom."):
        return p["fieldConfig"]["defaults"]["custom"].get(key[7:])
    return p["options"].get(key)


@pytest.mark.parametrize(("name", "graph", "expected"), GRAPH_CASES, ids=[c[0] for c in GRAPH_CASES])
def test_graph_becomes_timeseries(name: str, graph: dict[str, Any], expected: dict[str, Any]) -> None:
    p = one_panel({"type": "graph", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}, **graph})
    assert (p["type"], p["originalType"], p["supported"]) == ("timeseries", "graph", True)
    assert {k: _pick(p, k) for k in expected} == expected


def test_graph_series_overrides_and_alias_colors_become_overrides() -> None:
    p = one_panel({"type": "graph", "aliasColors": {"Idle": "#052B51"},
                   "yaxes": [{"format": "bytes"}, {"format": "percent", "min": 0, "max": 100}],
                   "seriesOverrides": [
                       {"alias": "/Swap/", "yaxis": 2, "color": "#BF1B00", "linewidth": 2},
                       {"alias": "trans", "transform": "negative-Y", "fill": 0, "stack": False, "lines": False},
                       {"alias": "hidden", "legend": False},
                       {"alias": "odd", "zindex": 3, "nullPointMode": "null as zero"},
                   ]})
    o = p["fieldConfig"]["overrides"]
    assert o[0] == {"matcher": {"id": "byName", "options": "Idle"},
                    "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "#052B51"}}]}
    assert o[1]["matcher"] == {"id": "byRegexp", "options": "/Swap/"}
    assert {"id": "custom.axisPlacement", "value": "right"} in o[1]["properties"]
    assert {"id": "unit", "value": "percent"} in o[1]["properties"]
    assert {"id": "max", "value": 100} in o[1]["properties"]
    assert {"id": "custom.lineWidth", "value": 2} in o[1]["properties"]
    assert {"id": "custom.transform", "value": "negative-Y"} in o[2]["properties"]
    assert {"id": "custom.fillOpacity", "value": 0} in o[2]["properties"]
    assert {"id": "custom.lineWidth", "value": 0} in o[2]["properties"]
    assert o[3]["properties"] == [{"id": "custom.hideFrom", "value": {"legend": True, "tooltip": False, "viz": False}}]
    assert len(o) == 4  # "odd" had nothing convertible
    assert p["unsupported"] == ["series override 'odd': 'nullPointMode' is ignored"]


SINGLESTAT_CASES: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("current", {"valueName": "current"}, "stat", {"calcs": ["lastNotNull"]}),
    ("avg", {"valueName": "avg"}, "stat", {"calcs": ["mean"]}),
    ("max", {"valueName": "max"}, "stat", {"calcs": ["max"]}),
    ("min", {"valueName": "min"}, "stat", {"calcs": ["min"]}),
    ("total", {"valueName": "total"}, "stat", {"calcs": ["sum"]}),
    ("name", {"valueName": "name"}, "stat", {"calcs": ["lastNotNull"], "textMode": "name"}),
    ("unknown falls back to mean", {"valueName": "bogus"}, "stat", {"calcs": ["mean"]}),
    ("gauge shown", {"gauge": {"show": True, "minValue": 0, "maxValue": 200}}, "gauge",
     {"defaults.min": 0, "defaults.max": 200}),
    ("format and decimals", {"format": "bytes", "decimals": 2}, "stat", {"defaults.unit": "bytes", "defaults.decimals": 2}),
    ("percent gets 0-100", {"format": "percent"}, "stat", {"defaults.min": 0, "defaults.max": 100}),
    ("thresholds and colors", {"thresholds": "80, 90", "colors": ["green", "orange", "red"]}, "stat",
     {"defaults.thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None},
                                                            {"color": "orange", "value": 80},
                                                            {"color": "red", "value": 90}]}}),
    ("colors without levels keep the first color", {"thresholds": "", "colors": ["#299c46", "red"]}, "stat",
     {"defaults.thresholds": {"mode": "absolute", "steps": [{"color": "#299c46", "value": None}]}}),
    ("sparkline", {"sparkline": {"show": True}}, "stat", {"graphMode": "area"}),
    ("no sparkline", {"sparkline": {"show": False}}, "stat", {"graphMode": "none"}),
    ("background", {"colorBackground": True}, "stat", {"colorMode": "background"}),
    ("value color", {"colorValue": True}, "stat", {"colorMode": "value"}),
    ("prefix postfix", {"prefix": "$", "postfix": " up"}, "stat", {"prefix": "$", "postfix": " up"}),
    ("table column", {"tableColumn": "Value"}, "stat", {"fields": "/^Value$/"}),
    ("value maps", {"valueMaps": [{"op": "=", "value": "1", "text": "UP"}, {"op": "=", "value": "null", "text": "N/A"}]},
     "stat", {"defaults.mappings": [{"type": "value", "options": {"1": {"text": "UP", "index": 0}}},
                                    {"type": "special", "options": {"match": "null", "result": {"text": "N/A"}}}]}),
    ("range maps", {"mappingType": 2, "rangeMaps": [{"from": "0", "to": "10", "text": "low"}]}, "stat",
     {"defaults.mappings": [{"type": "range", "options": {"from": 0, "to": 10, "result": {"text": "low", "index": 0}}}]}),
    ("null text", {"nullText": "none"}, "stat", {"defaults.noValue": "none"}),
]


@pytest.mark.parametrize(("name", "single", "ptype", "expected"), SINGLESTAT_CASES, ids=[c[0] for c in SINGLESTAT_CASES])
def test_singlestat_becomes_stat_or_gauge(name: str, single: dict[str, Any], ptype: str, expected: dict[str, Any]) -> None:
    p = one_panel({"type": "singlestat", **single})
    assert (p["type"], p["originalType"], p["supported"]) == (ptype, "singlestat", True)
    got = {}
    for k in expected:
        if k.startswith("defaults."):
            got[k] = p["fieldConfig"]["defaults"].get(k[9:])
        elif k in ("calcs", "fields"):
            got[k] = p["options"]["reduceOptions"][k]
        else:
            got[k] = p["options"].get(k)
    assert got == expected


def test_old_table_styles_become_defaults_and_overrides() -> None:
    p = one_panel({"type": "table-old", "transform": "table", "styles": [
        {"pattern": "Time", "type": "hidden"},
        {"pattern": "Value", "alias": "Size", "unit": "bytes", "decimals": 1, "colorMode": "cell",
         "thresholds": ["80", "90"], "colors": ["green", "orange", "red"]},
        {"pattern": "/^inst.*/", "alias": "Host", "link": True, "linkUrl": "/d/x?var-i=$__cell"},
        {"pattern": "/.*/", "unit": "short", "decimals": 2, "align": "right"},
    ]})
    assert (p["type"], p["originalType"], p["supported"]) == ("table", "table-old", True)
    assert p["fieldConfig"]["defaults"]["unit"] == "short"
    assert p["fieldConfig"]["defaults"]["decimals"] == 2
    assert p["fieldConfig"]["defaults"]["custom"]["align"] == "right"
    o = {ov["matcher"]["options"]: ov for ov in p["fieldConfig"]["overrides"]}
    assert o["Time"]["properties"] == [{"id": "custom.hidden", "value": True}]
    assert {"id": "displayName", "value": "Size"} in o["Value"]["properties"]
    assert {"id": "custom.cellOptions", "value": {"type": "color-background"}} in o["Value"]["properties"]
    assert {"id": "thresholds", "value": {"mode": "absolute", "steps": [
        {"color": "green", "value": None}, {"color": "orange", "value": 80}, {"color": "red", "value": 90}]}} \
        in o["Value"]["properties"]
    assert o["/^inst.*/"]["matcher"]["id"] == "byRegexp"
    assert p["transformations"] == [{"id": "merge", "options": {"reducers": []}}]
    assert p["unsupported"] == []  # merge is rendered


def test_a_table_with_angular_styles_is_converted_too_and_aggregations_are_listed_as_ignored() -> None:
    p = one_panel({"type": "table", "styles": [{"pattern": "/.*/", "unit": "s"}], "transform": "timeseries_aggregations",
                   "columns": [{"text": "Avg", "value": "avg"}, {"text": "Current", "value": "current"}]})
    assert p["originalType"] == "table" and p["fieldConfig"]["defaults"]["unit"] == "s"
    assert p["transformations"] == [{"id": "reduce", "options": {"reducers": ["mean", "lastNotNull"],
                                                                 "includeTimeField": False}}]
    assert p["unsupported"] == ["transformation 'reduce' is ignored"]


@pytest.mark.parametrize("ptype", ["timeseries", "stat", "gauge", "bargauge", "table"])
def test_supported_modern_panels_pass_options_and_field_config_through(ptype: str) -> None:
    opts = {"reduceOptions": {"calcs": ["max"]}, "someFutureOption": {"x": [1, 2]}}
    fc = {"defaults": {"unit": "bytes", "custom": {"lineWidth": 3}, "links": [{"url": "/x"}]},
          "overrides": [{"matcher": {"id": "byName", "options": "a"}, "properties": []}]}
    p = one_panel({"type": ptype, "options": opts, "fieldConfig": fc})
    assert p["supported"] and p["unsupported"] == []
    assert p["options"] == opts
    assert p["fieldConfig"]["defaults"]["unit"] == "bytes"
    assert p["fieldConfig"]["defaults"]["links"] == [{"url": "/x"}]
    assert p["fieldConfig"]["defaults"]["thresholds"]["steps"][0] == {"color": "green", "value": None}
    assert p["fieldConfig"]["overrides"] == fc["overrides"]


@pytest.mark.parametrize(
    ("panel", "content", "mode", "notes"),
    [
        ({"type": "text", "options": {"mode": "markdown", "content": "# Hi"}}, "# Hi", "markdown", []),
        ({"type": "text", "options": {"mode": "html", "content": "<b>x</b>"}}, "<b>x</b>", "html", []),
        ({"type": "text", "mode": "html", "content": "<i>old</i>"}, "<i>old</i>", "html", []),
        ({"type": "text", "mode": "text", "content": "plain"}, "plain", "markdown", []),
        ({"type": "text", "options": {"mode": "code", "content": "x = 1"}}, "x = 1", "markdown",
         ["text mode 'code' is shown as markdown"]),
    ],
)
def test_text_panels(panel: dict[str, Any], content: str, mode: str, notes: list[str]) -> None:
    p = one_panel(panel)
    assert (p["content"], p["mode"], p["unsupported"], p["supported"]) == (content, mode, notes, True)


@pytest.mark.parametrize(
    ("panel", "reason"),
    [
        ({"type": "piechart"}, "panel type 'piechart' is not supported"),
        ({"type": "heatmap"}, "panel type 'heatmap' is not supported"),
        ({"type": "logs"}, "panel type 'logs' is not supported"),
        ({"type": "alertlist"}, "panel type 'alertlist' is not supported"),
        ({"type": "dashlist"}, "panel type 'dashlist' is not supported"),
        ({"type": "news"}, "panel type 'news' is not supported"),
        ({"type": "nodeGraph"}, "panel type 'nodeGraph' is not supported"),
        ({"type": "grafana-worldmap-panel"}, "panel type 'grafana-worldmap-panel' is not supported"),
        ({"type": "timeseries", "libraryPanel": {"uid": "lib1", "name": "CPU"}},
         "library panels are not supported (the panel's model lives in the Grafana it came from)"),
        ({"title": "no type"}, "panels[0].type: expected a panel type name, got null"),
    ],
)
def test_unsupported_panels_are_kept_with_the_reason(panel: dict[str, Any], reason: str) -> None:
    p = one_panel({"id": 1, "gridPos": {"x": 0, "y": 0, "w": 8, "h": 8}, **panel})
    assert not p["supported"]
    assert reason in p["unsupported"]
    assert p["gridPos"] == {"x": 0, "y": 0, "w": 8, "h": 8}


def test_an_unsupported_panel_keeps_its_title_and_prometheus_targets() -> None:
    p = one_panel({"type": "piechart", "title": "Pie", "targets": [{"expr": "up", "refId": "A"}]})
    assert (p["title"], [t["expr"] for t in p["targets"]]) == ("Pie", ["up"])


def test_a_library_panel_is_resolved_from_the_exported_elements() -> None:
    d = normalize({"panels": [{"id": 3, "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4},
                               "libraryPanel": {"uid": "lib1", "name": "CPU"}}],
                   "__elements": {"lib1": {"name": "CPU", "kind": 1, "model": {
                       "type": "stat", "title": "CPU", "targets": [{"expr": "up", "refId": "A"}]}}}})
    (p,) = panels(d)
    assert (p["id"], p["type"], p["title"], p["supported"], p["gridPos"]["w"]) == (3, "stat", "CPU", True, 6)


@pytest.mark.parametrize(
    ("extra", "note"),
    [
        ({"transformations": [{"id": "calculateField", "options": {}}]}, "transformation 'calculateField' is ignored"),
        ({"alert": {"name": "x"}}, "the panel's alert rule is ignored (write it as a Prometheus alerting rule)"),
    ],
)
def test_ignored_features_are_listed_on_a_panel_that_still_renders(extra: dict[str, Any], note: str) -> None:
    p = one_panel({"type": "timeseries", **extra})
    assert p["supported"] and note in p["unsupported"]


# --- targets and data sources ----------------------------------------------


@pytest.mark.parametrize(
    ("panel_ds", "target_ds", "kept"),
    [
        (None, None, True),
        ("${DS_PROMETHEUS}", None, True),
        ("$datasource", None, True),
        ("[[datasource]]", None, True),
        ({"type": "prometheus", "uid": "abc"}, None, True),
        ({"type": "prometheus", "uid": "${datasource}"}, None, True),
        ({"uid": "${DS_PROMETHEUS}"}, None, True),
        ("Prometheus", None, True),
        ("My Thanos", None, True),
        ("-- Mixed --", {"type": "prometheus", "uid": "p"}, True),
        ("-- Mixed --", None, True),
        ({"type": "datasource", "uid": "-- Mixed --"}, "${DS_PROMETHEUS}", True),
        ("${DS_LOKI}", None, False),
        ({"type": "loki", "uid": "l"}, None, False),
        ("-- Mixed --", {"type": "elasticsearch", "uid": "e"}, False),
        ("Loki", None, False),
        ("-- Grafana --", None, False),
        ({"type": "datasource", "uid": "grafana"}, None, False),
        ("-- Dashboard --", None, False),
        ("$logs", None, False),
        ({"type": "grafana-testdata-datasource"}, None, False),
    ],
)
def test_targets_on_prometheus_are_kept_and_others_skipped(panel_ds: Any, target_ds: Any, kept: bool) -> None:
    target: dict[str, Any] = {"refId": "A", "expr": "up"}
    if target_ds is not None:
        target["datasource"] = target_ds
    panel: dict[str, Any] = {"type": "timeseries", "targets": [target]}
    if panel_ds is not None:
        panel["datasource"] = panel_ds
    p = one_panel(panel,
                  __inputs=[{"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus"},
                            {"name": "DS_LOKI", "type": "datasource", "pluginId": "loki"}],
                  templating={"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"},
                                       {"name": "logs", "type": "datasource", "query": "loki"}]})
    assert [t["expr"] for t in p["targets"]] == (["up"] if kept else [])
    assert p["supported"]
    if not kept:
        assert len(p["unsupported"]) == 1 and "target A: data source" in p["unsupported"][0]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"expr": "up"}, {"refId": "A", "instant": False, "range": True, "format": "time_series",
                          "interval": "", "intervalFactor": 1, "hide": False, "legendFormat": ""}),
        ({"expr": "up", "instant": True}, {"instant": True, "range": False}),
        ({"expr": "up", "instant": True, "range": True}, {"instant": True, "range": True}),
        ({"expr": "up", "format": "table", "instant": True}, {"format": "table"}),
        ({"expr": "up", "format": "heatmap"}, {"format": "heatmap"}),
        ({"expr": "up", "interval": "1m", "intervalFactor": 2, "hide": True, "legendFormat": "{{job}}"},
         {"interval": "1m", "intervalFactor": 2, "hide": True, "legendFormat": "{{job}}"}),
        ({"expr": "up", "step": 240}, {"interval": ""}),
        ({"expr": "up", "refId": "Z"}, {"refId": "Z"}),
    ],
)
def test_target_fields(target: dict[str, Any], expected: dict[str, Any]) -> None:
    (t,) = one_panel({"type": "timeseries", "targets": [target]})["targets"]
    assert {k: t[k] for k in expected} == expected  # type: ignore[literal-required]


def test_missing_ref_ids_are_lettered() -> None:
    p = one_panel({"type": "timeseries", "targets": [{"expr": "a"}, {"expr": "b"}, {"expr": "c", "refId": "X"}]})
    assert [t["refId"] for t in p["targets"]] == ["A", "B", "X"]


# --- variables --------------------------------------------------------------


def variables(*vs: dict[str, Any]) -> list[Any]:
    return list(normalize({"panels": [], "templating": {"list": list(vs)}})["variables"])


@pytest.mark.parametrize(
    ("var", "expected"),
    [
        ({"name": "job", "type": "query", "query": "label_values(up, job)", "refresh": 1, "sort": 1},
         {"query": "label_values(up, job)", "refresh": 1, "sort": 1, "supported": True}),
        ({"name": "job", "type": "query", "query": {"query": "label_values(up, job)", "refId": "X", "qryType": 1}},
         {"query": "label_values(up, job)", "supported": True}),
        ({"name": "n", "type": "query", "query": "query_result(topk(5, up))", "regex": "/job=\"(.*)\"/",
          "multi": True, "includeAll": True, "allValue": ".*"},
         {"regex": "/job=\"(.*)\"/", "multi": True, "includeAll": True, "allValue": ".*"}),
        ({"name": "n", "type": "query", "query": "x", "refresh": True}, {"refresh": 1}),
        ({"name": "n", "type": "query", "query": "x", "datasource": {"type": "loki", "uid": "l"}},
         {"supported": False, "unsupported": ["the query runs on data source 'loki', not Prometheus"]}),
        ({"name": "c", "type": "custom", "query": "a, b,c\\,d"},
         {"options": [{"text": "a", "value": "a", "selected": False}, {"text": "b", "value": "b", "selected": False},
                      {"text": "c,d", "value": "c,d", "selected": False}], "current": {"text": "a", "value": "a"}}),
        ({"name": "c", "type": "custom", "query": "fast : 1m,slow : 1h", "includeAll": True,
          "current": {"text": "slow", "value": "1h"}},
         {"options": [{"text": "All", "value": "$__all", "selected": False},
                      {"text": "fast", "value": "1m", "selected": False},
                      {"text": "slow", "value": "1h", "selected": False}], "current": {"text": "slow", "value": "1h"}}),
        ({"name": "i", "type": "interval", "query": "1m,10m,'1h'"},
         {"options": [{"text": "1m", "value": "1m", "selected": False}, {"text": "10m", "value": "10m", "selected": False},
                      {"text": "1h", "value": "1h", "selected": False}], "auto": False}),
        ({"name": "i", "type": "interval", "query": "1m,5m", "auto": True, "auto_count": 50, "auto_min": "30s"},
         {"options": [{"text": "auto", "value": "$__auto_interval_i", "selected": False},
                      {"text": "1m", "value": "1m", "selected": False}, {"text": "5m", "value": "5m", "selected": False}],
          "auto": True, "auto_count": 50, "auto_min": "30s"}),
        ({"name": "k", "type": "constant", "query": "node", "hide": 2},
         {"options": [{"text": "node", "value": "node", "selected": True}], "current": {"text": "node", "value": "node"},
          "hide": 2}),
        ({"name": "t", "type": "textbox", "query": "default", "current": {"value": "typed", "text": "typed"}},
         {"current": {"text": "typed", "value": "typed"}, "supported": True}),
        ({"name": "ds", "type": "datasource", "query": "prometheus"},
         {"supported": True, "options": [{"text": "kubesight", "value": "kubesight", "selected": True}],
          "current": {"text": "kubesight", "value": "kubesight"}}),
        ({"name": "f", "type": "adhoc"}, {"supported": False, "unsupported": ["ad hoc filters are not supported"]}),
        ({"name": "g", "type": "groupby"}, {"supported": False, "unsupported": ["variable type 'groupby' is not supported"]}),
        ({"name": "m", "type": "query", "query": "x", "multi": True, "current": {"text": ["a", "b"], "value": ["a", "b"]}},
         {"current": {"text": ["a", "b"], "value": ["a", "b"]}}),
        ({"name": "h", "type": "query", "query": "x", "label": "Host:", "hide": 1, "description": "which host"},
         {"label": "Host:", "hide": 1, "description": "which host"}),
    ],
)
def test_variables(var: dict[str, Any], expected: dict[str, Any]) -> None:
    (v,) = variables(var)
    assert {k: v[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("var", "reason"),
    [
        ("job", "templating.list[0]: expected an object, got a string"),
        ({"type": "query"}, "templating.list[0].name: expected a non-empty string, got null"),
        ({"name": "x", "type": "query", "query": ["a"]},
         "templating.list[0].query: expected a string or an object with a query, got a list"),
        ({"name": "x", "type": "query", "query": "a", "regex": 5}, "templating.list[0].regex: expected a string, got a number"),
    ],
)
def test_bad_variables_are_kept_as_unsupported(var: Any, reason: str) -> None:
    (v,) = variables(var)
    assert not v["supported"] and v["unsupported"] == [reason]


# --- dashboard level --------------------------------------------------------


def test_dashboard_fields_and_wrappers() -> None:
    raw = {"uid": "u1", "title": "T", "tags": ["a"], "description": "d", "refresh": "30s", "timezone": "utc",
           "time": {"from": "now-1h", "to": "now"}, "graphTooltip": 1, "panels": [],
           "links": [{"title": "x", "url": "/y"}, "junk"]}
    for body in (raw, {"dashboard": raw, "meta": {}}, {"dashboard": raw, "overwrite": True}):
        d = normalize(body, source="file")
        assert (d["uid"], d["title"], d["tags"], d["description"], d["refresh"], d["timezone"]) == \
            ("u1", "T", ["a"], "d", "30s", "utc")
        assert d["time"] == {"from": "now-1h", "to": "now"}
        assert (d["source"], d["editable"], d["graphTooltip"], d["links"]) == ("file", False, 1, [{"title": "x", "url": "/y"}])
    assert normalize({"panels": [], "refresh": False})["refresh"] == ""
    assert normalize({"panels": []})["time"] == {"from": "now-6h", "to": "now"}


def test_annotations_on_prometheus_are_kept_and_others_become_warnings() -> None:
    d = normalize({"panels": [], "annotations": {"list": [
        {"builtIn": 1, "datasource": "-- Grafana --", "name": "Annotations & Alerts", "enable": True},
        {"name": "Deploys", "datasource": "$datasource", "expr": "changes(kube_deployment_status_observed_generation[5m]) > 0",
         "titleFormat": "{{deployment}}", "tagKeys": "namespace", "step": "60s", "enable": True},
        {"name": "Logs", "datasource": {"type": "loki", "uid": "l"}, "expr": "{job=\"x\"}"},
        {"name": "Tags", "datasource": "-- Grafana --", "type": "tags", "tags": ["deploy"]},
        "junk",
    ]}})
    assert [(a["name"], a["expr"], a["titleFormat"], a["tagKeys"]) for a in d["annotations"]] == \
        [("Deploys", "changes(kube_deployment_status_observed_generation[5m]) > 0", "{{deployment}}", "namespace")]
    assert d["warnings"] == [
        "annotation 'Logs' uses data source 'loki'; it is not shown",
        "annotation 'Tags' uses data source 'grafana'; it is not shown",
        "annotations.list[4]: expected an object, got a string; ignored",
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "a dashboard is a JSON object, got a list"),
        ("x", "a dashboard is a JSON object, got a string"),
        (None, "a dashboard is a JSON object, got null"),
        ({"title": "no panels"}, "not a Grafana dashboard: it has neither 'panels' nor 'rows'"),
        ({"dashboard": {"title": "x"}}, "not a Grafana dashboard: it has neither 'panels' nor 'rows'"),
        ({"panels": "x"}, "panels: expected a list, got a string"),
        ({"panels": {}}, "panels: expected a list, got an object"),
        ({"rows": 7}, "rows: expected a list, got a number"),
        ({"panels": [], "title": 42}, "title: expected a string, got a number"),
        ({"panels": [], "uid": 7}, "uid: expected a string, got a number"),
        ({"panels": [], "tags": "a,b"}, "tags: expected a list, got a string"),
        ({"panels": [], "tags": [1]}, "tags: expected a list of strings"),
        ({"panels": [], "time": "now-6h"}, "time: expected an object, got a string"),
        ({"panels": [], "time": {"from": 0}}, "time: 'from' and 'to' must be strings"),
        ({"panels": [], "refresh": 30}, "refresh: expected a string such as \"30s\", got a number"),
        ({"panels": [], "templating": []}, "templating: expected an object, got a list"),
        ({"panels": [], "templating": {"list": {}}}, "templating.list: expected a list, got an object"),
        ({"rows": ["x"]}, "rows[0]: expected an object, got a string"),
        ({"rows": [{"panels": 3}]}, "rows[0].panels: expected a list, got a number"),
        ({"panels": [], "links": {}}, "links: expected a list, got an object"),
    ],
)
def test_dashboard_level_errors_name_the_field(raw: Any, message: str) -> None:
    with pytest.raises(DashboardError) as exc:
        normalize(raw)
    assert message in str(exc.value)
    assert isinstance(exc.value, DecodeError)


@pytest.mark.parametrize(
    ("panel", "reason"),
    [
        ("garbage", "panels[1]: expected an object, got a string"),
        (None, "panels[1]: expected an object, got null"),
        ({"type": "timeseries", "gridPos": None}, "panels[1].gridPos: expected an object with numbers x, y, w, h, got null"),
        ({"type": "timeseries", "gridPos": {"x": "a"}}, "panels[1].gridPos: expected an object with numbers x, y, w, h"),
        ({"type": "timeseries", "targets": 7}, "panels[1].targets: expected a list, got a number"),
        ({"type": "timeseries", "targets": ["up"]}, "panels[1].targets[0]: expected an object, got a string"),
        ({"type": "timeseries", "targets": [{"expr": 5}]}, "panels[1].targets[0].expr: expected a string, got a number"),
        ({"type": "timeseries", "title": 3}, "panels[1].title: expected a string, got a number"),
        ({"type": "timeseries", "options": []}, "panels[1].options: expected an object, got a list"),
        ({"type": "timeseries", "fieldConfig": {"defaults": []}},
         "panels[1].fieldConfig.defaults: expected an object, got a list"),
        ({"type": "timeseries", "datasource": 5}, "datasource: expected a string or an object, got a number"),
        ({"type": "timeseries", "maxDataPoints": "many"}, "panels[1].maxDataPoints: expected a number, got a string"),
        ({"type": 12}, "panels[1].type: expected a panel type name, got a number"),
        ({"type": "graph", "yaxes": "left"}, "panels[1].yaxes: expected a list, got a string"),
        ({"type": "table-old", "styles": ["x"]}, "panels[1].styles[0]: expected an object, got a string"),
    ],
)
def test_a_bad_panel_is_marked_unsupported_and_the_rest_renders(panel: Any, reason: str) -> None:
    good = {"id": 1, "type": "stat", "title": "ok", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4},
            "targets": [{"expr": "up"}]}
    d = normalize({"panels": [good, panel]})
    ps = panels(d)
    assert [p["supported"] for p in ps] == [True, False]
    assert ps[0]["title"] == "ok" and ps[0]["targets"][0]["expr"] == "up"
    assert any(reason in u for u in ps[1]["unsupported"]), ps[1]["unsupported"]
    orjson.dumps(d)


def test_load_json_limits_and_errors() -> None:
    assert load_json(b'{"panels": []}') == {"panels": []}
    with pytest.raises(DashboardError, match=r"not valid JSON: .*line 1 column"):
        load_json(b'{"panels": [', "upload.json")
    with pytest.raises(DashboardError, match="a dashboard is a JSON object, got a list"):
        load_json(b"[1]")
    big = b'{"panels": [], "description": "' + b"x" * MAX_DASHBOARD_BYTES + b'"}'
    with pytest.raises(DashboardError, match=r"upload.json: \d+ bytes is over the 10 MiB limit"):
        load_json(big, "upload.json")


# --- the fixtures the browser tests use ---------------------------------------


def test_node_exporter_style_fixture() -> None:
    d = normalize(fixture("node-exporter-style.json"))
    assert [(r["title"], r["collapsed"]) for r in d["rows"]] == [
        ("Quick CPU / Mem / Disk", False), ("Basic CPU / Mem / Net / Disk", False),
        ("Distribution", False), ("CPU / Memory / Filesystem Detail", True)]
    by = {p["title"]: p for p in panels(d)}
    assert (by["CPU Busy"]["type"], by["Uptime"]["type"], by["CPU Cores"]["options"]["graphMode"]) == ("gauge", "stat", "area")
    assert by["Uptime"]["fieldConfig"]["defaults"]["unit"] == "s"
    assert by["CPU Basic"]["type"] == "timeseries"
    assert by["CPU Basic"]["options"]["legend"] == {"showLegend": True, "displayMode": "table", "placement": "right",
                                                    "calcs": ["max", "mean", "lastNotNull"]}
    assert by["CPU Basic"]["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"] == "percent"
    assert [t["legendFormat"] for t in by["CPU Basic"]["targets"]] == ["Busy System", "Busy User", "Busy Iowait", "Idle"]
    assert not by["Memory Distribution"]["supported"]
    assert by["Filesystems"]["type"] == "table" and by["Filesystems"]["targets"][0]["format"] == "table"
    assert [(v["name"], v["query"]) for v in d["variables"]] == [
        ("job", "label_values(node_uname_info, job)"), ("node", 'label_values(node_uname_info{job="$job"}, instance)')]
    assert [a["name"] for a in d["annotations"]] == ["Reboots"] and d["warnings"] == []
    assert all(t["expr"] for p in panels(d) for t in p["targets"])


def test_modern_fixture() -> None:
    d = normalize(fixture("modern-host.json"))
    assert [(r["title"], r["repeat"], r["collapsed"]) for r in d["rows"]] == [
        (None, None, False), ("Network $device", "device", False), ("Load", None, True)]
    types = {p["type"] for p in panels(d)}
    assert types == {"timeseries", "stat", "gauge", "bargauge", "table", "text"}
    assert all(p["supported"] for p in panels(d))
    assert [v["type"] for v in d["variables"]] == ["datasource", "query", "query", "query", "custom", "interval"]
    assert d["variables"][1]["query"] == "label_values(node_uname_info, job)"


# --- robustness: nothing but DashboardError comes out -----------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 50) | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["graph", "singlestat", "table-old", "row", "timeseries", "stat", "text", "gauge",
                       "prometheus", "-- Mixed --", "$ds", "250px", "custom", "interval", "query"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "panels", "rows", "gridPos", "x", "y", "w", "h", "targets", "expr", "span",
                         "height", "collapsed", "collapse", "title", "yaxes", "legend", "seriesOverrides",
                         "thresholds", "colors", "gauge", "valueMaps", "styles", "datasource", "templating",
                         "list", "query", "options", "fieldConfig", "defaults", "overrides", "repeat",
                         "alias", "format", "show", "values", "op", "value", "name", "minSpan", "id"]),
        inner, max_size=6),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(_json)
def test_garbage_gives_a_dashboard_or_a_dashboard_error(raw: Any) -> None:
    for body in (raw, {"panels": raw}, {"rows": raw}, {"panels": [raw]}, {"rows": [{"panels": [raw]}]}):
        try:
            d = normalize(body)
        except DashboardError:
            continue
        orjson.dumps(d)


def test_duplicate_panel_ids_are_made_unique() -> None:
    d = normalize({"panels": [{"id": 2, "type": "stat", "gridPos": {"x": 0, "y": 0, "w": 4, "h": 4}},
                              {"id": 2, "type": "stat", "gridPos": {"x": 4, "y": 0, "w": 4, "h": 4}},
                              {"type": "stat", "gridPos": {"x": 8, "y": 0, "w": 4, "h": 4}}]})
    ids = [p["id"] for p in panels(d)]
    assert ids[0] == 2 and len(set(ids)) == 3


@pytest.mark.parametrize(
    ("options", "reduce", "defaults"),
    [
        # Grafana 6.2-6.7: options.fieldOptions
        ({"fieldOptions": {"calcs": ["lastNotNull"], "values": False,
                           "defaults": {"unit": "bytes", "decimals": 1, "min": 0, "max": 100, "title": "Mem",
                                        "thresholds": [{"color": "red", "value": 80}, {"color": "green", "value": None}],
                                        "mappings": [{"id": 0, "type": 1, "value": "0", "text": "off"},
                                                     {"id": 1, "type": 2, "from": "1", "to": "5", "text": "low"}]},
                           "overrides": []}, "orientation": "auto"},
         {"values": False, "calcs": ["lastNotNull"], "fields": ""},
         {"unit": "bytes", "decimals": 1, "min": 0, "max": 100, "displayName": "Mem",
          "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 80}]},
          "mappings": [{"type": "value", "options": {"0": {"text": "off", "index": 0}}},
                       {"type": "range", "options": {"from": 1, "to": 5, "result": {"text": "low", "index": 1}}}]}),
        # Grafana 6.0-6.1: options.valueOptions beside thresholds, valueMappings, minValue, maxValue
        ({"valueOptions": {"unit": "percent", "decimals": 0, "stat": "avg"}, "minValue": 0, "maxValue": 100,
          "thresholds": [{"index": 0, "color": "green", "value": None}, {"index": 1, "color": "red", "value": 90}],
          "valueMappings": []},
         {"values": False, "calcs": ["mean"], "fields": ""},
         {"unit": "percent", "decimals": 0, "min": 0, "max": 100,
          "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 90}]}}),
    ],
)
@pytest.mark.parametrize("ptype", ["stat", "gauge", "bargauge"])
def test_grafana_6_single_value_options_are_migrated(ptype: str, options: dict[str, Any], reduce: dict[str, Any],
                                                     defaults: dict[str, Any]) -> None:
    p = one_panel({"type": ptype, "options": options})
    assert p["supported"] and p["options"]["reduceOptions"] == reduce
    assert "fieldOptions" not in p["options"] and "valueOptions" not in p["options"]
    assert {k: p["fieldConfig"]["defaults"].get(k) for k in defaults} == defaults


def test_grafana_7_hide_from_graph_is_viz() -> None:
    p = one_panel({"type": "timeseries", "fieldConfig": {
        "defaults": {"custom": {"hideFrom": {"graph": True, "legend": False, "tooltip": False}}},
        "overrides": [{"matcher": {"id": "byName", "options": "a"},
                       "properties": [{"id": "custom.hideFrom", "value": {"graph": True, "legend": True}}]}]}})
    assert p["fieldConfig"]["defaults"]["custom"]["hideFrom"] == {"legend": False, "tooltip": False, "viz": True}
    assert p["fieldConfig"]["overrides"][0]["properties"][0]["value"] == {"legend": True, "viz": True}


def test_a_query_variable_saved_without_a_query_uses_its_definition() -> None:
    (v,) = variables({"name": "j", "type": "query", "query": {"qryType": 1, "refId": "X"},
                      "definition": "label_values(up, job)"})
    assert v["query"] == "label_values(up, job)"


@pytest.mark.parametrize("name", ["node-exporter-style.json", "modern-host.json"])
def test_normalize_leaves_its_input_alone(name: str) -> None:
    raw = fixture(name)
    raw["panels" if "panels" in raw else "rows"].append(
        {"type": "timeseries", "fieldConfig": {"defaults": {"custom": {"hideFrom": {"graph": True}}}, "overrides": []}})
    before = json.dumps(raw, sort_keys=True)
    first = normalize(raw)
    assert json.dumps(raw, sort_keys=True) == before
    assert normalize(raw) == first
