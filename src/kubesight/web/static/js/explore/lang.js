// PromQL knowledge for the editor: a tolerant lexer (for highlighting and for finding where the cursor is),
// the completion context at a cursor, Prometheus' error positions, and the functions with their signatures.
// Pure functions, no DOM: the unit tests call them directly.

// [name, signature, what it does] — the functions PromQL evaluates.
export const FUNCTIONS = [
  ["abs", "abs(v instant-vector)", "Absolute value of every sample."],
  ["absent", "absent(v instant-vector)", "1-element vector when v has no series, empty otherwise: alert on missing series."],
  ["absent_over_time", "absent_over_time(v range-vector)", "1-element vector when the range has no samples at all."],
  ["acos", "acos(v instant-vector)", "Arccosine, in radians."], ["acosh", "acosh(v instant-vector)", "Inverse hyperbolic cosine."],
  ["asin", "asin(v instant-vector)", "Arcsine, in radians."], ["asinh", "asinh(v instant-vector)", "Inverse hyperbolic sine."],
  ["atan", "atan(v instant-vector)", "Arctangent, in radians."], ["atanh", "atanh(v instant-vector)", "Inverse hyperbolic tangent."],
  ["avg_over_time", "avg_over_time(v range-vector)", "Mean of each series' samples in the range."],
  ["ceil", "ceil(v instant-vector)", "Round up to the nearest integer."],
  ["changes", "changes(v range-vector)", "How many times each series' value changed in the range."],
  ["clamp", "clamp(v instant-vector, min scalar, max scalar)", "Limit values to [min, max]."],
  ["clamp_max", "clamp_max(v instant-vector, max scalar)", "Limit values to at most max."],
  ["clamp_min", "clamp_min(v instant-vector, min scalar)", "Limit values to at least min."],
  ["cos", "cos(v instant-vector)", "Cosine of radians."], ["cosh", "cosh(v instant-vector)", "Hyperbolic cosine."],
  ["count_over_time", "count_over_time(v range-vector)", "Number of samples of each series in the range."],
  ["days_in_month", "days_in_month(v=vector(time()) instant-vector)", "Days in the month of each timestamp (UTC)."],
  ["day_of_month", "day_of_month(v=vector(time()) instant-vector)", "Day of the month, 1-31 (UTC)."],
  ["day_of_week", "day_of_week(v=vector(time()) instant-vector)", "Day of the week, 0 (Sunday) to 6 (UTC)."],
  ["day_of_year", "day_of_year(v=vector(time()) instant-vector)", "Day of the year, 1-366 (UTC)."],
  ["deg", "deg(v instant-vector)", "Radians to degrees."],
  ["delta", "delta(v range-vector)", "Difference between first and last value in the range, extrapolated (gauges)."],
  ["deriv", "deriv(v range-vector)", "Per-second derivative by linear regression (gauges)."],
  ["double_exponential_smoothing", "double_exponential_smoothing(v range-vector, sf scalar, tf scalar)", "Smoothed value (Holt-Winters) from smoothing and trend factors in (0, 1)."],
  ["exp", "exp(v instant-vector)", "e to the power of each value."],
  ["floor", "floor(v instant-vector)", "Round down to the nearest integer."],
  ["histogram_avg", "histogram_avg(v instant-vector)", "Mean of native histogram observations."],
  ["histogram_count", "histogram_count(v instant-vector)", "Observation count of native histograms."],
  ["histogram_fraction", "histogram_fraction(lower scalar, upper scalar, v instant-vector)", "Estimated fraction of observations between lower and upper."],
  ["histogram_quantile", "histogram_quantile(φ scalar, b instant-vector)", "φ-quantile (0 ≤ φ ≤ 1) from histogram buckets (le label) or native histograms."],
  ["histogram_stddev", "histogram_stddev(v instant-vector)", "Estimated standard deviation of native histogram observations."],
  ["histogram_stdvar", "histogram_stdvar(v instant-vector)", "Estimated variance of native histogram observations."],
  ["histogram_sum", "histogram_sum(v instant-vector)", "Sum of native histogram observations."],
  ["hour", "hour(v=vector(time()) instant-vector)", "Hour of the day, 0-23 (UTC)."],
  ["idelta", "idelta(v range-vector)", "Difference between the last two samples in the range."],
  ["increase", "increase(v range-vector)", "Increase of a counter over the range, extrapolated, resets handled."],
  ["info", "info(v instant-vector, [data-label-selector instant-vector])", "Adds labels from info metrics (experimental)."],
  ["irate", "irate(v range-vector)", "Per-second rate from the last two samples in the range (counters)."],
  ["label_join", "label_join(v instant-vector, dst string, separator string, src_1 string, ...)", "Join the values of source labels into a new label."],
  ["label_replace", "label_replace(v instant-vector, dst string, replacement string, src string, regex string)", "Set dst from a regex match on src ($1 for groups)."],
  ["last_over_time", "last_over_time(v range-vector)", "Most recent sample of each series in the range."],
  ["ln", "ln(v instant-vector)", "Natural logarithm."], ["log10", "log10(v instant-vector)", "Decimal logarithm."],
  ["log2", "log2(v instant-vector)", "Binary logarithm."],
  ["mad_over_time", "mad_over_time(v range-vector)", "Median absolute deviation of the samples in the range."],
  ["max_over_time", "max_over_time(v range-vector)", "Maximum of each series' samples in the range."],
  ["min_over_time", "min_over_time(v range-vector)", "Minimum of each series' samples in the range."],
  ["minute", "minute(v=vector(time()) instant-vector)", "Minute of the hour, 0-59 (UTC)."],
  ["month", "month(v=vector(time()) instant-vector)", "Month of the year, 1-12 (UTC)."],
  ["pi", "pi()", "The number π."],
  ["predict_linear", "predict_linear(v range-vector, t scalar)", "Value t seconds from now by linear regression (gauges)."],
  ["present_over_time", "present_over_time(v range-vector)", "1 for every series with a sample in the range."],
  ["quantile_over_time", "quantile_over_time(φ scalar, v range-vector)", "φ-quantile of each series' samples in the range."],
  ["rad", "rad(v instant-vector)", "Degrees to radians."],
  ["rate", "rate(v range-vector)", "Per-second average rate of increase of a counter over the range."],
  ["resets", "resets(v range-vector)", "Number of counter resets in the range."],
  ["round", "round(v instant-vector, to_nearest=1 scalar)", "Round to the nearest multiple of to_nearest."],
  ["scalar", "scalar(v instant-vector)", "The value of a 1-element vector as a scalar (NaN otherwise)."],
  ["sgn", "sgn(v instant-vector)", "Sign: 1, -1 or 0."], ["sin", "sin(v instant-vector)", "Sine of radians."],
  ["sinh", "sinh(v instant-vector)", "Hyperbolic sine."],
  ["sort", "sort(v instant-vector)", "Sort by value, ascending (instant queries)."],
  ["sort_by_label", "sort_by_label(v instant-vector, label string, ...)", "Sort by label values, ascending."],
  ["sort_by_label_desc", "sort_by_label_desc(v instant-vector, label string, ...)", "Sort by label values, descending."],
  ["sort_desc", "sort_desc(v instant-vector)", "Sort by value, descending (instant queries)."],
  ["sqrt", "sqrt(v instant-vector)", "Square root."],
  ["stddev_over_time", "stddev_over_time(v range-vector)", "Population standard deviation of the samples in the range."],
  ["stdvar_over_time", "stdvar_over_time(v range-vector)", "Population variance of the samples in the range."],
  ["sum_over_time", "sum_over_time(v range-vector)", "Sum of each series' samples in the range."],
  ["tan", "tan(v instant-vector)", "Tangent of radians."], ["tanh", "tanh(v instant-vector)", "Hyperbolic tangent."],
  ["time", "time()", "Evaluation time in seconds since the epoch."],
  ["timestamp", "timestamp(v instant-vector)", "Timestamp of each sample, in seconds."],
  ["vector", "vector(s scalar)", "The scalar as a vector with no labels."],
  ["year", "year(v=vector(time()) instant-vector)", "Year of each timestamp (UTC)."],
];

