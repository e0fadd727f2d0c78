"""Any Grafana dashboard JSON to the one normalized shape the browser renders.

Grafana has stored dashboards in two layouts: ``rows[].panels[]`` with 12-column
``span`` widths and pixel row heights (schemaVersion < 16, still common on
grafana.com), and one flat ``panels`` list placed on a 24-column grid by
``gridPos``, where ``row`` panels split the list and a collapsed row carries
its panels inside it. :func:`normalize` reads either (old rows are laid out as
Grafana's own upgrade lays them out) into :class:`Dashboard`: rows of panels,
each panel's ``gridPos`` relative to its row, legacy panels converted
(:mod:`.legacy`), targets on data sources other than Prometheus left out, and
every feature kubesight cannot render listed in the panel's ``unsupported`` or
the dashboard's ``warnings`` instead of being dropped. docs/dashboards.md
describes the shape; the TypedDicts below are that contract in code.

A dashboard-level problem (not a JSON object, no ``panels``/``rows``, a field of
the wrong type) raises :class:`DashboardError` naming the field; a bad panel
only makes that panel unsupported, with the reason.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator
from typing import Any, Literal, TypedDict

import orjson

from kubesight.errors import DecodeError
from kubesight.web.dashboards import legacy
from kubesight.web.dashboards._check import (
    PanelError,
    number,
    opt_dict,
    opt_int,
    opt_list,
    opt_str,
    type_name,
)
from kubesight.web.dashboards.variables import Variable, normalize_variable

# 10 MiB: Node Exporter Full (grafana.com 1860), among the largest dashboards
# people import, is ~0.5 MiB; ten times its size refuses a bomb, not a dashboard.
MAX_DASHBOARD_BYTES = 10 << 20

SUPPORTED_TYPES = frozenset({"timeseries", "stat", "gauge", "bargauge", "table", "text"})
# The transformations kubesight's table renderer applies (the built-in dashboards use them);
# any other is handed through in ``transformations`` and listed as ignored.
RENDERED_TRANSFORMATIONS = frozenset({"merge", "organize"})
_GRID_COLUMNS = 24
# Grafana's old-layout upgrade: a grid unit is 30 px plus an 8 px margin, panels
# are at least 90 px high, a row without a height is 250 px, a panel without a span is 4/12.
_CELL_PX, _MARGIN_PX, _MIN_PANEL_PX, _DEFAULT_ROW_PX, _DEFAULT_SPAN = 30, 8, 90, 250, 4
# A panel saved without a gridPos gets Grafana's default size.
_DEFAULT_GRID = {"w": 12, "h": 8}
_VAR_REF = re.compile(r"^\$\{?([A-Za-z0-9_]+)(?::[a-z]+)?\}?$|^\[\[([A-Za-z0-9_]+)\]\]$")
# Data source names that say which non-Prometheus plugin they are (a plain name string
# is otherwise taken to be Prometheus: kubesight is the Prometheus data source).
_NON_PROMETHEUS_NAMES = ("loki", "elasticsearch", "influxdb", "graphite", "mysql", "postgres", "tempo",
                         "jaeger", "zipkin", "cloudwatch", "testdata", "opentsdb", "mssql")


class DashboardError(DecodeError):
    """Not a Grafana dashboard, or a dashboard-level field of the wrong type (the message names it)."""


class GridPos(TypedDict):
    x: int
    y: int
    w: int
    h: int


class Target(TypedDict):
    refId: str
    expr: str
    legendFormat: str
    instant: bool
    range: bool
    format: Literal["time_series", "table", "heatmap"]
    interval: str
    intervalFactor: int
    hide: bool


class FieldConfig(TypedDict):
    defaults: dict[str, Any]
    overrides: list[Any]


class Panel(TypedDict):
    id: int
    type: str
    originalType: str
    title: str
    description: str
    gridPos: GridPos
    supported: bool
    unsupported: list[str]
    targets: list[Target]
    interval: str
    maxDataPoints: int | None
    repeat: str | None
    repeatDirection: Literal["h", "v"]
    maxPerRow: int | None
    options: dict[str, Any]
    fieldConfig: FieldConfig
    transformations: list[Any]
    links: list[Any]
    timeFrom: str
    timeShift: str
    transparent: bool
    content: str
    mode: Literal["markdown", "html"]


class Row(TypedDict):
    title: str | None
    collapsed: bool
    repeat: str | None
    panels: list[Panel]


class Annotation(TypedDict):
    name: str
    expr: str
    enable: bool
    hide: bool
    iconColor: str
    step: str
    titleFormat: str
    textFormat: str
    tagKeys: str
    useValueForTime: bool


# ``from`` is a Python keyword: the functional syntax spells the key.
Time = TypedDict("Time", {"from": str, "to": str})


class Dashboard(TypedDict):
    uid: str
    title: str
    tags: list[str]
    description: str
    source: str
    editable: bool
    time: Time
    refresh: str
    timezone: str
    graphTooltip: int
    variables: list[Variable]
    rows: list[Row]
    links: list[Any]
    annotations: list[Annotation]
    warnings: list[str]


def load_json(data: bytes | str, where: str = "dashboard", limit: int = MAX_DASHBOARD_BYTES) -> dict[str, Any]:
    """Decode a dashboard file or body: a JSON object of at most ``limit`` bytes, else DashboardError."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > limit:
        raise DashboardError(f"{where}: {size} bytes is over the {limit >> 20} MiB limit for a dashboard")
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DashboardError(f"{where}: not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise DashboardError(f"{where}: a dashboard is a JSON object, got {type_name(value)}")
    return value


def unwrap(raw: dict[str, Any]) -> dict[str, Any]:
    """The dashboard inside Grafana's ``{"dashboard": ..., "meta"|"overwrite": ...}`` wrappers, or ``raw``."""
    inner = raw.get("dashboard")
    if isinstance(inner, dict) and "panels" not in raw and "rows" not in raw:
        return inner
    return raw


def is_dashboard(raw: dict[str, Any]) -> bool:
    return "panels" in raw or "rows" in raw


class _Context:
    """What panels need from the dashboard: its ``__inputs`` and data source variables."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.inputs: dict[str, str] = {}
        inputs = raw.get("__inputs")
        if isinstance(inputs, list):
            for i in inputs:
                if isinstance(i, dict) and isinstance(i.get("name"), str):
                    plugin = i.get("pluginId")
                    self.inputs[i["name"]] = plugin if isinstance(plugin, str) and plugin else "prometheus"
        # Grafana's "export for sharing" puts library panels' models under __elements.
        elements = raw.get("__elements")
        self.elements: dict[str, dict[str, Any]] = {
            k: v["model"] for k, v in elements.items()
            if isinstance(v, dict) and isinstance(v.get("model"), dict)
        } if isinstance(elements, dict) else {}
        self.ds_vars: dict[str, str] = {}
        templating = raw.get("templating")
        if isinstance(templating, dict) and isinstance(templating.get("list"), list):
            for v in templating["list"]:
                if isinstance(v, dict) and v.get("type") == "datasource" and isinstance(v.get("name"), str):
                    q = v.get("query")
                    self.ds_vars[v["name"]] = q if isinstance(q, str) and q else "prometheus"

    def kind(self, ref: Any) -> str:
        """The plugin type a data source reference resolves to ("default" when none is named)."""
        if ref is None or ref == "":
            return "default"
        if isinstance(ref, dict):
            t, uid = ref.get("type"), ref.get("uid")
            if t == "datasource" or uid in ("grafana", "-- Grafana --", "-- Mixed --", "-- Dashboard --"):
                return self.kind(uid if isinstance(uid, str) else "-- Grafana --")
            if isinstance(t, str) and t:
                return self.kind(t) if t.startswith("$") else t
            return self.kind(uid) if isinstance(uid, str) else "default"
        if not isinstance(ref, str):
            raise PanelError(f"datasource: expected a string or an object, got {type_name(ref)}")
        special = {"-- Grafana --": "grafana", "grafana": "grafana", "-- Mixed --": "mixed",
                   "-- Dashboard --": "dashboard"}
        if ref in special:
            return special[ref]
        m = _VAR_REF.match(ref)
        if m:
            name = m.group(1) or m.group(2)
            return self.inputs.get(name) or self.ds_vars.get(name) or "prometheus"
        low = ref.lower()
        return next((n for n in _NON_PROMETHEUS_NAMES if n in low), "prometheus")


def _is_prometheus(kind: str) -> bool:
    return kind == "default" or "prometheus" in kind


def normalize(raw: Any, source: str = "imported") -> Dashboard:
    """The normalized shape of one Grafana dashboard (see the module docstring)."""
    if not isinstance(raw, dict):
        raise DashboardError(f"a dashboard is a JSON object, got {type_name(raw)}")
    raw = _copy(unwrap(raw))
    if not is_dashboard(raw):
        raise DashboardError("not a Grafana dashboard: it has neither 'panels' nor 'rows'")
    try:
        return _normalize(raw, source)
    except PanelError as exc:
        raise DashboardError(str(exc)) from exc


def _copy(raw: dict[str, Any]) -> dict[str, Any]:
    """A private copy: conversions may change nested objects, and the caller's (often cached) input must not."""
    try:
        copied: dict[str, Any] = orjson.loads(orjson.dumps(raw))  # ~10x faster than deepcopy on big dashboards
    except (orjson.JSONEncodeError, orjson.JSONDecodeError):
        copied = copy.deepcopy(raw)
    return copied


def _field(raw: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    v = raw.get(key)
    if v is None:
        return default
    if not isinstance(v, kind) or (isinstance(v, bool) and kind is not bool):
        raise DashboardError(f"{key}: expected {_kind_name(kind)}, got {type_name(v)}")
    return v


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", list: "a list", dict: "an object", int: "a number", bool: "a boolean"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _normalize(raw: dict[str, Any], source: str) -> Dashboard:
    ctx = _Context(raw)
    title = _field(raw, "title", str, "")
    uid = _field(raw, "uid", str, "")
    tags = _field(raw, "tags", list, [])
    if not all(isinstance(t, str) for t in tags):
        raise DashboardError("tags: expected a list of strings")
    time = _field(raw, "time", dict, {})
    t_from, t_to = time.get("from", "now-6h"), time.get("to", "now")
    if not isinstance(t_from, str) or not isinstance(t_to, str):
        raise DashboardError("time: 'from' and 'to' must be strings such as \"now-6h\"")
    refresh = raw.get("refresh")
    if refresh not in (None, False) and not isinstance(refresh, str):
        raise DashboardError(f"refresh: expected a string such as \"30s\", got {type_name(refresh)}")
    templating = _field(raw, "templating", dict, {})
    var_list = templating.get("list", [])
    if not isinstance(var_list, list):
        raise DashboardError(f"templating.list: expected a list, got {type_name(var_list)}")
    variables = [normalize_variable(v, f"templating.list[{i}]", _safe_kind(ctx)) for i, v in enumerate(var_list)]
    warnings: list[str] = []
    annotations = _annotations(raw, ctx, warnings)

    panels = _field(raw, "panels", list, [])
    rows_raw = _field(raw, "rows", list, [])
    flat: list[tuple[str, Any]] = [(f"panels[{i}]", p) for i, p in enumerate(panels)]
    if rows_raw:
        flat.extend(_upgrade_rows(rows_raw, panels))
    rows = _split_rows(flat, ctx)
    links = [lk for lk in _field(raw, "links", list, []) if isinstance(lk, dict)]
    graph_tooltip = number(raw.get("graphTooltip"))
    return {
        "uid": uid,
        "title": title,
        "tags": list(tags),
        "description": raw["description"] if isinstance(raw.get("description"), str) else "",
        "source": source,
        "editable": source == "imported",
        "time": {"from": t_from, "to": t_to},
        "refresh": refresh if isinstance(refresh, str) else "",
        "timezone": raw["timezone"] if isinstance(raw.get("timezone"), str) else "",
        "graphTooltip": int(graph_tooltip) if graph_tooltip in (0, 1, 2) else 0,
        "variables": variables,
        "rows": rows,
        "links": links,
        "annotations": annotations,
        "warnings": warnings,
    }


def _safe_kind(ctx: _Context) -> Any:
    def kind(ref: Any) -> str:
        try:
            return ctx.kind(ref)
        except PanelError:
            return "unknown"

    return kind


def _annotations(raw: dict[str, Any], ctx: _Context, warnings: list[str]) -> list[Annotation]:
    block = raw.get("annotations")
    items = block.get("list") if isinstance(block, dict) else None
    if not isinstance(items, list):
        return []
    out: list[Annotation] = []
    for i, a in enumerate(items):
        if not isinstance(a, dict):
            warnings.append(f"annotations.list[{i}]: expected an object, got {type_name(a)}; ignored")
            continue
        name = a.get("name") if isinstance(a.get("name"), str) else f"annotation {i}"
        kind = _safe_kind(ctx)(a.get("datasource"))
        if a.get("builtIn") and kind == "grafana":
            continue  # Grafana's own "Annotations & Alerts": kubesight has no annotation store
        expr = a.get("expr")
        if not _is_prometheus(kind) or not isinstance(expr, str) or not expr:
            what = f"data source {kind!r}" if not _is_prometheus(kind) else "no Prometheus expression"
            warnings.append(f"annotation {name!r} uses {what}; it is not shown")
            continue

        def s(key: str, ann: dict[str, Any] = a) -> str:
            v = ann.get(key)
            return v if isinstance(v, str) else ""

        out.append({"name": str(name), "expr": expr, "enable": a.get("enable", True) is not False,
                    "hide": a.get("hide") is True, "iconColor": s("iconColor") or "rgba(0, 211, 255, 1)",
                    "step": s("step"), "titleFormat": s("titleFormat"), "textFormat": s("textFormat"),
                    "tagKeys": s("tagKeys"), "useValueForTime": a.get("useValueForTime") is True})
    return out


# --- layout -----------------------------------------------------------------


def _grid_height(px: Any) -> int:
    """Pixels ("250px" or 250) to grid units, as Grafana's upgrade counts them."""
    n = number(px.strip().removesuffix("px")) if isinstance(px, str) else number(px)
    h = float(n) if n is not None else _DEFAULT_ROW_PX
    return math.ceil(max(h, _MIN_PANEL_PX) / (_CELL_PX + _MARGIN_PX))


class _RowArea:
    """Places old-layout panels left to right in a row of fixed height, wrapping at 24 columns."""

    def __init__(self, height: int, y: int) -> None:
        self.height, self.y = height, y
        self.used = [0] * _GRID_COLUMNS

    def place(self, w: int, h: int) -> tuple[int, int]:
        w = max(1, min(w, _GRID_COLUMNS))
        for _ in range(2):
            # The free run: from the rightmost column with room, leftwards while heights do not rise.
            end = next((i for i in range(_GRID_COLUMNS - 1, -1, -1) if self.used[i] < self.height), None)
            if end is not None:
                start = end
                while start > 0 and self.used[start - 1] < self.height \
                        and self.used[start - 1] <= self.used[start]:
                    start -= 1
                if end - start + 1 >= w:
                    y = max(self.used[start:start + w])
                    for i in range(start, start + w):
                        self.used[i] = max(self.used[i], y + h)
                    return start, self.y + y
            # Grafana wraps by the row height and lets its grid push a taller panel's
            # neighbours down; wrapping below the tallest panel gives the same picture.
            self.y += max(self.height, *self.used)
            self.used = [0] * _GRID_COLUMNS
        return 0, self.y  # unreachable: an empty line always has room


def _upgrade_rows(rows: list[Any], panels: list[Any]) -> list[tuple[str, Any]]:
    """Old ``rows`` as Grafana's flat layout: ``(where, panel)`` with gridPos and row panels."""
    show_rows = any(isinstance(r, dict) and (r.get("collapse") or r.get("showTitle") or r.get("repeat"))
                    for r in rows)
    y = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels
             if isinstance(p, dict) and isinstance(p.get("gridPos"), dict)
             and isinstance(p["gridPos"].get("y"), int) and isinstance(p["gridPos"].get("h"), int)), default=0)
    out: list[tuple[str, Any]] = []
    for ri, row in enumerate(rows):
        where = f"rows[{ri}]"
        if not isinstance(row, dict):
            raise DashboardError(f"{where}: expected an object, got {type_name(row)}")
        if row.get("repeatIteration") is not None:
            continue  # a copy Grafana saved of a repeated row
        row_panels = row.get("panels", [])
        if not isinstance(row_panels, list):
            raise DashboardError(f"{where}.panels: expected a list, got {type_name(row_panels)}")
        height = _grid_height(row.get("height"))
        collapsed = bool(row.get("collapse"))
        row_panel: dict[str, Any] | None = None
        if show_rows:
            title = row.get("title") if isinstance(row.get("title"), str) else ""
            repeat = row.get("repeat") if isinstance(row.get("repeat"), str) else None
            row_panel = {"type": "row", "title": title, "repeat": repeat, "collapsed": collapsed,
                         "gridPos": {"x": 0, "y": y, "w": _GRID_COLUMNS, "h": 1}, "panels": []}
            out.append((where, row_panel))
            y += 1
        area = _RowArea(height, y)
        for pi, p in enumerate(row_panels):
            pwhere = f"{where}.panels[{pi}]"
            if not isinstance(p, dict):
                out.append((pwhere, p))
                continue
            span = number(p.get("span"))
            w = math.floor((span if span is not None and span > 0 else _DEFAULT_SPAN) * _GRID_COLUMNS / 12)
            h = _grid_height(p["height"]) if p.get("height") not in (None, "") else height
            x, py = area.place(w, h)
            placed = {k: v for k, v in p.items() if k not in ("span", "height")}
            placed["gridPos"] = {"x": x, "y": py, "w": w, "h": h}
            min_span = number(p.get("minSpan"))
            if min_span and min_span > 0 and "maxPerRow" not in p:
                placed["maxPerRow"] = _max_per_row(min(_GRID_COLUMNS, min_span * _GRID_COLUMNS / 12))
            if row_panel is not None and collapsed:
                row_panel["panels"].append((pwhere, placed))
            else:
                out.append((pwhere, placed))
        if row_panel is None or not collapsed:
            y = area.y + max(height, *area.used)
    return out


