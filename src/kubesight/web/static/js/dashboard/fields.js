// Grafana's field config for one series or column: defaults plus the overrides that match it (byName,
// byRegexp, byFrameRefID), thresholds, value mappings and display names. Pure functions.
import {colorOf, PALETTE} from "../chart.js";

function setPath(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) { if (typeof o[k] !== "object" || o[k] === null) o[k] = {}; o = o[k]; }
  o[keys[keys.length - 1]] = value;
}

function regexOf(text) {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(String(text));
  try { return m ? new RegExp(m[1], m[2].replace("g", "")) : new RegExp(`^(?:${text})$`); } catch { return null; }
}

// Does an override's matcher select a field named `names` (any of them) from target `refId`?
export function matches(matcher, names, refId) {
  if (!matcher) return false;
  const opt = matcher.options;
  switch (matcher.id) {
    case "byName": return names.includes(opt);
    case "byRegexp": { const re = regexOf(opt); return !!re && names.some((n) => re.test(n)); }
    case "byFrameRefID": return opt === refId;
    case "byNames": return Array.isArray(opt?.names) && opt.names.some((n) => names.includes(n));
    default: return false;
  }
}

// The effective config: {unit, decimals, min, max, displayName, color, thresholds, mappings, custom, ...}.
export function fieldConfig(fc, names, refId) {
  const d = fc?.defaults || {};
  const out = {...d, custom: {...(d.custom || {})}};
  for (const o of fc?.overrides || []) {
    if (!matches(o.matcher, names, refId)) continue;
    for (const p of o.properties || []) if (typeof p?.id === "string") setPath(out, p.id, p.value);
  }
  return out;
}

// The threshold step colour for v; percentage thresholds are read between min and max.
export function thresholdColor(v, thresholds, min = 0, max = 100) {
  const steps = thresholds?.steps || [];
  if (!steps.length) return null;
  let x = v;
  if (thresholds.mode === "percentage") x = max === min ? 0 : ((v - min) / (max - min)) * 100;
  let color = steps[0].color;
  for (const s of steps) {
    if (s.value === null || s.value === undefined || s.value === -Infinity) { color = s.color; continue; }
    if (x >= s.value) color = s.color;
  }
  return colorOf(color);
}

// Absolute threshold values (percentage ones converted), for gauge bands and bar gradients.
export function absoluteSteps(thresholds, min, max) {
  return (thresholds?.steps || []).map((s) => ({
    color: colorOf(s.color),
    value: s.value === null || s.value === undefined ? -Infinity
      : thresholds.mode === "percentage" ? min + (s.value / 100) * (max - min) : s.value,
  }));
}

// Grafana's value mappings (value, range, special, regex): the first that applies, as {text, color}.
export function mapValue(v, mappings, raw = null) {
  for (const m of mappings || []) {
    const o = m?.options || {};
    if (m.type === "value") {
      const key = raw !== null ? raw : String(v);
      const r = o[key] ?? (typeof v === "number" ? o[String(v)] : undefined);
      if (r) return r;
    } else if (m.type === "range") {
      const from = o.from ?? -Infinity, to = o.to ?? Infinity;
      if (typeof v === "number" && v >= from && v <= to && o.result) return o.result;
    } else if (m.type === "special") {
      const isNull = v === null || v === undefined, isNaN_ = typeof v === "number" && Number.isNaN(v);
      const hit = {null: isNull, nan: isNaN_, "null+nan": isNull || isNaN_, true: v === true || v === 1,
        false: v === false || v === 0, empty: v === ""}[o.match];
      if (hit && o.result) return o.result;
    } else if (m.type === "regex") {
      const re = regexOf(o.pattern);
      if (re && re.test(String(v)) && o.result) return o.result;
    }
  }
  return null;
}

// A series' colour: fixed colour, threshold colour (for the value given), or the palette entry.
export function seriesColor(cfg, index, value = null) {
  const mode = cfg.color?.mode;
  if (mode === "fixed" && cfg.color.fixedColor) return colorOf(cfg.color.fixedColor);
  if (mode === "thresholds" && value !== null) return thresholdColor(value, cfg.thresholds, cfg.min ?? 0, cfg.max ?? 100);
  if (mode === "shades" && cfg.color.fixedColor) return colorOf(cfg.color.fixedColor);
  return PALETTE[index % PALETTE.length];
}

// Grafana's displayName templates: ${__series.name}, ${__field.name}, ${__field.labels.x}, ${__field.labels}.
export function displayName(template, name, labels) {
  if (!template) return name;
  return String(template).replace(/\$\{__(series\.name|field\.name|field\.displayName|field\.labels(?:\.([A-Za-z0-9_]+))?)\}/g,
    (m, what, label) => {
      if (what.startsWith("field.labels")) {
        if (label) return labels?.[label] ?? "";
        return Object.entries(labels || {}).filter(([k]) => k !== "__name__").map(([k, v]) => `${k}="${v}"`).join(", ");
      }
      return name;
    });
}