export const AGGREGATIONS = [
  ["sum", "sum [by|without (labels)] (v)", "Sum over dimensions."],
  ["avg", "avg [by|without (labels)] (v)", "Mean over dimensions."],
  ["min", "min [by|without (labels)] (v)", "Minimum over dimensions."],
  ["max", "max [by|without (labels)] (v)", "Maximum over dimensions."],
  ["count", "count [by|without (labels)] (v)", "Number of series in each group."],
  ["group", "group [by|without (labels)] (v)", "1 for each group."],
  ["stddev", "stddev [by|without (labels)] (v)", "Population standard deviation over dimensions."],
  ["stdvar", "stdvar [by|without (labels)] (v)", "Population variance over dimensions."],
  ["count_values", "count_values [by|without (labels)] (\"label\", v)", "Number of series per distinct value, the value in a new label."],
  ["topk", "topk [by|without (labels)] (k, v)", "The k largest series by value."],
  ["bottomk", "bottomk [by|without (labels)] (k, v)", "The k smallest series by value."],
  ["quantile", "quantile [by|without (labels)] (φ, v)", "φ-quantile over dimensions."],
  ["limitk", "limitk [by|without (labels)] (k, v)", "k series per group, chosen stably (experimental)."],
  ["limit_ratio", "limit_ratio [by|without (labels)] (r, v)", "A stable ratio r of the series per group (experimental)."],
];

