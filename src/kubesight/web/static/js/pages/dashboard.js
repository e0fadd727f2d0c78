// A dashboard (Grafana's JSON model, normalized by the server): variables, rows, panels on the 24-column
// grid, shared time range and refresh. `/` shows the home dashboard, `/d/{uid}` any other.
import {boot, h, clear, pageRoot, errorBox, api, url, timeRange, refresh, autoInterval, parseDuration}
  from "../core.js";
import {mountTimePicker} from "../timepicker.js";
import {ALL, expandValue, msToDuration, builtins, interpolate} from "../dashboard/interpolate.js";
import {resolveOptions, pickCurrent, stateOf, dependencies} from "../dashboard/variables.js";
import {repeatPanel, placeItems, gridStyle, heightPx} from "../dashboard/grid.js";
import {PanelView} from "../dashboard/panels.js";
import {safeHref} from "../dashboard/markdown.js";

const css = document.createElement("link");
css.rel = "stylesheet"; css.href = new URL("../../css/dashboard.css", import.meta.url);
document.head.append(css);

const root = pageRoot();
document.body.dataset.dashboardState = "loading";

// The Prometheus API calls variable queries need.
const fetchers = {
  labelValues: (label, match, start, end) => api.get(`/api/v1/label/${encodeURIComponent(label)}/values`,
    {"match[]": match, start: start / 1000, end: end / 1000}),
  labelNames: (match, start, end) => api.get("/api/v1/labels", {"match[]": match, start: start / 1000, end: end / 1000}),
  instant: (expr, t) => api.post("/api/v1/query", {query: expr, time: t / 1000}),
};

class DashboardPage {
  constructor(d) {
    this.d = d;
    // `options` are the ones in use (resolved); `savedOptions` what the dashboard listed (custom, interval...).
    this.vars = d.variables.filter((v) => v.name).map((v) => ({...v, savedOptions: v.options, options: [], currentValue: null,
      error: null}));
    this.views = new Set();     // PanelViews on the page
    this.pending = new Set();   // views queried and not settled
    this.stale = new Set();     // views that need a query when they become visible
    this.visible = new Set();
    this.unseen = new Set();    // observed views the IntersectionObserver has not reported on yet
    this.busy = 0;              // variable resolutions under way
    this.io = new IntersectionObserver((entries) => this.onIntersect(entries), {rootMargin: "200px 0px"});
  }

  // ---- variables -------------------------------------------------------------------
  scope() {
    const s = {};
    for (const v of this.vars) {
      const st = stateOf(v);
      if (v.type === "interval") {
        const r = timeRange.get();
        const fix = (x) => (typeof x === "string" && x.startsWith("$__auto_interval") ? this.autoIntervalOf(v, r) : x);
        st.value = Array.isArray(st.value) ? st.value.map(fix) : fix(st.value);
      }
      s[v.name] = st;
    }
    return s;
  }

  autoIntervalOf(v, r = timeRange.get()) {
    return msToDuration(autoInterval(r.start, r.end, {widthPx: v.auto_count || 30, minIntervalMs: parseDuration(v.auto_min) || 0}));
  }

  async resolve(v) {
    const r = timeRange.get();
    // Variable queries see the time built-ins too ($__range in query_result(...[$__range]), as in Grafana).
    const scope = {...builtins({start: r.start, end: r.end, dashboard: this.d.title,
      intervalMs: autoInterval(r.start, r.end, {widthPx: 1000})}), ...this.scope()};
    const res = await resolveOptions(v, scope, {start: r.start, end: r.end}, fetchers, (x) => this.autoIntervalOf(x, r));
    v.options = res.options; v.error = res.error || null;
    const fromUrl = url.getAll(`var-${v.name}`);
    const wanted = v.currentValue !== null ? v.currentValue
      : fromUrl.length ? (v.multi ? fromUrl : fromUrl[0]) : v.current?.value;
    v.currentValue = pickCurrent(v, v.options, wanted);
  }

