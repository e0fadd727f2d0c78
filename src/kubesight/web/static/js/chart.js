// Time-series graphs on uPlot: lines, bars or points, stacked or not, a legend with min/max/mean/last,
// click a legend entry to isolate its series, a hover tooltip, and drag to zoom the shared time range.
import {h, clear, theme, timeRange, fmtTime, labelsToString} from "./core.js";
import {formatValue} from "./units.js";

// Grafana's classic palette: people read dashboards by these colours.
export const PALETTE = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0",
  "#508642", "#CCA300", "#447EBC", "#C15C17", "#890F02", "#0A437C", "#6D1F62", "#584477", "#B7DBAB", "#F4D598",
  "#70DBED", "#F9BA8F", "#F29191", "#82B5D8", "#E5A8E2", "#AEA2E0", "#629E51", "#E5AC0E", "#64B0C8", "#E0752D",
  "#BF1B00", "#0A50A1", "#962D82", "#614D93"];

export const CALCS = {
  min: ["Min", (v) => reduce(v, Math.min)], max: ["Max", (v) => reduce(v, Math.max)],
  mean: ["Mean", (v) => { const n = v.filter(ok); return n.length ? n.reduce((a, b) => a + b, 0) / n.length : null; }],
  avg: ["Mean", (v) => CALCS.mean[1](v)],
  sum: ["Total", (v) => { const n = v.filter(ok); return n.length ? n.reduce((a, b) => a + b, 0) : null; }],
  total: ["Total", (v) => CALCS.sum[1](v)],
  lastNotNull: ["Last *", (v) => { for (let i = v.length - 1; i >= 0; i--) if (ok(v[i])) return v[i]; return null; }],
  last: ["Last", (v) => (v.length ? v[v.length - 1] : null)], current: ["Last *", (v) => CALCS.lastNotNull[1](v)],
  firstNotNull: ["First *", (v) => { for (const x of v) if (ok(x)) return x; return null; }],
  first: ["First", (v) => (v.length ? v[0] : null)], count: ["Count", (v) => v.filter(ok).length],
  range: ["Range", (v) => { const a = CALCS.min[1](v), b = CALCS.max[1](v); return a === null ? null : b - a; }],
  diff: ["Difference", (v) => { const a = CALCS.firstNotNull[1](v), b = CALCS.lastNotNull[1](v); return a === null ? null : b - a; }],
};

function ok(x) { return x !== null && x !== undefined && !Number.isNaN(x); }
function reduce(v, f) { let r = null; for (const x of v) if (ok(x)) r = r === null ? x : f(r, x); return r; }

// "{{instance}} {{mode}}" -> "host:9100 idle"; no format -> the series' labels, as Prometheus shows them.
export function seriesName(metric, legendFormat) {
  if (legendFormat && legendFormat !== "__auto") {
    return legendFormat.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, k) => metric[k] ?? "");
  }
  return labelsToString(metric);
}

// A query_range matrix on the step grid [start, end]: x in seconds, null where a series has no point.
// NaN and ±Inf ("NaN", "+Inf", "-Inf") are gaps too: no axis can hold them. Plain loops: this runs on
// a thousand series of 1,440 points.
export function alignMatrix(result, startMs, endMs, stepMs) {
  const n = Math.floor((endMs - startMs) / stepMs) + 1;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = (startMs + i * stepMs) / 1000;
  const s0 = startMs / 1000, st = stepMs / 1000;
  const series = new Array(result.length);
  for (let j = 0; j < result.length; j++) {
    const vs = result[j].values || [];
    const values = new Array(n).fill(null);
    for (let k = 0; k < vs.length; k++) {
      const p = vs[k], i = Math.round((p[0] - s0) / st);
      if (i < 0 || i >= n) continue;
      const f = +p[1];
      if (Number.isFinite(f)) values[i] = f;
    }
    series[j] = {metric: result[j].metric, values};
  }
  return {x, series};
}

function stack(series, percent) {
  const n = series.length ? series[0].values.length : 0;
  const acc = new Float64Array(n), totals = new Float64Array(n);
  if (percent) for (const s of series) s.values.forEach((v, i) => { if (ok(v)) totals[i] += v; });
  return series.map((s) => s.values.map((v, i) => {
    if (!ok(v)) return null;
    acc[i] += percent ? (totals[i] ? v / totals[i] : 0) : v;
    return acc[i];
  }));
}