// Words that follow an expression: binary operators, matching and modifiers.
export const KEYWORDS = [
  ["and", "v1 and v2", "Series of v1 that have a match in v2."], ["or", "v1 or v2", "v1, plus series of v2 without a match in v1."],
  ["unless", "v1 unless v2", "Series of v1 without a match in v2."],
  ["by", "by (labels)", "Keep only these labels when aggregating."], ["without", "without (labels)", "Drop these labels when aggregating."],
  ["on", "on (labels)", "Match series of both sides on these labels only."],
  ["ignoring", "ignoring (labels)", "Match series ignoring these labels."],
  ["group_left", "group_left (labels)", "Many-to-one matching: many series on the left; copy these labels from the right."],
  ["group_right", "group_right (labels)", "One-to-many matching: many series on the right."],
  ["bool", "== bool", "Comparisons return 0 or 1 instead of filtering."],
  ["offset", "offset 5m", "Look back in time by a duration."],
  ["atan2", "v1 atan2 v2", "Arctangent of v1/v2 (binary operator)."],
];

export const DURATIONS = ["1m", "5m", "10m", "15m", "30m", "1h", "2h", "6h", "12h", "1d", "7d"];

const FN_NAMES = new Set(FUNCTIONS.map((f) => f[0]));
const AGG_NAMES = new Set(AGGREGATIONS.map((f) => f[0]));
const KW_NAMES = new Set(["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
  "bool", "offset", "atan2", "start", "end"]);
const GROUPING = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
export const isFunction = (n) => FN_NAMES.has(n);
export const isAggregation = (n) => AGG_NAMES.has(n);
export const isKeyword = (n) => KW_NAMES.has(n) || ["inf", "nan"].includes(String(n).toLowerCase());

// ---- lexer ----------------------------------------------------------------
// Tokens {t: type, v: text, s: start, e: end}; types: ident, num, dur, str (closed: boolean), op, punct,
// comment, ws. Never throws: unknown characters become "err" tokens, an unclosed string runs to the end.
export function lex(text) {
  const out = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i], s = i;
    if (/\s/.test(c)) { while (i < n && /\s/.test(text[i])) i++; out.push({t: "ws", v: text.slice(s, i), s, e: i}); continue; }
    if (c === "#") { while (i < n && text[i] !== "\n") i++; out.push({t: "comment", v: text.slice(s, i), s, e: i}); continue; }
    if (c === "\"" || c === "'" || c === "`") {
      i++;
      let closed = false;
      while (i < n) {
        if (text[i] === "\\" && c !== "`") { i += 2; continue; }
        if (text[i] === c) { i++; closed = true; break; }
        i++;
      }
      i = Math.min(i, n);
      out.push({t: "str", v: text.slice(s, i), s, e: i, closed, q: c});
      continue;
    }
    if (/[a-zA-Z_]/.test(c) || (c === ":" && /[a-zA-Z_:]/.test(text[i + 1] || ""))) {
      while (i < n && /[a-zA-Z0-9_:]/.test(text[i])) i++;
      // metric names may contain ":", but a subquery "[5m:1m]" never reaches here (digits first)
      out.push({t: "ident", v: text.slice(s, i), s, e: i});
      continue;
    }
    if (/[0-9.]/.test(c)) {
      const m = /^(?:(?:\d+(?:ms|[smhdwy]))+|0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(text.slice(i));
      if (m && m[0]) {
        i += m[0].length;
        out.push({t: /[smhdwy]$/.test(m[0]) && !/^0x/.test(m[0]) ? "dur" : "num", v: m[0], s, e: i});
        continue;
      }
    }
    const two = text.slice(i, i + 2);
    if (["==", "!=", ">=", "<=", "=~", "!~"].includes(two)) { i += 2; out.push({t: "op", v: two, s, e: i}); continue; }
    if ("+-*/%^<>=".includes(c)) { i++; out.push({t: "op", v: c, s, e: i}); continue; }
    if ("(){}[],:@".includes(c)) { i++; out.push({t: "punct", v: c, s, e: i}); continue; }
    i++;
    out.push({t: "err", v: c, s, e: i});
  }
  return out;
}

