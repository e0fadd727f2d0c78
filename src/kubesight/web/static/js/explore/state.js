// URL state in the shape of Prometheus' /graph links: g<i>.expr, g<i>.tab, g<i>.range_input, g<i>.end_input,
// g<i>.moment_input, g<i>.step_input, g<i>.stacked (legacy UI) and g<i>.display_mode (Prometheus 3).
// Pure functions over URLSearchParams, so the unit tests can round-trip them.
import {parseDuration, formatDuration} from "../core.js";

const TABS = ["graph", "table", "explain"];

// "0" / "graph" -> "graph", "1" / "table" -> "table", "2" / "explain" -> "explain"
export function parseTab(v) {
  if (v === null || v === undefined || v === "") return "graph";
  if (/^\d+$/.test(v)) return TABS[Number(v)] || "graph";
  return TABS.includes(v) ? v : "graph";
}

const pad = (n) => String(n).padStart(2, "0");

// Prometheus writes end_input and moment_input as "YYYY-MM-DD HH:mm:ss" in UTC.
export function formatPromTime(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// Accepts Prometheus' "YYYY-MM-DD HH:mm:ss" (UTC), ISO 8601, and epoch seconds or ms; null otherwise.
export function parsePromTime(s) {
  if (s === null || s === undefined || s === "") return null;
  s = String(s).trim();
  if (/^\d+(\.\d+)?$/.test(s)) { const n = Number(s); return n > 1e11 ? n : n * 1000; }
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/.exec(s);
  if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0), m[7] ? Number(("0." + m[7])) * 1000 : 0);
  const t = Date.parse(s);
  return isNaN(t) ? null : t;
}

// step_input is seconds in Prometheus' links ("15"); a duration ("15s") is accepted too. -> ms or null
export function parseStep(s) {
  if (s === null || s === undefined || s === "") return null;
  if (/^\d+(\.\d+)?$/.test(String(s))) { const v = Number(s) * 1000; return v > 0 ? v : null; }
  return parseDuration(String(s));
}

// -> {panels: [{expr, tab, rangeMs, endMs, momentMs, stepMs, stacked}], rangeMs, endMs} (range of the first
// panel that has one: the shared time range)
export function readState(params) {
  const idx = new Set();
  for (const k of params.keys()) { const m = /^g(\d+)\./.exec(k); if (m) idx.add(Number(m[1])); }
  const panels = [...idx].sort((a, b) => a - b).map((i) => {
    const g = (k) => params.get(`g${i}.${k}`);
    const mode = g("display_mode");
    return {
      expr: g("expr") ?? "",
      tab: parseTab(g("tab")),
      rangeMs: parseDuration(g("range_input") || ""),
      endMs: parsePromTime(g("end_input")),
      momentMs: parsePromTime(g("moment_input")),
      stepMs: parseStep(g("step_input")),
      stacked: mode ? mode === "stacked" : ["1", "true"].includes(g("stacked") || ""),
    };
  });
  const ranged = panels.find((p) => p.rangeMs);
  return {panels, rangeMs: ranged?.rangeMs ?? null, endMs: ranged?.endMs ?? null};
}

// The g<i>.* keys for these panels over the shared range {rangeMs, endMs|null (relative to now)};
// returns new URLSearchParams keeping every other key of `base`.
export function writeState(base, panels, {rangeMs, endMs}) {
  const p = new URLSearchParams(base);
  for (const k of [...p.keys()]) if (/^g\d+\./.test(k)) p.delete(k);
  panels.forEach((s, i) => {
    const set = (k, v) => { if (v !== null && v !== undefined && v !== "") p.set(`g${i}.${k}`, v); };
    set("expr", s.expr);
    set("tab", s.tab || "graph");
    set("display_mode", s.stacked ? "stacked" : "lines");
    set("stacked", s.stacked ? "1" : "0");
    if (rangeMs) set("range_input", formatDuration(rangeMs));
    if (endMs) set("end_input", formatPromTime(endMs));
    if (s.momentMs) set("moment_input", formatPromTime(s.momentMs));
    if (s.stepMs) set("step_input", String(s.stepMs / 1000));
  });
  return p;
}