  async resolveAll(onlyNames = null) {
    const names = this.vars.map((v) => v.name);
    for (const v of this.vars) {  // in order: a variable only uses the ones before it (as in Grafana)
      if (onlyNames && !onlyNames.has(v.name)) continue;
      await this.resolve(v);
      if (onlyNames) for (const w of this.vars) if (dependencies(w, names).includes(v.name)) onlyNames.add(w.name);
    }
  }

  // A variable changed: everything that depends on it re-resolves, then the panels re-query.
  async setVariable(v, value) {
    v.currentValue = value;
    this.writeUrl();
    const names = this.vars.map((x) => x.name);
    const changed = new Set([v.name]);
    const todo = new Set();
    for (const w of this.vars) {
      if (w === v) continue;
      if (dependencies(w, names).some((n) => changed.has(n))) { todo.add(w.name); changed.add(w.name); }
    }
    this.busy++; this.updateState();
    try { if (todo.size) await this.resolveAll(todo); } finally { this.busy--; }
    this.writeUrl();
    this.renderVarBar();
    this.layout();
  }

  writeUrl() {
    const obj = {};
    for (const v of this.vars) {
      if (v.type === "constant" || v.type === "datasource" || v.type === "unknown") continue;
      obj[`var-${v.name}`] = Array.isArray(v.currentValue) ? (v.currentValue.length ? v.currentValue : null) : v.currentValue;
    }
    url.set(obj);
  }

  renderVarBar() {
    this.barCtrl?.abort();  // the previous pickers' document listeners
    this.barCtrl = new AbortController();
    const bar = clear(this.varBar);
    for (const v of this.vars) {
      if (v.hide === 2 || v.type === "constant") continue;
      const label = v.hide === 1 ? null : h("span", {class: "ks-var-label", title: v.description || null}, v.label || v.name);
      bar.append(h("div", {class: "ks-var", dataset: {var: v.name}}, label, this.picker(v),
        v.error ? h("span", {class: "ks-var-error", title: v.error, role: "alert"}, "⚠ " + v.error) : null));
    }
    bar.hidden = !bar.children.length;
  }

  picker(v) {
    if (v.type === "textbox") {
      const inp = h("input", {type: "text", value: v.currentValue ?? "", "aria-label": v.label || v.name, class: "ks-var-input"});
      inp.addEventListener("change", () => this.setVariable(v, inp.value));
      return inp;
    }
    if (!v.multi) {
      const sel = h("select", {"aria-label": v.label || v.name, class: "ks-var-select"},
        v.options.map((o) => h("option", {value: o.value, selected: o.value === v.currentValue}, o.text)));
      if (!v.options.length) sel.append(h("option", {value: ""}, "(none)"));
      sel.addEventListener("change", () => this.setVariable(v, sel.value));
      return sel;
    }
    return this.multiPicker(v);
  }

