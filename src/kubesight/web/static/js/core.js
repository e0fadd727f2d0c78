// kubesight UI core: DOM helper, API client, URL state, shared time range, refresh, theme.
// Every page module imports this; importing it also sets up the header (theme, menu, time picker).

export const boot = JSON.parse(document.getElementById("ks-data")?.textContent || "null") || {};

// ---- DOM ------------------------------------------------------------------
// h("div", {class: "x", onclick: fn}, child, "text", [more children])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "html") el.innerHTML = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }

export function pageRoot() { return clear(document.getElementById("ks-page")); }

export function errorBox(msg, where) {
  return h("div", {class: "ks-error", role: "alert"}, where ? h("b", {}, where + ": ") : null, String(msg));
}

// ---- API ------------------------------------------------------------------
export class ApiError extends Error {
  constructor(message, {status = 0, errorType = "", body = null} = {}) {
    super(message);
    this.status = status; this.errorType = errorType; this.body = body;
  }
}

function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((x) => u.append(k, x)); else u.append(k, v);
  }
  return u;
}

async function request(path, {method = "GET", params, form, json, signal} = {}) {
  let url = path; const init = {method, signal, headers: {}};
  if (params) { const s = qs(params).toString(); if (s) url += (url.includes("?") ? "&" : "?") + s; }
  if (form) { init.body = qs(form); init.headers["Content-Type"] = "application/x-www-form-urlencoded"; }
  if (json !== undefined) { init.body = JSON.stringify(json); init.headers["Content-Type"] = "application/json"; }
  let resp;
  try { resp = await fetch(url, init); } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(`cannot reach kubesight (${e.message})`);
  }
  const text = await resp.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  return {resp, body, text};
}

// Prometheus' envelope: {status, data, error, errorType, warnings}; returns data, throws ApiError.
export const api = {
  async get(path, params, opts = {}) { return unwrap(await request(path, {params, ...opts})); },
  async post(path, form, opts = {}) { return unwrap(await request(path, {method: "POST", form, ...opts})); },
  // Endpoints without the envelope (Alertmanager v2, Grafana API): the JSON body, or ApiError.
  async json(path, {method = "GET", params, body, signal} = {}) {
    const {resp, body: b, text} = await request(path, {method, params, json: body, signal});
    if (!resp.ok) throw new ApiError(b?.message || b?.error || text || resp.statusText, {status: resp.status, body: b});
    return b;
  },
};

function unwrap({resp, body, text}) {
  if (body && body.status === "success") {
    if (body.warnings?.length) console.info("kubesight: query warnings:", body.warnings.join("; "));
    return body.data;
  }
  if (body && body.status === "error") throw new ApiError(body.error, {status: resp.status, errorType: body.errorType, body});
  throw new ApiError(`HTTP ${resp.status}: ${(text || resp.statusText).slice(0, 300)}`, {status: resp.status});
}

// Instant and range queries; the full envelope's data ({resultType, result, stats?}).
export function query(expr, timeMs, opts = {}) {
  return api.post("/api/v1/query", {query: expr, time: timeMs / 1000, ...(opts.stats ? {stats: "all"} : {})}, opts);
}
export function queryRange(expr, startMs, endMs, stepS, opts = {}) {
  return api.post("/api/v1/query_range", {
    query: expr, start: startMs / 1000, end: endMs / 1000, step: stepS, ...(opts.stats ? {stats: "all"} : {}),
  }, opts);
}

// ---- URL state ------------------------------------------------------------
export const url = {
  get(key, dflt = null) { return new URLSearchParams(location.search).get(key) ?? dflt; },
  getAll(key) { return new URLSearchParams(location.search).getAll(key); },
  params() { return new URLSearchParams(location.search); },
  // set({k: v}): null/"" removes; push adds a history entry (back button returns to it)
  set(obj, {push = false} = {}) {
    const p = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(obj)) {
      if (v === null || v === undefined || v === "") p.delete(k);
      else if (Array.isArray(v)) { p.delete(k); v.forEach((x) => p.append(k, x)); } else p.set(k, v);
    }
    const s = p.toString();
    const next = location.pathname + (s ? "?" + s : "") + location.hash;
    if (next !== location.pathname + location.search + location.hash) history[push ? "pushState" : "replaceState"](null, "", next);
  },
};

// ---- durations ------------------------------------------------------------
const UNIT_MS = {ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3, y: 31536000e3};

