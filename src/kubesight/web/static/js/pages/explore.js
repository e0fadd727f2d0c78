// Explore (/graph): query panels with a PromQL editor, Graph / Table / Explain tabs, query history, and URL
// state in the shape of Prometheus' /graph links (g0.expr, g0.tab, g0.range_input, ...).
import {h, clear, pageRoot, timeRange, refresh, formatDuration} from "../core.js";
import {mountTimePicker} from "../timepicker.js";
import {Panel} from "../explore/panel.js";
import {history} from "../explore/history.js";
import {readState, writeState} from "../explore/state.js";

const css = document.createElement("link");
css.rel = "stylesheet";
css.href = new URL("../../css/explore.css", import.meta.url);
document.head.append(css);

const root = pageRoot();
root.classList.add("kx-page");

// A Prometheus link's range (g0.range_input, g0.end_input) becomes the shared time range, unless the link
// also carries the page's own from/to.
const initial = readState(new URLSearchParams(location.search));
if (initial.rangeMs && !new URLSearchParams(location.search).get("from")) {
  if (initial.endMs) timeRange.set(String(Math.round(initial.endMs - initial.rangeMs)), String(Math.round(initial.endMs)), {push: false});
  else timeRange.set(`now-${formatDuration(initial.rangeMs)}`, "now", {push: false});
}
mountTimePicker();

const panels = [];
const list = h("div", {class: "kx-panels"});
const histList = h("ol", {class: "kx-history-list"});
const histCount = h("span", {class: "ks-muted kx-history-count"});
const histBox = h("details", {class: "ks-panel kx-history"},
  h("summary", {}, "Query history ", histCount),
  h("div", {class: "kx-history-bar"},
    h("button", {type: "button", class: "ks-btn kx-history-clear", onclick: () => { history.clear(); renderHistory(); }}, "Clear history")),
  histList);
let lastFocused = null;

const host = {
  addPanel(state = {}, run = false) {
    const p = new Panel(host, state);
    panels.push(p);
    list.append(p.el);
    p.el.addEventListener("focusin", () => { lastFocused = p; });
    if (state.expr && run) p.execute();
    host.changed();
    return p;
  },
  duplicate(p) {
    const q = new Panel(host, {...p.state(), expr: p.editor.value});
    panels.splice(panels.indexOf(p) + 1, 0, q);
    p.el.after(q.el);
    q.el.addEventListener("focusin", () => { lastFocused = q; });
    if (q.editor.value.trim()) q.execute();
    host.changed();
  },
  remove(p) {
    panels.splice(panels.indexOf(p), 1);
    p.destroy();
    if (lastFocused === p) lastFocused = null;
    if (!panels.length) host.addPanel({});
    host.changed();
  },
  // Writes every panel's state into the URL (replaceState): the link reproduces the view.
  changed() {
    const r = timeRange.get();
    const p = writeState(location.search, panels.map((x) => x.state()), {rangeMs: r.end - r.start, endMs: r.relative ? null : r.end});
    const s = p.toString();
    const next = location.pathname + (s ? "?" + s : "") + location.hash;
    if (next !== location.pathname + location.search + location.hash) window.history.replaceState(null, "", next);
  },
  remember(expr) { history.add(expr); renderHistory(); },
};

function renderHistory() {
  const items = history.list();
  histCount.textContent = `(${items.length})`;
  clear(histList);
  if (!items.length) { histList.append(h("li", {class: "ks-muted"}, "Queries you run appear here.")); return; }
  for (const expr of items) {
    histList.append(h("li", {}, h("button", {type: "button", class: "kx-history-item", title: "Run this query",
      onclick: () => {
        const p = lastFocused && panels.includes(lastFocused) ? lastFocused : panels[0];
        p.editor.value = expr;
        p.execute();
        p.editor.focus();
      }}, expr)));
  }
}

const add = h("button", {type: "button", class: "ks-btn kx-add", onclick: () => host.addPanel({}).editor.focus()}, "+ Add query");
root.append(histBox, list, h("div", {class: "kx-footer"}, add));
renderHistory();

for (const st of initial.panels) host.addPanel(st);
if (!panels.length) host.addPanel({});
// A link's queries run as they are (without going into the history).
panels.forEach((p) => { p.executed = p.editor.value.trim(); p.run(); });
host.changed();
if (!panels[0].editor.value) panels[0].editor.focus();

// For the browser tests and the devtools console.
window.ksExplore = {panels, host};

// The shared range and auto-refresh re-run every panel that has a query.
timeRange.on(() => { host.changed(); panels.forEach((p) => p.run()); });
refresh.on(() => panels.forEach((p) => p.run()));