def _max_per_row(min_span: float) -> int:
    """Grafana's minSpan to maxPerRow: the largest divisor of 24 not above 24/minSpan."""
    most = _GRID_COLUMNS / min_span
    return max(f for f in (1, 2, 3, 4, 6, 8, 12, 24) if f <= most) if most >= 1 else 1


def _valid_grid(p: Any) -> GridPos | None:
    g = p.get("gridPos") if isinstance(p, dict) else None
    if not isinstance(g, dict):
        return None
    vals = [number(g.get(k)) for k in ("x", "y", "w", "h")]
    if any(v is None for v in vals):
        return None
    x, y, w, h = (int(v or 0) for v in vals)
    return {"x": max(0, min(x, _GRID_COLUMNS - 1)), "y": max(0, y),
            "w": max(1, min(w, _GRID_COLUMNS)), "h": max(1, h)}


def _sorted(flat: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Grafana orders panels by position (y, then x); a panel without one stays after its predecessor."""
    keyed: list[tuple[tuple[int, int, int], tuple[str, Any]]] = []
    last = (0, 0)
    for n, item in enumerate(flat):
        g = _valid_grid(item[1])
        if g is not None:
            last = (g["y"], g["x"])
        keyed.append(((*last, n), item))
    keyed.sort(key=lambda k: k[0])
    return [item for _, item in keyed]


def _split_rows(flat: list[tuple[str, Any]], ctx: _Context) -> list[Row]:
    rows: list[Row] = [{"title": None, "collapsed": False, "repeat": None, "panels": []}]
    members: list[list[tuple[str, Any]]] = [[]]
    for w, p in _sorted(flat):
        if isinstance(p, dict) and p.get("type") == "row" and not p.get("repeatPanelId"):
            title = p.get("title")
            repeat = p.get("repeat")
            rows.append({"title": title if isinstance(title, str) else str(title or ""),
                         "collapsed": p.get("collapsed") is True,
                         "repeat": repeat if isinstance(repeat, str) and repeat else None, "panels": []})
            members.append([])
            nested = p.get("panels")
            if isinstance(nested, list):
                for i, child in enumerate(nested):
                    if isinstance(child, tuple):  # from _upgrade_rows: (where, panel)
                        members[-1].append((str(child[0]), child[1]))
                    else:
                        members[-1].append((f"{w}.panels[{i}]", child))
            elif nested is not None:
                members[-1].append((f"{w}.panels", nested))
            continue
        if isinstance(p, dict) and (p.get("repeatPanelId") or p.get("repeatIteration")):
            continue  # a copy Grafana saved of a repeated panel: the repeat makes it again
        members[-1].append((w, p))
    ids = _IdSource(m[1] for ms in members for m in ms)
    seen: set[int] = set()
    for row, ms in zip(rows, members, strict=True):
        row["panels"] = _layout_row([_panel(p, w, ctx, ids) for w, p in ms])
        for panel in row["panels"]:
            if panel["id"] in seen:  # copied panels often share an id; the renderer keys on it
                panel["id"] = ids.take()
            seen.add(panel["id"])
    if not rows[0]["panels"] and len(rows) > 1:
        rows.pop(0)
    return rows


class _IdSource:
    """Panel ids as saved, and fresh ones (above every saved id) for panels without."""

    def __init__(self, panels: Iterator[Any]) -> None:
        self.next = 1 + max((p["id"] for p in panels if isinstance(p, dict) and isinstance(p.get("id"), int)
                             and not isinstance(p.get("id"), bool)), default=0)

    def take(self) -> int:
        self.next += 1
        return self.next - 1


def _layout_row(panels: list[tuple[Panel, bool]]) -> list[Panel]:
    """Positions relative to the row's first line; panels saved without one go below the others."""
    placed = [p for p, ok in panels if ok]
    top = min((p["gridPos"]["y"] for p in placed), default=0)
    for p in placed:
        p["gridPos"]["y"] -= top
    bottom = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in placed), default=0)
    for p, ok in panels:
        if not ok:
            p["gridPos"] = {"x": 0, "y": bottom, "w": _DEFAULT_GRID["w"], "h": _DEFAULT_GRID["h"]}
            bottom += _DEFAULT_GRID["h"]
    return [p for p, _ in panels]


