// TSDB status: head statistics and the top cardinality tables (/api/v1/status/tsdb), plus runtime and build
// information (/api/v1/status/runtimeinfo, /api/v1/status/buildinfo).
import {h, clear, api, url, fmtTime, errorBox} from "../core.js";
import {statusPage, empty, apiMessage, segmented, parseApiTime} from "../status/common.js";

const pg = statusPage({title: "TSDB status", sub: "The in-memory head, where the series come from, and how this server runs."});

const TABLES = [
  ["seriesCountByMetricName", "Top series count by metric name", "Metric name", "Series"],
  ["labelValueCountByLabelName", "Top label names with the most values", "Label name", "Values"],
  // kubesight's API fills this table with the number of series carrying each label name, not bytes
  // (Prometheus sums the byte lengths of the values): say what the numbers are.
  ["memoryInBytesByLabelName", "Top label names by use (memoryInBytesByLabelName)", "Label name", "Series with it"],
  ["seriesCountByLabelValuePair", "Top series count by label pair", "Label pair", "Series"],
];

const num = (v) => (typeof v === "number" ? v.toLocaleString("en-US") : String(v ?? "—"));

function card(value, label, cls) { return h("div", {class: "ks-card " + (cls || "")}, h("div", {class: "ks-num"}, value), h("div", {class: "ks-lbl"}, label)); }

function cardTable(key, title, col, valCol, rows) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return h("div", {class: "ks-panel", dataset: {table: key}}, h("h2", {}, title),
    rows.length ? h("div", {class: "ks-table-wrap"}, h("table", {class: "ks-table"},
      h("thead", {}, h("tr", {}, h("th", {}, col), h("th", {class: "ks-num"}, valCol), h("th", {}, ""))),
      h("tbody", {}, rows.map((r) => h("tr", {},
        h("td", {class: "ks-mono", style: {overflowWrap: "anywhere"}}, key === "seriesCountByMetricName"
          ? h("a", {href: "/graph?g0.expr=" + encodeURIComponent(r.name)}, r.name) : r.name),
        h("td", {class: "ks-num"}, num(r.value)),
        h("td", {style: {width: "30%"}}, h("span", {class: "ks-bar", style: {width: `${Math.max(2, (100 * r.value) / max)}%`}})))))))
      : h("p", {class: "ks-muted"}, "No series yet."));
}

function kvTable(obj, rename = {}) {
  return h("div", {class: "ks-table-wrap"}, h("table", {class: "ks-table ks-kv-table"}, h("tbody", {},
    Object.entries(obj).filter(([, v]) => v !== "" && v !== null && v !== undefined).map(([k, v]) => h("tr", {},
      h("th", {scope: "row"}, rename[k] || k), h("td", {class: "ks-mono"}, typeof v === "object" ? JSON.stringify(v) : String(v)))))));
}

pg.start(async (body) => {
  const limit = url.get("limit") || "10";
  const [tsdb, runtime, build] = await Promise.allSettled([
    api.get("/api/v1/status/tsdb", {limit}), api.get("/api/v1/status/runtimeinfo"), api.get("/api/v1/status/buildinfo")]);
  clear(body);
  if (tsdb.status === "rejected") body.append(errorBox(apiMessage(tsdb.reason), "/api/v1/status/tsdb"));
  else {
    const d = tsdb.value, hs = d.headStats || {};
    const hasData = hs.numSeries > 0;
    body.append(h("h2", {}, "Head"), h("div", {class: "ks-cards ks-head-stats"},
      card(num(hs.numSeries), "Series", "ks-series"), card(num(hs.numLabelPairs), "Label pairs"),
      card(num(hs.chunkCount), "Chunks"),
      card(hasData && hs.minTime ? fmtTime(hs.minTime) : "—", "Oldest sample in the head"),
      card(hasData && hs.maxTime ? fmtTime(hs.maxTime) : "—", "Newest sample in the head")));
    if (!hasData) body.append(empty("No series stored yet.", "Data appears once a scrape, a collector or a remote write has appended samples."));
    body.append(h("div", {class: "ks-toolbar"}, h("span", {class: "ks-muted"}, "Rows per table"),
      segmented(["10", "20", "50", "100"].map((v) => ({value: v, label: v})), limit, (v) => { url.set({limit: v === "10" ? "" : v}); pg.reload(); }, {name: "limit"})));
    body.append(h("div", {class: "ks-card-grid"}, TABLES.map(([k, t, c, v]) => cardTable(k, t, c, v, d[k] || []))));
  }
  body.append(h("h2", {}, "Runtime and build information"));
  const grid = h("div", {class: "ks-card-grid"});
  body.append(grid);
  if (runtime.status === "rejected") grid.append(errorBox(apiMessage(runtime.reason), "/api/v1/status/runtimeinfo"));
  else {
    const r = {...runtime.value};
    const st = parseApiTime(r.startTime), lc = parseApiTime(r.lastConfigTime);
    if (st) r.startTime = fmtTime(st);
    if (lc) r.lastConfigTime = fmtTime(lc);
    grid.append(h("div", {class: "ks-panel ks-runtime"}, h("h2", {}, "Runtime"), kvTable(r, {
      startTime: "Start time", CWD: "Working directory", reloadConfigSuccess: "Configuration reload", lastConfigTime: "Last successful configuration reload",
      corruptionCount: "WAL corruptions", goroutineCount: "Threads", GOMAXPROCS: "CPUs", storageRetention: "Storage retention", GOMEMLIMIT: "Memory limit"})));
  }
  if (build.status === "rejected") grid.append(errorBox(apiMessage(build.reason), "/api/v1/status/buildinfo"));
  else grid.append(h("div", {class: "ks-panel ks-build"}, h("h2", {}, "Build"), kvTable(build.value, {
    version: "Prometheus API version", application: "Application", kubesightVersion: "kubesight version"})));
});
