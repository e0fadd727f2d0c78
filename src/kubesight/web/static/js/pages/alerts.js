// Alerts: alerting rules by file and group with their active alerts (/api/v1/rules?type=alert), and the
// built-in Alertmanager's view of the alerts it holds (/api/v2/alerts/groups) with silence links.
import {h, clear, api, url, fmtTime, errorBox} from "../core.js";
import {statusPage, badge, chips, segmented, searchBox, empty, labelText, keepSearchFocus, parseApiTime, ago, apiMessage} from "../status/common.js";
import {ruleDef} from "../status/rules-common.js";
import {formatMatchers} from "../status/matchers.js";

const pg = statusPage({title: "Alerts", sub: "Alerting rules and their alerts; the Alertmanager tab shows what the built-in Alertmanager holds.", autoRefresh: true});
const opened = new Set();   // rule keys expanded by the person (kept across refreshes)
let rules = null, amGroups = null;

const view = () => (url.get("view") === "alertmanager" ? "alertmanager" : "rules");

function annotations(a) {
  const keys = Object.keys(a || {});
  if (!keys.length) return h("span", {class: "ks-muted"}, "—");
  // summary and description first, as people read them; the rest after.
  keys.sort((x, y) => (["summary", "description"].indexOf(y) - ["summary", "description"].indexOf(x)) || x.localeCompare(y));
  return h("div", {class: "ks-annot"}, keys.map((k) => h("div", {dataset: {annotation: k}}, h("b", {}, k + ":"), String(a[k]))));
}

function activeSince(s) {
  const t = parseApiTime(s);
  return t === null ? h("span", {class: "ks-muted"}, "—") : h("span", {title: fmtTime(t)}, fmtTime(t), h("div", {class: "ks-muted"}, ago(s)));
}

function silenceLink(labels) {
  const ms = Object.keys(labels).sort().map((k) => ({name: k, value: labels[k], isRegex: false, isEqual: true}));
  return "/silences?new=1&filter=" + encodeURIComponent(formatMatchers(ms));
}

function ruleItem(r, key) {
  const counts = {};
  for (const a of r.alerts || []) counts[a.state] = (counts[a.state] || 0) + 1;
  const d = h("details", {class: "ks-rule ks-alert-rule", dataset: {state: r.state, rule: r.name}, open: opened.has(key)},
    h("summary", {}, badge(r.state), h("span", {class: "ks-rule-name"}, r.name),
      Object.entries(counts).map(([s, n]) => h("span", {class: "ks-muted"}, `${n} ${s}`)),
      r.health === "err" ? h("span", {class: "ks-badge ks-bad", title: r.lastError || ""}, "RULE ERROR") : null));
  const body = h("div", {class: "ks-rule-body"});
  d.append(body);
  let drawn = false;
  const draw = () => {
    if (drawn) return; drawn = true;
    body.append(ruleDef(r));
    if (r.lastError) body.append(h("div", {class: "ks-errtext"}, r.lastError));
    const alerts = r.alerts || [];
    if (!alerts.length) { body.append(h("p", {class: "ks-muted"}, "No active alerts: the expression returns nothing right now.")); return; }
    body.append(h("div", {class: "ks-table-wrap"}, h("table", {class: "ks-table ks-alerts-table"},
      h("thead", {}, h("tr", {}, ["Labels", "State", "Active since", "Value", "Annotations", ""].map((c) => h("th", {}, c)))),
      h("tbody", {}, alerts.map((a) => h("tr", {class: "ks-alert-row", dataset: {state: a.state}},
        h("td", {class: "ks-labels-cell"}, chips(a.labels)),
        h("td", {class: "ks-nowrap"}, badge(a.state),
          a.keepFiringSince ? h("div", {class: "ks-muted", title: "the expression stopped returning it; keep_firing_for holds it"},
            "kept firing since ", activeSince(a.keepFiringSince)) : null),
        h("td", {class: "ks-nowrap"}, activeSince(a.activeAt)),
        h("td", {class: "ks-num ks-nowrap"}, a.value),
        h("td", {}, annotations(a.annotations)),
        h("td", {class: "ks-nowrap"}, h("a", {class: "ks-btn", href: silenceLink(a.labels)}, "Silence"))))))));
  };
  if (d.open) draw();
  d.addEventListener("toggle", () => { if (d.open) { opened.add(key); draw(); } else opened.delete(key); });
  return d;
}

function paintRules(list, toolbar) {
  const state = url.get("state") || "all";
  const text = (url.get("search") || "").toLowerCase();
  const groups = rules.groups || [];
  const all = groups.flatMap((g) => g.rules);
  const n = (s) => all.filter((r) => r.state === s).length;
  toolbar.append(segmented([{value: "all", label: "All", count: all.length}, {value: "firing", label: "Firing", count: n("firing")},
    {value: "pending", label: "Pending", count: n("pending")}, {value: "inactive", label: "Inactive", count: n("inactive")}],
  state, (v) => { url.set({state: v === "all" ? "" : v}); render(); }, {name: "state"}),
  searchBox(url.get("search") || "", (v) => { url.set({search: v}); render(); }, "Filter by alert name or labels"));
  if (!all.length) {
    list.append(empty("No alerting rules.", "Write alerting rules in a rule file listed under rule_files in the config file, or turn the default rules on (docs/rules.md)."));
    return;
  }
  const byFile = new Map();
  for (const g of groups) {
    const rs = g.rules.filter((r) => (state === "all" || r.state === state) &&
      (!text || r.name.toLowerCase().includes(text) || labelText(r.labels).includes(text) ||
        (r.alerts || []).some((a) => labelText(a.labels).includes(text))));
    if (!rs.length) continue;
    if (!byFile.has(g.file)) byFile.set(g.file, []);
    byFile.get(g.file).push([g, rs]);
  }
  if (!byFile.size) { list.append(empty("No alerting rules match the filter.", "Clear the text filter or choose All.")); return; }
  for (const [file, gs] of byFile) {
    for (const [g, rs] of gs) {
      const firing = rs.filter((r) => r.state === "firing").length, pending = rs.filter((r) => r.state === "pending").length;
      list.append(h("details", {class: "ks-section ks-group", open: true, dataset: {group: g.name}},
        h("summary", {}, h("span", {class: "ks-title"}, g.name), h("span", {class: "ks-section-meta"}, file),
          h("span", {class: "ks-right"}, firing ? h("span", {class: "ks-badge ks-bad"}, `${firing} firing`) : null,
            pending ? h("span", {class: "ks-badge ks-warn"}, `${pending} pending`) : null)),
        h("div", {class: "ks-section-body"}, rs.map((r) => ruleItem(r, `${file}\u0000${g.name}\u0000${r.name}`)))));
    }
  }
}