// Past this many series a graph draws no area fill (a thousand translucent areas overdraw every pixel a
// thousand times) and focuses no series on hover (focusing redraws all the others dimmed at every move).
export const MANY_SERIES = 50;

export class Graph {
  // opts: {unit, decimals, min, max, stacking: "none"|"normal"|"percent", drawStyle: "line"|"bars"|"points",
  //        fillOpacity (0-100), lineWidth, height, legend: {show, mode: "list"|"table", placement, calcs},
  //        onZoom(startMs, endMs) (default: the shared time range)}
  constructor(container, opts = {}) {
    this.el = container; this.opts = opts; this.u = null; this.frame = {x: new Float64Array(0), series: []};
    this.hidden = new Set();
    clear(container).classList.add("ks-graph");
    if (opts.legend?.placement === "right") container.classList.add("ks-legend-right");
    // A fixed height sizes the plot; without one it fills what the container leaves beside the legend.
    this.plotEl = h("div", {class: "ks-plot", style: opts.height ? {height: opts.height + "px", flex: "none"} : {}});
    this.legendEl = h("div", {class: "ks-legend", role: "list"});
    this.tip = h("div", {class: "ks-tooltip", hidden: true});
    container.append(this.plotEl, this.legendEl);
    this.plotEl.append(this.tip);
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(this.plotEl);
    this.offTheme = theme.on(() => this.build());
  }

  size() {
    const legendRight = this.opts.legend?.placement === "right";
    const w = Math.max(120, this.plotEl.clientWidth || this.el.clientWidth - (legendRight ? 200 : 0) || 600);
    const hgt = Math.max(60, this.opts.height || this.plotEl.clientHeight || 260);
    return {width: w, height: hgt};
  }

  resize() { if (this.u) { const s = this.size(); if (s.width !== this.u.width || s.height !== this.u.height) this.u.setSize(s); } }

  setData(frame) {
    this.frame = frame;
    this.hidden = new Set([...this.hidden].filter((n) => frame.series.some((s) => s.name === n)));
    this.build();
  }

