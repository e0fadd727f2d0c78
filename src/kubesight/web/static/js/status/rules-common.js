// A rule's definition as the rule file would say it (YAML-ish), for the Rules and Alerts pages.
import {h, formatDuration} from "../core.js";

function yamlStr(v) {
  const s = String(v);
  // Plain scalars when YAML reads them back as the same string; quoted otherwise.
  if (/^[A-Za-z0-9_./: -]+$/.test(s) && !/^(true|false|null|yes|no|on|off|~|-?\d[\d.e+-]*)$/i.test(s) && s.trim() === s &&
    !s.startsWith("- ") && !s.includes(": ") && !s.endsWith(":")) return s;
  return JSON.stringify(s);
}

function block(out, key, text, indent) {
  const pad = " ".repeat(indent);
  if (String(text).includes("\n")) {
    out.push([pad, key, ": |"]);
    for (const line of String(text).split("\n")) out.push([pad + "  " + line]);
  } else out.push([pad, key, ": " + (key === "expr" ? text : yamlStr(text))]);
}

// -> [[indent, key, rest] | [line]] lines
export function ruleLines(r) {
  const out = [];
  if (r.type === "alerting") out.push(["", "alert", ": " + yamlStr(r.name)]); else out.push(["", "record", ": " + yamlStr(r.name)]);
  block(out, "expr", r.query, 0);
  if (r.type === "alerting") {
    if (r.duration) out.push(["", "for", ": " + formatDuration(r.duration * 1000)]);
    if (r.keepFiringFor) out.push(["", "keep_firing_for", ": " + formatDuration(r.keepFiringFor * 1000)]);
  }
  for (const sec of ["labels", "annotations"]) {
    const m = r[sec] || {};
    const keys = Object.keys(m).sort();
    if (!keys.length) continue;
    out.push(["", sec, ":"]);
    for (const k of keys) block(out, k, m[k], 2);
  }
  return out;
}

export function ruleDef(r) {
  const pre = h("pre", {class: "ks-def"});
  for (const l of ruleLines(r)) {
    if (l.length === 1) pre.append(l[0] + "\n");
    else pre.append(l[0], h("span", {class: "ks-k"}, l[1]), l[2] + "\n");
  }
  return pre;
}

export function ruleText(r) { return ruleLines(r).map((l) => l.join("")).join("\n"); }
