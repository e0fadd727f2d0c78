// The dashboards list: search, tag filter, source (built-in, file, imported), delete for imported ones, and
// Import: upload or paste a Grafana dashboard JSON, preview what kubesight will render, then save it
// through Grafana's API (POST /api/dashboards/db; 412 asks before overwriting).
import {h, clear, pageRoot, errorBox, api, url} from "../core.js";

const css = document.createElement("link");
css.rel = "stylesheet"; css.href = new URL("../../css/dashboard.css", import.meta.url);
document.head.append(css);

const root = pageRoot();
const SOURCES = {builtin: "built-in", file: "file", imported: "imported"};

// POST a raw body (so the server, not the browser, judges the JSON and says what is wrong).
async function postRaw(path, text) {
  const resp = await fetch(path, {method: "POST", body: text, headers: {"Content-Type": "application/json"}});
  const body = await resp.text();
  let data = null;
  try { data = body ? JSON.parse(body) : null; } catch { data = null; }
  if (!resp.ok) {
    const err = new Error(data?.message || data?.error || body || resp.statusText);
    err.status = resp.status; err.body = data;
    throw err;
  }
  return data;
}

let all = [];
const search = h("input", {type: "search", placeholder: "Search dashboards by title", "aria-label": "search dashboards",
  value: url.get("query") || "", class: "ks-dl-search"});
const tagBar = h("div", {class: "ks-dl-tags"});
const listErr = h("div");
const list = h("div", {class: "ks-table-wrap"});
const selectedTags = new Set(url.getAll("tag"));

function matches(d) {
  const q = search.value.trim().toLowerCase();
  return (!q || d.title.toLowerCase().includes(q) || d.uid.toLowerCase().includes(q)) &&
    [...selectedTags].every((t) => d.tags.includes(t));
}

function renderTags() {
  const tags = [...new Set(all.flatMap((d) => d.tags))].sort();
  clear(tagBar).append(...tags.map((t) => h("button", {type: "button", class: "ks-badge ks-dl-tag" + (selectedTags.has(t) ? " ks-on" : ""),
    "aria-pressed": String(selectedTags.has(t)), onclick: () => {
      if (selectedTags.has(t)) selectedTags.delete(t); else selectedTags.add(t);
      url.set({tag: [...selectedTags]}); renderTags(); renderList();
    }}, t)));
}

function renderList() {
  const rows = all.filter(matches);
  const table = h("table", {class: "ks-table ks-dl-table"},
    h("thead", {}, h("tr", {}, h("th", {}, "Title"), h("th", {}, "Tags"), h("th", {}, "Source"), h("th", {}, ""))),
    h("tbody", {}, rows.map((d) => h("tr", {dataset: {uid: d.uid}},
      h("td", {}, d.error ? h("span", {}, d.title || d.uid, h("div", {class: "ks-bad ks-dl-err"}, d.error))
        : h("a", {href: d.url}, d.title || d.uid)),
      h("td", {}, d.tags.map((t) => h("span", {class: "ks-badge"}, t))),
      h("td", {}, h("span", {class: "ks-dl-source", title: d.path || null}, SOURCES[d.source] || d.source)),
      h("td", {class: "ks-dl-actions"}, d.editable ? deleteButton(d) : null)))));
  clear(list).append(rows.length ? table : h("p", {class: "ks-muted"}, all.length ? "No dashboard matches." : "No dashboards."));
}

function deleteButton(d) {
  const cell = h("span");
  const ask = () => {
    clear(cell).append(h("span", {class: "ks-muted"}, "Delete? "),
      h("button", {type: "button", class: "ks-btn ks-danger", onclick: async () => {
        try {
          await api.json(`/api/dashboards/uid/${encodeURIComponent(d.uid)}`, {method: "DELETE"});
          await load();
        } catch (e) { clear(cell).append(errorBox(e.message, "delete")); }
      }}, "Delete"), " ",
      h("button", {type: "button", class: "ks-btn", onclick: () => clear(cell).append(first())}, "Cancel"));
  };
  const first = () => h("button", {type: "button", class: "ks-btn ks-danger", title: `Delete ${d.title}`, onclick: ask}, "Delete");
  cell.append(first());
  return cell;
}

async function load() {
  clear(listErr);
  try {
    all = await api.json("/api/ui/dashboards");
    all.sort((a, b) => (a.title || a.uid).localeCompare(b.title || b.uid));
  } catch (e) {
    listErr.append(errorBox(e.message, "dashboards"));
    all = [];
  }
  renderTags(); renderList();
}

// ---- import ------------------------------------------------------------------------
const file = h("input", {type: "file", accept: ".json,application/json", "aria-label": "dashboard JSON file", class: "ks-dl-file"});
const text = h("textarea", {rows: 8, spellcheck: "false", placeholder: "Paste a Grafana dashboard JSON here (exported from Grafana or downloaded from grafana.com)",
  "aria-label": "dashboard JSON", class: "ks-dl-text"});