// "1h30m", "5m", "250ms" -> ms (Prometheus duration syntax); null when invalid.
export function parseDuration(s) {
  if (typeof s !== "string" || !s) return null;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy; let total = 0, m, any = false;
  re.lastIndex = 0;
  while ((m = re.exec(s)) !== null) { total += parseFloat(m[1]) * UNIT_MS[m[2]]; any = true; if (re.lastIndex === s.length) break; }
  return any && re.lastIndex === s.length ? total : null;
}

// ms -> "1h30m" (largest units first, as Prometheus prints durations)
export function formatDuration(ms) {
  if (!isFinite(ms)) return String(ms);
  if (ms === 0) return "0s";
  let out = "", rest = Math.abs(ms);
  for (const [u, v] of [["y", UNIT_MS.y], ["w", UNIT_MS.w], ["d", UNIT_MS.d], ["h", UNIT_MS.h], ["m", UNIT_MS.m], ["s", UNIT_MS.s], ["ms", 1]]) {
    if (rest >= v) { const n = Math.floor(rest / v); out += n + u; rest -= n * v; }
  }
  return (ms < 0 ? "-" : "") + out;
}

// ---- time range -----------------------------------------------------------
// Grafana's grammar: "now", "now-6h", "now-1d/d", "now/w"; or epoch ms; or an ISO date.
const REL_UNIT = {s: "s", m: "m", h: "h", d: "d", w: "w", M: "M", y: "y"};

export function parseTime(s, nowMs = Date.now(), roundUp = false) {
  if (s === null || s === undefined || s === "") return null;
  s = String(s).trim();
  if (/^\d{10,}$/.test(s)) return Number(s);
  if (!s.startsWith("now")) { const t = Date.parse(s); return isNaN(t) ? null : t; }
  const d = new Date(nowMs); let rest = s.slice(3);
  while (rest.length) {
    const m = /^([+-])(\d+)([smhdwMy])/.exec(rest) || /^\/([smhdwMy])/.exec(rest);
    if (!m) return null;
    if (m[0].startsWith("/")) roundTo(d, m[1], roundUp);
    else add(d, (m[1] === "-" ? -1 : 1) * Number(m[2]), REL_UNIT[m[3]]);
    rest = rest.slice(m[0].length);
  }
  return d.getTime();
}

function add(d, n, u) {
  if (u === "M") d.setMonth(d.getMonth() + n);
  else if (u === "y") d.setFullYear(d.getFullYear() + n);
  else d.setTime(d.getTime() + n * UNIT_MS[u]);
}

function roundTo(d, u, up) {
  const f = {s: () => d.setMilliseconds(0), m: () => d.setSeconds(0, 0), h: () => d.setMinutes(0, 0, 0),
    d: () => d.setHours(0, 0, 0, 0), w: () => { d.setHours(0, 0, 0, 0); d.setDate(d.getDate() - ((d.getDay() + 6) % 7)); },
    M: () => { d.setHours(0, 0, 0, 0); d.setDate(1); }, y: () => { d.setHours(0, 0, 0, 0); d.setMonth(0, 1); }}[u];
  f();
  if (up) { add(d, 1, u === "M" || u === "y" ? u : u); d.setTime(d.getTime() - 1); }
}

const listeners = new Set();

export const timeRange = {
  dflt: {from: "now-1h", to: "now"},
  // {from, to} as written (strings) and {start, end} resolved to ms now.
  get() {
    const from = url.get("from") || this.dflt.from, to = url.get("to") || this.dflt.to;
    const now = Date.now();
    let start = parseTime(from, now, false), end = parseTime(to, now, true);
    if (start === null || end === null || start >= end) { start = parseTime(this.dflt.from, now); end = now; }
    return {from, to, start, end, relative: String(to).startsWith("now")};
  },
  set(from, to, {push = true} = {}) {
    url.set({from: String(from), to: String(to)}, {push});
    emit();
  },
  setDefault(from, to) { this.dflt = {from: from || "now-1h", to: to || "now"}; },
  on(cb) { listeners.add(cb); return () => listeners.delete(cb); },
};

function emit() { for (const cb of [...listeners]) { try { cb(timeRange.get()); } catch (e) { console.error(e); } } }

window.addEventListener("popstate", emit);

