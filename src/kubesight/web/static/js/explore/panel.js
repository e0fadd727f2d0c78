// One query panel: the editor, tabs Graph / Table / Explain, and the query's stats.
import {h, clear, query, queryRange, timeRange, autoInterval, formatDuration, fmtTime, labelsToString} from "../core.js";
import {Graph, alignMatrix} from "../chart.js";
import {Editor} from "./editor.js";
import {renderTable} from "./table.js";
import {renderExplain} from "./explain.js";
import {parseErrorPosition} from "./lang.js";
import {parseQuery} from "./parse.js";
import {formatPromTime, parsePromTime, parseStep} from "./state.js";

const TABS = [["graph", "Graph"], ["table", "Table"], ["explain", "Explain"]];
let n = 0;

export class Panel {
  // host: {addPanel(state), duplicate(panel), remove(panel), changed(), remember(expr)}
  constructor(host, state = {}) {
    this.host = host;
    this.id = ++n;
    this.tab = state.tab || "graph";
    this.stacked = !!state.stacked;
    this.stepMs = state.stepMs || null;
    this.momentMs = state.momentMs || null;
    this.executed = "";  // the expression last run (what the URL and the results show)
    this.ast = null;
    this.graph = null;
    this.ctrl = null;

    const run = h("button", {type: "button", class: "ks-btn ks-primary kx-run", title: "Execute (Enter)", onclick: () => this.execute()}, "Execute");
    const dup = h("button", {type: "button", class: "ks-btn kx-dup", title: "Duplicate this query", onclick: () => host.duplicate(this)}, "Duplicate");
    const rm = h("button", {type: "button", class: "ks-btn kx-remove", title: "Remove this query", "aria-label": "Remove query", onclick: () => host.remove(this)}, "✕");
    const top = h("div", {class: "kx-top"});
    this.editor = new Editor(top, {value: state.expr || "", onExecute: () => this.execute(), onParsed: (ast) => { this.ast = ast; }});
    top.append(h("div", {class: "kx-actions"}, run, dup, rm));

    this.tabEls = {};
    const tabs = h("div", {class: "kx-tabs", role: "tablist"}, TABS.map(([id, label]) => {
      this.tabEls[id] = h("button", {type: "button", role: "tab", class: "kx-tab", dataset: {tab: id},
        onclick: () => this.setTab(id)}, label);
      return this.tabEls[id];
    }));

    // graph controls
    this.stepInput = h("input", {type: "text", class: "kx-step", size: 8, "aria-label": "Resolution step",
      placeholder: "auto", value: this.stepMs ? formatDuration(this.stepMs) : "",
      title: "Step between points: empty for automatic (from the panel's width), or a duration like 30s or 1m"});
    this.stepInput.addEventListener("change", () => this.setStep(this.stepInput.value));
    this.resEl = h("span", {class: "kx-res ks-muted"});
    this.stackBtn = h("button", {type: "button", class: "ks-btn kx-stack", "aria-pressed": String(this.stacked),
      onclick: () => this.setStacked(!this.stacked)});
    this.graphBar = h("div", {class: "kx-bar"}, h("label", {}, "Step ", this.stepInput), this.resEl, this.stackBtn);
    // table controls
    this.momentInput = h("input", {type: "text", class: "kx-moment", size: 20, "aria-label": "Evaluation time",
      placeholder: "end of the range", value: this.momentMs ? formatPromTime(this.momentMs) : "",
      title: "Evaluation time (UTC, YYYY-MM-DD HH:mm:ss): empty for the end of the time range"});
    this.momentInput.addEventListener("change", () => this.setMoment(this.momentInput.value));
    this.tableBar = h("div", {class: "kx-bar"}, h("label", {}, "Evaluation time ", this.momentInput), h("span", {class: "kx-moment-shown ks-muted"}));

    this.msgEl = h("div", {class: "kx-msg"});
    this.body = h("div", {class: "kx-body"});
    this.stats = h("div", {class: "kx-stats ks-muted", "aria-live": "polite"});
    this.el = h("section", {class: "ks-panel kx-panel", dataset: {panel: String(this.id)}}, top, tabs, this.msgEl, this.body, this.stats);
    this.renderTabs();
  }

