// Service discovery: per scrape pool, what discovery found (discovered labels) beside what relabelling made of it
// (target labels) or "dropped", from /api/v1/targets?state=any.
import {h, clear, api, url} from "../core.js";
import {statusPage, chips, segmented, searchBox, empty, labelText, capped, keepSearchFocus} from "../status/common.js";

const BIG = 20;  // above this many pools, pools start collapsed and render when opened

const pg = statusPage({title: "Service discovery",
  sub: "What discovery found for each scrape pool, and the labels each target kept after relabelling (or that it was dropped)."});
const open = new Map();
let data = null;

function row(t) {
  return h("tr", {class: "ks-sd-row", dataset: {kind: t.dropped ? "dropped" : "active"}},
    h("td", {class: "ks-labels-cell"}, chips(t.discoveredLabels)),
    h("td", {class: "ks-labels-cell"}, t.dropped
      ? h("span", {class: "ks-badge ks-muted", title: "relabel_configs dropped this target"}, "DROPPED")
      : chips(t.labels)));
}

function section(name, items, counts, startOpen) {
  const sec = h("details", {class: "ks-section ks-pool", dataset: {pool: name}},
    h("summary", {}, h("span", {class: "ks-title"}, name),
      h("span", {class: "ks-right"},
        h("span", {class: "ks-badge ks-ok ks-active-count"}, `${counts.active} active`),
        h("span", {class: "ks-badge ks-muted ks-dropped-count"}, `${counts.dropped} dropped`),
        counts.dropped > counts.droppedListed ? h("span", {class: "ks-muted", title: "the API lists only some dropped targets"},
          `${counts.droppedListed} listed`) : null)));
  const body = h("div", {class: "ks-section-body"});
  sec.append(body);
  let drawn = false;
  const draw = () => {
    if (drawn) return; drawn = true;
    if (!items.length) { body.append(h("p", {class: "ks-muted"}, "No targets match the filter in this pool.")); return; }
    const tbody = h("tbody");
    body.append(h("div", {class: "ks-table-wrap"}, h("table", {class: "ks-table ks-sd-grid"},
      h("thead", {}, h("tr", {}, h("th", {}, "Discovered labels"), h("th", {}, "Target labels"))), tbody)));
    capped(tbody, items, row, {step: 100, colspan: 2});
  };
  sec.open = startOpen;
  if (startOpen) draw();
  sec.addEventListener("toggle", () => { open.set(name, sec.open); if (sec.open) draw(); });
  return sec;
}

function paint(body) {
  const show = url.get("show") || "all";
  const text = (url.get("search") || "").toLowerCase();
  const active = data.activeTargets || [], dropped = data.droppedTargets || [];
  const counts = data.droppedTargetCounts || {};
  const pools = new Map();
  const pool = (n) => { if (!pools.has(n)) pools.set(n, {items: [], active: 0, droppedListed: 0}); return pools.get(n); };
  for (const n of Object.keys(counts)) pool(n);
  for (const t of active) { const p = pool(t.scrapePool); p.active++; p.items.push(t); }
  for (const t of dropped) { const p = pool(t.scrapePool); p.droppedListed++; p.items.push({...t, dropped: true}); }
  const totalDropped = Object.values(counts).reduce((a, b) => a + b, 0) || dropped.length;
  const list = h("div", {class: "ks-pools"});
  clear(body).append(h("div", {class: "ks-toolbar"},
    segmented([{value: "all", label: "All", count: active.length + totalDropped}, {value: "active", label: "Active", count: active.length},
      {value: "dropped", label: "Dropped", count: totalDropped}], show, (v) => { url.set({show: v === "all" ? "" : v}); render(body); }, {name: "show"}),
    searchBox(url.get("search") || "", (v) => { url.set({search: v}); render(body); }, "Filter by labels")), list);
  if (!pools.size) {
    list.append(empty("No scrape pools.", "Add a scrape_configs block to the config file (docs/scraping.md); each job becomes a pool here."));
    return;
  }
  const many = pools.size > BIG;
  let any = false;
  for (const [name, p] of [...pools].sort((a, b) => a[0].localeCompare(b[0]))) {
    const items = p.items.filter((t) => (show === "all" || (show === "dropped") === Boolean(t.dropped)) &&
      (!text || name.toLowerCase().includes(text) || labelText(t.discoveredLabels).includes(text) || labelText(t.labels).includes(text)));
    if (!items.length && (text || show !== "all")) continue;
    any = true;
    list.append(section(name, items, {active: p.active, dropped: counts[name] ?? p.droppedListed, droppedListed: p.droppedListed},
      open.has(name) ? open.get(name) : !many));
  }
  if (!any) list.append(empty("Nothing matches the filter.", "Clear the text filter or choose All."));
}

function render(body) { keepSearchFocus(body, () => paint(body)); }

pg.start(async (body) => {
  data = await api.get("/api/v1/targets", {state: "any"});
  render(body);
});
