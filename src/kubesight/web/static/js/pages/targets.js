// Targets: every active scrape target by scrape pool, from /api/v1/targets?state=active.
import {h, clear, api, url} from "../core.js";
import {statusPage, badge, chips, when, secs, segmented, searchBox, empty, labelText, capped, keepSearchFocus} from "../status/common.js";

const BIG = 20;  // above this many pools, pools start collapsed and render when opened

const pg = statusPage({title: "Targets", sub: "Scrape targets by scrape pool: health, labels, last scrape and errors.", autoRefresh: true});
const open = new Map();        // pool -> open (the person's choice survives refreshes)
const showDiscovered = new Set();  // target keys whose discovered labels are shown
let data = null;

const key = (t) => t.scrapePool + "\u0000" + t.scrapeUrl + "\u0000" + JSON.stringify(t.labels);

function matches(t, health, text) {
  if (health !== "all" && t.health !== health) return false;
  if (!text) return true;
  const q = text.toLowerCase();
  return t.scrapeUrl.toLowerCase().includes(q) || labelText(t.labels).includes(q) || t.scrapePool.toLowerCase().includes(q);
}

function targetRows(t) {
  const k = key(t);
  const toggle = h("button", {class: "ks-linkbtn", type: "button", "data-action": "discovered"},
    showDiscovered.has(k) ? "hide discovered labels" : "show discovered labels");
  const err = t.lastError || "";
  const row = h("tr", {class: "ks-target-row", dataset: {health: t.health}},
    h("td", {class: "ks-endpoint"}, h("a", {href: t.scrapeUrl, target: "_blank", rel: "noopener"}, t.scrapeUrl), h("br"), toggle),
    h("td", {class: "ks-nowrap"}, badge(t.health)),
    h("td", {class: "ks-labels-cell"}, chips(t.labels)),
    h("td", {class: "ks-nowrap"}, when(t.lastScrape), h("div", {class: "ks-muted"}, `every ${t.scrapeInterval}`)),
    h("td", {class: "ks-nowrap ks-num"}, secs(t.lastScrapeDuration), h("div", {class: "ks-muted"}, `timeout ${t.scrapeTimeout}`)),
    h("td", {class: err ? "ks-err" : "ks-muted"}, err || "—"));
  const detail = h("tr", {class: "ks-detail-row", hidden: !showDiscovered.has(k)},
    h("td", {colspan: 6}, h("div", {class: "ks-muted"}, "Discovered labels (before relabelling):"), chips(t.discoveredLabels)));
  toggle.addEventListener("click", () => {
    const on = !showDiscovered.has(k);
    if (on) showDiscovered.add(k); else showDiscovered.delete(k);
    detail.hidden = !on;
    toggle.textContent = on ? "hide discovered labels" : "show discovered labels";
  });
  return [row, detail];
}

function poolSection(name, all, shown, startOpen) {
  const up = all.filter((t) => t.health === "up").length;
  const cls = up === all.length ? "ks-ok" : up === 0 ? "ks-bad" : "ks-warn";
  const sec = h("details", {class: "ks-section ks-pool", dataset: {pool: name}},
    h("summary", {}, h("span", {class: "ks-title"}, name),
      h("span", {class: "ks-right"}, h("span", {class: `ks-badge ${cls} ks-pool-count`}, `${up} / ${all.length} up`),
        shown.length !== all.length ? h("span", {class: "ks-muted"}, `${shown.length} shown`) : null)));
  const body = h("div", {class: "ks-section-body"});
  sec.append(body);
  let drawn = false;
  const draw = () => {
    if (drawn) return; drawn = true;
    const tbody = h("tbody");
    body.append(h("div", {class: "ks-table-wrap"}, h("table", {class: "ks-table ks-targets"},
      h("thead", {}, h("tr", {}, ["Endpoint", "State", "Labels", "Last scrape", "Duration", "Error"].map((c) => h("th", {}, c)))),
      tbody)));
    capped(tbody, shown, targetRows, {step: 100, colspan: 6});
  };
  sec.open = startOpen;
  if (startOpen) draw();
  sec.addEventListener("toggle", () => { open.set(name, sec.open); if (sec.open) draw(); });
  return sec;
}

function render(body) { keepSearchFocus(body, () => paint(body)); }

function paint(body) {
  const health = url.get("health") || "all";
  const text = url.get("search") || "";
  const targets = data.activeTargets || [];
  const count = (s) => targets.filter((t) => t.health === s).length;
  const pools = new Map();
  for (const t of targets) { if (!pools.has(t.scrapePool)) pools.set(t.scrapePool, []); pools.get(t.scrapePool).push(t); }
  const only = url.get("pool") || "";
  const poolPick = h("select", {"aria-label": "scrape pool", class: "ks-pool-pick"},
    h("option", {value: ""}, "All scrape pools"),
    [...pools.keys()].sort().map((p) => h("option", {value: p, selected: p === only}, p)));
  poolPick.addEventListener("change", () => { url.set({pool: poolPick.value}); rerender(); });
  const list = h("div", {class: "ks-pools"});
  const rerender = () => render(body);
  const search = searchBox(text, (v) => { url.set({search: v}); rerender(); }, "Filter by endpoint or labels");
  clear(body).append(
    h("div", {class: "ks-toolbar"},
      segmented([{value: "all", label: "All", count: targets.length}, {value: "up", label: "Up", count: count("up")},
        {value: "down", label: "Down", count: count("down")}, {value: "unknown", label: "Unknown", count: count("unknown")}],
      health, (v) => { url.set({health: v === "all" ? "" : v}); rerender(); }, {name: "health"}),
      poolPick,
      search,
      h("button", {class: "ks-btn", type: "button", onclick: () => { list.querySelectorAll("details.ks-pool").forEach((d) => { d.open = true; }); }}, "Expand all"),
      h("button", {class: "ks-btn", type: "button", onclick: () => { list.querySelectorAll("details.ks-pool").forEach((d) => { d.open = false; }); }}, "Collapse all")),
    list);
  if (!targets.length) {
    list.append(empty("No scrape targets yet.",
      "Add a scrape_configs block to the config file (docs/scraping.md), or check that discovery finds your targets on the Service discovery page."));
    return;
  }
  let any = false;
  const many = pools.size > BIG;
  for (const [name, all] of [...pools].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (only && name !== only) continue;
    const shown = all.filter((t) => matches(t, health, text));
    if (!shown.length) continue;
    any = true;
    list.append(poolSection(name, all, shown, open.has(name) ? open.get(name) : !many));
  }
  if (!any) list.append(empty("No targets match the filter.", "Clear the text filter or choose All."));
}

pg.start(async (body) => {
  data = await api.get("/api/v1/targets", {state: "active"});
  render(body);
});
