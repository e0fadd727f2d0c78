// Flags: the command-line flags this server runs with (/api/v1/status/flags), filterable.
import {h, clear, api, url} from "../core.js";
import {statusPage, searchBox, empty, keepSearchFocus} from "../status/common.js";

const pg = statusPage({title: "Flags", sub: "Command-line flags of this server; empty values fall back to the config file or the default."});
let flags = {};

function paint(body) {
  const text = (url.get("search") || "").toLowerCase();
  const rows = Object.entries(flags).sort((a, b) => a[0].localeCompare(b[0]))
    .filter(([k, v]) => !text || k.toLowerCase().includes(text) || String(v).toLowerCase().includes(text));
  const setOnly = url.get("set") === "1";
  const shown = setOnly ? rows.filter(([, v]) => v !== "") : rows;
  const only = h("label", {class: "ks-row-flex"}, h("input", {type: "checkbox", checked: setOnly, "aria-label": "only flags with a value",
    onchange: (e) => { url.set({set: e.target.checked ? "1" : ""}); render(body); }}), "only flags with a value");
  clear(body).append(h("div", {class: "ks-toolbar"}, searchBox(url.get("search") || "", (v) => { url.set({search: v}); render(body); }, "Filter flags by name or value"),
    only, h("span", {class: "ks-muted ks-flag-count"}, `${shown.length} of ${Object.keys(flags).length}`)));
  if (!shown.length) { body.append(empty(Object.keys(flags).length ? "No flags match the filter." : "No flags reported.", null)); return; }
  body.append(h("div", {class: "ks-panel"}, h("div", {class: "ks-table-wrap"}, h("table", {class: "ks-table ks-flags"},
    h("thead", {}, h("tr", {}, h("th", {}, "Flag"), h("th", {}, "Value"))),
    h("tbody", {}, shown.map(([k, v]) => h("tr", {class: "ks-flag-row"}, h("td", {class: "ks-mono"}, k),
      h("td", {class: "ks-mono" + (v === "" ? " ks-muted" : ""), style: {overflowWrap: "anywhere"}}, v === "" ? "(not set)" : v))))))));
}

function render(body) { keepSearchFocus(body, () => paint(body)); }

pg.start(async (body) => {
  flags = await api.get("/api/v1/status/flags") || {};
  render(body);
});
