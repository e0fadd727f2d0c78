// Alertmanager matchers: parse `{alertname="X", severity=~"crit|warn"}` (braces optional) into the v2 API's
// {name, value, isRegex, isEqual} objects and print them back. Pure functions, no DOM.

export const OPS = ["=", "!=", "=~", "!~"];

// A matcher's operator as written: "=", "!=", "=~", "!~".
export function matcherOp(m) {
  const eq = m.isEqual !== false;
  if (m.isRegex) return eq ? "=~" : "!~";
  return eq ? "=" : "!=";
}

export function fromOp(op) {
  return {"=": {isRegex: false, isEqual: true}, "!=": {isRegex: false, isEqual: false},
    "=~": {isRegex: true, isEqual: true}, "!~": {isRegex: true, isEqual: false}}[op];
}

function quote(v) { return JSON.stringify(String(v)); }

export function formatMatcher(m) { return `${m.name}${matcherOp(m)}${quote(m.value)}`; }

export function formatMatchers(ms) { return "{" + ms.map(formatMatcher).join(", ") + "}"; }

// Throws Error with the position and what was expected.
export function parseMatchers(text) {
  let s = String(text ?? "").trim();
  if (s.startsWith("{")) {
    if (!s.endsWith("}")) throw new Error(`matchers: missing closing "}" in ${s}`);
    s = s.slice(1, -1);
  }
  const out = [];
  let i = 0;
  const ws = () => { while (i < s.length && /[\s,]/.test(s[i])) i++; };
  ws();
  while (i < s.length) {
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
    if (!name) throw new Error(`matchers: expected a label name at character ${i + 1} of ${JSON.stringify(s)}`);
    i += name[0].length;
    while (s[i] === " ") i++;
    const op = /^(=~|!~|!=|=)/.exec(s.slice(i));
    if (!op) throw new Error(`matchers: expected =, !=, =~ or !~ after "${name[0]}"`);
    i += op[0].length;
    while (s[i] === " ") i++;
    let value = "";
    if (s[i] === '"' || s[i] === "'") {
      const q = s[i]; i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i];
        if (c === "\\" && i + 1 < s.length) {
          const n = s[i + 1];
          value += n === "n" ? "\n" : n === "t" ? "\t" : n;
          i += 2; continue;
        }
        if (c === q) { closed = true; i++; break; }
        value += c; i++;
      }
      if (!closed) throw new Error(`matchers: unterminated quoted value for "${name[0]}"`);
    } else {
      const bare = /^[^,}]*/.exec(s.slice(i))[0];
      value = bare.trim(); i += bare.length;
    }
    out.push({name: name[0], value, ...fromOp(op[0])});
    const before = i; ws();
    if (i < s.length && before === i) throw new Error(`matchers: expected "," at character ${i + 1}`);
  }
  return out;
}

// Does a matcher match this label set? (the page previews client-side only as a fallback)
export function matches(m, labels) {
  const v = labels[m.name] ?? "";
  let ok;
  if (m.isRegex) { try { ok = new RegExp(`^(?:${m.value})$`, "s").test(v); } catch { return false; } } else ok = v === m.value;
  return m.isEqual === false ? !ok : ok;
}

// Silence state by its times at nowMs: "pending" | "active" | "expired" (the API also says it).
export function silenceState(startsMs, endsMs, nowMs) {
  if (endsMs <= nowMs) return "expired";
  if (startsMs > nowMs) return "pending";
  return "active";
}
