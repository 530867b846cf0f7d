/**
 * The report of `bench:console` (bench/console.ts): its figures as Markdown, and the plot — JS heap (left) and DOM
 * nodes and event listeners (right) of the dispatcher's tab against the incidents it has seen.
 */
import { niceCeil } from '../../src/web/chart-scale.ts';
import { FONT, twoPanelLayout } from './plot-layout.ts';

export interface Sample {
  incidents: number;
  heapMb: number;
  domNodes: number;
  listeners: number;
  /** Alert cards on screen (the feed shows the open ones). */
  cards: number;
  /** Main-thread busy time (scripts, style, layout, other tasks) per incident since the previous sample. */
  taskMsPerIncident: number;
  /** HTTP requests the tab made per incident since the previous sample (the socket's own frames not counted). */
  requestsPerIncident: number;
}

export interface IdleCost {
  busyMsPerMinute: number;
  stylePerSecond: number;
  layoutPerSecond: number;
}

export interface ConsoleBenchResult {
  generatedAt: string;
  settings: { incidents: number; open: number; sample: number; cameras: number; idleWindowMs: number; keptClosed: number };
  chromium: string;
  loadAverage: number[];
  /** `animationsEnded`: the arrivals' flashes and pulses had ended within 15 s when the window began. */
  idle: { empty: IdleCost; waiting: IdleCost & { animationsEnded: boolean } };
  samples: Sample[];
}

/**
 * Change from the first sample at which the console holds its full quota of closed alerts (or, in a shorter run,
 * from half of it) to the last one: what keeps growing once nothing more should be kept.
 */
export function steadyGrowth(r: ConsoleBenchResult) {
  const last = r.samples.at(-1)!;
  const full = r.settings.keptClosed + r.settings.open;
  const from = r.samples.find((s) => s.incidents >= full && s !== last) ?? r.samples.find((s) => s.incidents >= last.incidents / 2) ?? r.samples[0]!;
  return {
    from: from.incidents,
    to: last.incidents,
    heapMb: last.heapMb - from.heapMb,
    domNodes: last.domNodes - from.domNodes,
    listeners: last.listeners - from.listeners,
  };
}

const f1 = (x: number) => x.toFixed(1);
const signed = (x: number, digits = 0) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

export function consoleReport(r: ConsoleBenchResult): string {
  const g = steadyGrowth(r);
  const busy = r.samples.slice(1).map((s) => s.taskMsPerIncident);
  const mean = busy.reduce((a, b) => a + b, 0) / Math.max(1, busy.length);
  const idle = (name: string, c: IdleCost) =>
    `| ${name} | ${c.busyMsPerMinute.toFixed(0)} ms (${f1(c.busyMsPerMinute / 600)} % of a core) | ${f1(c.stylePerSecond)} | ${f1(c.layoutPerSecond)} |`;
  return `# bench:console — a dispatcher's console over a shift

Generated ${r.generatedAt} by \`npm run bench:console\` (figures in \`bench-console.json\`, plot \`bench-console.png\`).

![JS heap, DOM nodes and event listeners of the dispatcher's tab against the incidents it has seen](bench-console.png)

The real system (\`maskwatch start\`: API, a worker with the real ONNX engine, the built dashboard) and a dispatcher's tab in
${r.chromium}. ${r.settings.incidents} incidents on ${r.settings.cameras} cameras went through their whole life while the
tab watched: a real still posted, the alert on screen, assigned by the dispatcher, acknowledged, en route, on scene and
resolved by the officer (one in three dismissed instead), ${r.settings.open} always waiting. Every ${r.settings.sample}
incidents the tab's garbage was collected and Chromium's counters read (DevTools \`Performance.getMetrics\`). The console
keeps at most ${r.settings.keptClosed} closed alerts (the newest); DOM nodes vary with the toasts on screen at the moment of a sample. Load average at the end ${r.loadAverage.map(f1).join(' / ')} (1 / 5 / 15 min).

## Does it grow once the console holds its ${r.settings.keptClosed} closed alerts?

| from → to incidents | JS heap | DOM nodes | event listeners |
|---|---|---|---|
| ${g.from} → ${g.to} | ${signed(g.heapMb, 2)} MB (${f1(r.samples.at(-1)!.heapMb)} MB at the end) | ${signed(g.domNodes)} (${r.samples.at(-1)!.domNodes}) | ${signed(g.listeners)} (${r.samples.at(-1)!.listeners}) |

Main thread per incident (its ~6 live updates on the feed, the map and the unit board; headless Chromium paints in
software): mean ${mean.toFixed(0)} ms, first interval ${busy[0]?.toFixed(0) ?? '–'} ms, last ${busy.at(-1)?.toFixed(0) ?? '–'} ms. HTTP requests
of the tab per incident (the live updates come over the socket): ${f1(r.samples.slice(1).reduce((t, s) => t + s.requestsPerIncident, 0) / Math.max(1, r.samples.length - 1))}.

## What it costs while nothing happens (${r.settings.idleWindowMs / 1000} s windows)

| console | main thread per minute | style recalculations / s | layouts / s |
|---|---|---|---|
${idle('empty (baseline, before the first incident)', r.idle.empty)}
${idle(`${r.settings.open} alerts waiting, unseen, on the feed and the map`, r.idle.waiting)}

${r.idle.waiting.animationsEnded ? 'The last arrival\'s flash and pulse had ended when the window began.' : '**Something on the console was still moving 15 s after the last arrival**: an animation that never ends.'}

## Samples

| incidents | JS heap (MB) | DOM nodes | listeners | cards | main thread per incident (ms) | requests per incident |
|---|---|---|---|---|---|---|
${r.samples.map((s) => `| ${s.incidents} | ${s.heapMb.toFixed(2)} | ${s.domNodes} | ${s.listeners} | ${s.cards} | ${s.incidents ? s.taskMsPerIncident.toFixed(0) : '–'} | ${s.incidents ? f1(s.requestsPerIncident) : '–'} |`).join('\n')}
`;
}