# --- panels -----------------------------------------------------------------


def _blank(ptype: str, pid: int) -> Panel:
    return {"id": pid, "type": ptype, "originalType": ptype, "title": "", "description": "",
            "gridPos": {"x": 0, "y": 0, "w": _DEFAULT_GRID["w"], "h": _DEFAULT_GRID["h"]},
            "supported": False, "unsupported": [], "targets": [], "interval": "", "maxDataPoints": None,
            "repeat": None, "repeatDirection": "h", "maxPerRow": None, "options": {},
            "fieldConfig": {"defaults": {}, "overrides": []}, "transformations": [], "links": [],
            "timeFrom": "", "timeShift": "", "transparent": False, "content": "", "mode": "markdown"}


def _panel(raw: Any, where: str, ctx: _Context, ids: _IdSource) -> tuple[Panel, bool]:
    """One panel and whether it had a usable gridPos; garbage gives an unsupported panel saying why."""
    if not isinstance(raw, dict):
        p = _blank("unknown", ids.take())
        p["unsupported"].append(f"{where}: expected an object, got {type_name(raw)}")
        return p, False
    lib = raw.get("libraryPanel")
    if isinstance(lib, dict) and isinstance(lib.get("uid"), str) and lib["uid"] in ctx.elements:
        raw = {**ctx.elements[lib["uid"]], **{k: raw[k] for k in ("id", "gridPos") if k in raw}}
    pid = raw.get("id")
    p = _blank(raw["type"] if isinstance(raw.get("type"), str) else "unknown",
               pid if isinstance(pid, int) and not isinstance(pid, bool) else ids.take())
    grid = _valid_grid(raw)
    if grid is not None:
        p["gridPos"] = grid
    try:
        _fill_panel(p, raw, where, ctx)
    except PanelError as exc:
        p["supported"] = False
        p["unsupported"].insert(0, str(exc))
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
        # Legacy conversion met a shape no Grafana wrote: this panel only.
        p["supported"] = False
        p["unsupported"].insert(0, f"{where}: could not be read ({type(exc).__name__}: {exc})")
    if grid is None and "gridPos" in raw:
        p["supported"] = False
        p["unsupported"].insert(0, f"{where}.gridPos: expected an object with numbers x, y, w, h, "
                                   f"got {type_name(raw['gridPos'])}")
    return p, grid is not None