const importErr = h("div", {class: "ks-dl-import-error", role: "alert"});
const preview = h("div", {class: "ks-dl-preview"});
const previewBtn = h("button", {type: "button", class: "ks-btn"}, "Preview");
const saveBtn = h("button", {type: "button", class: "ks-btn ks-primary", disabled: true}, "Import");
let normalized = null;

function showError(msg, where) { clear(importErr).append(errorBox(msg, where)); }

async function doPreview() {
  clear(importErr); clear(preview); normalized = null; saveBtn.disabled = true;
  const body = text.value.trim();
  if (!body) { showError("choose a file or paste a dashboard's JSON first", "import"); return; }
  try {
    normalized = await postRaw("/api/ui/dashboards/normalize", body);
  } catch (e) {
    showError(e.message, "import");
    return;
  }
  const d = normalized;
  const panels = d.rows.flatMap((r) => r.panels);
  const problems = [...d.warnings];
  for (const p of panels) for (const u of p.unsupported) problems.push(`${p.title || `panel ${p.id}`}: ${u}`);
  for (const v of d.variables) for (const u of v.unsupported || []) problems.push(`variable ${v.name}: ${u}`);
  const unsupported = panels.filter((p) => !p.supported).length;
  clear(preview).append(h("div", {class: "ks-panel ks-dl-summary"},
    h("div", {}, h("b", {class: "ks-dl-ptitle"}, d.title || "(untitled)"), d.uid ? h("span", {class: "ks-muted"}, ` · uid ${d.uid}`) : null),
    h("div", {class: "ks-dl-counts"}, `${panels.length} panel${panels.length === 1 ? "" : "s"} in ${d.rows.length} row${d.rows.length === 1 ? "" : "s"}, `,
      `${d.variables.length} variable${d.variables.length === 1 ? "" : "s"}`,
      unsupported ? h("span", {class: "ks-warn"}, `, ${unsupported} panel${unsupported === 1 ? "" : "s"} not supported`) : null),
    problems.length ? h("div", {class: "ks-warning"}, h("b", {}, "Shown as unsupported or ignored:"),
      h("ul", {class: "ks-dl-problems"}, problems.map((p) => h("li", {}, p)))) : h("div", {class: "ks-ok"}, "Everything in it renders.")));
  saveBtn.disabled = false;
}

async function doSave(overwrite = false) {
  clear(importErr);
  let dash;
  try { dash = JSON.parse(text.value); } catch (e) { showError(`not valid JSON: ${e.message}`, "import"); return; }
  const inner = dash && typeof dash === "object" && dash.dashboard && !dash.panels && !dash.rows ? dash.dashboard : dash;
  try {
    const res = await api.json("/api/dashboards/db", {method: "POST", body: {dashboard: inner, overwrite}});
    saveBtn.disabled = true;
    await load();
    clear(preview).append(h("div", {class: "ks-panel ks-dl-saved", role: "status"}, "Imported: ",
      h("a", {href: res.url}, normalized?.title || res.uid)));
  } catch (e) {
    if (e.status === 412) {
      clear(importErr).append(h("div", {class: "ks-warning ks-dl-overwrite"}, e.message, " ",
        h("button", {type: "button", class: "ks-btn ks-danger", onclick: () => doSave(true)}, "Overwrite"), " ",
        h("button", {type: "button", class: "ks-btn", onclick: () => clear(importErr)}, "Cancel")));
    } else {
      showError(e.message, "import");
    }
  }
}

file.addEventListener("change", async () => {
  const f = file.files?.[0];
  if (!f) return;
  try { text.value = await f.text(); } catch (e) { showError(`cannot read ${f.name}: ${e.message}`, "import"); return; }
  await doPreview();
});
text.addEventListener("input", () => { saveBtn.disabled = true; normalized = null; });
previewBtn.addEventListener("click", doPreview);
saveBtn.addEventListener("click", () => doSave(false));
search.addEventListener("input", () => { url.set({query: search.value.trim()}); renderList(); });

root.append(
  h("h1", {}, "Dashboards"),
  h("div", {class: "ks-dl-layout"},
    h("section", {class: "ks-dl-list"}, h("div", {class: "ks-row-flex ks-dl-filters"}, search), tagBar, listErr, list),
    h("section", {class: "ks-panel ks-dl-import", "aria-label": "Import dashboard"},
      h("h2", {}, "Import"),
      h("p", {class: "ks-muted"}, "A Grafana dashboard JSON: exported from Grafana, downloaded from grafana.com, or written by hand."),
      h("label", {class: "ks-dl-filelabel"}, "Upload a .json file ", file),
      text,
      h("div", {class: "ks-row-flex"}, previewBtn, saveBtn),
      importErr, preview)));

load();