  state() {
    return {expr: this.executed || this.editor.value, tab: this.tab, stacked: this.stacked, stepMs: this.stepMs, momentMs: this.momentMs};
  }

  renderTabs() {
    for (const [id, el] of Object.entries(this.tabEls)) {
      el.classList.toggle("kx-active", id === this.tab);
      el.setAttribute("aria-selected", String(id === this.tab));
    }
    this.stackBtn.textContent = this.stacked ? "Stacked" : "Lines";
    this.stackBtn.title = this.stacked ? "Stacked: click for lines" : "Lines: click to stack";
    this.stackBtn.setAttribute("aria-pressed", String(this.stacked));
  }

  setTab(id) {
    if (id === this.tab) return;
    this.tab = id;
    this.renderTabs();
    this.host.changed();
    this.run();
  }

  setStacked(v) {
    this.stacked = v;
    this.renderTabs();
    this.host.changed();
    if (this.graph) { this.graph.opts.stacking = v ? "normal" : "none"; this.graph.build(); }
  }

  setStep(text) {
    text = text.trim();
    const ms = text ? parseStep(text) : null;
    if (text && !ms) { this.showMsg(`"${text}" is not a step: use a duration like 15s or 1m, or seconds`, "bad"); return; }
    this.stepMs = ms;
    this.host.changed();
    this.run();
  }

  setMoment(text) {
    text = text.trim();
    const ms = text ? parsePromTime(text) : null;
    if (text && ms === null) { this.showMsg(`"${text}" is not a time: use YYYY-MM-DD HH:mm:ss (UTC), an ISO date or epoch seconds`, "bad"); return; }
    this.momentMs = ms;
    this.host.changed();
    this.run();
  }

  showMsg(text, kind) {
    clear(this.msgEl);
    if (text) this.msgEl.append(h("div", {class: kind === "bad" ? "ks-error" : "ks-warning", role: "alert"}, text));
  }

  // Execute: what the editor holds becomes the panel's query (history, URL), then runs.
  execute() {
    const expr = this.editor.value.trim();
    this.executed = expr;
    if (expr) this.host.remember(expr);
    this.host.changed();
    this.run();
  }

  // Runs the executed query for the current tab; errors are shown in the panel, never thrown.
  async run() {
    const expr = this.executed;
    this.ctrl?.abort();
    const ctrl = this.ctrl = new AbortController();
    this.showMsg(null);
    if (!expr) { this.clearBody(); clear(this.stats); return; }
    const tab = this.tab;
    this.el.classList.add("kx-loading");
    const t0 = performance.now();
    try {
      // A query that does not parse is not sent: its error is marked in the editor and said in the panel.
      const parsed = await parseQuery(expr, {signal: ctrl.signal});
      if (ctrl.signal.aborted) return;
      if (parsed.error) {
        if (expr === this.editor.value.trim()) this.editor.setError(parsed.error.message);
        this.showMsg(parsed.error.message, "bad");
        this.clearBody();  // no stale result under the error
        clear(this.stats);
        return;
      }
      if (expr === this.editor.value.trim()) this.editor.setError(null);
      if (tab === "graph" && ["stringLiteral", "matrixSelector"].includes(unparen(parsed.ast).type)) {
        // Prometheus refuses these as range queries; say why here rather than send a doomed request.
        const what = unparen(parsed.ast).type === "stringLiteral" ? "a string" : "a range vector";
        this.clearBody();
        clear(this.stats);
        this.showMsg(`This query returns ${what}, which cannot be graphed: see the Table tab.`, "warn");
        return;
      }
      if (tab === "graph") await this.runGraph(expr, ctrl, t0);
      else if (tab === "table") await this.runTable(expr, ctrl, t0);
      else this.runExplain(parsed.ast);
    } catch (e) {
      if (e.name === "AbortError" || ctrl.signal.aborted) return;
      const msg = e.message || String(e);
      // a parse error is marked in the editor; every error is also said in the panel
      if (parseErrorPosition(msg, expr) && expr === this.editor.value.trim()) this.editor.setError(msg);
      this.showMsg(msg, "bad");
      this.clearBody();
      clear(this.stats);
    } finally {
      if (this.ctrl === ctrl) this.el.classList.remove("kx-loading");
    }
  }