def _fill_panel(p: Panel, raw: dict[str, Any], where: str, ctx: _Context) -> None:
    if not isinstance(raw.get("type"), str) or not raw["type"]:
        raise PanelError(f"{where}.type: expected a panel type name, got {type_name(raw.get('type'))}")
    ptype = raw["type"]
    p["title"] = opt_str(raw, "title", where)
    p["description"] = opt_str(raw, "description", where)
    p["interval"] = opt_str(raw, "interval", where)
    p["maxDataPoints"] = opt_int(raw, "maxDataPoints", where)
    repeat = opt_str(raw, "repeat", where)
    p["repeat"] = repeat or None
    p["repeatDirection"] = "v" if raw.get("repeatDirection") == "v" else "h"
    p["maxPerRow"] = opt_int(raw, "maxPerRow", where)
    p["links"] = [lk for lk in opt_list(raw, "links", where) if isinstance(lk, dict)]
    p["timeFrom"] = opt_str(raw, "timeFrom", where)
    p["timeShift"] = opt_str(raw, "timeShift", where)
    p["transparent"] = raw.get("transparent") is True
    notes = p["unsupported"]
    supported = True
    transformations = opt_list(raw, "transformations", where)
    if ptype == "graph":
        p["type"] = "timeseries"
        p["options"], fc, more = legacy.convert_graph(raw, where)
        p["fieldConfig"] = {"defaults": fc["defaults"], "overrides": fc["overrides"]}
        notes.extend(more)
    elif ptype in ("singlestat", "grafana-singlestat-panel"):
        p["type"], p["options"], fc, more = legacy.convert_singlestat(raw, where)
        p["fieldConfig"] = {"defaults": fc["defaults"], "overrides": fc["overrides"]}
        notes.extend(more)
    elif ptype == "table-old" or (ptype == "table" and isinstance(raw.get("styles"), list)):
        p["type"] = "table"
        p["options"], fc, transformations, more = legacy.convert_table_old(raw, where)
        p["fieldConfig"] = {"defaults": fc["defaults"], "overrides": fc["overrides"]}
        notes.extend(more)
    elif ptype in SUPPORTED_TYPES:
        p["options"] = dict(opt_dict(raw, "options", where))
        fc_raw = opt_dict(raw, "fieldConfig", where)
        defaults = fc_raw.get("defaults", {})
        overrides = fc_raw.get("overrides", [])
        if not isinstance(defaults, dict):
            raise PanelError(f"{where}.fieldConfig.defaults: expected an object, got {type_name(defaults)}")
        if not isinstance(overrides, list):
            raise PanelError(f"{where}.fieldConfig.overrides: expected a list, got {type_name(overrides)}")
        p["fieldConfig"] = {"defaults": dict(defaults), "overrides": list(overrides)}
        if ptype in ("stat", "gauge", "bargauge") and ("fieldOptions" in p["options"] or "valueOptions" in p["options"]):
            p["options"], d, o = legacy.convert_pre7_options(p["options"], p["fieldConfig"]["defaults"],
                                                             p["fieldConfig"]["overrides"])
            p["fieldConfig"] = {"defaults": d, "overrides": o}
        if ptype == "timeseries":
            legacy.hide_from_viz(p["fieldConfig"])  # type: ignore[arg-type]
        if ptype == "text":
            _text(p, raw, where)
    else:
        supported = False
        notes.append(f"panel type {ptype!r} is not supported")
    _complete_field_config(p["fieldConfig"])
    p["transformations"] = transformations
    for t in transformations:
        tid = t.get("id") if isinstance(t, dict) else None
        if tid not in RENDERED_TRANSFORMATIONS and not (isinstance(t, dict) and t.get("disabled") is True):
            notes.append(f"transformation {tid!r} is ignored")
    if isinstance(raw.get("libraryPanel"), dict) and "targets" not in raw and "options" not in raw:
        supported = False
        notes.append("library panels are not supported (the panel's model lives in the Grafana it came from)")
    if raw.get("alert"):
        notes.append("the panel's alert rule is ignored (write it as a Prometheus alerting rule)")
    if ptype not in ("text",) and supported:
        p["targets"] = _targets(raw, where, ctx, notes)
    elif not supported:
        try:
            p["targets"] = _targets(raw, where, ctx, [])
        except PanelError:
            p["targets"] = []
    p["supported"] = supported


