// Dashboard panels: the shell every panel shares (title, description, loading, error, No data, Explore link,
// data-state) and the renderers for timeseries, stat, gauge, bargauge, table, text and unsupported panels.
import {h, clear, query, queryRange, autoInterval, parseDuration, formatDuration} from "../core.js";
import {Graph, CALCS, alignMatrix, seriesName, colorOf, hexA} from "../chart.js";
import {formatValue} from "../units.js";
import {interpolate, builtins, DEFAULT_SCRAPE_MS} from "./interpolate.js";
import {fieldConfig, thresholdColor, absoluteSteps, mapValue, seriesColor, displayName} from "./fields.js";
import {renderMarkdown, htmlToSafe, escapeHtml} from "./markdown.js";

const QUERY_TYPES = new Set(["timeseries", "stat", "gauge", "bargauge", "table"]);

// "1m", ">30s", "" -> ms (0 when not a duration)
export function intervalMs(text) {
  const s = String(text || "").trim().replace(/^>/, "");
  return parseDuration(s) || 0;
}

// Does this target run as an instant query in this panel? (Grafana: "Instant", or "Both" outside graphs.)
export function isInstant(panelType, t) {
  return t.instant && (!t.range || panelType !== "timeseries");
}

// The Explore link for a panel's queries (Prometheus' /graph URL parameters); `rel` ({from, to} as the
// dashboard writes them, e.g. now-6h) keeps a relative range relative there too.
export function exploreHref(exprs, start, end, rel = null) {
  const p = new URLSearchParams();
  if (rel?.from && rel?.to) { p.set("from", rel.from); p.set("to", rel.to); }
  exprs.forEach((e, i) => {
    p.set(`g${i}.expr`, e); p.set(`g${i}.tab`, "0");
    p.set(`g${i}.range_input`, formatDuration(Math.max(1000, Math.round((end - start) / 1000) * 1000)));
    p.set(`g${i}.end_input`, new Date(end).toISOString());
  });
  return "/graph?" + p.toString();
}

// A panel's own relative time (timeFrom "1h": the last hour of the dashboard's range) and shift
// (timeShift "1d": a day earlier), as Grafana's "Query options" set them.
export function panelRange(panel, range, scope = {}) {
  let {start, end} = range;
  const from = intervalMs(interpolate(panel.timeFrom || "", scope, {format: "raw"}).replace(/^now-/, ""));
  if (from) start = end - from;
  const shift = intervalMs(interpolate(panel.timeShift || "", scope, {format: "raw"}).replace(/^now-/, ""));
  if (shift) { start -= shift; end -= shift; }
  return {start, end};
}

// ---- fetching -----------------------------------------------------------------

// Runs a panel's visible targets: {frames: [{target, instant, series: [{metric, values?, value?}]}], x, stepMs}.
export async function fetchPanel(panel, {start, end, scope, widthPx, signal, dashboard}) {
  const targets = panel.targets.filter((t) => !t.hide && t.expr && t.expr.trim());
  const raw = (t) => interpolate(t, scope, {format: "raw"});
  // One step for the panel: the widest minimum interval among its targets, over the panel's width.
  const panelMin = intervalMs(raw(panel.interval));
  // Without a panel "Min interval", Grafana's Prometheus data source floors the step at its scrape
  // interval (15 s unless set): a shorter step only repeats each sample as a staircase.
  let minMs = panelMin || DEFAULT_SCRAPE_MS;
  for (const t of targets) minMs = Math.max(minMs, intervalMs(raw(t.interval)));
  const factor = Math.max(1, ...targets.map((t) => t.intervalFactor || 1));
  const stepMs = autoInterval(start, end, {widthPx: Math.max(100, widthPx), maxDataPoints: panel.maxDataPoints,
    minIntervalMs: minMs}) * factor;
  // The last step at `end` (whole seconds), the first at or before `start`: the newest data shows even when
  // the step is minutes long (Grafana aligns to multiples of the step, which hides up to a step of fresh data).
  const e = Math.floor(end / 1000) * 1000, s = e - Math.ceil((e - start) / stepMs) * stepMs;
  const exprs = [];
  const frames = await Promise.all(targets.map(async (t) => {
    const scrapeMs = intervalMs(raw(t.interval)) || panelMin || DEFAULT_SCRAPE_MS;
    const b = builtins({start, end, intervalMs: stepMs, scrapeMs, dashboard});
    const expr = interpolate(t.expr, {...scope, ...b});
    exprs.push(expr);
    if (isInstant(panel.type, t)) {
      const data = await query(expr, end, {signal});
      const series = data.resultType === "scalar"
        ? [{metric: {}, value: parseFloat(data.result[1]), time: data.result[0] * 1000}]
        : (data.result || []).map((r) => ({metric: r.metric, value: parseFloat(r.value[1]), time: r.value[0] * 1000}));
      return {target: t, instant: true, series};
    }
    const data = await queryRange(expr, s, e, stepMs / 1000, {signal});
    const m = alignMatrix(data.resultType === "matrix" ? data.result : [], s, e, stepMs);
    // NaN and ±Inf (histogram_quantile over no requests, x/0) are gaps on a graph, as in Grafana.
    for (const sr of m.series) for (let i = 0; i < sr.values.length; i++) if (sr.values[i] !== null && !Number.isFinite(sr.values[i])) sr.values[i] = null;
    return {target: t, instant: false, series: m.series, x: m.x};
  }));
  const n = Math.floor((e - s) / stepMs) + 1;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = (s + i * stepMs) / 1000;
  return {frames, x, stepMs, exprs};
}

