// Template variables: parsing Grafana's Prometheus variable queries, the regex filter and sort, and
// resolving options through kubesight's Prometheus API. The parsing, filtering and sorting are pure;
// resolve() takes the API functions as arguments so it can be tested with fakes.
import {ALL, interpolate, referencedNames} from "./interpolate.js";

// "label_values(up{job=\"x\"}, instance)" -> {kind: "label_values", label: "instance", match: "up{job=\"x\"}"}
export function parseVariableQuery(q) {
  const s = String(q ?? "").trim();
  let m;
  if ((m = /^label_names\(\s*(.*?)\s*\)$/s.exec(s))) return {kind: "label_names", match: m[1] || ""};
  if ((m = /^label_values\(\s*(.+?)\s*\)$/s.exec(s))) {
    const inner = m[1];
    // The label is after the last comma that is outside braces and quotes.
    const cut = lastTopLevelComma(inner);
    if (cut < 0) return {kind: "label_values", label: inner.trim(), match: ""};
    return {kind: "label_values", match: inner.slice(0, cut).trim(), label: inner.slice(cut + 1).trim()};
  }
  if ((m = /^metrics\(\s*(.*?)\s*\)$/s.exec(s))) return {kind: "metrics", regex: m[1]};
  if ((m = /^query_result\(\s*(.+)\s*\)$/s.exec(s))) return {kind: "query_result", expr: m[1]};
  if (!s) return {kind: "empty"};
  // Grafana runs any other text as a PromQL expression and lists the series' labels (query_result).
  return {kind: "query_result", expr: s};
}

function lastTopLevelComma(s) {
  let depth = 0, quote = null, last = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) { if (c === "\\") i++; else if (c === quote) quote = null; continue; }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "{" || c === "(" || c === "[") depth++;
    else if (c === "}" || c === ")" || c === "]") depth--;
    else if (c === "," && depth === 0) last = i;
  }
  return last;
}

// One query_result line as Grafana writes it: metric{a="b",c="d"} value timestamp_ms
export function resultLine(sample) {
  const metric = sample.metric || {};
  const labels = Object.keys(metric).filter((k) => k !== "__name__").map((k) => `${k}="${metric[k]}"`).join(",");
  const [t, v] = sample.value || [0, ""];
  return `${metric.__name__ || ""}{${labels}} ${v} ${Math.round(t * 1000)}`;
}

// Grafana's "/pattern/flags" variable regex; a bad one raises an Error naming it.
export function parseRegex(text) {
  if (!text) return null;
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(text);
  try {
    return m ? new RegExp(m[1], m[2].replace("g", "")) : new RegExp(text);
  } catch (e) {
    throw new Error(`regex ${text}: ${e.message}`);
  }
}

// Keep the values the regex matches; a capture group (or named groups text/value) picks the value.
export function applyRegex(values, regexText) {
  const re = parseRegex(regexText);
  const out = [], seen = new Set();
  for (const v of values) {
    let text = String(v), value = String(v);
    if (re) {
      const m = re.exec(value);
      if (!m) continue;
      if (m.groups && (m.groups.value !== undefined || m.groups.text !== undefined)) {
        value = m.groups.value ?? m.groups.text; text = m.groups.text ?? m.groups.value;
      } else if (m.length > 1 && m[1] !== undefined) {
        value = text = m[1];
      }
    }
    if (seen.has(value)) continue;
    seen.add(value);
    out.push({text, value});
  }
  return out;
}

const collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
function firstNumber(t) { const m = /.*?(\d+).*/.exec(t); return m ? parseInt(m[1], 10) : -1; }

// Grafana's sort codes: 0 as returned, 1/2 alphabetical, 3/4 numerical (first number in the text),
// 5/6 alphabetical case-insensitive, 7/8 natural; odd ascending, even descending.
export function sortOptions(options, code) {
  const o = [...options];
  const by = {
    1: (a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0),
    3: (a, b) => firstNumber(a.text) - firstNumber(b.text),
    5: (a, b) => { const x = a.text.toLowerCase(), y = b.text.toLowerCase(); return x < y ? -1 : x > y ? 1 : 0; },
    7: (a, b) => collator.compare(a.text, b.text),
  };
  const c = Number(code) || 0;
  if (!c) return o;
  const cmp = by[c % 2 ? c : c - 1];
  if (!cmp) return o;
  o.sort(cmp);
  if (c % 2 === 0) o.reverse();
  return o;
}

