// The Table tab: an instant query's result with one column per label name (sortable) and the value;
// range-vector results (`up[5m]`) list value @ timestamp; scalars and strings are one row.
import {h, clear, fmtTime} from "../core.js";

const MAX_ROWS = 2000;

export function labelColumns(result) {
  const names = new Set();
  for (const s of result) for (const k of Object.keys(s.metric || {})) names.add(k);
  const cols = [...names].sort();
  if (names.has("__name__")) { cols.splice(cols.indexOf("__name__"), 1); cols.unshift("__name__"); }
  return cols;
}

// Renders data ({resultType, result}) into el; sort state {col, dir} is kept on el between renders.
export function renderTable(el, data) {
  clear(el);
  const type = data.resultType;
  if (type === "scalar" || type === "string") {
    const [t, v] = data.result;
    el.append(h("div", {class: "ks-table-wrap"}, h("table", {class: "ks-table kx-result", dataset: {type}},
      h("thead", {}, h("tr", {}, h("th", {}, type), h("th", {}, "Time"))),
      h("tbody", {}, h("tr", {class: "kx-row"}, h("td", {class: "kx-value"}, String(v)), h("td", {}, fmtTime(t * 1000)))))));
    return;
  }
  const result = data.result || [];
  if (!result.length) { el.append(h("p", {class: "ks-muted kx-empty"}, "Empty query result")); return; }
  const cols = labelColumns(result);
  const matrix = type === "matrix";
  const sort = el._sort || {col: null, dir: 1};
  const rows = result.slice();
  if (sort.col !== null) {
    const key = sort.col === "\u0000value" ? (s) => (matrix ? (s.values?.length ?? 0) : parseFloat(s.value[1])) : (s) => s.metric?.[sort.col] ?? "";
    rows.sort((a, b) => {
      const x = key(a), y = key(b);
      if (typeof x === "number" && typeof y === "number") return sort.dir * ((isNaN(x) ? -Infinity : x) - (isNaN(y) ? -Infinity : y));
      return sort.dir * String(x).localeCompare(String(y), undefined, {numeric: true});
    });
  }
  const head = (label, col, cls) => h("th", {class: "kx-sortable " + (cls || ""), dataset: {col: label},
    "aria-sort": sort.col === col ? (sort.dir > 0 ? "ascending" : "descending") : "none",
    onclick: () => { el._sort = {col, dir: sort.col === col ? -sort.dir : 1}; renderTable(el, data); }},
  label, sort.col === col ? (sort.dir > 0 ? " ▲" : " ▼") : "");
  const shown = rows.slice(0, MAX_ROWS);
  const table = h("table", {class: "ks-table kx-result", dataset: {type}},
    h("thead", {}, h("tr", {}, cols.map((c) => head(c, c)), head(matrix ? "Values" : "Value", "\u0000value", "ks-num"))),
    h("tbody", {}, shown.map((s) => h("tr", {class: "kx-row"},
      cols.map((c) => h("td", {dataset: {col: c}}, s.metric?.[c] ?? "")),
      matrix
        ? h("td", {class: "kx-value kx-values"}, (s.values || []).map(([t, v]) => h("div", {}, `${v} @${t}`)))
        : h("td", {class: "kx-value ks-num"}, s.value[1])))));
  if (rows.length > shown.length) el.append(h("div", {class: "ks-warning"}, `Showing the first ${MAX_ROWS.toLocaleString()} of ${rows.length.toLocaleString()} series.`));
  el.append(h("div", {class: "ks-table-wrap"}, table));
}