  // A multi-value variable: a button showing the selection, a list of checkboxes (All exclusive).
  multiPicker(v) {
    const cur = new Set(v.currentValue || []);
    const summary = () => {
      const t = stateOf(v).text;
      return Array.isArray(t) ? (t.length ? t.join(" + ") : "(none)") : t;
    };
    const btn = h("button", {type: "button", class: "ks-btn ks-var-multi", "aria-haspopup": "listbox", "aria-label": v.label || v.name}, summary());
    const filter = h("input", {type: "search", placeholder: "Filter", class: "ks-var-filter", "aria-label": "filter values"});
    const list = h("div", {class: "ks-var-list", role: "listbox"});
    const items = v.options.map((o) => {
      const box = h("input", {type: "checkbox", value: o.value, checked: cur.has(o.value)});
      const row = h("label", {class: "ks-var-opt", dataset: {value: o.value}}, box, " ", o.text);
      box.addEventListener("change", () => {
        if (o.value === ALL) { if (box.checked) { cur.clear(); cur.add(ALL); } else cur.delete(ALL); }
        else { cur.delete(ALL); if (box.checked) cur.add(o.value); else cur.delete(o.value); }
        items.forEach(([oo, b]) => { b.checked = cur.has(oo.value); });
      });
      list.append(row);
      return [o, box, row];
    });
    filter.addEventListener("input", () => {
      const q = filter.value.toLowerCase();
      items.forEach(([o, , row]) => { row.hidden = !!q && !o.text.toLowerCase().includes(q); });
    });
    const apply = h("button", {type: "button", class: "ks-btn ks-primary"}, "Apply");
    const pop = h("div", {class: "ks-pop ks-var-pop", hidden: true}, filter, list, h("div", {class: "ks-row-flex"}, apply));
    const wrap = h("div", {class: "ks-pop-anchor"}, btn, pop);
    const close = (commit) => {
      pop.hidden = true;
      if (!commit) return;
      const value = [...cur];
      const before = JSON.stringify(v.currentValue);
      const next = value.length ? value : (v.options[0] ? [v.options[0].value] : []);
      if (JSON.stringify(next) !== before) this.setVariable(v, next);
    };
    btn.addEventListener("click", (e) => { e.stopPropagation(); if (pop.hidden) { pop.hidden = false; filter.focus(); } else close(true); });
    apply.addEventListener("click", () => close(true));
    document.addEventListener("click", (e) => { if (!pop.hidden && !wrap.contains(e.target)) close(true); },
      {signal: this.barCtrl.signal});
    pop.addEventListener("keydown", (e) => { if (e.key === "Escape") close(false); if (e.key === "Enter") close(true); });
    return wrap;
  }

  // ---- layout ----------------------------------------------------------------------
  valuesOf(name) {
    const v = this.vars.find((x) => x.name === name);
    if (!v) return [];
    // A repeat over All makes one copy per option (never one copy for a custom allValue such as .*).
    const st = stateOf(v);
    const {values, custom} = expandValue({...st, allValue: null});
    if (custom) return [];  // All over no options: the panel once, as saved
    return values.map((x) => ({value: x, state: {...st, value: x, text: v.options.find((o) => o.value === x)?.text ?? x}}));
  }

  layout() {
    for (const view of this.views) { this.io.unobserve(view.el); view.destroy(); }
    this.views.clear(); this.pending.clear(); this.stale.clear(); this.visible.clear(); this.unseen.clear();
    clear(this.rowsEl);
    const base = this.scope();
    for (const row of this.d.rows) {
      const copies = row.repeat ? this.valuesOf(row.repeat).map((x) => ({...base, [row.repeat]: x.state})) : [base];
      if (!copies.length) copies.push(base);
      copies.forEach((scope) => this.renderRow(row, scope));
    }
    this.updateState();
  }

  renderRow(row, scope) {
    const grid = h("div", {class: "ks-dgrid"});
    const section = h("div", {class: "ks-drow"});
    let open = !row.collapsed;
    if (row.title !== null && row.title !== undefined && (row.title || this.d.rows.length > 1)) {
      const title = h("span", {}, interpolate(String(row.title), scope, {format: "text"}) || "Row");
      const head = h("button", {type: "button", class: "ks-drow-head", "aria-expanded": String(open)},
        h("span", {class: "ks-drow-caret"}, open ? "▾" : "▸"), title,
        h("span", {class: "ks-drow-count ks-muted"}, ` (${row.panels.length} panel${row.panels.length === 1 ? "" : "s"})`));
      head.addEventListener("click", () => {
        open = !open;
        head.setAttribute("aria-expanded", String(open));
        head.firstChild.textContent = open ? "▾" : "▸";
        if (open) this.fillGrid(grid, row, scope); else this.emptyGrid(grid);
        this.updateState();
      });
      section.append(head);
    }
    section.append(grid);
    this.rowsEl.append(section);
    if (open) this.fillGrid(grid, row, scope);
  }