def _text(p: Panel, raw: dict[str, Any], where: str) -> None:
    opts = p["options"]
    content = opts.get("content") if "content" in opts else raw.get("content", "")
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise PanelError(f"{where}.options.content: expected a string, got {type_name(content)}")
    mode = opts.get("mode") if "mode" in opts else raw.get("mode", "markdown")
    if mode not in ("markdown", "html"):
        if mode not in (None, "text"):
            p["unsupported"].append(f"text mode {mode!r} is shown as markdown")
        mode = "markdown"
    p["content"], p["mode"] = content, "html" if mode == "html" else "markdown"


def _complete_field_config(fc: FieldConfig) -> None:
    d = fc["defaults"]
    if not isinstance(d.get("custom"), dict):
        d["custom"] = {}
    if not isinstance(d.get("mappings"), list):
        d["mappings"] = []
    t = d.get("thresholds")
    if not isinstance(t, dict) or not isinstance(t.get("steps"), list):
        d["thresholds"] = copy.deepcopy(legacy.DEFAULT_THRESHOLDS)
    fc["overrides"] = [o for o in fc["overrides"] if isinstance(o, dict)]


_REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _targets(raw: dict[str, Any], where: str, ctx: _Context, notes: list[str]) -> list[Target]:
    items = opt_list(raw, "targets", where)
    panel_kind = ctx.kind(raw.get("datasource"))
    out: list[Target] = []
    for i, t in enumerate(items):
        tw = f"{where}.targets[{i}]"
        if not isinstance(t, dict):
            raise PanelError(f"{tw}: expected an object, got {type_name(t)}")
        ref = opt_str(t, "refId", tw) or (_REF_IDS[i] if i < len(_REF_IDS) else f"Q{i}")
        kind = ctx.kind(t["datasource"]) if t.get("datasource") not in (None, "") else panel_kind
        if kind == "mixed":
            kind = "default"
        if not _is_prometheus(kind):
            notes.append(f"target {ref}: data source {kind!r} is not Prometheus; skipped")
            continue
        instant = t.get("instant") is True
        fmt = opt_str(t, "format", tw, "time_series")
        if fmt not in ("time_series", "table", "heatmap"):
            notes.append(f"target {ref}: format {fmt!r} is read as time_series")
            fmt = "time_series"
        # Grafana 4's ``step`` is left out: Grafana's Prometheus data source no longer reads it, and
        # dashboards still carry it (Node Exporter Full: "step": 240) without meaning a 4-minute step.
        interval = opt_str(t, "interval", tw)
        out.append({
            "refId": ref,
            "expr": opt_str(t, "expr", tw),
            "legendFormat": opt_str(t, "legendFormat", tw),
            "instant": instant,
            "range": t["range"] is True if isinstance(t.get("range"), bool) else not instant,
            "format": fmt,  # type: ignore[typeddict-item]
            "interval": interval,
            "intervalFactor": opt_int(t, "intervalFactor", tw, 1) or 1,
            "hide": t.get("hide") is True,
        })
    return out
