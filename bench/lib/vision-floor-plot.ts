/**
 * The plot of `bench:vision`'s floor comparison: for wall-clock time (left) and process CPU time (right),
 * the engine's time over the bare ONNX Runtime floor per face crop, per scene summed, and per scene — the
 * median over interleaved rounds as a bar, min–max as a whisker — with the 2× target as a red line.
 */
import type { ClockRatios, FloorRatios } from '../vision-floor.ts';
import { FONT } from './plot-layout.ts';

const ROW = 26;

interface Row {
  label: string;
  ratio: { median: number; min: number; max: number };
  summary: boolean;
}

function rows(r: ClockRatios): Row[] {
  return [
    { label: `per face crop (${r.crops} crops)`, ratio: r.cropRatio, summary: true },
    { label: `per scene, Σ of ${r.scenes.length}`, ratio: r.sceneRatio, summary: true },
    ...r.scenes.map((s) => ({ label: `${s.file} (${s.faces} faces)`, ratio: s.ratio, summary: false })),
  ];
}

export function visionFloorPlotSvg(f: FloorRatios, target: number): string {
  const panels: Array<[string, ClockRatios]> = [
    ['wall-clock time', f.wall],
    ['process CPU time', f.cpu],
  ];
  const n = Math.max(...panels.map(([, r]) => rows(r).length));
  const m = { l: 250, r: 30, t: 80, b: 50 };
  const gap = 270;
  const panelW = 330;
  const W = m.l + 2 * panelW + gap + m.r;
  const H = m.t + n * ROW + m.b;
  const xMax = Math.max(target * 1.25, ...panels.flatMap(([, r]) => rows(r).map((row) => row.ratio.max)));
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<text x="20" y="24" ${FONT} font-size="16">MaskWatch bench:vision — the engine's time over the bare ONNX Runtime floor (intraOp 1, same process)</text>`);
  parts.push(`<text x="20" y="44" ${FONT} font-size="12" fill="#444">bar: median over ${f.wall.rounds} interleaved rounds; whisker: min–max; floor per scene = bare YuNet at the frame's input size + faces × bare backbone</text>`);
  panels.forEach(([title, r], p) => {
    const x0 = m.l + p * (panelW + gap);
    const x = (v: number) => x0 + (v / xMax) * panelW;
    parts.push(`<text x="${x0}" y="${m.t - 12}" ${FONT} font-size="13">${title}: ratio to the floor</text>`);
    for (let v = 0; v <= xMax; v += 0.5) {
      parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${m.t}" y2="${m.t + n * ROW}" stroke="#ddd"/>`);
      parts.push(`<text x="${x(v)}" y="${m.t + n * ROW + 16}" text-anchor="middle" ${FONT} font-size="11">${v.toFixed(1)}</text>`);
    }
    rows(r).forEach((row, i) => {
      const y = m.t + i * ROW;
      const over = row.ratio.median > target;
      parts.push(`<text x="${x0 - 8}" y="${y + ROW / 2 + 4}" text-anchor="end" ${FONT} font-size="12"${row.summary ? ' font-weight="bold"' : ''}>${row.label}</text>`);
      parts.push(`<rect x="${x0}" y="${y + 5}" width="${(x(row.ratio.median) - x0).toFixed(1)}" height="${ROW - 10}" fill="${over ? '#d62728' : row.summary ? '#1f77b4' : '#aec7e8'}"/>`);
      const yc = y + ROW / 2;
      parts.push(`<line x1="${x(row.ratio.min).toFixed(1)}" x2="${x(row.ratio.max).toFixed(1)}" y1="${yc}" y2="${yc}" stroke="black"/>`);
      for (const v of [row.ratio.min, row.ratio.max]) parts.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${yc - 4}" y2="${yc + 4}" stroke="black"/>`);
      parts.push(`<text x="${(x(row.ratio.max) + 6).toFixed(1)}" y="${yc + 4}" ${FONT} font-size="11">${row.ratio.median.toFixed(2)}</text>`);
    });
    parts.push(`<line x1="${x(target)}" x2="${x(target)}" y1="${m.t - 4}" y2="${m.t + n * ROW}" stroke="red" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${x(target) + 4}" y="${m.t + n * ROW + 32}" ${FONT} font-size="11" fill="red">target ≤ ${target}×</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${parts.join('')}</svg>`;
}