// Every series of a panel's frames, named and configured: [{name, metric, refId, values|null, value, cfg}].
function seriesList(panel, frames, scope = {}) {
  const out = [];
  for (const f of frames) {
    // Legend formats may use variables too ("{{$label}}", "$instance {{mode}}"), as in Grafana.
    const legend = interpolate(f.target.legendFormat || "", scope, {format: "raw"});
    for (const s of f.series) {
      const base = seriesName(s.metric, legend);
      const cfg0 = fieldConfig(panel.fieldConfig, [base], f.target.refId);
      const name = displayName(cfg0.displayName, base, s.metric);
      const cfg = name === base ? cfg0 : fieldConfig(panel.fieldConfig, [base, name], f.target.refId);
      out.push({name, metric: s.metric, refId: f.target.refId, values: s.values || null, value: s.value ?? null, cfg});
    }
  }
  return out;
}

function reduceSeries(s, calc) {
  if (!s.values) return s.value;
  const fn = (CALCS[calc] || CALCS.lastNotNull)[1];
  return fn(s.values);
}

function fmt(v, cfg) {
  if (v === null || v === undefined || Number.isNaN(v)) return "No data";
  return formatValue(v, cfg.unit || "short", cfg.decimals);
}

// The text and colour one reduced value shows (value mappings first, then unit and thresholds).
function display(v, cfg, index) {
  const mapped = mapValue(v, cfg.mappings);
  const color = mapped?.color ? colorOf(mapped.color) : seriesColor({...cfg, color: cfg.color || {mode: "thresholds"}}, index, v);
  const text = mapped?.text !== undefined && mapped?.text !== "" && mapped?.text !== null ? String(mapped.text) : fmt(v, cfg);
  return {text, color: color || "var(--ks-fg)"};
}

// ---- the panel shell ---------------------------------------------------------------

export class PanelView {
  // panel: the normalized panel; scope: its variable scope; opts: {dashboard (title), onSettled()}
  constructor(panel, scope, opts) {
    this.panel = panel; this.scope = scope; this.opts = opts;
    this.ctrl = null; this.graph = null; this.generation = 0;
    this.title = h("span", {class: "ks-dp-title"});
    this.info = h("span", {class: "ks-dp-info", hidden: true, tabindex: "0", role: "img", "aria-label": "description"}, "i");
    this.spin = h("span", {class: "ks-dp-spin", hidden: true, "aria-label": "loading"});
    this.explore = h("a", {class: "ks-dp-explore", hidden: true, title: "Open the panel's queries in Explore"}, "Explore ↗");
    this.head = h("div", {class: "ks-dp-head"}, this.title, this.info, this.spin, this.explore);
    this.msg = h("div", {class: "ks-dp-msg", hidden: true});
    this.body = h("div", {class: "ks-dp-body"});
    this.el = h("section", {class: "ks-dpanel" + (panel.transparent ? " ks-dp-transparent" : ""),
      dataset: {panelId: String(panel.id), type: panel.type, state: "idle"}}, this.head, this.msg, this.body);
    this.el.view = this;
    this.setScope(scope);
  }