  clearBody() {
    this.graph?.destroy(); this.graph = null;
    clear(this.body);
  }

  range() { const r = timeRange.get(); return {start: r.start, end: r.end}; }

  async runGraph(expr, ctrl, t0) {
    const {start, end} = this.range();
    if (!this.graph || !this.body.contains(this.graph.el)) {
      this.clearBody();
      const gel = h("div", {class: "kx-graph"});
      this.body.append(this.graphBar, gel);
      this.graph = new Graph(gel, {height: 320, stacking: this.stacked ? "normal" : "none",
        legend: {mode: "table", calcs: ["min", "max", "mean", "lastNotNull"]}});
    }
    const width = this.graph.plotEl.clientWidth || this.body.clientWidth || 1000;
    // Floored at 15 s, the default scrape and collection interval, as Grafana's Explore does: a finer
    // step only draws each sample as a staircase. Set the step by hand for faster scrapes.
    const auto = autoInterval(start, end, {widthPx: width, minIntervalMs: 15_000});
    const step = this.stepMs || auto;
    const s = Math.floor(start / step) * step, e = Math.floor(end / step) * step;
    Object.assign(this.el.dataset, {start: String(s), end: String(e), step: String(step)});
    const data = await queryRange(expr, s, e, step / 1000, {stats: true, signal: ctrl.signal});
    const rtt = performance.now() - t0;
    if (ctrl.signal.aborted) return;
    const tDraw = performance.now();
    const frame = alignMatrix(data.result, s, e, step);
    this.graph.setData({x: frame.x, series: frame.series.map((x) => ({name: labelsToString(x.metric), values: x.values}))});
    this.lastRender = performance.now() - tDraw;
    const points = frame.x.length;
    this.resEl.textContent = `${this.stepMs ? "" : "auto: "}${formatDuration(step)} step, ${points.toLocaleString()} points per series`;
    if (!data.result.length) this.showMsg("Empty query result", "warn");
    this.renderStats(data, rtt, {step, series: data.result.length});
  }

  async runTable(expr, ctrl, t0) {
    const at = this.momentMs || this.range().end;
    this.el.dataset.time = String(at);
    const data = await query(expr, at, {stats: true, signal: ctrl.signal});
    const rtt = performance.now() - t0;
    if (ctrl.signal.aborted) return;
    this.clearBody();
    const tel = h("div", {class: "kx-table"});
    this.body.append(this.tableBar, tel);
    this.tableBar.querySelector(".kx-moment-shown").textContent = `at ${fmtTime(at)} (${formatPromTime(at)} UTC)`;
    renderTable(tel, data);
    const count = ["scalar", "string"].includes(data.resultType) ? 1 : data.result.length;
    this.renderStats(data, rtt, {series: count});
  }

  runExplain(ast) {
    this.clearBody();
    clear(this.stats);
    this.body.append(h("div", {class: "kx-explain"}, renderExplain(ast, {onRun: (sub) => this.host.addPanel({expr: sub, tab: "table"}, true)})));
  }

  renderStats(data, rtt, {step, series}) {
    clear(this.stats);
    const st = data.stats || {};
    const server = st.timings?.execTotalTime;
    const samples = st.samples?.totalQueryableSamples;
    const item = (k, label, v) => h("span", {class: "kx-stat", dataset: {stat: k}}, label + ": ", h("b", {}, v));
    this.stats.append(...[
      item("series", "Result series", String(series)),
      samples !== undefined ? item("samples", "Samples", Number(samples).toLocaleString()) : null,
      server !== undefined ? item("server", "Server time", fmtMs(server * 1000)) : null,
      item("load", "Load time", fmtMs(rtt)),
      step ? item("step", "Step", formatDuration(step)) : null,
    ].filter(Boolean));
  }

  destroy() { this.ctrl?.abort(); this.graph?.destroy(); this.el.remove(); }
}

function unparen(n) { while (n?.type === "parenExpr") n = n.expr; return n || {}; }

function fmtMs(ms) { return ms < 10 ? ms.toFixed(2) + " ms" : ms < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(2) + " s"; }
