/**
 * The plot of `bench:system:edge`: per mix, p95 / p99 detection → alert.created against the number of
 * cameras (left; both axes logarithmic, the limit as a red line) and the central CPU each camera costs
 * (right). Held steps are filled dots, the step that was not held a hollow one.
 */
import { FONT, twoPanelLayout } from './plot-layout.ts';

export interface EdgePlotInput {
  settings: { p95LimitMs: number; fps: number };
  mixes: {
    mix: string;
    steps: { cameras: number; latencyMs: { p95: number | null; p99: number | null }; centralCpuMsPerCameraSecond: number; sustained: boolean }[];
  }[];
}

// Red is the limit line's.
const COLORS = ['#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd'];

export function edgePlotSvg(r: EdgePlotInput): string {
  const { W, H, m, panelW, panelH, right } = twoPanelLayout();
  const steps = r.mixes.flatMap((mx) => mx.steps);
  const camMin = Math.min(...steps.map((s) => s.cameras));
  const camMax = Math.max(...steps.map((s) => s.cameras));
  const lx = (c: number, x0: number) => x0 + ((Math.log10(c) - Math.log10(camMin)) / Math.max(1e-9, Math.log10(camMax) - Math.log10(camMin))) * panelW;
  const [latLo, latHi] = [10, 10_000];
  const ly = (ms: number) => m.t + panelH - ((Math.log10(Math.min(latHi, Math.max(latLo, ms))) - 1) / 3) * panelH;
  const cpuMax = Math.max(1, ...steps.map((s) => s.centralCpuMsPerCameraSecond));
  const cy = (v: number) => m.t + panelH - (v / cpuMax) * panelH;

  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<text x="${m.l}" y="24" ${FONT} font-size="16">MaskWatch bench:system:edge — one API + one worker on 2 shared cores, cameras × ${r.settings.fps} fps of edge detections</text>`);
  parts.push(`<text x="${m.l}" y="44" ${FONT} font-size="12" fill="#444">filled dot: held (p95 within the limit, nothing skipped as stale, backlog cleared); hollow: not held</text>`);
  parts.push(`<text x="${m.l}" y="${m.t - 12}" ${FONT} font-size="13">detection → alert.created, p95 (solid) and p99 (dashed), ms (log)</text>`);
  parts.push(`<text x="${right}" y="${m.t - 12}" ${FONT} font-size="13">central CPU (API + worker), ms per camera-second</text>`);

  // Grids and axes.
  for (const ms of [10, 100, 1000, 10_000]) {
    parts.push(`<line x1="${m.l}" x2="${m.l + panelW}" y1="${ly(ms)}" y2="${ly(ms)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${ly(ms) + 4}" text-anchor="end" ${FONT} font-size="11">${ms}</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const v = (cpuMax * k) / 4;
    parts.push(`<line x1="${right}" x2="${right + panelW}" y1="${cy(v)}" y2="${cy(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${right - 6}" y="${cy(v) + 4}" text-anchor="end" ${FONT} font-size="11">${v.toFixed(1)}</text>`);
  }
  for (const x0 of [m.l, right]) {
    let lastX = -Infinity;
    for (const c of [...new Set(steps.map((s) => s.cameras))].sort((a, b) => a - b)) {
      if (lx(c, x0) - lastX < 40) continue; // close counts on a log axis would overprint
      lastX = lx(c, x0);
      parts.push(`<text x="${lx(c, x0)}" y="${m.t + panelH + 16}" text-anchor="middle" ${FONT} font-size="10">${c}</text>`);
    }
    parts.push(`<text x="${x0 + panelW / 2}" y="${m.t + panelH + 36}" text-anchor="middle" ${FONT} font-size="12">cameras (log)</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${m.l + panelW}" y1="${ly(r.settings.p95LimitMs)}" y2="${ly(r.settings.p95LimitMs)}" stroke="red" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${m.l + panelW - 4}" y="${ly(r.settings.p95LimitMs) - 5}" text-anchor="end" ${FONT} font-size="11" fill="red">p95 limit ${r.settings.p95LimitMs} ms</text>`);

  r.mixes.forEach((mx, i) => {
    const color = COLORS[i % COLORS.length]!;
    const withP95 = mx.steps.filter((s) => s.latencyMs.p95 !== null);
    const line = (pts: string, dashed: boolean) =>
      parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    line(withP95.map((s) => `${lx(s.cameras, m.l).toFixed(1)},${ly(s.latencyMs.p95!).toFixed(1)}`).join(' '), false);
    line(withP95.filter((s) => s.latencyMs.p99 !== null).map((s) => `${lx(s.cameras, m.l).toFixed(1)},${ly(s.latencyMs.p99!).toFixed(1)}`).join(' '), true);
    line(mx.steps.map((s) => `${lx(s.cameras, right).toFixed(1)},${cy(s.centralCpuMsPerCameraSecond).toFixed(1)}`).join(' '), false);
    for (const s of mx.steps) {
      const fill = s.sustained ? color : 'white';
      if (s.latencyMs.p95 !== null) parts.push(`<circle cx="${lx(s.cameras, m.l).toFixed(1)}" cy="${ly(s.latencyMs.p95).toFixed(1)}" r="4" fill="${fill}" stroke="${color}" stroke-width="2"/>`);
      parts.push(`<circle cx="${lx(s.cameras, right).toFixed(1)}" cy="${cy(s.centralCpuMsPerCameraSecond).toFixed(1)}" r="4" fill="${fill}" stroke="${color}" stroke-width="2"/>`);
    }
    const held = mx.steps.filter((s) => s.sustained).at(-1)?.cameras;
    parts.push(`<text x="${m.l + 10}" y="${m.t + 18 + i * 16}" ${FONT} font-size="12" fill="${color}">${mx.mix}: held up to ${held ?? 'none'} cameras</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${parts.join('')}</svg>`;
}