  get needsQuery() { return this.panel.supported && QUERY_TYPES.has(this.panel.type); }

  setScope(scope) {
    this.scope = scope;
    const p = this.panel;
    const title = interpolate(p.title || "", scope, {format: "text"});
    this.title.textContent = title;
    this.title.title = title;
    this.head.hidden = !title && !p.description && !this.needsQuery;
    if (p.description) { this.info.hidden = false; this.info.title = interpolate(p.description, scope, {format: "text"}); }
  }

  setState(state, message) {
    this.el.dataset.state = state;
    this.spin.hidden = state !== "loading";
    this.msg.hidden = !message;
    this.msg.className = "ks-dp-msg" + (state === "error" ? " ks-dp-error" : "");
    this.msg.textContent = message || "";
    if (state !== "loading") this.opts.onSettled?.(this);
  }

  // Static panels render at once; query panels fetch for `range` ({start, end}).
  async run(range) {
    const p = this.panel;
    if (!p.supported) { this.renderUnsupported(); return; }
    if (p.type === "text") { this.renderText(); this.setState("done"); return; }
    if (!this.needsQuery) { this.setState("done"); return; }
    this.ctrl?.abort();
    const ctrl = this.ctrl = new AbortController();
    const gen = ++this.generation;
    this.setState("loading");
    try {
      const rel = !p.timeFrom && !p.timeShift ? {from: range.from, to: range.to} : null;
      range = panelRange(p, range, this.scope);
      const widthPx = this.body.clientWidth || this.el.clientWidth || 600;
      const res = await fetchPanel(p, {...range, scope: this.scope, widthPx, signal: ctrl.signal,
        dashboard: this.opts.dashboard});
      if (gen !== this.generation) return;
      this.explore.hidden = !res.exprs.length;
      this.explore.href = exploreHref(res.exprs, range.start, range.end, rel);
      const empty = res.frames.every((f) => !f.series.length);
      if (empty) { this.clearBody(); this.setState("nodata", "No data"); return; }
      this.last = res;
      this.render(res, range);
      this.watchSize();
      this.setState("done");
    } catch (e) {
      if (e.name === "AbortError" || gen !== this.generation) return;
      this.clearBody();
      this.setState("error", e.message || String(e));
    }
  }

  abort() { this.ctrl?.abort(); }

  // Stat and gauge fit their text and columns to the box: drawn again (from the last data) when it resizes.
  watchSize() {
    if (this.ro || !["stat", "gauge"].includes(this.panel.type)) return;
    let size = `${this.body.clientWidth}x${this.body.clientHeight}`, frame = 0;
    this.ro = new ResizeObserver(() => {
      const now = `${this.body.clientWidth}x${this.body.clientHeight}`;
      if (now === size || !this.last || frame) return;
      size = now;
      frame = requestAnimationFrame(() => { frame = 0; if (this.last && this.el.dataset.state === "done") this.render(this.last); });
    });
    this.ro.observe(this.body);
  }

  clearBody() { this.graph?.destroy(); this.graph = null; clear(this.body); }

  destroy() { this.abort(); this.ro?.disconnect(); this.ro = null; this.last = null; this.clearBody(); }

  render(res, range) {
    const t = this.panel.type;
    if (t === "timeseries") return this.renderGraph(res, range);
    if (this.graph) this.clearBody();
    if (t === "stat") return this.renderStat(res);
    if (t === "gauge") return this.renderGauge(res);
    if (t === "bargauge") return this.renderBarGauge(res);
    if (t === "table") return this.renderTable(res);
  }

  renderUnsupported() {
    const p = this.panel;
    clear(this.body).append(h("div", {class: "ks-dp-unsupported"},
      h("b", {}, `This ${p.originalType || p.type} panel is not shown`),
      h("ul", {}, (p.unsupported.length ? p.unsupported : ["this panel cannot be rendered"]).map((r) => h("li", {}, r)))));
    this.setState("unsupported");
  }