// The variables a variable's query (or regex) uses.
export function dependencies(v, names) {
  const refs = new Set([...referencedNames(v.query), ...referencedNames(v.regex)]);
  return [...refs].filter((n) => names.includes(n) && n !== v.name);
}

// Raw values of a query variable, via `fetchers`: {labelValues(label, match[], start, end),
// labelNames(match[], start, end), instant(expr, timeMs)} (each returns a promise).
export async function queryValues(q, {start, end}, fetchers) {
  const p = parseVariableQuery(q);
  switch (p.kind) {
    case "empty": return [];
    case "label_names": return fetchers.labelNames(p.match ? [p.match] : [], start, end);
    case "label_values": return fetchers.labelValues(p.label, p.match ? [p.match] : [], start, end);
    case "metrics": {
      const names = await fetchers.labelValues("__name__", [], start, end);
      const re = p.regex ? new RegExp(p.regex) : null;
      return re ? names.filter((n) => re.test(n)) : names;
    }
    case "query_result": {
      const data = await fetchers.instant(p.expr, end);
      if (data.resultType === "scalar" || data.resultType === "string") {
        const [t, v] = data.result; return [`${data.resultType} ${v} ${Math.round(t * 1000)}`];
      }
      return (data.result || []).map(resultLine);
    }
    default: return [];
  }
}

// Options for a variable (All first when included); current kept when still valid, else the first.
export function withAll(v, options) {
  return v.includeAll ? [{text: "All", value: ALL}, ...options.filter((o) => o.value !== ALL)] : options;
}

export function pickCurrent(v, options, wanted) {
  const values = options.map((o) => o.value);
  let want = wanted === undefined || wanted === null ? [] : Array.isArray(wanted) ? wanted : [wanted];
  if (want.includes("All") && v.includeAll && !values.includes("All")) want = [ALL];
  if (v.type === "textbox" || v.type === "constant") return want.length ? want[0] : values[0] ?? "";
  let keep = want.filter((x) => values.includes(x));
  if (keep.includes(ALL)) keep = [ALL];
  if (!keep.length) keep = values.length ? [values[0]] : [];
  if (v.multi) return keep;
  return keep[0] ?? "";
}

// The state the interpolator reads for a variable.
export function stateOf(v) {
  const value = v.currentValue;
  const arr = Array.isArray(value) ? value : [value];
  const text = arr.map((x) => (x === ALL ? "All" : v.options.find((o) => o.value === x)?.text ?? x));
  return {value, text: Array.isArray(value) ? text : text[0], multi: v.multi, includeAll: v.includeAll,
    allValue: v.allValue, options: v.options};
}

// The options the dashboard saved (custom, interval, textbox lists): `savedOptions`, else `options`.
function saved(v) { return (v.savedOptions || v.options || []).map((o) => ({text: o.text, value: o.value})); }

// Resolve one variable's options for the current scope. Returns {options, error}.
export async function resolveOptions(v, scope, range, fetchers, intervalFor) {
  try {
    switch (v.type) {
      case "query": {
        const q = interpolate(v.query, scope, {format: "prometheus"});
        const raw = await queryValues(q, range, fetchers);
        const regex = interpolate(v.regex || "", scope, {format: "regex"});
        return {options: withAll(v, sortOptions(applyRegex(raw, regex), v.sort))};
      }
      case "custom": return {options: withAll(v, saved(v).filter((o) => o.value !== ALL))};
      case "interval": {
        const opts = saved(v);
        return {options: opts.map((o) => (o.value.startsWith("$__auto_interval") ? {...o, auto: intervalFor(v)} : o))};
      }
      case "constant": return {options: [{text: v.query, value: v.query}]};
      case "textbox": return {options: saved(v).length ? saved(v) : [{text: v.query, value: v.query}]};
      case "datasource": return {options: [{text: "kubesight", value: "kubesight"}]};
      default: return {options: saved(v),
        error: (v.unsupported || []).join("; ") || `variable type ${v.type} is not supported`};
    }
  } catch (e) {
    if (e.name === "AbortError") throw e;
    return {options: withAll(v, []), error: e.message || String(e)};
  }
}