function amAlert(a) {
  const st = a.status || {};
  const silenced = st.silencedBy || [], inhibited = st.inhibitedBy || [];
  return h("div", {class: "ks-am-alert", dataset: {state: st.state, fingerprint: a.fingerprint}},
    h("div", {class: "ks-am-main"}, chips(a.labels), h("div", {class: "ks-muted"}, "since ", activeSince(a.startsAt)), annotations(a.annotations)),
    h("div", {class: "ks-row-flex"},
      badge(st.state === "suppressed" ? "suppressed" : "firing", st.state === "suppressed" ? "suppressed" : "active"),
      silenced.length ? h("span", {class: "ks-badge ks-muted ks-silenced"}, "SILENCED") : null,
      silenced.map((id) => h("a", {href: "/silences?id=" + encodeURIComponent(id), class: "ks-mono", title: "the silence"}, id.slice(0, 8))),
      inhibited.length ? h("span", {class: "ks-badge ks-muted ks-inhibited", title: "inhibited by " + inhibited.join(", ")}, "INHIBITED") : null,
      a.generatorURL ? h("a", {href: a.generatorURL, title: "the rule's expression"}, "source") : null,
      h("a", {class: "ks-btn", href: silenceLink(a.labels), "data-action": "silence"}, "Silence")));
}

function paintAm(list, toolbar) {
  const show = url.get("show") || "all";
  const text = (url.get("search") || "").toLowerCase();
  const alerts = amGroups.flatMap((g) => g.alerts);
  const supp = alerts.filter((a) => a.status?.state === "suppressed").length;
  toolbar.append(segmented([{value: "all", label: "All", count: alerts.length}, {value: "active", label: "Active", count: alerts.length - supp},
    {value: "suppressed", label: "Silenced or inhibited", count: supp}], show, (v) => { url.set({show: v === "all" ? "" : v}); render(); }, {name: "show"}),
  searchBox(url.get("search") || "", (v) => { url.set({search: v}); render(); }, "Filter by labels"));
  if (!amGroups.length) {
    list.append(empty("The Alertmanager holds no alerts.", "Firing alerts from the rules (and any sent to /api/v2/alerts) appear here, grouped by route."));
    return;
  }
  let any = false;
  for (const g of amGroups) {
    const as = g.alerts.filter((a) => (show === "all" || (a.status?.state || "active") === show) && (!text || labelText(a.labels).includes(text)));
    if (!as.length) continue;
    any = true;
    list.append(h("details", {class: "ks-section ks-am-group", open: true},
      h("summary", {}, chips(g.labels), h("span", {class: "ks-right"}, h("span", {class: "ks-muted"}, "receiver"),
        h("span", {class: "ks-label"}, g.receiver?.name || ""), h("span", {class: "ks-badge"}, `${as.length}`))),
      h("div", {class: "ks-section-body"}, as.map(amAlert))));
  }
  if (!any) list.append(empty("No alerts match the filter.", "Clear the text filter or choose All."));
}

let bodyEl = null, loadError = null;
function render() {
  keepSearchFocus(bodyEl, () => {
    const v = view();
    const toolbar = h("div", {class: "ks-toolbar"}), list = h("div");
    const tabs = h("div", {class: "ks-tabs", role: "tablist"},
      [["rules", "Alerting rules"], ["alertmanager", "Alertmanager"]].map(([k, label]) =>
        h("button", {type: "button", role: "tab", class: "ks-btn" + (v === k ? " ks-on" : ""), "aria-selected": String(v === k), dataset: {view: k},
          onclick: () => { if (view() !== k) { url.set({view: k === "rules" ? "" : k, state: "", show: ""}, {push: true}); pg.reload(); } }}, label)));
    clear(bodyEl).append(tabs, toolbar, list);
    if (loadError) list.append(errorBox(apiMessage(loadError), v === "rules" ? "/api/v1/rules" : "/api/v2/alerts/groups"));
    else if (v === "rules") paintRules(list, toolbar); else paintAm(list, toolbar);
  });
}

window.addEventListener("popstate", () => pg.reload());

pg.start(async (body) => {
  bodyEl = body; loadError = null;
  // Errors go under the tabs, so the other view stays one click away.
  try {
    if (view() === "rules") rules = await api.get("/api/v1/rules", {type: "alert"});
    else amGroups = await api.json("/api/v2/alerts/groups");
  } catch (e) { loadError = e; }
  render();
});