  renderText() {
    const p = this.panel;
    const content = interpolate(p.content || "", this.scope, {format: "raw"});
    const box = h("div", {class: "ks-dp-text"});
    if (p.mode === "html") {
      const safe = htmlToSafe(content);
      if (safe) box.append(safe); else box.append(h("pre", {class: "ks-dp-raw"}, content));
    } else {
      box.innerHTML = renderMarkdown(content);  // every input character is escaped by renderMarkdown
    }
    clear(this.body).append(box);
  }

  // ---- timeseries -----------------------------------------------------------------
  renderGraph(res) {
    const p = this.panel, d = p.fieldConfig.defaults, c = d.custom || {}, o = p.options || {};
    const list = seriesList(p, res.frames, this.scope);
    const n = res.x.length;
    const series = list.map((s, i) => {
      let values = s.values;
      if (!values) { values = new Array(n).fill(null); if (n) values[n - 1] = s.value; }
      if (s.cfg.custom?.transform === "negative-Y") values = values.map((v) => (v === null ? null : -v));
      const hidden = s.cfg.custom?.hideFrom?.viz === true;
      return {name: s.name, values: hidden ? values.map(() => null) : values, color: seriesColor(s.cfg, i)};
    });
    const legend = o.legend || {};
    const opts = {unit: d.unit, decimals: d.decimals, min: d.min ?? undefined, max: d.max ?? undefined,
      stacking: c.stacking?.mode || "none", drawStyle: c.drawStyle || "line", fillOpacity: c.fillOpacity ?? 0,
      lineWidth: c.lineWidth ?? 1,
      legend: {show: legend.showLegend !== false && legend.displayMode !== "hidden",
        mode: legend.displayMode === "table" ? "table" : "list", placement: legend.placement || "bottom",
        calcs: legend.calcs || []},
      thresholds: d.thresholds, thresholdsStyle: c.thresholdsStyle};
    const key = JSON.stringify(opts);
    if (!this.graph || this.graphKey !== key) {
      this.clearBody();
      this.graph = new Graph(h("div", {class: "ks-dp-graph"}), opts);
      this.body.append(this.graph.el);
      this.graphKey = key;
    }
    this.graph.setData({x: res.x, series});
  }

  // ---- stat --------------------------------------------------------------------------
  renderStat(res) {
    const p = this.panel, o = p.options || {};
    const calc = o.reduceOptions?.calcs?.[0] || "lastNotNull";
    const list = seriesList(p, res.frames, this.scope);
    const colorMode = o.colorMode || "value", textMode = o.textMode || "auto";
    const many = list.length > 1;
    const w = this.body.clientWidth || 200, hgt = this.body.clientHeight || 100;
    const horizontal = o.orientation === "horizontal" || (o.orientation !== "vertical" && w > hgt * 1.5);
    const grid = h("div", {class: "ks-stat-grid", style: {
      gridTemplateColumns: horizontal ? `repeat(${Math.min(list.length, 12)}, minmax(0, 1fr))` : "minmax(0, 1fr)"}});
    list.forEach((s, i) => {
      const v = reduceSeries(s, calc);
      const {text, color} = display(v, s.cfg, i);
      const showName = textMode === "name" || textMode === "value_and_name" || (textMode === "auto" && many);
      const showValue = textMode !== "name" && textMode !== "none";
      const cell = h("div", {class: "ks-stat", dataset: {name: s.name}},
        showName ? h("div", {class: "ks-stat-name"}, s.name) : null,
        showValue ? h("div", {class: "ks-stat-value", style: colorMode === "value" ? {color} : {}}, text) : null);
      if (colorMode === "background" || colorMode === "background_solid") {
        cell.style.background = colorMode === "background" ? `linear-gradient(120deg, ${color}, ${hexA(color, 0.75)})` : color;
        cell.classList.add("ks-stat-bg");
      }
      if (o.graphMode === "area" && s.values) cell.append(sparkline(s.values, colorMode === "background" ? "#fff" : color));
      grid.append(cell);
    });
    // One font size for the grid: as large as the cell allows for the longest text.
    const rows = horizontal ? Math.ceil(list.length / 12) : list.length;
    const cellW = w / (horizontal ? Math.min(list.length, 12) : 1), cellH = hgt / Math.max(1, rows);
    const longest = Math.max(3, ...[...grid.querySelectorAll(".ks-stat-value")].map((e) => e.textContent.length));
    const size = Math.max(10, Math.min(44, cellH * (textMode === "value" || !many ? 0.5 : 0.38), (cellW - 28) / (longest * 0.68)));
    grid.style.setProperty("--ks-stat-size", size.toFixed(1) + "px");
    clear(this.body).append(grid);
  }

