// Value formatting by Grafana unit id ("bytes", "percentunit", "s", "reqps"...), as dashboards name them.
// formatValue(v, unit, decimals) -> "1.50 GiB"; unknown units fall back to a short number plus the unit text.

const SI = ["", " k", " M", " G", " T", " P", " E"];
const SI_SMALL = ["", " m", " µ", " n", " p"];
const IEC = ["", " Ki", " Mi", " Gi", " Ti", " Pi", " Ei"];

function dec(v, decimals) {
  if (decimals !== null && decimals !== undefined && decimals !== "" && !isNaN(decimals)) return v.toFixed(Number(decimals));
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1).replace(/\.0$/, "");
  if (a >= 1) return v.toFixed(2).replace(/\.?0+$/, "");
  return Number(v.toPrecision(3)).toString();
}

function scaled(v, base, prefixes, suffix, decimals, small = false) {
  if (v === 0) return dec(0, decimals) + (prefixes[0] + suffix || "");
  let i = 0, x = v;
  while (Math.abs(x) >= base && i < prefixes.length - 1) { x /= base; i++; }
  if (small && Math.abs(v) < 1) {
    let j = 0; x = v;
    while (Math.abs(x) < 1 && j < SI_SMALL.length - 1) { x *= 1000; j++; }
    return dec(x, decimals) + SI_SMALL[j] + suffix;
  }
  return dec(x, decimals) + (prefixes[i] + suffix || "");
}

function short(v, decimals) {
  const names = ["", " K", " Mil", " Bil", " Tri"];
  let i = 0, x = v;
  while (Math.abs(x) >= 1000 && i < names.length - 1) { x /= 1000; i++; }
  return dec(x, decimals) + names[i];
}

function duration(v, unitMs, decimals) {
  let ms = v * unitMs; const a = Math.abs(ms);
  const steps = [[31536000e3, "year"], [604800e3, "week"], [86400e3, "day"], [3600e3, "hour"], [60e3, "min"], [1e3, "s"], [1, "ms"]];
  if (a < 1 && a > 0) return dec(ms * 1000, decimals) + " µs";
  for (const [size, name] of steps) {
    if (a >= size) {
      const n = ms / size;
      const plural = name.length > 2 && name !== "min" && Math.abs(n) !== 1 ? "s" : "";
      return dec(n, decimals) + " " + name + plural;
    }
  }
  return dec(ms, decimals) + " ms";
}

function clock(v) { // dtdurations-like: "1d 2h 3m"
  let s = Math.abs(Math.round(v)); const out = [];
  for (const [size, n] of [[86400, "d"], [3600, "h"], [60, "m"], [1, "s"]]) {
    if (s >= size || (n === "s" && !out.length)) { out.push(Math.floor(s / size) + n); s %= size; }
    if (out.length === 3) break;
  }
  return (v < 0 ? "-" : "") + out.join(" ");
}

