/**
 * The plot of `bench:incidents`. Left: person precision against recall of every tuning setting (grey when
 * its first frame → confirming frame p95 is over the tuning budget), the chosen one ringed, the report
 * clips' figure with its 95 % intervals, and the target corner shaded. Right: first frame → alert.created of
 * each report clip with a violator, sorted, split into waiting for the confirming frame (k of n) and the
 * pipeline after it, with the p95 limit.
 */
import type { ViolationThreshold } from '../../src/domain/people.ts';
import { FONT, twoPanelLayout } from './plot-layout.ts';

export interface IncidentsPlotInput {
  settings: { confirmFrames: number; confirmWindow: number; threshold: ViolationThreshold; sightingGate: { minFaceScore: number; minFaceSide: number } };
  targets: { precision: number; recall: number; p95LatencyMs: number };
  tuning: null | {
    clips: number;
    grid: { k: number; n: number; threshold: ViolationThreshold; minFaceScore: number; minFaceSide: number; precision: number; recall: number; confirmP95Ms: number | null }[];
  };
  report: { precision: number | null; precisionCI95: readonly number[]; recall: number | null; recallCI95: readonly number[] };
  clips: { positives: number; latencyMs: number | null; confirmingFrameMs: number | null }[];
}

const BLUE = '#1f77b4';
const LIGHT_BLUE = '#aec7e8';
const ORANGE = '#ff7f0e';