  fillGrid(grid, row, scope) {
    const items = [];
    for (const p of row.panels) {
      if (p.repeat && this.vars.some((v) => v.name === p.repeat)) {
        const vals = this.valuesOf(p.repeat);
        for (const it of repeatPanel(p, vals.map((x) => x.state))) {
          items.push({panel: p, gridPos: it.gridPos, scope: it.value ? {...scope, [p.repeat]: it.value} : scope});
        }
      } else {
        items.push({panel: p, gridPos: p.gridPos, scope});
      }
    }
    for (const it of placeItems(items)) {
      const view = new PanelView(it.panel, it.scope, {dashboard: this.d.title, onSettled: (v) => this.settled(v)});
      Object.assign(view.el.style, gridStyle(it.gridPos));
      view.el.style.setProperty("--ks-ph", heightPx(it.gridPos.h) + "px");
      grid.append(view.el);
      this.views.add(view);
      if (view.needsQuery) { this.stale.add(view); this.unseen.add(view); this.io.observe(view.el); } else view.run(null);
    }
  }

  emptyGrid(grid) {
    for (const el of [...grid.children]) {
      const view = el.view;
      if (view) { this.io.unobserve(el); view.destroy(); this.views.delete(view); this.pending.delete(view); this.stale.delete(view); this.visible.delete(view); this.unseen.delete(view); }
    }
    clear(grid);
  }

  // ---- querying --------------------------------------------------------------------
  onIntersect(entries) {
    for (const e of entries) {
      const view = e.target.view;
      if (!view) continue;
      this.unseen.delete(view);
      if (e.isIntersecting) { this.visible.add(view); if (this.stale.has(view)) this.query(view); }
      else this.visible.delete(view);
    }
    this.updateState();
  }

  query(view) {
    this.stale.delete(view);
    this.pending.add(view);
    this.updateState();
    const r = timeRange.get();
    view.run({start: r.start, end: r.end, from: r.from, to: r.to});
  }

  settled(view) { this.pending.delete(view); this.updateState(); }

  // Every query panel needs new data: visible ones now, the others when they scroll into view.
  refreshAll() {
    for (const view of this.views) {
      if (!view.needsQuery) continue;
      view.abort(); this.pending.delete(view);
      this.stale.add(view);
      if (this.visible.has(view)) this.query(view);
    }
    this.updateState();
  }

  updateState() {
    document.body.dataset.dashboardState = this.busy || this.pending.size || this.unseen.size ? "loading" : "done";
  }

  // ---- the page --------------------------------------------------------------------
  async mount() {
    const d = this.d;
    document.title = `${d.title || "Dashboard"} · kubesight`;
    // The dashboard's links of type "link" (http(s) or relative URLs only); "dashboards" links need tags search.
    const own = (d.links || []).filter((l) => l.type === "link" && typeof l.url === "string" && safeHref(l.url) !== null)
      .map((l) => h("a", {href: safeHref(l.url), class: "ks-btn ks-dash-link", title: l.tooltip || null,
        target: l.targetBlank ? "_blank" : null, rel: "noopener noreferrer"}, l.title || l.url));
    const links = h("div", {class: "ks-dash-actions"}, own,
      h("a", {href: "/dashboards", class: "ks-btn"}, "All dashboards"),
      h("button", {type: "button", class: "ks-btn", title: "Run every panel's queries again", onclick: () => refresh.now()}, "↻"));
    this.varBar = h("div", {class: "ks-varbar", "aria-label": "variables"});
    this.notes = h("div", {class: "ks-dash-notes"});
    this.rowsEl = h("div", {class: "ks-drows"});
    root.append(h("div", {class: "ks-dash-head"},
      h("h1", {class: "ks-dash-title"}, d.title || d.uid),
      d.tags.length ? h("span", {class: "ks-dash-tags"}, d.tags.map((t) => h("span", {class: "ks-badge"}, t))) : null,
      links), this.varBar, this.notes, this.rowsEl);
    this.showWarnings();
    await this.resolveAll();
    this.writeUrl();
    this.renderVarBar();
    this.layout();
    timeRange.on(async () => {
      // Variables that refresh on time range change (refresh: 2) follow it, then every panel: re-laid out
      // when a value changed (repeats, titles), else just queried again.
      const todo = new Set(this.vars.filter((v) => (v.type === "query" && v.refresh === 2) || v.type === "interval").map((v) => v.name));
      if (!todo.size) { this.refreshAll(); return; }
      const before = JSON.stringify(this.vars.map((v) => [v.currentValue, v.options]));
      this.busy++; this.updateState();
      try { await this.resolveAll(todo); } finally { this.busy--; }
      this.writeUrl();
      if (JSON.stringify(this.vars.map((v) => [v.currentValue, v.options])) === before) { this.refreshAll(); return; }
      this.renderVarBar(); this.layout();
    });
    refresh.on(() => this.refreshAll());
  }

