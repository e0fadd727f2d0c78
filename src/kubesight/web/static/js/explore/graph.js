// The shared Graph, tuned for Explore's results, which can hold a thousand series: past MANY series, no area
// fill (a thousand translucent areas overdraw every pixel a thousand times) and no hover focus (focusing one
// series redraws all the others dimmed, at every move of the mouse).
import {Graph} from "../chart.js";

const MANY = 50;

export class ExploreGraph extends Graph {
  build() {
    const many = (this.frame?.series?.length || 0) > MANY;
    this.opts.fillOpacity = many && (this.opts.stacking || "none") === "none" ? 0 : undefined;
    super.build();
    // uPlot reads focus.prox at every cursor move: below zero, nothing is ever focused
    if (many && this.u?.focus) this.u.focus.prox = -1;
  }

  // Past MANY series, showing or hiding them flips their flags and redraws once (setSeries per series
  // recomputes the scales for each).
  isolate(name, toggle) {
    const names = this.frame.series.map((s) => s.name);
    if (names.length <= MANY || !this.u) { super.isolate(name, toggle); return; }
    if (toggle) { if (this.hidden.has(name)) this.hidden.delete(name); else this.hidden.add(name); }
    else if (this.hidden.size === names.length - 1 && !this.hidden.has(name)) this.hidden.clear();
    else this.hidden = new Set(names.filter((n) => n !== name));
    this.u.series.forEach((s, i) => { if (i > 0) s.show = !this.hidden.has(names[i - 1]); });
    // the hover dots of hidden series too (setSeries would hide them; uPlot keeps one per series, in order)
    const pts = this.u.over.querySelectorAll(".u-cursor-pt");
    if (pts.length === names.length) pts.forEach((p, k) => { p.style.display = this.hidden.has(names[k]) ? "none" : ""; });
    this.u.setData(this.u.data, true);
    this.legendEl.querySelectorAll(".ks-legend-item").forEach((el) => el.classList.toggle("ks-off", this.hidden.has(el.dataset.name)));
  }
}

// A query_range matrix on the step grid [start, end] (x in seconds, null where a series has no point), as
// chart.js' alignMatrix with plain loops; NaN and ±Inf ("NaN", "+Inf", "-Inf") are gaps, as no axis holds them.
export function alignResult(result, startMs, endMs, stepMs) {
  const n = Math.floor((endMs - startMs) / stepMs) + 1;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = (startMs + i * stepMs) / 1000;
  const s0 = startMs / 1000, st = stepMs / 1000;
  const series = new Array(result.length);
  for (let j = 0; j < result.length; j++) {
    const vs = result[j].values || [];
    const values = new Array(n).fill(null);
    for (let k = 0; k < vs.length; k++) {
      const p = vs[k], i = Math.round((p[0] - s0) / st);
      if (i < 0 || i >= n) continue;
      const f = +p[1];
      if (Number.isFinite(f)) values[i] = f;
    }
    series[j] = {metric: result[j].metric, values};
  }
  return {x, series};
}
