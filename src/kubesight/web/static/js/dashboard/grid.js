// Placing panels on Grafana's 24-column grid: repeats expanded, then every panel pushed down past the ones
// it would overlap (as Grafana's grid does when a repeat makes a panel taller or wider). Pure functions.

export const COLUMNS = 24;
export const CELL_PX = 30;
export const GAP_PX = 8;

// Height in pixels of h grid units: h x 30 px plus the gaps between them (Grafana's GRID_CELL_HEIGHT/VMARGIN).
export function heightPx(h) { return h * CELL_PX + Math.max(0, h - 1) * GAP_PX; }

// One panel repeated over `values` (already expanded: All -> every option). Returns [{panel, value, gridPos}].
// Direction h: side by side, w = max(24 / n, 24 / maxPerRow) (maxPerRow defaults to 4), wrapping;
// direction v: stacked, each with the panel's own size.
export function repeatPanel(panel, values) {
  const g = panel.gridPos;
  if (!values.length) return [{panel, value: null, gridPos: {...g}}];
  if (panel.repeatDirection === "v") {
    return values.map((value, i) => ({panel, value, gridPos: {x: g.x, y: g.y + i * g.h, w: g.w, h: g.h}}));
  }
  const maxPerRow = panel.maxPerRow || 4;
  const w = Math.max(Math.floor(COLUMNS / values.length), Math.floor(COLUMNS / maxPerRow), 1);
  const perRow = Math.max(1, Math.floor(COLUMNS / w));
  return values.map((value, i) => ({panel, value,
    gridPos: {x: (i % perRow) * w, y: g.y + Math.floor(i / perRow) * g.h, w, h: g.h}}));
}

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

// Items [{gridPos}] in reading order; each keeps its column and moves down until it overlaps no placed item.
// x and w are clamped to the grid. Returns new items with resolved gridPos, in the same order as placed.
export function placeItems(items) {
  const sorted = items.map((it, i) => ({it, i})).sort((a, b) =>
    a.it.gridPos.y - b.it.gridPos.y || a.it.gridPos.x - b.it.gridPos.x || a.i - b.i);
  const placed = [];
  for (const {it} of sorted) {
    const w = Math.max(1, Math.min(COLUMNS, Math.round(it.gridPos.w) || 12));
    const x = Math.max(0, Math.min(COLUMNS - w, Math.round(it.gridPos.x) || 0));
    const g = {x, y: Math.max(0, Math.round(it.gridPos.y) || 0), w, h: Math.max(1, Math.round(it.gridPos.h) || 8)};
    for (let moved = true; moved;) {
      moved = false;
      for (const p of placed) {
        if (overlaps(g, p.gridPos)) { g.y = p.gridPos.y + p.gridPos.h; moved = true; }
      }
    }
    placed.push({...it, gridPos: g});
  }
  return placed;
}

// CSS grid placement for a resolved gridPos (1-based lines).
export function gridStyle(g) {
  return {gridColumn: `${g.x + 1} / span ${g.w}`, gridRow: `${g.y + 1} / span ${g.h}`};
}