export function incidentsPlotSvg(r: IncidentsPlotInput, confirmBudgetMs: number): string {
  const { W, H, m, panelW, panelH, right } = twoPanelLayout();
  // Precision and recall on 0.5–1: below that no setting is worth drawing.
  const px = (recall: number) => m.l + ((Math.max(0.5, recall) - 0.5) / 0.5) * panelW;
  const py = (precision: number) => m.t + panelH - ((Math.max(0.5, precision) - 0.5) / 0.5) * panelH;

  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<text x="${m.l}" y="24" ${FONT} font-size="16">MaskWatch bench:incidents — person-level quality and time to alert of k-of-n confirmed incidents</text>`);
  parts.push(
    `<text x="${m.l}" y="44" ${FONT} font-size="12" fill="#444">left: ${r.tuning ? `${r.tuning.grid.length} settings on ${r.tuning.clips} choosing clips (grey: confirmation p95 over ${confirmBudgetMs} ms)` : 'no tuning run'}; right: report clips with a violator, posted through the API in real time</text>`,
  );
  parts.push(`<text x="${m.l}" y="${m.t - 12}" ${FONT} font-size="13">person precision against recall</text>`);
  parts.push(`<text x="${right}" y="${m.t - 12}" ${FONT} font-size="13">first frame → alert.created per clip, ms (sorted)</text>`);

  // Left panel: grid, target corner, settings, report.
  for (let v = 0.5; v <= 1.0001; v += 0.1) {
    parts.push(`<line x1="${m.l}" x2="${m.l + panelW}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>`);
    parts.push(`<line x1="${px(v)}" x2="${px(v)}" y1="${m.t}" y2="${m.t + panelH}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${py(v) + 4}" text-anchor="end" ${FONT} font-size="11">${v.toFixed(1)}</text>`);
    parts.push(`<text x="${px(v)}" y="${m.t + panelH + 16}" text-anchor="middle" ${FONT} font-size="11">${v.toFixed(1)}</text>`);
  }
  parts.push(`<text x="${m.l + panelW / 2}" y="${m.t + panelH + 36}" text-anchor="middle" ${FONT} font-size="12">person recall</text>`);
  parts.push(`<rect x="${px(r.targets.recall)}" y="${py(1)}" width="${px(1) - px(r.targets.recall)}" height="${py(r.targets.precision) - py(1)}" fill="#2ca02c" fill-opacity="0.15" stroke="#2ca02c"/>`);
  parts.push(`<text x="${px(r.targets.recall) - 4}" y="${py(r.targets.precision) + 14}" text-anchor="end" ${FONT} font-size="11" fill="#2ca02c">target</text>`);
  const s = r.settings;
  const isChosen = (g: NonNullable<IncidentsPlotInput['tuning']>['grid'][number]) =>
    g.k === s.confirmFrames && g.n === s.confirmWindow && JSON.stringify(g.threshold) === JSON.stringify(s.threshold) && g.minFaceScore === s.sightingGate.minFaceScore && g.minFaceSide === s.sightingGate.minFaceSide;
  for (const g of r.tuning?.grid ?? []) {
    const inBudget = g.confirmP95Ms !== null && g.confirmP95Ms <= confirmBudgetMs;
    parts.push(`<circle cx="${px(g.recall).toFixed(1)}" cy="${py(g.precision).toFixed(1)}" r="2.5" fill="${inBudget ? BLUE : '#bbb'}" fill-opacity="0.6"/>`);
  }
  const chosen = r.tuning?.grid.find(isChosen);
  if (chosen) {
    parts.push(`<circle cx="${px(chosen.recall).toFixed(1)}" cy="${py(chosen.precision).toFixed(1)}" r="8" fill="none" stroke="black" stroke-width="2"/>`);
    parts.push(`<text x="${m.l + 10}" y="${m.t + 18}" ${FONT} font-size="12">○ chosen: ${s.confirmFrames} of ${s.confirmWindow} (choosing clips)</text>`);
  }
  const rep = r.report;
  if (rep.precision !== null && rep.recall !== null) {
    const [x, y] = [px(rep.recall), py(rep.precision)];
    parts.push(`<line x1="${px(rep.recallCI95[0]!)}" x2="${px(rep.recallCI95[1]!)}" y1="${y}" y2="${y}" stroke="${ORANGE}" stroke-width="2"/>`);
    parts.push(`<line x1="${x}" x2="${x}" y1="${py(rep.precisionCI95[0]!)}" y2="${py(rep.precisionCI95[1]!)}" stroke="${ORANGE}" stroke-width="2"/>`);
    parts.push(`<rect x="${x - 5}" y="${y - 5}" width="10" height="10" fill="${ORANGE}"/>`);
    parts.push(`<text x="${m.l + 10}" y="${m.t + 36}" ${FONT} font-size="12" fill="${ORANGE}">■ report clips ${rep.recall.toFixed(3)} / ${rep.precision.toFixed(3)}, 95 % intervals</text>`);
  }

  // Right panel: one bar per alerted clip with a violator.
  const clips = r.clips
    .filter((c) => c.positives > 0 && c.latencyMs !== null && c.confirmingFrameMs !== null)
    .map((c) => ({ wait: c.confirmingFrameMs!, total: c.latencyMs! }))
    .sort((a, b) => a.total - b.total);
  const yMax = Math.max(r.targets.p95LatencyMs * 1.25, ...clips.map((c) => c.total));
  const ly = (ms: number) => m.t + panelH - (ms / yMax) * panelH;
  const step = yMax > 5000 ? 1000 : 500;
  for (let v = 0; v <= yMax; v += step) {
    parts.push(`<line x1="${right}" x2="${right + panelW}" y1="${ly(v)}" y2="${ly(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${right - 6}" y="${ly(v) + 4}" text-anchor="end" ${FONT} font-size="11">${v}</text>`);
  }
  const bw = panelW / Math.max(1, clips.length);
  clips.forEach((c, i) => {
    const x = right + i * bw + bw * 0.1;
    parts.push(`<rect x="${x.toFixed(1)}" y="${ly(c.wait).toFixed(1)}" width="${(bw * 0.8).toFixed(1)}" height="${(ly(0) - ly(c.wait)).toFixed(1)}" fill="${LIGHT_BLUE}"/>`);
    parts.push(`<rect x="${x.toFixed(1)}" y="${ly(c.total).toFixed(1)}" width="${(bw * 0.8).toFixed(1)}" height="${(ly(c.wait) - ly(c.total)).toFixed(1)}" fill="${BLUE}"/>`);
  });
  if (clips.length > 0) {
    // The p95 clip by nearest rank, as percentileOf counts it.
    const p95 = Math.min(clips.length - 1, Math.ceil(0.95 * clips.length) - 1);
    const x = right + (p95 + 0.5) * bw;
    parts.push(`<text x="${x.toFixed(1)}" y="${(ly(clips[p95]!.total) - 6).toFixed(1)}" text-anchor="middle" ${FONT} font-size="11">p95</text>`);
  }
  parts.push(`<text x="${right + panelW / 2}" y="${m.t + panelH + 36}" text-anchor="middle" ${FONT} font-size="12">report clips with a violator and an alert (n = ${clips.length})</text>`);
  parts.push(`<line x1="${right}" x2="${right + panelW}" y1="${ly(r.targets.p95LatencyMs)}" y2="${ly(r.targets.p95LatencyMs)}" stroke="red" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${right + 4}" y="${ly(r.targets.p95LatencyMs) - 5}" ${FONT} font-size="11" fill="red">p95 limit ${r.targets.p95LatencyMs} ms</text>`);
  parts.push(`<rect x="${right + 10}" y="${m.t + 8}" width="10" height="10" fill="${LIGHT_BLUE}"/><text x="${right + 26}" y="${m.t + 17}" ${FONT} font-size="12">waiting for the confirming frame (k of n)</text>`);
  parts.push(`<rect x="${right + 10}" y="${m.t + 26}" width="10" height="10" fill="${BLUE}"/><text x="${right + 26}" y="${m.t + 35}" ${FONT} font-size="12">queue, inference, storage</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${parts.join('')}</svg>`;
}
