// Shared pieces of the status pages: their stylesheet, the page head with refresh controls,
// label chips, state badges, loading/empty/error states, and Go/RFC 3339 time handling.
import {h, clear, errorBox, refresh, fmtAgo, fmtTime, pageRoot} from "../core.js";

const css = document.createElement("link");
css.rel = "stylesheet"; css.href = new URL("../../css/status.css", import.meta.url);
document.head.append(css);

// Go's zero time ("0001-01-01T00:00:00Z") and empty strings mean "never".
export function parseApiTime(s) {
  if (!s || String(s).startsWith("0001-")) return null;
  const t = Date.parse(s);
  return isNaN(t) ? null : t;
}

export function ago(s) { const t = parseApiTime(s); return t === null ? "never" : fmtAgo(t); }

export function when(s) {
  const t = parseApiTime(s);
  return t === null ? h("span", {class: "ks-muted"}, "never") : h("span", {title: fmtTime(t)}, fmtAgo(t));
}

// seconds -> "12.3ms" / "1.204s"
export function secs(v) {
  if (v === null || v === undefined || !isFinite(v)) return "—";
  if (v < 1e-3) return (v * 1e6).toFixed(0) + "µs";
  if (v < 1) return (v * 1e3).toFixed(v < 0.01 ? 2 : 1) + "ms";
  return v.toFixed(3) + "s";
}

export function chip(name, value, extra = {}) {
  return h("span", {class: "ks-label", ...extra}, `${name}="${value}"`);
}

export function chips(labels, {skip = () => false} = {}) {
  const names = Object.keys(labels || {}).sort();
  const out = names.filter((n) => !skip(n)).map((n) => chip(n, labels[n]));
  return out.length ? h("span", {class: "ks-chips"}, out) : h("span", {class: "ks-muted"}, "none");
}

const STATE_CLASS = {up: "ks-ok", ok: "ks-ok", active: "ks-bad", firing: "ks-bad", down: "ks-bad", err: "ks-bad",
  pending: "ks-warn", unknown: "ks-muted", inactive: "ks-ok", expired: "ks-muted", suppressed: "ks-muted"};

export function badge(state, text) {
  const s = String(state || "unknown").toLowerCase();
  return h("span", {class: `ks-badge ${STATE_CLASS[s] || ""}`, dataset: {state: s}}, (text ?? s).toUpperCase());
}

export function loading(what = "Loading") { return h("div", {class: "ks-loading ks-muted", role: "status"}, `${what}…`); }

export function empty(title, hint) {
  return h("div", {class: "ks-empty"}, h("b", {}, title), hint ? h("div", {class: "ks-muted"}, hint) : null);
}

export function apiMessage(e) {
  // Alertmanager answers errors as a bare JSON string; api.json puts it in body.
  if (typeof e?.body === "string" && e.body) return e.body;
  return e?.message || String(e);
}

// The page frame: title, subtitle, tools on the right (refresh button, optional auto-refresh),
// and a body element the page fills. load() runs the page's fetch+render with loading and errors in place.
export function statusPage({title, sub, autoRefresh = false, tools = []}) {
  const root = pageRoot();
  const body = h("div", {class: "ks-status-body"});
  const refreshBtn = h("button", {class: "ks-btn", type: "button", title: "Reload from the API", "data-action": "refresh"}, "↻ Refresh");
  const toolsEl = h("div", {class: "ks-row-flex ks-status-tools"}, tools, refreshBtn);
  if (autoRefresh) {
    const sel = h("select", {"aria-label": "auto-refresh", title: "Auto-refresh", class: "ks-autorefresh"},
      refresh.choices.map((c) => h("option", {value: c, selected: c === refresh.get()}, c ? `every ${c}` : "Auto-refresh off")));
    sel.addEventListener("change", () => refresh.set(sel.value));
    toolsEl.append(sel);
  }
  root.append(h("div", {class: "ks-status-head"},
    h("div", {}, h("h1", {}, title), sub ? h("p", {class: "ks-sub"}, sub) : null), toolsEl), body);
  let run = null, inflight = false, first = true;
  const load = async () => {
    if (!run || inflight) return;
    inflight = true;
    if (first) { clear(body).append(loading()); }
    refreshBtn.disabled = true;
    try { await run(body, first); first = false; } catch (e) {
      console.warn("kubesight:", e);
      clear(body).append(errorBox(apiMessage(e), title));
    } finally { inflight = false; refreshBtn.disabled = false; }
  };
  refreshBtn.addEventListener("click", load);
  if (autoRefresh) refresh.on(load);
  return {root, body, tools: toolsEl, start(fn) { run = fn; return load(); }, reload: load};
}

// A row of toggle buttons: [{value, label, count}], current value, onchange(value).
export function segmented(items, current, onchange, {name = "filter"} = {}) {
  const wrap = h("div", {class: "ks-seg", role: "group", "aria-label": name});
  for (const it of items) {
    const b = h("button", {type: "button", class: "ks-btn" + (it.value === current ? " ks-on" : ""), dataset: {value: it.value},
      "aria-pressed": String(it.value === current)}, it.label, it.count !== undefined ? h("span", {class: "ks-count"}, String(it.count)) : null);
    b.addEventListener("click", () => onchange(it.value));
    wrap.append(b);
  }
  return wrap;
}

export function searchBox(value, oninput, placeholder) {
  const el = h("input", {type: "search", class: "ks-search", placeholder, value: value || "", "aria-label": placeholder});
  let t = null;
  el.addEventListener("input", () => { clearTimeout(t); t = setTimeout(() => oninput(el.value), 150); });
  return el;
}

// Lowercased haystack of a label set for text filters: `name="value"` pairs and bare values.
export function labelText(labels) {
  return Object.entries(labels || {}).map(([k, v]) => `${k}="${v}" ${v}`).join(" ").toLowerCase();
}

// A "show more" cap for long lists: renders items[0:n] into tbody via row(), then a button for the next batch.
export function capped(container, items, row, {step = 100, colspan = 1, table = true} = {}) {
  let shown = 0;
  const more = table
    ? h("tr", {class: "ks-more"}, h("td", {colspan}, h("button", {class: "ks-btn", type: "button"}, "")))
    : h("div", {class: "ks-more"}, h("button", {class: "ks-btn", type: "button"}, ""));
  const btn = more.querySelector("button");
  const next = () => {
    more.remove();
    const until = Math.min(items.length, shown + step);
    const frag = document.createDocumentFragment();
    for (; shown < until; shown++) { const r = row(items[shown], shown); if (Array.isArray(r)) frag.append(...r); else frag.append(r); }
    container.append(frag);
    if (shown < items.length) {
      btn.textContent = `Show ${Math.min(step, items.length - shown)} more (${items.length - shown} not shown)`;
      container.append(more);
    }
  };
  btn.addEventListener("click", next);
  next();
}

export function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const ta = h("textarea", {style: {position: "fixed", top: "-1000px"}}); ta.value = text;
  document.body.append(ta); ta.select();
  try { document.execCommand("copy"); } finally { ta.remove(); }
  return Promise.resolve();
}

// Pages rebuild their toolbar with their list: keep the caret in the search box while the person types.
export function keepSearchFocus(body, fn) {
  const focused = document.activeElement?.classList?.contains("ks-search");
  try { fn(); } finally {
    if (focused) { const s = body.querySelector(".ks-search"); s?.focus(); s?.setSelectionRange(s.value.length, s.value.length); }
  }
}
