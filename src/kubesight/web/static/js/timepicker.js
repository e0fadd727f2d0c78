// The header's time range and refresh controls, shared by every panel of a page.
// State lives in the URL (?from=&to=&refresh=), so a view is a link.
import {h, clear, timeRange, refresh, describeRange, parseTime, fmtTime, url} from "./core.js";

const QUICK = [
  ["now-5m", "Last 5 minutes"], ["now-15m", "Last 15 minutes"], ["now-30m", "Last 30 minutes"],
  ["now-1h", "Last 1 hour"], ["now-3h", "Last 3 hours"], ["now-6h", "Last 6 hours"], ["now-12h", "Last 12 hours"],
  ["now-24h", "Last 24 hours"], ["now-2d", "Last 2 days"], ["now-7d", "Last 7 days"], ["now-30d", "Last 30 days"],
  ["now/d", "Today", "now/d"], ["now-1d/d", "Yesterday", "now-1d/d"], ["now/w", "This week so far", "now"],
];

// Inline SVG: emoji clocks are missing from many server and container fonts.
function clockIcon() {
  const ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 16 16"); svg.setAttribute("width", "14"); svg.setAttribute("height", "14");
  svg.setAttribute("class", "ks-clock"); svg.setAttribute("aria-hidden", "true");
  svg.innerHTML = '<circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" stroke-width="1.5"/>' +
    '<path d="M8 4.5V8l2.5 1.5" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"/>';
  return svg;
}

function toInput(s, up) {
  const t = parseTime(s, Date.now(), up);
  return String(s).startsWith("now") ? s : (t === null ? s : fmtTime(t));
}

export function mountTimePicker(el = document.getElementById("ks-timepicker")) {
  if (!el) return;
  clear(el);
  const label = h("span", {class: "ks-range-label"});
  const btn = h("button", {type: "button", class: "ks-btn ks-range-btn", "aria-haspopup": "dialog", title: "Time range"}, clockIcon(), label);
  const from = h("input", {type: "text", name: "from", spellcheck: "false", "aria-label": "from"});
  const to = h("input", {type: "text", name: "to", spellcheck: "false", "aria-label": "to"});
  const err = h("div", {class: "ks-field-error"});
  const apply = () => {
    const now = Date.now();
    const a = parseTime(from.value, now), b = parseTime(to.value, now, true);
    if (a === null) { err.textContent = `"${from.value}" is not a time: use now-6h, an ISO date or epoch ms`; return; }
    if (b === null) { err.textContent = `"${to.value}" is not a time: use now, an ISO date or epoch ms`; return; }
    if (a >= b) { err.textContent = "\"from\" must be before \"to\""; return; }
    err.textContent = "";
    const norm = (v, t) => (v.trim().startsWith("now") ? v.trim() : String(t));
    timeRange.set(norm(from.value, a), norm(to.value, b));
    pop.hidden = true;
  };
  const quick = h("ul", {class: "ks-quick"}, QUICK.map(([f, name, t]) =>
    h("li", {}, h("a", {href: "#", dataset: {from: f}, onclick: (e) => { e.preventDefault(); timeRange.set(f, t || "now"); pop.hidden = true; }}, name))));
  const pop = h("div", {class: "ks-pop ks-time-pop", role: "dialog", hidden: true},
    h("div", {class: "ks-abs"}, h("b", {}, "Absolute range"),
      h("label", {}, "From", from), h("label", {}, "To", to), err,
      h("button", {type: "button", class: "ks-btn ks-primary", onclick: apply}, "Apply time range")),
    quick);
  for (const i of [from, to]) i.addEventListener("keydown", (e) => { if (e.key === "Enter") apply(); });
  btn.addEventListener("click", () => {
    const r = timeRange.get(); from.value = toInput(r.from, false); to.value = toInput(r.to, true);
    err.textContent = ""; pop.hidden = !pop.hidden;
  });
  document.addEventListener("click", (e) => { if (!pop.hidden && !el.contains(e.target)) pop.hidden = true; });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") pop.hidden = true; });

  const shift = (dir) => {
    const r = timeRange.get(), span = r.end - r.start;
    const a = r.start + dir * span / 2, b = Math.min(r.end + dir * span / 2, Date.now());
    timeRange.set(String(Math.round(b - span > a ? b - span : a)), String(Math.round(b)));
  };
  const zoomOut = () => {
    const r = timeRange.get(), span = r.end - r.start, mid = (r.start + r.end) / 2;
    const end = Math.min(mid + span, Date.now());
    timeRange.set(String(Math.round(end - 2 * span)), r.relative && end === Date.now() ? "now" : String(Math.round(end)));
  };
  const sel = h("select", {class: "ks-refresh", "aria-label": "auto-refresh", title: "Auto-refresh"},
    refresh.choices.map((c) => h("option", {value: c}, c || "Off")));
  sel.value = refresh.get();
  sel.addEventListener("change", () => refresh.set(sel.value));
  el.append(
    h("button", {type: "button", class: "ks-btn", title: "Move back", "aria-label": "back", onclick: () => shift(-1)}, "‹"),
    h("span", {class: "ks-pop-anchor"}, btn, pop),
    h("button", {type: "button", class: "ks-btn", title: "Move forward", "aria-label": "forward", onclick: () => shift(1)}, "›"),
    h("button", {type: "button", class: "ks-btn", title: "Zoom out (time range × 2)", "aria-label": "zoom out", onclick: zoomOut}, "⊖"),
    h("button", {type: "button", class: "ks-btn", title: "Refresh now", "aria-label": "refresh", onclick: () => refresh.now()}, "⟳"),
    sel,
  );
  const show = () => { const r = timeRange.get(); label.textContent = describeRange(r.from, r.to); };
  timeRange.on(show);
  window.addEventListener("popstate", () => { sel.value = url.get("refresh") || ""; });
  show();
}