  // ---- gauge -------------------------------------------------------------------------
  renderGauge(res) {
    const p = this.panel, o = p.options || {};
    const calc = o.reduceOptions?.calcs?.[0] || "lastNotNull";
    const list = seriesList(p, res.frames, this.scope);
    const w = this.body.clientWidth || 200, hgt = this.body.clientHeight || 120;
    const cols = Math.max(1, Math.min(list.length, Math.floor(w / Math.max(90, hgt * 0.9)) || 1));
    const grid = h("div", {class: "ks-gauge-grid", style: {gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))`}});
    list.forEach((s, i) => {
      const v = reduceSeries(s, calc);
      const min = s.cfg.min ?? 0, max = s.cfg.max ?? 100;
      const {text, color} = display(v, s.cfg, i);
      grid.append(h("div", {class: "ks-gauge", dataset: {name: s.name}},
        gaugeSvg(v, min, max, color, absoluteSteps(s.cfg.thresholds, min, max), o.showThresholdMarkers !== false, text),
        o.showThresholdLabels ? null : null,
        list.length > 1 || o.textMode === "value_and_name" ? h("div", {class: "ks-gauge-name"}, s.name) : null));
    });
    clear(this.body).append(grid);
  }

  // ---- bar gauge ---------------------------------------------------------------------
  renderBarGauge(res) {
    const p = this.panel, o = p.options || {};
    const calc = o.reduceOptions?.calcs?.[0] || "lastNotNull";
    const list = seriesList(p, res.frames, this.scope);
    const vertical = o.orientation === "vertical";
    const mode = o.displayMode || "gradient";
    const box = h("div", {class: "ks-bars" + (vertical ? " ks-bars-v" : "")});
    list.forEach((s, i) => {
      const v = reduceSeries(s, calc);
      const min = s.cfg.min ?? 0, max = s.cfg.max ?? 100;
      const {text, color} = display(v, s.cfg, i);
      const frac = v === null || v === undefined || Number.isNaN(v) ? 0 : Math.max(0, Math.min(1, (v - min) / ((max - min) || 1)));
      const steps = absoluteSteps(s.cfg.thresholds, min, max);
      let fill;
      if (mode === "gradient") fill = barGradient(steps, min, max, frac, vertical);
      else if (mode === "lcd") fill = `repeating-${vertical ? "linear-gradient(0deg" : "linear-gradient(90deg"}, ${color} 0 8px, transparent 8px 11px)`;
      else fill = color;
      const bar = h("div", {class: "ks-bar-fill", style: vertical ? {height: `${frac * 100}%`, background: fill} : {width: `${frac * 100}%`, background: fill}});
      box.append(h("div", {class: "ks-bar", dataset: {name: s.name}},
        h("div", {class: "ks-bar-name", title: s.name}, s.name),
        h("div", {class: "ks-bar-track" + (o.showUnfilled === false ? " ks-bar-nounfilled" : "")}, bar),
        h("div", {class: "ks-bar-value", style: {color}}, text)));
    });
    clear(this.body).append(box);
  }

  // ---- table -------------------------------------------------------------------------
  renderTable(res) {
    const p = this.panel;
    const t = buildTable(p, res.frames);
    this.tableState = this.tableState || {sort: (p.options?.sortBy || [])[0] || null};
    const draw = () => {
      const st = this.tableState.sort;
      let rows = t.rows;
      if (st) {
        const col = t.columns.find((c) => c.name === st.displayName || c.key === st.displayName);
        if (col) {
          rows = [...rows].sort((a, b) => cmp(a[col.key], b[col.key]) * (st.desc ? -1 : 1));
        }
      }
      const table = h("table", {class: "ks-table ks-dp-table"},
        p.options?.showHeader === false ? null : h("thead", {}, h("tr", {}, t.columns.map((c) => h("th", {
          class: typeof t.rows[0]?.[c.key] === "number" ? "ks-num" : "", scope: "col",
          "aria-sort": st && (st.displayName === c.name) ? (st.desc ? "descending" : "ascending") : null,
          onclick: () => {
            const cur = this.tableState.sort;
            this.tableState.sort = cur && cur.displayName === c.name ? (cur.desc ? {displayName: c.name, desc: false} : null)
              : {displayName: c.name, desc: true};
            draw();
          }}, c.name, st && st.displayName === c.name ? (st.desc ? " ↓" : " ↑") : "")))),
        h("tbody", {}, rows.map((r) => h("tr", {}, t.columns.map((c) => cell(r[c.key], c.cfg))))));
      clear(this.body).append(h("div", {class: "ks-table-wrap ks-dp-tablewrap"}, table));
    };
    draw();
  }
}

function cmp(a, b) {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, {numeric: true});
}

function cell(v, cfg) {
  if (typeof v !== "number") return h("td", {}, v ?? "");
  const mode = cfg.custom?.cellOptions?.type || cfg.custom?.displayMode || "auto";
  const {text, color} = display(v, cfg, 0);
  const td = h("td", {class: "ks-num"}, text);
  if (mode === "color-text") td.style.color = color;
  else if (mode === "color-background" || mode === "color-background-solid") { td.style.background = hexA(color, 0.85); td.style.color = "#fff"; }
  return td;
}

// Instant (or last) values of every target as rows: label columns, then "Value" (one target) or "Value #A"...
// Rows of different targets with the same labels are merged (Grafana's merge / "series to table").
// organize (exclude, order, rename) applies when the panel has it; column configs come from overrides.
export function buildTable(panel, frames) {
  const single = frames.length === 1;
  const rowsByKey = new Map();
  const labelKeys = new Set();
  const valueKeys = [];
  let hasTime = false;
  for (const f of frames) {
    const vk = single ? "Value" : `Value #${f.target.refId}`;
    valueKeys.push(vk);
    for (const s of f.series) {
      const labels = {...s.metric};
      const key = JSON.stringify(Object.entries(labels).sort());
      let row = rowsByKey.get(key);
      if (!row) { row = {...labels}; rowsByKey.set(key, row); }
      Object.keys(labels).forEach((k) => labelKeys.add(k));
      let v = s.value, time = s.time;
      if (s.values) {
        v = null;
        for (let i = s.values.length - 1; i >= 0; i--) if (s.values[i] !== null) { v = s.values[i]; break; }
      }
      row[vk] = v;
      if (time !== undefined) { row.Time = row.Time ?? fmtTimeCell(time); hasTime = true; }
    }
  }
  const labels = [...labelKeys].sort((a, b) => (a === "__name__" ? -1 : b === "__name__" ? 1 : a < b ? -1 : 1));
  let keys = [...(hasTime ? ["Time"] : []), ...labels, ...valueKeys];
  const org = (panel.transformations || []).find((t) => t?.id === "organize" && !t.disabled)?.options || {};
  const exclude = org.excludeByName || {}, index = org.indexByName || {}, rename = org.renameByName || {};
  keys = keys.filter((k) => !exclude[k]);
  if (Object.keys(index).length) {
    keys = keys.map((k, i) => ({k, i})).sort((a, b) => (index[a.k] ?? 1000 + a.i) - (index[b.k] ?? 1000 + b.i)).map((x) => x.k);
  }
  const columns = [];
  for (const k of keys) {
    const name0 = rename[k] || k;
    const refId = /^Value #(.+)$/.exec(k)?.[1] || (single && k === "Value" ? frames[0].target.refId : undefined);
    const cfg = fieldConfig(panel.fieldConfig, [k, name0], refId);
    if (cfg.custom?.hidden) continue;
    const name = cfg.displayName ? displayName(cfg.displayName, name0, {}) : name0;
    // Label columns keep the text they have; only value columns get units and thresholds.
    columns.push({key: k, name, cfg: valueKeys.includes(k) ? cfg : {...cfg, unit: "string"}});
  }
  return {columns, rows: [...rowsByKey.values()]};
}

