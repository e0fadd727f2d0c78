// Query history in localStorage: most recent first, each query once, at most MAX entries.
const KEY = "ks-explore-history";
const MAX = 200;

export const history = {
  list() {
    try {
      const v = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(v) ? v.filter((x) => typeof x === "string") : [];
    } catch { return []; }
  },
  add(expr) {
    expr = String(expr || "").trim();
    if (!expr) return this.list();
    const next = [expr, ...this.list().filter((x) => x !== expr)].slice(0, MAX);
    try { localStorage.setItem(KEY, JSON.stringify(next)); } catch { /* storage full or disabled: history is best effort */ }
    return next;
  },
  clear() { try { localStorage.removeItem(KEY); } catch { /* ignore */ } },
};
