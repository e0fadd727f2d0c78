// Completion items for a context from lang.completionContext: metric names (with their metadata), label
// names and values (asked of the API for the metric at hand), functions, aggregations, keywords, durations.
import {api} from "../core.js";
import {FUNCTIONS, AGGREGATIONS, KEYWORDS, DURATIONS} from "./lang.js";

const TTL_MS = 60_000;
const MAX_ITEMS = 200;

// One cache for every panel of the page: the API is asked once per minute for the same thing.
const cache = new Map();
function cached(key, fetcher) {
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.p;
  const p = fetcher().catch(() => null);  // completion is best effort: no list, no error
  cache.set(key, {at: Date.now(), p});
  return p;
}

export const source = {
  metricNames: () => cached("names", () => api.get("/api/v1/label/__name__/values")).then((v) => v || []),
  metadata: () => cached("meta", () => api.get("/api/v1/metadata")).then((v) => v || {}),
  labelNames(metric, matchers = []) {
    const sel = selector(metric, matchers);
    return cached("ln:" + sel, () => api.get("/api/v1/labels", sel ? {"match[]": sel} : {})).then((v) => v || []);
  },
  labelValues(label, metric, matchers = []) {
    const sel = selector(metric, matchers);
    return cached(`lv:${label}:${sel}`, () => api.get(`/api/v1/label/${encodeURIComponent(label)}/values`,
      sel ? {"match[]": sel} : {})).then((v) => v || []);
  },
};

function selector(metric, matchers) {
  if (!metric && !matchers.length) return "";
  return `${metric || ""}{${matchers.join(",")}}`;
}

// Items: {label, insert, kind, detail, doc, back (caret moves back this much after insert), reopen}
export async function itemsFor(ctx, explicit = false) {
  const p = ctx.prefix || "";
  switch (ctx.kind) {
    case "expr": {
      if (!p && !explicit) return [];
      const [names, meta] = await Promise.all([source.metricNames(), source.metadata()]);
      const metrics = names.map((n) => {
        const m = meta[n]?.[0] || meta[n.replace(/_(bucket|sum|count|total)$/, "")]?.[0];
        return {label: n, insert: n, kind: "metric", detail: m?.type || "", doc: m?.help || ""};
      });
      const fns = FUNCTIONS.map(([n, sig, doc]) => ({label: n, insert: n + "()", back: 1, kind: "function", detail: sig, doc, reopen: true}));
      const aggs = AGGREGATIONS.map(([n, sig, doc]) => ({label: n, insert: n + "()", back: 1, kind: "aggregation", detail: sig, doc, reopen: true}));
      return rank([...aggs, ...fns, ...metrics], p);
    }
    case "operator": {
      if (!p && !explicit) return [];
      const kws = KEYWORDS.filter(([n]) => !ctx.only || ctx.only.includes(n));
      return rank(kws.map(([n, sig, doc]) => {
        const paren = ["by", "without", "on", "ignoring", "group_left", "group_right"].includes(n);
        return {label: n, insert: paren ? n + " ()" : n + " ", back: paren ? 1 : 0, kind: "keyword", detail: sig, doc, reopen: paren};
      }), p, true);
    }
    case "labelName": {
      const used = new Set((ctx.matchers || []).map((m) => /^[^=!~]+/.exec(m)?.[0]));
      const names = await source.labelNames(ctx.metric);
      return rank(names.filter((n) => n !== "__name__" && !used.has(n))
        .map((n) => ({label: n, insert: n + "=", kind: "label", detail: "label", doc: "", reopen: true})), p);
    }
    case "grouping": {
      const names = await source.labelNames(ctx.metric);
      return rank(names.filter((n) => n !== "__name__").map((n) => ({label: n, insert: n, kind: "label", detail: "label", doc: ""})), p);
    }
    case "labelValue": {
      if (!ctx.label) return [];
      const vals = await source.labelValues(ctx.label, ctx.metric, ctx.matchers || []);
      const q = ctx.quote || "\"";
      return rank(vals.map((v) => ({label: v, insert: q + escapeIn(v, q) + q, kind: "value", detail: ctx.label, doc: ""})), p);
    }
    case "duration": {
      return rank(DURATIONS.map((d) => ({label: d, insert: d, kind: "duration", detail: "duration", doc: ""})), p, true);
    }
    default: return [];
  }
}

function escapeIn(v, q) {
  if (q === "`") return v;
  return String(v).replace(/\\/g, "\\\\").replace(new RegExp(q, "g"), "\\" + q).replace(/\n/g, "\\n");
}

// Prefix matches first (shortest first), then other substring matches, then in-order fuzzy matches.
function rank(items, prefix, keepOrder = false) {
  if (!prefix) return keepOrder ? items.slice(0, MAX_ITEMS) : items.slice(0, MAX_ITEMS);
  const lp = prefix.toLowerCase();
  const scored = [];
  items.forEach((it, i) => {
    const l = it.label.toLowerCase();
    let s;
    if (l === lp) s = 0;
    else if (l.startsWith(lp)) s = 1;
    else if (l.includes(lp)) s = 2;
    else if (fuzzy(l, lp)) s = 3;
    else return;
    scored.push([s, keepOrder ? i : l.length, i, it]);
  });
  scored.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  return scored.slice(0, MAX_ITEMS).map((x) => x[3]);
}

function fuzzy(s, p) {
  let j = 0;
  for (let i = 0; i < s.length && j < p.length; i++) if (s[i] === p[j]) j++;
  return j === p.length && p.length >= 3;
}