  build() {
    const {x, series} = this.frame;
    const o = this.opts, stacking = o.stacking || "none";
    this.u?.destroy(); this.u = null;
    const plotted = stacking === "none" ? series.map((s) => s.values) : stack(series, stacking === "percent");
    const axisColor = theme.css("--ks-fg-muted") || "#888", grid = theme.css("--ks-grid") || "#8883";
    const unit = stacking === "percent" ? "percentunit" : o.unit;
    const fmt = (v) => formatValue(v, unit, o.decimals);
    const many = series.length > MANY_SERIES;
    const fill = many && stacking === "none" ? 0 : o.fillOpacity ?? (stacking !== "none" ? 60 : 10);
    const draw = o.drawStyle || "line";
    const paths = draw === "bars" && uPlot.paths.bars ? uPlot.paths.bars({size: [0.8, 64]}) : undefined;
    const opts = {
      ...this.size(),
      legend: {show: false},
      // focus.prox below zero: uPlot never focuses a series
      cursor: {drag: {x: true, y: false, setScale: false}, focus: {prox: many ? -1 : 24}, points: {size: 6}},
      focus: {alpha: 0.35},
      select: {show: true},
      scales: {x: {time: true}, y: {range: (u, min, max) => yRange(min, max, o, stacking)}},
      axes: [
        {stroke: axisColor, grid: {stroke: grid, width: 1}, ticks: {stroke: grid}},
        {stroke: axisColor, grid: {stroke: grid, width: 1}, ticks: {stroke: grid}, size: axisWidth,
          values: (u, splits) => splits.map(fmt)},
      ],
      series: [{}, ...series.map((s, i) => {
        const color = s.color || PALETTE[i % PALETTE.length];
        return {
          label: s.name, stroke: color, width: o.lineWidth ?? 1,
          fill: fill > 0 && (stacking !== "none" || draw === "bars" || fill) ? hexA(color, fill / 100) : undefined,
          show: !this.hidden.has(s.name), spanGaps: false, paths,
          points: draw === "points" ? {show: true, size: 4, fill: color} : {show: (u, si, i0, i1) => i1 - i0 < 60},
        };
      })],
      bands: stacking !== "none" ? series.slice(1).map((_, i) => ({series: [i + 2, i + 1]})) : [],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 3) return;
          const a = u.posToVal(u.select.left, "x") * 1000, b = u.posToVal(u.select.left + u.select.width, "x") * 1000;
          u.setSelect({left: 0, top: 0, width: 0, height: 0}, false);
          (o.onZoom || ((s, e) => timeRange.set(String(Math.round(s)), String(Math.round(e)))))(a, b);
        }],
        setCursor: [(u) => this.tooltip(u)],
        draw: [(u) => drawThresholds(u, o)],
      },
    };
    // Stacked series fill down to the one beneath (bands); the first fills to zero.
    if (stacking !== "none") opts.series.forEach((s, i) => { if (i > 1) s.fill = hexA(s.stroke, fill / 100); });
    this.u = new uPlot(opts, [x, ...plotted], this.plotEl);
    this.plotEl.append(this.tip);
    this.renderLegend();
  }

  tooltip(u) {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined || u.cursor.left < 0) { this.tip.hidden = true; return; }
    const rows = [];
    this.frame.series.forEach((s, i) => {
      if (this.hidden.has(s.name)) return;
      const v = s.values[idx];
      if (ok(v)) rows.push([s, v, i]);
    });
    if (!rows.length) { this.tip.hidden = true; return; }
    const focused = u.series.findIndex((s, i) => i > 0 && s._focus);
    rows.sort((a, b) => b[1] - a[1]);
    const shown = rows.slice(0, 12);
    const f = rows.find((r) => r[2] + 1 === focused);
    if (f && !shown.includes(f)) shown.push(f);
    clear(this.tip).append(
      h("div", {class: "ks-tip-time"}, fmtTime(this.frame.x[idx] * 1000)),
      ...shown.map(([s, v, i]) => h("div", {class: "ks-tip-row" + (i + 1 === focused ? " ks-focus" : "")},
        h("i", {style: {background: s.color || PALETTE[i % PALETTE.length]}}), h("span", {class: "ks-tip-name"}, s.name),
        h("b", {}, formatValue(v, this.opts.unit, this.opts.decimals)))),
    );
    if (rows.length > shown.length) this.tip.append(h("div", {class: "ks-tip-more"}, `${rows.length - shown.length} more`));
    this.tip.hidden = false;
    const left = u.cursor.left + 16, w = this.tip.offsetWidth;
    this.tip.style.left = (left + w > u.width ? Math.max(0, u.cursor.left - w - 16) : left) + "px";
    this.tip.style.top = Math.max(0, Math.min(u.cursor.top, u.height - this.tip.offsetHeight)) + "px";
  }

  renderLegend() {
    const lg = this.opts.legend || {};
    clear(this.legendEl);
    if (lg.show === false || lg.showLegend === false) { this.legendEl.hidden = true; return; }
    this.legendEl.hidden = false;
    const calcs = (lg.calcs || []).filter((c) => CALCS[c]);
    const table = lg.mode === "table" || lg.displayMode === "table";
    const entries = this.frame.series.map((s, i) => ({s, i, color: s.color || PALETTE[i % PALETTE.length],
      vals: calcs.map((c) => CALCS[c][1](s.values))}));
    const click = (e, name) => this.isolate(name, e.ctrlKey || e.metaKey || e.shiftKey);
    if (table) {
      const t = h("table", {class: "ks-legend-table"},
        h("thead", {}, h("tr", {}, h("th", {}, "Name"), calcs.map((c) => h("th", {}, CALCS[c][0])))),
        h("tbody", {}, entries.map(({s, color, vals}) => h("tr", {
          class: "ks-legend-item" + (this.hidden.has(s.name) ? " ks-off" : ""), role: "listitem", dataset: {name: s.name},
          onclick: (e) => click(e, s.name)},
        h("td", {}, h("i", {style: {background: color}}), s.name),
        vals.map((v) => h("td", {class: "ks-num"}, formatValue(v, this.opts.unit, this.opts.decimals)))))));
      this.legendEl.append(t);
    } else {
      for (const {s, color, vals} of entries) {
        this.legendEl.append(h("span", {class: "ks-legend-item" + (this.hidden.has(s.name) ? " ks-off" : ""),
          role: "listitem", dataset: {name: s.name}, title: "Click to show only this series; Ctrl-click to toggle it",
          onclick: (e) => click(e, s.name)},
        h("i", {style: {background: color}}), s.name,
        vals.map((v, j) => h("span", {class: "ks-calc"}, ` ${CALCS[calcs[j]][0]}: ${formatValue(v, this.opts.unit, this.opts.decimals)}`))));
      }
    }
  }

  // Click: only this series (again: all). Ctrl/Cmd/Shift-click: toggle this one.
  // The series' flags flip and the plot redraws once: setSeries per series recomputes the scales for each.
  isolate(name, toggle) {
    const names = this.frame.series.map((s) => s.name);
    if (toggle) { if (this.hidden.has(name)) this.hidden.delete(name); else this.hidden.add(name); }
    else if (this.hidden.size === names.length - 1 && !this.hidden.has(name)) this.hidden.clear();
    else this.hidden = new Set(names.filter((n) => n !== name));
    if (this.u) {
      this.u.series.forEach((s, i) => { if (i > 0) s.show = !this.hidden.has(names[i - 1]); });
      // the hover dots of hidden series too (uPlot keeps one per series, in order)
      const pts = this.u.over.querySelectorAll(".u-cursor-pt");
      if (pts.length === names.length) pts.forEach((p, k) => { p.style.display = this.hidden.has(names[k]) ? "none" : ""; });
      this.u.setData(this.u.data, true);
    }
    this.legendEl.querySelectorAll(".ks-legend-item").forEach((el) => el.classList.toggle("ks-off", this.hidden.has(el.dataset.name)));
  }

  destroy() { this.ro.disconnect(); this.offTheme(); this.u?.destroy(); this.u = null; }
}

