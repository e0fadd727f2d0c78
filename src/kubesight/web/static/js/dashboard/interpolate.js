// Grafana's template syntax, as a pure module (no DOM, no fetch): $var, ${var}, [[var]], ${var:format},
// multi values and "All" the way Grafana's Prometheus data source writes them into PromQL, and the
// built-in $__interval, $__rate_interval, $__range, ... variables.
//
// A scope maps a variable name to either a plain string (built-ins, repeat values already resolved) or
// a variable state: {value: string|string[], text, multi, includeAll, allValue, options: [{text, value}]}.

export const ALL = "$__all";

// $name | [[name]] | [[name:fmt]] | ${name} | ${name.field} | ${name:fmt} | ${name:fmt:arg}
const VAR_RE = /\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+?)(?::([A-Za-z0-9_]+))?\]\]|\$\{([A-Za-z0-9_]+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

// The names a text refers to (for dependencies between variables).
export function referencedNames(text) {
  const out = new Set();
  if (typeof text !== "string") return out;
  for (const m of text.matchAll(VAR_RE)) out.add(m[1] || m[2] || m[4]);
  return out;
}

// Regex special characters, for the "regex" format (Grafana's kbn.regexEscape).
export function regexEscape(s) { return String(s).replace(/[\\^$*+?.()|[\]{}/]/g, "\\$&"); }

// Inside a PromQL string used as a regex: the regex escape, doubled for the string literal.
export function promRegexEscape(s) {
  return String(s).replace(/\\/g, "\\\\\\\\").replace(/[$^*{}[\]'+?.()|]/g, "\\\\$&");
}

// Inside a PromQL string: backslashes and single quotes (a single-valued variable).
export function promEscape(s) { return String(s).replace(/\\/g, "\\\\").replace(/'/g, "\\\\'"); }

function isState(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

// The values a variable stands for: All expands to every option (or the allValue, marked custom).
export function expandValue(state) {
  const raw = state.value;
  const vals = Array.isArray(raw) ? raw : [raw];
  if (vals.includes(ALL)) {
    if (state.allValue !== null && state.allValue !== undefined && state.allValue !== "") {
      return {values: [state.allValue], custom: true, all: true};
    }
    const opts = (state.options || []).map((o) => o.value).filter((v) => v !== ALL);
    return {values: opts.length ? opts : [".*"], custom: !opts.length, all: true};
  }
  return {values: vals.map((v) => (v === null || v === undefined ? "" : String(v))), custom: false, all: false};
}

function textOf(state) {
  const v = Array.isArray(state.value) ? state.value : [state.value];
  if (v.includes(ALL)) return "All";
  const t = state.text;
  if (Array.isArray(t)) return t.join(" + ");
  if (t !== undefined && t !== null && t !== "" && !Array.isArray(state.value)) return String(t);
  return v.map((x) => (state.options || []).find((o) => o.value === x)?.text ?? x).join(" + ");
}

const FORMATS = {
  // Grafana's Prometheus default: one plain value as is (string-escaped); several, or a variable that
  // can be multi/All, regex-escaped and joined into (a|b).
  prometheus(vals, state, custom) {
    if (custom) return vals.join("|");
    const multiLike = state.multi || state.includeAll;
    if (!multiLike) return vals.map(promEscape).join(",");
    const esc = vals.map(promRegexEscape);
    return esc.length === 1 ? esc[0] : `(${esc.join("|")})`;
  },
  regex(vals, state, custom) {
    if (custom) return vals.join("|");
    const esc = vals.map(regexEscape);
    return esc.length === 1 ? esc[0] : `(${esc.join("|")})`;
  },
  pipe: (vals) => vals.join("|"),
  csv: (vals) => vals.join(","),
  raw: (vals) => vals.join(","),
  distributed: (vals, state, custom, name) => vals.map((v, i) => (i ? `${name}=${v}` : v)).join(","),
  json: (vals, state) => JSON.stringify(state.multi || vals.length > 1 ? vals : vals[0]),
  doublequote: (vals) => vals.map((v) => `"${v.replace(/"/g, '\\"')}"`).join(","),
  singlequote: (vals) => vals.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(","),
  glob: (vals) => (vals.length > 1 ? `{${vals.join(",")}}` : vals[0] ?? ""),
  percentencode: (vals) => encodeURIComponent(vals.join(",")),
  queryparam: (vals, state, custom, name) => vals.map((v) => `var-${encodeURIComponent(name)}=${encodeURIComponent(v)}`).join("&"),
  lucene: (vals) => (vals.length > 1 ? `(${vals.map((v) => `"${v}"`).join(" OR ")})` : vals[0] ?? ""),
};

export const FORMAT_NAMES = Object.keys(FORMATS).concat(["text"]);

// The text of one reference to `name` with `format` ("" = the default for the context).
export function formatVariable(name, state, format, dflt = "prometheus") {
  if (!isState(state)) return String(state);
  if ((format || dflt) === "text") return textOf(state);
  const {values, custom} = expandValue(state);
  if (format === "queryparam" && expandValue(state).all) return `var-${encodeURIComponent(name)}=${encodeURIComponent(ALL)}`;
  const f = FORMATS[format] || FORMATS[dflt] || FORMATS.raw;
  return f(values, state, format === "raw" || format === "json" || format === "text" ? false : custom, name);
}

// Replace every reference to a known variable; unknown names are left as written (Grafana does too).
// opts.format: the default format ("prometheus" for queries, "raw" for titles and text).
export function interpolate(text, scope, {format = "prometheus"} = {}) {
  if (typeof text !== "string" || !text.includes("$") && !text.includes("[[")) return text ?? "";
  return text.replace(VAR_RE, (match, n1, n2, f2, n3, field, f3) => {
    const name = n1 || n2 || n3;
    if (!Object.prototype.hasOwnProperty.call(scope, name)) return match;
    const fmt = (f2 || f3 || "").split(":")[0];
    const state = scope[name];
    if (field && isState(state)) return textOf(state);
    return formatVariable(name, state, fmt, format);
  });
}

// ---- built-ins ---------------------------------------------------------------

// ms -> "15s", "1m", "1h30m" (Prometheus' duration syntax, so it can go straight into a range selector).
export function msToDuration(ms) {
  ms = Math.max(1, Math.round(ms));
  const units = [["d", 86400e3], ["h", 3600e3], ["m", 60e3], ["s", 1e3], ["ms", 1]];
  let out = "", rest = ms;
  for (const [u, v] of units) { if (rest >= v) { const n = Math.floor(rest / v); out += n + u; rest -= n * v; } }
  return out;
}

export const DEFAULT_SCRAPE_MS = 15000;

// Grafana's $__rate_interval: max($__interval + scrape interval, 4 x scrape interval).
export function rateIntervalMs(intervalMs, scrapeMs = DEFAULT_SCRAPE_MS) {
  return Math.max(intervalMs + scrapeMs, 4 * scrapeMs);
}

// The built-in variables for one query: {start, end} in ms, the step (interval) in ms, the scrape interval.
export function builtins({start, end, intervalMs, scrapeMs = DEFAULT_SCRAPE_MS, dashboard = ""}) {
  const rangeMs = Math.round(end - start), rangeS = Math.round(rangeMs / 1000);
  return {
    __interval: msToDuration(intervalMs),
    __interval_ms: String(Math.round(intervalMs)),
    __rate_interval: msToDuration(rateIntervalMs(intervalMs, scrapeMs)),
    __rate_interval_ms: String(rateIntervalMs(intervalMs, scrapeMs)),
    __range: `${rangeS}s`,
    __range_s: String(rangeS),
    __range_ms: String(rangeMs),
    __dashboard: dashboard,
    __from: String(Math.round(start)),
    __to: String(Math.round(end)),
  };
}