function fmtTimeCell(ms) {
  const d = new Date(ms), p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// ---- small SVG pieces ------------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
  kids.forEach((k) => k && el.append(k));
  return el;
}

function sparkline(values, color) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (v !== null && !Number.isNaN(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const el = svg("svg", {class: "ks-spark", viewBox: "0 0 100 30", preserveAspectRatio: "none"});
  if (lo === Infinity) return el;
  const n = values.length, span = hi - lo || 1;
  let d = "", started = false, first = null, last = null;
  values.forEach((v, i) => {
    if (v === null || Number.isNaN(v)) return;
    const x = n > 1 ? (i / (n - 1)) * 100 : 50, y = 28 - ((v - lo) / span) * 26;
    d += `${started ? "L" : "M"}${x.toFixed(2)},${y.toFixed(2)}`; started = true;
    if (first === null) first = x; last = x;
  });
  el.append(svg("path", {d: `${d}L${last},30L${first},30Z`, fill: color, "fill-opacity": "0.18", stroke: "none"}),
    svg("path", {d, fill: "none", stroke: color, "stroke-width": "1.5", "vector-effect": "non-scaling-stroke"}));
  return el;
}

// A 240-degree arc from min to max, the value's arc in its colour, threshold bands outside it.
function gaugeSvg(v, min, max, color, steps, markers, text) {
  const cx = 60, cy = 60, r = 46, a0 = 210, sweep = 240;
  const pos = (x) => Math.max(0, Math.min(1, (x - min) / ((max - min) || 1)));
  const arc = (f0, f1, radius) => {
    const t0 = ((a0 - f0 * sweep) * Math.PI) / 180, t1 = ((a0 - f1 * sweep) * Math.PI) / 180;
    const x0 = cx + radius * Math.cos(t0), y0 = cy - radius * Math.sin(t0), x1 = cx + radius * Math.cos(t1), y1 = cy - radius * Math.sin(t1);
    return `M${x0.toFixed(2)},${y0.toFixed(2)}A${radius},${radius} 0 ${(f1 - f0) * sweep > 180 ? 1 : 0} 1 ${x1.toFixed(2)},${y1.toFixed(2)}`;
  };
  const el = svg("svg", {class: "ks-gauge-svg", viewBox: "0 0 120 100", role: "img"});
  el.append(svg("path", {d: arc(0, 1, r), class: "ks-gauge-track", fill: "none", "stroke-width": "10"}));
  if (markers) {
    steps.forEach((s, i) => {
      const f0 = pos(s.value === -Infinity ? min : s.value), f1 = pos(i + 1 < steps.length ? steps[i + 1].value : max);
      if (f1 > f0) el.append(svg("path", {d: arc(f0, f1, r + 8), fill: "none", stroke: s.color, "stroke-width": "3"}));
    });
  }
  const ok = v !== null && v !== undefined && !Number.isNaN(v);
  if (ok && pos(v) > 0) el.append(svg("path", {d: arc(0, Math.max(0.004, pos(v)), r), fill: "none", stroke: color, "stroke-width": "10"}));
  const label = svg("text", {x: cx, y: cy + 8, "text-anchor": "middle", class: "ks-gauge-value", fill: color});
  label.textContent = text;
  // The text stays inside the arc: its inner width is about 72 of the 120 units, a digit about 0.6 em.
  const size = Math.max(8, Math.min(20, 84 / Math.max(4, text.length)));
  label.setAttribute("font-size", size.toFixed(1));
  el.append(label);
  return el;
}

function barGradient(steps, min, max, frac, vertical) {
  if (!steps.length) return "var(--ks-accent)";
  // Colours along the filled part, stopping where each threshold begins (relative to the filled length).
  const fillMax = min + frac * ((max - min) || 1);
  const stops = [];
  steps.forEach((s, i) => {
    const from = s.value === -Infinity ? min : s.value;
    if (from > fillMax && i > 0) return;
    const at = Math.max(0, Math.min(100, ((from - min) / ((fillMax - min) || 1)) * 100));
    stops.push(`${hexA(s.color, 0.75)} ${at.toFixed(1)}%`);
    stops.push(`${s.color} ${Math.min(100, at + 1).toFixed(1)}%`);
  });
  if (stops.length === 2) return steps[0].color;
  return `linear-gradient(${vertical ? "0deg" : "90deg"}, ${stops.join(", ")})`;
}

export {escapeHtml};
