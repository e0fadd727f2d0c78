// Silences: list (active/pending/expired), create, edit and expire through the built-in Alertmanager's
// v2 API (/api/v2/silences, /api/v2/silence/{id}), with a preview of the alerts a silence would match.
import {h, clear, api, url, fmtTime, fmtAgo, errorBox, parseDuration, formatDuration, debounce} from "../core.js";
import {statusPage, badge, segmented, empty, apiMessage, parseApiTime, searchBox, keepSearchFocus, chips} from "../status/common.js";
import {OPS, matcherOp, fromOp, formatMatcher, parseMatchers, silenceState} from "../status/matchers.js";

const pg = statusPage({title: "Silences", sub: "Mute alerts in the built-in Alertmanager for a while, by label matchers.",
  tools: [h("a", {class: "ks-btn ks-primary", href: "/silences?new=1", "data-action": "new"}, "New silence")]});

const mode = () => (url.get("edit") ? "edit" : url.params().has("new") ? "new" : "list");

// ---- list -----------------------------------------------------------------
let silences = [], silencedCount = new Map();

function matcherChips(ms) {
  return h("span", {class: "ks-chips"}, ms.map((m) => h("span", {class: "ks-label"}, formatMatcher(m))));
}

function silenceCard(s) {
  const state = s.status?.state || "expired";
  const start = parseApiTime(s.startsAt), end = parseApiTime(s.endsAt);
  const expire = h("button", {class: "ks-btn ks-danger", type: "button", "data-action": "expire"}, "Expire");
  const msg = h("div");
  let armed = false;
  expire.addEventListener("click", async () => {
    if (!armed) { armed = true; expire.textContent = "Expire now?"; return; }
    expire.disabled = true;
    try {
      await api.json(`/api/v2/silence/${encodeURIComponent(s.id)}`, {method: "DELETE"});
      url.set({id: s.id, state: "expired"});
      pg.reload();
    } catch (e) { clear(msg).append(errorBox(apiMessage(e), "expire")); expire.disabled = false; }
  });
  const n = silencedCount.get(s.id) || 0;
  return h("div", {class: "ks-silence" + (url.get("id") === s.id ? " ks-highlight" : ""), dataset: {id: s.id, state}},
    h("div", {class: "ks-sil-main"},
      h("div", {class: "ks-row-flex"}, badge(state === "active" ? "ok" : state, state), matcherChips(s.matchers || [])),
      s.comment ? h("div", {class: "ks-sil-comment"}, s.comment) : null,
      h("div", {class: "ks-sil-meta"},
        `by ${s.createdBy || "unknown"} · `,
        state === "pending" ? `starts ${start ? fmtTime(start) : "?"} · ` : `started ${start ? fmtTime(start) : "?"} · `,
        state === "expired" ? `ended ${end ? fmtAgo(end) : "?"}` : `ends ${end ? fmtTime(end) : "?"}`,
        state === "active" ? ` · ${n} alert${n === 1 ? "" : "s"} silenced` : null,
        h("span", {class: "ks-mono"}, ` · ${s.id}`)),
      msg),
    h("div", {class: "ks-sil-actions"},
      state === "expired"
        ? h("a", {class: "ks-btn", href: `/silences?new=1&recreate=${encodeURIComponent(s.id)}`, "data-action": "recreate"}, "Recreate")
        : [h("a", {class: "ks-btn", href: `/silences?edit=${encodeURIComponent(s.id)}`, "data-action": "edit"}, "Edit"), expire]));
}

function paintList(body) {
  const by = {active: [], pending: [], expired: []};
  for (const s of silences) (by[s.status?.state] || by.expired).push(s);
  const highlighted = silences.find((s) => s.id === url.get("id"));
  const tab = url.get("state") || highlighted?.status?.state || "active";
  const text = (url.get("search") || "").toLowerCase();
  const list = h("div", {class: "ks-silences"});
  clear(body).append(h("div", {class: "ks-toolbar"},
    segmented(["active", "pending", "expired"].map((k) => ({value: k, label: k[0].toUpperCase() + k.slice(1), count: by[k].length})),
      tab, (v) => { url.set({state: v === "active" ? "" : v, id: ""}); render(body); }, {name: "state"}),
    searchBox(url.get("search") || "", (v) => { url.set({search: v}); render(body); }, "Filter by matcher, creator or comment")), list);
  const shown = by[tab].filter((s) => !text || [s.createdBy, s.comment, s.id, ...(s.matchers || []).map(formatMatcher)]
    .some((x) => String(x || "").toLowerCase().includes(text)));
  if (!shown.length) {
    list.append(text ? empty("No silences match the filter.", "Clear the text filter.")
      : empty(`No ${tab} silences.`, tab === "active"
        ? "Create one with New silence, or from an alert's Silence button on the Alerts page (Alertmanager tab)." : null));
  }
  for (const s of shown) list.append(silenceCard(s));
  const hl = list.querySelector(".ks-highlight");
  if (hl) hl.scrollIntoView({block: "nearest"});
}