export function consolePlotSvg(r: ConsoleBenchResult): string {
  const { W, H, m, panelW, panelH, right } = twoPanelLayout();
  const xMax = Math.max(1, ...r.samples.map((s) => s.incidents));
  const x = (n: number, x0: number) => x0 + (n / xMax) * panelW;
  const heapMax = niceCeil(Math.max(...r.samples.map((s) => s.heapMb)) * 1.2);
  const countMax = niceCeil(Math.max(...r.samples.map((s) => Math.max(s.domNodes, s.listeners))) * 1.2);
  const y = (v: number, max: number) => m.t + panelH - (v / max) * panelH;

  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<text x="${m.l}" y="24" ${FONT} font-size="16">MaskWatch bench:console — a dispatcher's tab (Chromium) over ${r.settings.incidents} incidents, ${r.settings.open} always waiting</text>`);
  parts.push(
    `<text x="${m.l}" y="44" ${FONT} font-size="12" fill="#444">after garbage collection; idle main thread: ${r.idle.empty.busyMsPerMinute.toFixed(0)} ms/min empty, ${r.idle.waiting.busyMsPerMinute.toFixed(0)} ms/min with ${r.settings.open} alerts waiting</text>`,
  );
  parts.push(`<text x="${m.l}" y="${m.t - 12}" ${FONT} font-size="13">JS heap used, MB</text>`);
  parts.push(`<text x="${right}" y="${m.t - 12}" ${FONT} font-size="13">DOM nodes (blue) and event listeners (orange)</text>`);
  for (const [x0, max] of [
    [m.l, heapMax],
    [right, countMax],
  ] as const) {
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      parts.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y(v, max)}" y2="${y(v, max)}" stroke="#ddd"/>`);
      parts.push(`<text x="${x0 - 6}" y="${y(v, max) + 4}" text-anchor="end" ${FONT} font-size="11">${+v.toFixed(2)}</text>`);
    }
    for (let i = 0; i <= 4; i++) {
      const n = Math.round((xMax * i) / 4);
      parts.push(`<text x="${x(n, x0)}" y="${m.t + panelH + 16}" text-anchor="middle" ${FONT} font-size="11">${n}</text>`);
    }
    parts.push(`<text x="${x0 + panelW / 2}" y="${H - 12}" text-anchor="middle" ${FONT} font-size="12">incidents seen by the tab</text>`);
  }
  // The point past which the console holds its full quota of closed alerts.
  const full = r.settings.keptClosed + r.settings.open;
  if (full < xMax) {
    for (const x0 of [m.l, right]) parts.push(`<line x1="${x(full, x0)}" x2="${x(full, x0)}" y1="${m.t}" y2="${m.t + panelH}" stroke="#999" stroke-dasharray="4 4"/>`);
    parts.push(`<text x="${x(full, m.l) + 4}" y="${m.t + 12}" ${FONT} font-size="11" fill="#666">${r.settings.keptClosed} closed kept</text>`);
  }
  const line = (pts: [number, number][], color: string) => `<polyline points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`;
  parts.push(line(r.samples.map((s) => [x(s.incidents, m.l), y(s.heapMb, heapMax)]), '#2ca02c'));
  parts.push(line(r.samples.map((s) => [x(s.incidents, right), y(s.domNodes, countMax)]), '#1f77b4'));
  parts.push(line(r.samples.map((s) => [x(s.incidents, right), y(s.listeners, countMax)]), '#ff7f0e'));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${parts.join('')}</svg>`;
}