// The class of a token for highlighting.
export function tokenClass(tok, next) {
  if (tok.t === "ident") {
    if (next?.t === "op" && ["=", "!=", "=~", "!~"].includes(next.v)) return "label";
    if (AGG_NAMES.has(tok.v)) return "agg";
    if (FN_NAMES.has(tok.v) && next?.v === "(") return "fn";
    if (KW_NAMES.has(tok.v)) return "kw";
    return "name";
  }
  return {num: "num", dur: "dur", str: "str", op: "op", punct: "punct", comment: "comment", err: "bad"}[tok.t] || "";
}

const MATCH_OPS = new Set(["=", "!=", "=~", "!~"]);
const OPERAND_END = (tok) => tok && ((tok.t === "ident" && !KW_NAMES.has(tok.v) && !AGG_NAMES.has(tok.v)) ||
  tok.t === "num" || tok.t === "dur" || tok.t === "str" || (tok.t === "punct" && [")", "}", "]"].includes(tok.v)));

// ---- completion context ---------------------------------------------------
// What may be typed at `pos`: {kind, prefix, from, to, metric?, label?, quote?}. Kinds:
//   "expr"      an expression starts: metric names, functions, aggregations (`rate(dem|`, `sum(|`)
//   "operator"  an expression ended: binary operators, by/without/on/offset... (`up |`, `sum b|`)
//   "labelName" inside a selector's braces (`up{|`, `up{job="x",|`), metric = the selector's name
//   "labelValue" after a matcher operator (`up{job=|`, `up{job=~"no|`), with label and quote (when typed)
//   "grouping"  inside by(...), without(...), on(...), ignoring(...), group_left(...) — label names;
//               metric = the first metric named in the query
//   "duration"  inside [...] (`rate(x[|`, `x[5m:|`)
//   "none"      inside a string, a number or a comment
// `from`..`to` is the text a pick replaces.
export function completionContext(text, pos) {
  const toks = lex(text.slice(0, pos));
  // The word being typed (an identifier touching the cursor) is replaced by a pick.
  let last = toks[toks.length - 1];
  let prefix = "", from = pos;
  const after = /^[a-zA-Z0-9_:]*/.exec(text.slice(pos))[0];
  const to = pos + after.length;
  if (last && last.t === "ident" && last.e === pos) { prefix = last.v; from = last.s; toks.pop(); }
  // Structure: a stack of open braces, brackets and parens (with what opened each paren).
  const stack = [];
  const sig = toks.filter((t) => t.t !== "ws" && t.t !== "comment");
  for (let k = 0; k < sig.length; k++) {
    const tk = sig[k];
    if (tk.t !== "punct") continue;
    if (tk.v === "{") stack.push({c: "{", k, metric: sig[k - 1]?.t === "ident" ? sig[k - 1].v : ""});
    else if (tk.v === "[") stack.push({c: "[", k});
    else if (tk.v === "(") {
      const prev = sig[k - 1];
      const kind = prev?.t === "ident" && GROUPING.has(prev.v) ? "grouping" : prev?.t === "ident" && (FN_NAMES.has(prev.v) || AGG_NAMES.has(prev.v)) ? "call" : "paren";
      stack.push({c: "(", k, kind});
    } else if ("}])".includes(tk.v)) {
      const want = {"}": "{", "]": "[", ")": "("}[tk.v];
      const at = stack.map((x) => x.c).lastIndexOf(want);
      if (at >= 0) stack.length = at;
    }
  }
  last = toks[toks.length - 1];
  const prevSig = sig[sig.length - 1];
  const top = stack[stack.length - 1];
  const base = {prefix, from, to};
  if (last?.t === "comment") return {kind: "none", ...base};
  if (top?.c === "[" && !(last?.t === "str")) return {kind: "duration", ...base};
  if (last && (last.t === "num" || last.t === "dur") && !prefix && last.e === pos) return {kind: "none", ...base};
  if (last && last.t === "str" && !last.closed) {
    // Typing inside a string: only a matcher's value completes.
    if (top?.c === "{" && sig[sig.length - 2]?.t === "op" && MATCH_OPS.has(sig[sig.length - 2].v)) {
      const label = sig[sig.length - 3]?.t === "ident" ? sig[sig.length - 3].v : "";
      const closeAfter = text[pos] === last.q;
      return {kind: "labelValue", prefix: last.v.slice(1), from: last.s, to: closeAfter ? pos + 1 : pos,
        metric: top.metric, label, quote: last.q, matchers: selectorMatchers(sig, top)};
    }
    return {kind: "none", ...base};
  }
  if (top?.c === "{") {
    if (prevSig?.t === "op" && MATCH_OPS.has(prevSig.v)) {
      const label = sig[sig.length - 2]?.t === "ident" ? sig[sig.length - 2].v : "";
      return {kind: "labelValue", ...base, metric: top.metric, label, quote: "", matchers: selectorMatchers(sig, top)};
    }
    if (prevSig && (prevSig.v === "{" || prevSig.v === ",")) {
      return {kind: "labelName", ...base, metric: top.metric, matchers: selectorMatchers(sig, top)};
    }
    return {kind: "none", ...base};
  }
  if (top?.c === "(" && top.kind === "grouping" && prevSig && (prevSig.v === "(" || prevSig.v === ",")) {
    return {kind: "grouping", ...base, metric: firstMetric(text)};
  }
  if (prevSig && prevSig.t === "ident" && AGG_NAMES.has(prevSig.v)) return {kind: "operator", ...base, only: ["by", "without"]};
  if (OPERAND_END(prevSig)) return {kind: "operator", ...base};
  return {kind: "expr", ...base};
}