const UNITS = {
  none: (v, d) => dec(v, d), short: short, "": short, number: (v, d) => dec(v, d), locale: (v) => v.toLocaleString(),
  percent: (v, d) => dec(v, d) + "%", percentunit: (v, d) => dec(v * 100, d) + "%",
  humidity: (v, d) => dec(v, d) + "%H", dB: (v, d) => dec(v, d) + " dB", sci: (v) => v.toExponential(2),
  bytes: (v, d) => scaled(v, 1024, IEC, "B", d), decbytes: (v, d) => scaled(v, 1000, SI, "B", d),
  bits: (v, d) => scaled(v, 1024, IEC, "b", d), decbits: (v, d) => scaled(v, 1000, SI, "b", d),
  kbytes: (v, d) => scaled(v * 1024, 1024, IEC, "B", d), mbytes: (v, d) => scaled(v * 1024 ** 2, 1024, IEC, "B", d),
  gbytes: (v, d) => scaled(v * 1024 ** 3, 1024, IEC, "B", d), deckbytes: (v, d) => scaled(v * 1e3, 1000, SI, "B", d),
  decmbytes: (v, d) => scaled(v * 1e6, 1000, SI, "B", d), decgbytes: (v, d) => scaled(v * 1e9, 1000, SI, "B", d),
  Bps: (v, d) => scaled(v, 1000, SI, "B/s", d), binBps: (v, d) => scaled(v, 1024, IEC, "B/s", d),
  bps: (v, d) => scaled(v, 1000, SI, "b/s", d), binbps: (v, d) => scaled(v, 1024, IEC, "b/s", d),
  KBs: (v, d) => scaled(v * 1e3, 1000, SI, "B/s", d), MBs: (v, d) => scaled(v * 1e6, 1000, SI, "B/s", d),
  pps: (v, d) => scaled(v, 1000, SI, "p/s", d), ops: (v, d) => scaled(v, 1000, SI, " ops/s", d),
  reqps: (v, d) => scaled(v, 1000, SI, " req/s", d), rps: (v, d) => scaled(v, 1000, SI, " rd/s", d),
  wps: (v, d) => scaled(v, 1000, SI, " wr/s", d), iops: (v, d) => scaled(v, 1000, SI, " io/s", d),
  cps: (v, d) => scaled(v, 1000, SI, " c/s", d), opm: (v, d) => scaled(v, 1000, SI, " ops/min", d),
  hertz: (v, d) => scaled(v, 1000, SI, "Hz", d),
  ns: (v, d) => duration(v, 1e-6, d), "µs": (v, d) => duration(v, 1e-3, d), us: (v, d) => duration(v, 1e-3, d),
  ms: (v, d) => duration(v, 1, d), s: (v, d) => duration(v, 1e3, d), m: (v, d) => duration(v, 60e3, d),
  h: (v, d) => duration(v, 3600e3, d), d: (v, d) => duration(v, 86400e3, d),
  dtdurations: (v) => clock(v), dtdurationms: (v) => clock(v / 1000), clocks: (v) => clock(v), clockms: (v) => clock(v / 1000),
  celsius: (v, d) => dec(v, d) + "°C", fahrenheit: (v, d) => dec(v, d) + "°F", kelvin: (v, d) => dec(v, d) + " K",
  watt: (v, d) => scaled(v, 1000, SI, "W", d), kwatt: (v, d) => scaled(v * 1e3, 1000, SI, "W", d),
  volt: (v, d) => scaled(v, 1000, SI, "V", d, true), amp: (v, d) => scaled(v, 1000, SI, "A", d, true),
  joule: (v, d) => scaled(v, 1000, SI, "J", d), watth: (v, d) => scaled(v, 1000, SI, "Wh", d),
  dateTimeAsIso: (v) => new Date(v).toISOString().replace("T", " ").slice(0, 19),
  dateTimeAsSystem: (v) => new Date(v).toLocaleString(),
  dateTimeFromNow: (v) => { const s = (Date.now() - v) / 1000; return s >= 0 ? clock(s) + " ago" : "in " + clock(-s); },
  bool: (v) => (v ? "true" : "false"), bool_yes_no: (v) => (v ? "yes" : "no"), bool_on_off: (v) => (v ? "on" : "off"),
};
UNITS.decbytes_ = UNITS.decbytes;

export function formatValue(v, unit = "short", decimals = null) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") { const n = Number(v); if (isNaN(n) && v !== "NaN") return v; v = n; }
  if (Number.isNaN(v)) return "NaN";
  if (!isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  unit = unit || "short";
  const f = UNITS[unit];
  if (f) return f(v, decimals);
  if (unit.startsWith("suffix:")) return dec(v, decimals) + unit.slice(7);
  if (unit.startsWith("prefix:")) return unit.slice(7) + dec(v, decimals);
  if (unit.startsWith("currency")) return unit.slice(8) + " " + dec(v, decimals);
  return short(v, decimals) + " " + unit; // an id we do not know: the number and the id, never nothing
}

export function knownUnit(unit) { return !unit || unit in UNITS || /^(suffix|prefix):/.test(unit); }
