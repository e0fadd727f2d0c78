// Rules: every rule group and rule with health, last evaluation and evaluation time, from /api/v1/rules.
import {h, clear, api, url} from "../core.js";
import {statusPage, badge, when, secs, segmented, searchBox, empty, labelText, keepSearchFocus} from "../status/common.js";
import {ruleDef} from "../status/rules-common.js";

const pg = statusPage({title: "Rules", sub: "Recording and alerting rule groups: health, last evaluation and how long it took."});
let data = null;

function ruleRow(r) {
  return h("div", {class: "ks-rule-row", dataset: {health: r.health, type: r.type}},
    h("div", {class: "ks-rule-def"}, ruleDef(r), r.lastError ? h("div", {class: "ks-errtext ks-rule-error"}, r.lastError) : null),
    h("div", {class: "ks-rule-meta"},
      h("div", {}, badge(r.health, r.health === "err" ? "error" : r.health), " ", h("span", {class: "ks-muted"}, r.type)),
      h("div", {}, h("span", {class: "ks-muted"}, "evaluated "), when(r.lastEvaluation)),
      h("div", {}, h("span", {class: "ks-muted"}, "took "), secs(r.evaluationTime))));
}

function groupSection(g, rules) {
  const bad = g.rules.filter((r) => r.health === "err").length;
  return h("details", {class: "ks-section ks-group", open: true, dataset: {group: g.name}},
    h("summary", {},
      h("span", {class: "ks-title"}, g.name),
      h("span", {class: "ks-section-meta"}, g.file),
      h("span", {class: "ks-right ks-section-meta"},
        bad ? h("span", {class: "ks-badge ks-bad"}, `${bad} failing`) : null,
        h("span", {}, `interval ${g.interval}s`),
        h("span", {}, "evaluated ", when(g.lastEvaluation)),
        h("span", {}, `took ${secs(g.evaluationTime)}`),
        g.limit ? h("span", {}, `limit ${g.limit}`) : null)),
    h("div", {class: "ks-section-body"}, rules.map(ruleRow)));
}

function matches(r, g, health, text) {
  if (health !== "all" && r.health !== health) return false;
  if (!text) return true;
  return [r.name, r.query, g.name, g.file, labelText(r.labels)].some((s) => String(s || "").toLowerCase().includes(text));
}

function paint(body) {
  const health = url.get("health") || "all";
  const text = (url.get("search") || "").toLowerCase();
  const groups = data.groups || [];
  const all = groups.flatMap((g) => g.rules);
  const n = (s) => all.filter((r) => r.health === s).length;
  const list = h("div");
  clear(body).append(h("div", {class: "ks-toolbar"},
    segmented([{value: "all", label: "All", count: all.length}, {value: "ok", label: "OK", count: n("ok")},
      {value: "err", label: "Error", count: n("err")}, {value: "unknown", label: "Unknown", count: n("unknown")}],
    health, (v) => { url.set({health: v === "all" ? "" : v}); render(body); }, {name: "health"}),
    searchBox(url.get("search") || "", (v) => { url.set({search: v}); render(body); }, "Filter by rule name, expression, group or label")), list);
  if (!groups.length) {
    list.append(empty("No rules loaded.", "List rule files under rule_files in the config file, or turn the default rules on (docs/rules.md)."));
    return;
  }
  let any = false;
  for (const g of groups) {
    const rules = g.rules.filter((r) => matches(r, g, health, text));
    if (!rules.length) continue;
    any = true;
    list.append(groupSection(g, rules));
  }
  if (!any) list.append(empty("No rules match the filter.", "Clear the text filter or choose All."));
}

function render(body) { keepSearchFocus(body, () => paint(body)); }

pg.start(async (body) => {
  data = await api.get("/api/v1/rules");
  render(body);
});