// The complete `name op "value"` matchers already written in the selector opened at `top`.
function selectorMatchers(sig, top) {
  const out = [];
  for (let k = top.k + 1; k + 2 < sig.length; k++) {
    const [a, b, c] = [sig[k], sig[k + 1], sig[k + 2]];
    if (a.t === "ident" && b.t === "op" && MATCH_OPS.has(b.v) && c.t === "str" && c.closed) { out.push(`${a.v}${b.v}${c.v}`); k += 2; }
  }
  return out;
}

// The first metric name in a query (for label completion in by(...), on(...)).
export function firstMetric(text) {
  const sig = lex(text).filter((t) => t.t !== "ws" && t.t !== "comment");
  for (let k = 0; k < sig.length; k++) {
    const tk = sig[k], next = sig[k + 1], prev = sig[k - 1];
    if (tk.t !== "ident" || KW_NAMES.has(tk.v) || AGG_NAMES.has(tk.v)) continue;
    if (FN_NAMES.has(tk.v) && next?.v === "(") continue;
    if (prev && (prev.v === "(" || prev.v === ",") && sig.slice(0, k).some((x) => x.t === "ident" && GROUPING.has(x.v))) {
      // inside by (...): a label, not a metric — skip when the paren was opened by a grouping word
      let depth = 0, opener = null;
      for (let j = k - 1; j >= 0; j--) {
        if (sig[j].v === ")") depth++;
        else if (sig[j].v === "(") { if (depth === 0) { opener = sig[j - 1]; break; } depth--; }
      }
      if (opener && GROUPING.has(opener.v)) continue;
    }
    if (prev?.v === "{" || prev?.v === ",") {
      // a label name inside braces
      let depth = 0, inBrace = false;
      for (let j = k - 1; j >= 0; j--) {
        if (sig[j].v === "}") depth++;
        else if (sig[j].v === "{") { if (depth === 0) { inBrace = true; break; } depth--; }
      }
      if (inBrace) continue;
    }
    if (next?.t === "op" && MATCH_OPS.has(next.v)) continue;
    return tk.v;
  }
  return "";
}