export function describeRange(from, to) {
  const m = /^now-(\d+)([smhdwMy])$/.exec(from);
  if (m && to === "now") {
    const names = {s: "second", m: "minute", h: "hour", d: "day", w: "week", M: "month", y: "year"};
    const n = Number(m[1]);
    return `Last ${n === 1 ? "" : n + " "}${names[m[2]]}${n === 1 ? "" : "s"}`;
  }
  const fmt = (s, up) => { const t = parseTime(s, Date.now(), up); return t === null ? s : fmtTime(t); };
  return `${String(from).startsWith("now") ? from : fmt(from)} to ${String(to).startsWith("now") ? to : fmt(to, true)}`;
}

// Grafana's interval rounding table (in ms), so auto steps read like people's choices.
const NICE = [1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1200e3, 1800e3, 3600e3,
  7200e3, 10800e3, 21600e3, 43200e3, 86400e3, 604800e3, 2592000e3, 31536000e3];

// The step (ms) for a panel: range split over its width or maxDataPoints, never under minInterval,
// and never more than 11,000 points (Prometheus' limit per series).
export function autoInterval(startMs, endMs, {widthPx = 1000, maxDataPoints = null, minIntervalMs = 0} = {}) {
  const points = Math.max(1, Math.min(maxDataPoints || widthPx, widthPx || 1000));
  const raw = (endMs - startMs) / points;
  let iv = NICE.find((n) => n >= raw) ?? NICE[NICE.length - 1];
  if (raw < 1000) iv = Math.max(1, Math.ceil(raw / 10) * 10);
  iv = Math.max(iv, minIntervalMs || 0, Math.ceil((endMs - startMs) / 11000));
  return iv;
}

// ---- refresh --------------------------------------------------------------
const REFRESH_CHOICES = ["", "5s", "10s", "30s", "1m", "5m", "15m", "1h"];
const refreshers = new Set();
let refreshTimer = null;

export const refresh = {
  choices: REFRESH_CHOICES,
  get() { return url.get("refresh") || ""; },
  set(v) { url.set({refresh: v}); schedule(); },
  on(cb) { refreshers.add(cb); return () => refreshers.delete(cb); },
  now() { for (const cb of [...refreshers]) { try { cb(); } catch (e) { console.error(e); } } },
};

function schedule() {
  clearInterval(refreshTimer); refreshTimer = null;
  const ms = parseDuration(refresh.get());
  if (ms) refreshTimer = setInterval(() => { if (!document.hidden) refresh.now(); }, Math.max(ms, 1000));
}

// ---- formatting -----------------------------------------------------------
const pad = (n, w = 2) => String(n).padStart(w, "0");
export function fmtTime(ms, {seconds = true} = {}) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}` +
    (seconds ? `:${pad(d.getSeconds())}` : "");
}

export function fmtAgo(ms) {
  const s = (Date.now() - ms) / 1000;
  if (!isFinite(s)) return "never";
  if (s < 1) return "just now";
  return formatDuration(Math.round(s) * 1000) + " ago";
}

export function labelsToString(metric, {withName = true} = {}) {
  const name = withName ? metric.__name__ || "" : "";
  const parts = Object.keys(metric).filter((k) => k !== "__name__").sort()
    .map((k) => `${k}=${JSON.stringify(metric[k])}`);
  return parts.length || !name ? `${name}{${parts.join(", ")}}` : name;
}

export function escapeRegex(s) { return String(s).replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

export function debounce(fn, ms) {
  let t = null;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

// ---- theme and header -----------------------------------------------------
const themeListeners = new Set();
export const theme = {
  get() { return document.documentElement.dataset.theme || "light"; },
  set(t) { document.documentElement.dataset.theme = t; localStorage.setItem("ks-theme", t); themeListeners.forEach((cb) => cb(t)); },
  on(cb) { themeListeners.add(cb); return () => themeListeners.delete(cb); },
  css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); },
};

function initShell() {
  document.getElementById("ks-theme")?.addEventListener("click", () => theme.set(theme.get() === "dark" ? "light" : "dark"));
  const burger = document.querySelector(".ks-burger");
  burger?.addEventListener("click", () => {
    const open = document.body.classList.toggle("ks-nav-open");
    burger.setAttribute("aria-expanded", String(open));
  });
  // Close the Status menu when clicking elsewhere (a <details> stays open otherwise).
  document.addEventListener("click", (e) => {
    const d = document.querySelector(".ks-status");
    if (d && d.open && !d.contains(e.target)) d.open = false;
  });
  schedule();
}

initShell();