function render(body) { keepSearchFocus(body, () => paintList(body)); }

// ---- form -----------------------------------------------------------------
const pad = (n) => String(n).padStart(2, "0");
function toLocalInput(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fromLocalInput(v) { const t = v ? new Date(v).getTime() : NaN; return isNaN(t) ? null : t; }

function paintForm(body, {silence = null, matchers = [], comment = "", problem = null}) {
  const editing = Boolean(silence);
  const now = Date.now();
  const startMs = silence ? parseApiTime(silence.startsAt) ?? now : now;
  const endMs = silence ? parseApiTime(silence.endsAt) ?? now + 7200e3 : now + 7200e3;
  const rows = h("div", {class: "ks-matchers"});
  const addRow = (m = {name: "", value: "", isRegex: false, isEqual: true}) => {
    const name = h("input", {type: "text", placeholder: "label", value: m.name, "aria-label": "label name", class: "ks-m-name"});
    const op = h("select", {"aria-label": "operator", class: "ks-m-op"}, OPS.map((o) => h("option", {value: o, selected: o === matcherOp(m)}, o)));
    const value = h("input", {type: "text", placeholder: "value", value: m.value, "aria-label": "label value", class: "ks-m-value"});
    const del = h("button", {class: "ks-btn", type: "button", title: "Remove this matcher", "aria-label": "remove matcher"}, "×");
    const row = h("div", {class: "ks-matcher-row"}, name, op, value, del);
    del.addEventListener("click", () => { row.remove(); changed(); });
    for (const el of [name, op, value]) el.addEventListener("input", changed);
    rows.append(row);
  };
  const readMatchers = () => [...rows.querySelectorAll(".ks-matcher-row")].map((r) => ({
    name: r.querySelector(".ks-m-name").value.trim(), value: r.querySelector(".ks-m-value").value,
    ...fromOp(r.querySelector(".ks-m-op").value)})).filter((m) => m.name || m.value);

  const start = h("input", {type: "datetime-local", value: toLocalInput(startMs), "aria-label": "starts at", name: "start"});
  const dur = h("input", {type: "text", value: formatDuration(Math.max(0, Math.round((endMs - startMs) / 60e3) * 60e3)), "aria-label": "duration", name: "duration"});
  const end = h("input", {type: "datetime-local", value: toLocalInput(endMs), "aria-label": "ends at", name: "end"});
  const timeErr = h("div", {class: "ks-field-error"});
  dur.addEventListener("input", () => {
    const ms = parseDuration(dur.value.trim()), s = fromLocalInput(start.value);
    if (ms === null || ms <= 0) { timeErr.textContent = `duration: "${dur.value}" is not a duration like 2h or 1d12h`; return; }
    timeErr.textContent = "";
    if (s !== null) end.value = toLocalInput(s + ms);
  });
  const syncDur = () => {
    const s = fromLocalInput(start.value), e = fromLocalInput(end.value);
    if (s === null || e === null) { timeErr.textContent = "start and end must be dates"; return; }
    if (e <= s) { timeErr.textContent = "end must be after start"; return; }
    timeErr.textContent = ""; dur.value = formatDuration(Math.round((e - s) / 60e3) * 60e3);
  };
  end.addEventListener("input", syncDur); start.addEventListener("input", syncDur);

  const creator = h("input", {type: "text", name: "createdBy", value: silence?.createdBy || localStorage.getItem("ks-silence-creator") || "", "aria-label": "creator"});
  const commentEl = h("textarea", {name: "comment", "aria-label": "comment"}); commentEl.value = silence?.comment ?? comment;
  const errors = h("div", {class: "ks-form-errors", role: "alert"});
  const preview = h("div", {class: "ks-preview"});
  const submit = h("button", {class: "ks-btn ks-primary", type: "submit", "data-action": "save"}, editing ? "Save silence" : "Create silence");
  const form = h("form", {class: "ks-form", novalidate: true},
    h("div", {class: "ks-panel"},
      h("h2", {}, editing ? "Edit silence" : "New silence"),
      editing ? h("p", {class: "ks-muted"}, "Saving posts the same id: Alertmanager updates the silence, or expires it and starts a new one when the matchers change.") : null,
      problem ? errorBox(problem, "filter") : null,
      h("div", {class: "ks-field"}, h("span", {}, "Matchers (alerts matching all of them are silenced)"), rows,
        h("div", {}, h("button", {class: "ks-btn", type: "button", "data-action": "add-matcher", onclick: () => { addRow(); }}, "+ Add matcher"))),
      h("div", {class: "ks-times"},
        h("label", {class: "ks-field"}, h("span", {}, "Start"), start),
        h("label", {class: "ks-field"}, h("span", {}, "Duration"), dur),
        h("label", {class: "ks-field"}, h("span", {}, "End"), end)),
      timeErr,
      h("label", {class: "ks-field"}, h("span", {}, "Creator"), creator),
      h("label", {class: "ks-field"}, h("span", {}, "Comment"), commentEl),
      errors,
      h("div", {class: "ks-row-flex"}, submit, h("a", {class: "ks-btn", href: "/silences"}, "Cancel"))),
    h("div", {class: "ks-panel"}, h("h2", {}, "Affected alerts"), preview));

  let previewSeq = 0;
  const runPreview = async () => {
    const seq = ++previewSeq;
    const ms = readMatchers();
    if (!ms.length) { clear(preview).append(h("p", {class: "ks-muted"}, "Add a matcher to see which alerts it silences.")); return; }
    try {
      const alerts = await api.json("/api/v2/alerts", {params: {filter: ms.map(formatMatcher)}});
      if (seq !== previewSeq) return;
      clear(preview).append(h("p", {class: "ks-preview-count"}, `${alerts.length} alert${alerts.length === 1 ? "" : "s"} match now.`),
        h("div", {class: "ks-preview-list"}, alerts.map((a) => h("div", {class: "ks-am-alert"},
          h("div", {class: "ks-am-main"}, chips(a.labels)), a.status?.silencedBy?.length ? h("span", {class: "ks-badge ks-muted"}, "SILENCED") : null))));
    } catch (e) {
      if (seq === previewSeq) clear(preview).append(errorBox(apiMessage(e), "preview"));
    }
  };
  const previewSoon = debounce(runPreview, 300);
  function changed() { previewSoon(); }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(errors);
    const ms = readMatchers();
    const problems = [];
    if (!ms.length) problems.push("add at least one matcher");
    if (ms.some((m) => !m.name)) problems.push("every matcher needs a label name");
    const s = fromLocalInput(start.value), e = fromLocalInput(end.value);
    if (s === null || e === null) problems.push("start and end must be dates");
    else if (e <= s) problems.push("end must be after start");
    if (!creator.value.trim()) problems.push("say who creates the silence (Creator)");
    if (!commentEl.value.trim()) problems.push("say why in the comment");
    if (problems.length) { errors.append(errorBox(problems.join("; "), "cannot save")); return; }
    // An active silence keeps its start when the person did not move it (the input has minute precision).
    const startIso = editing && silence.status?.state === "active" && toLocalInput(startMs) === start.value
      ? silence.startsAt : new Date(Math.max(s, editing ? s : Date.now())).toISOString();
    // The end inputs have minute precision: when the end is what the duration says, keep the duration exact.
    const durMs = parseDuration(dur.value.trim());
    const endIso = durMs && toLocalInput(s + durMs) === end.value ? new Date(Date.parse(startIso) + durMs).toISOString() : new Date(e).toISOString();
    const payload = {matchers: ms, startsAt: startIso, endsAt: endIso,
      createdBy: creator.value.trim(), comment: commentEl.value};
    if (editing) payload.id = silence.id;
    submit.disabled = true;
    try {
      localStorage.setItem("ks-silence-creator", payload.createdBy);
      const r = await api.json("/api/v2/silences", {method: "POST", body: payload});
      location.assign("/silences?id=" + encodeURIComponent(r.silenceID));
    } catch (err) {
      errors.append(errorBox(apiMessage(err), "Alertmanager"));
      submit.disabled = false;
    }
  });
  clear(body).append(form);
  for (const m of matchers) addRow(m);
  if (!matchers.length) addRow();
  runPreview();
}

pg.start(async (body) => {
  const m = mode();
  if (m === "list") {
    silences = await api.json("/api/v2/silences");
    silencedCount = new Map();
    try {
      for (const a of await api.json("/api/v2/alerts", {params: {active: "false"}})) {
        for (const id of a.status?.silencedBy || []) silencedCount.set(id, (silencedCount.get(id) || 0) + 1);
      }
    } catch (e) { console.warn("kubesight: silenced alert counts unavailable:", e); }
    render(body);
    return;
  }
  if (m === "edit") {
    const s = await api.json(`/api/v2/silence/${encodeURIComponent(url.get("edit"))}`);
    paintForm(body, {silence: s, matchers: s.matchers || []});
    return;
  }
  const from = url.get("recreate");
  if (from) {
    const s = await api.json(`/api/v2/silence/${encodeURIComponent(from)}`);
    paintForm(body, {matchers: s.matchers || [], comment: s.comment || ""});
    return;
  }
  let matchers = [], problem = null;
  try { matchers = parseMatchers(url.get("filter") || ""); } catch (e) { problem = e.message; }
  paintForm(body, {matchers, problem});
});