// The y axis as wide as its longest label ("18.6 GiB", "5.27 k ops/s"), so none is cut off.
function axisWidth(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size; // uPlot asks again while converging: keep the first answer
  let w = 40;
  if (values?.length) {
    const ctx = u.ctx; ctx.save(); ctx.font = axis.font?.[0] ?? "12px system-ui";
    for (const v of values) w = Math.max(w, ctx.measureText(String(v)).width);
    ctx.restore();
  }
  return Math.ceil(w / devicePixelRatio) + 18; // ticks and gap
}

function yRange(min, max, o, stacking) {
  if (stacking === "percent") return [0, 1];
  if (min === null || max === null) { min = 0; max = 1; }
  let lo = o.min ?? (min >= 0 ? 0 : min), hi = o.max ?? max;
  if (lo === hi) { hi = lo + (Math.abs(lo) || 1); }
  if (o.max === undefined || o.max === null) hi += (hi - lo) * 0.05;
  return [lo, hi];
}

function drawThresholds(u, o) {
  const mode = o.thresholdsStyle?.mode;
  if (!mode || mode === "off" || !o.thresholds?.steps) return;
  const ctx = u.ctx;
  ctx.save();
  for (const st of o.thresholds.steps) {
    if (st.value === null || st.value === undefined) continue;
    const y = u.valToPos(st.value, "y", true);
    if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
    ctx.strokeStyle = colorOf(st.color); ctx.lineWidth = 1; ctx.setLineDash(mode.includes("dash") ? [6, 4] : []);
    ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
  }
  ctx.restore();
}

// Grafana's named colours as dashboards write them; anything else is used as CSS.
const NAMED = {green: "#73BF69", "dark-green": "#37872D", "semi-dark-green": "#56A64B", red: "#F2495C",
  "dark-red": "#C4162A", "semi-dark-red": "#E02F44", yellow: "#FADE2A", "dark-yellow": "#E0B400", orange: "#FF9830",
  "dark-orange": "#FA6400", blue: "#5794F2", "dark-blue": "#1F60C4", purple: "#B877D9", "dark-purple": "#8F3BB8",
  text: "var(--ks-fg)", transparent: "transparent"};
export function colorOf(c) { return NAMED[c] || c || "#73BF69"; }

export function hexA(color, alpha) {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${alpha})`;
}
