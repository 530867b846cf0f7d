/** The frame shared by the benchmarks' two-panel plots (SVG, rendered to PNG by sharp). */
export const FONT = 'font-family="sans-serif"';

export function twoPanelLayout() {
  const W = 1200;
  const H = 560;
  const m = { l: 70, r: 30, t: 80, b: 50 };
  const gap = 90;
  const panelW = (W - m.l - m.r - gap) / 2;
  const panelH = H - m.t - m.b;
  return { W, H, m, gap, panelW, panelH, right: m.l + panelW + gap };
}