// ---- errors ---------------------------------------------------------------
// Prometheus writes parse errors as `<line>:<col>: parse error: <what>` (1-based column; sometimes a range
// `1:5-1:9`), after `invalid parameter "query": ` in the API. Returns {line, col, offset, endOffset, message}
// with offsets into `text`, or null when the message carries no position.
export function parseErrorPosition(message, text) {
  const m = /(?:^|\s)(\d+):(\d+)(?:-(\d+):(\d+))?: (parse error: .*)$/s.exec(String(message));
  if (!m) return null;
  const line = Number(m[1]), col = Number(m[2]);
  const offset = offsetOf(text, line, col);
  const endOffset = m[3] ? offsetOf(text, Number(m[3]), Number(m[4])) : null;
  return {line, col, offset, endOffset, message: m[5]};
}

function offsetOf(text, line, col) {
  const lines = String(text).split("\n");
  let off = 0;
  for (let l = 1; l < line && l <= lines.length; l++) off += lines[l - 1].length + 1;
  const here = lines[Math.min(line, lines.length) - 1] ?? "";
  return Math.min(off + Math.max(0, Math.min(col - 1, here.length)), String(text).length);
}

// ---- AST -> PromQL (for running a node of the Explain tree) ---------------
export function durationText(ms) {
  if (!ms) return "0s";
  let out = "", rest = ms;
  for (const [u, v] of [["y", 31536000e3], ["w", 604800e3], ["d", 86400e3], ["h", 3600e3], ["m", 60e3], ["s", 1e3], ["ms", 1]]) {
    if (rest >= v) { const k = Math.floor(rest / v); out += k + u; rest -= k * v; }
  }
  return out;
}

const quote = (s) => JSON.stringify(String(s));

export function selectorText(vs) {
  const ms = (vs.matchers || []).filter((m) => !(m.name === "__name__" && m.type === "=" && m.value === vs.name));
  const inner = ms.map((m) => `${m.name}${m.type}${quote(m.value)}`).join(", ");
  return (vs.name || "") + (inner || !vs.name ? `{${inner}}` : "");
}

function atText(n) {
  if (n.startOrEnd) return ` @ ${n.startOrEnd}()`;
  if (n.timestamp !== null && n.timestamp !== undefined) return ` @ ${n.timestamp / 1000}`;
  return "";
}

function offsetText(ms) { return ms ? ` offset ${ms < 0 ? "-" : ""}${durationText(Math.abs(ms))}` : ""; }

export function matchingText(n) {
  const m = n.matching;
  let s = n.bool ? " bool" : "";
  if (!m) return s;
  if (m.on || m.labels.length) s += ` ${m.on ? "on" : "ignoring"}(${m.labels.join(", ")})`;
  if (m.card === "many-to-one") s += ` group_left(${m.include.join(", ")})`;
  if (m.card === "one-to-many") s += ` group_right(${m.include.join(", ")})`;
  return s;
}

export function toPromQL(n) {
  switch (n.type) {
    case "parenExpr": return `(${toPromQL(n.expr)})`;
    case "numberLiteral": return String(n.val);
    case "stringLiteral": return quote(n.val);
    case "unaryExpr": return `-${toPromQL(n.expr)}`;
    case "vectorSelector": return selectorText(n) + offsetText(n.offset) + atText(n);
    case "matrixSelector": {
      const vs = n.vectorSelector;
      return `${selectorText(vs)}[${durationText(n.range)}]${offsetText(vs.offset)}${atText(vs)}`;
    }
    case "subquery": return `${toPromQL(n.expr)}[${durationText(n.range)}:${n.step ? durationText(n.step) : ""}]${offsetText(n.offset)}${atText(n)}`;
    case "call": return `${n.func.name}(${n.args.map(toPromQL).join(", ")})`;
    case "aggregation": {
      const g = n.grouping.length || n.without ? ` ${n.without ? "without" : "by"} (${n.grouping.join(", ")})` : "";
      return `${n.op}${g} (${n.param ? toPromQL(n.param) + ", " : ""}${toPromQL(n.expr)})`;
    }
    case "binaryExpr": return `${toPromQL(n.lhs)} ${n.op}${matchingText(n)} ${toPromQL(n.rhs)}`;
    default: return "";
  }
}