  showWarnings() {
    const warnings = [...this.d.warnings];
    for (const v of this.d.variables) for (const u of v.unsupported || []) warnings.push(`variable ${v.name || "?"}: ${u}`);
    // The server keeps Prometheus annotations; this renderer does not draw them yet: say so rather than drop them.
    for (const a of this.d.annotations || []) {
      if (a.enable && !a.hide) warnings.push(`annotation ${JSON.stringify(a.name)} (${a.expr}) is not drawn on the graphs`);
    }
    if (!warnings.length) return;
    const note = h("div", {class: "ks-warning ks-dash-warning", role: "status"},
      h("button", {type: "button", class: "ks-icon-btn ks-dash-dismiss", title: "Dismiss", "aria-label": "Dismiss",
        onclick: () => note.remove()}, "×"),
      h("b", {}, "Parts of this dashboard are not shown:"), h("ul", {}, warnings.map((w) => h("li", {}, w))));
    this.notes.append(note);
  }
}

// On a server that started minutes ago, the home dashboard's hour would show a sliver at its right edge:
// until there is more, it opens on the shortest of 5, 15 or 30 minutes that holds all the data.
function homeFrom(from) {
  if (!boot.home || !boot.dataSince) return null;
  const age = Date.now() - boot.dataSince;
  const want = [[5, "now-5m"], [15, "now-15m"], [30, "now-30m"]].find(([m]) => age <= m * 60e3);
  const span = (f) => { const m = /^now-(\d+)([mh])$/.exec(f || ""); return m ? m[1] * (m[2] === "h" ? 60 : 1) : Infinity; };
  return want && want[0] < span(from) ? want[1] : null;
}

async function main() {
  const uid = boot.uid;
  if (!uid) { root.append(errorBox("no dashboard named in the address", "dashboard")); document.body.dataset.dashboardState = "done"; return; }
  let d;
  try {
    d = await api.json(`/api/ui/dashboards/${encodeURIComponent(uid)}`);
  } catch (e) {
    root.append(errorBox(e.message, `dashboard ${uid}`),
      h("p", {}, h("a", {href: "/dashboards"}, "See all dashboards")));
    document.body.dataset.dashboardState = "done";
    return;
  }
  timeRange.setDefault(homeFrom(d.time?.from) || d.time?.from || "now-6h", d.time?.to || "now");
  if (!url.get("refresh") && d.refresh && parseDuration(d.refresh)) refresh.set(d.refresh);
  mountTimePicker();
  const page = new DashboardPage(d);
  window.ksDashboard = page;
  try {
    await page.mount();
  } catch (e) {
    console.warn("dashboard:", e);
    root.append(errorBox(e.message || String(e), "dashboard"));
    document.body.dataset.dashboardState = "done";
  }
}

main();
