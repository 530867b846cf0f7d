/** Inline-SVG charts (no chart library, nothing fetched). Geometry comes from chart-scale.ts. */
import { axis, labelStride, layoutBars, ticks } from './chart-scale.ts';
import { s } from './dom.ts';
import { formatDuration } from './format.ts';

export interface Datum {
  label: string;
  value: number;
}

function frame(title: string, width: number, height: number, summary: string): SVGSVGElement {
  return s(
    'svg',
    { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title}. ${summary}`, preserveAspectRatio: 'xMidYMid meet' },
    s('title', {}, title),
  );
}

function summarise(data: readonly Datum[]): string {
  const total = data.reduce((a, d) => a + d.value, 0);
  const top = [...data].sort((a, b) => b.value - a.value)[0];
  return data.length ? `${total} in total; highest ${top!.label} with ${top!.value}` : 'no data';
}

/** Vertical bars over time buckets (violations per hour / day). */
export function barChart(title: string, data: readonly Datum[], opts: { width?: number; height?: number; color?: string } = {}): SVGSVGElement {
  const width = opts.width ?? 640;
  const height = opts.height ?? 220;
  const plot = { x: 44, y: 12, width: width - 56, height: height - 48 };
  const svg = frame(title, width, height, summarise(data));
  const { bars, top } = layoutBars(data, plot);
  for (const t of ticks(top)) {
    const y = plot.y + plot.height - (t / top) * plot.height;
    svg.append(
      s('line', { class: 'grid', x1: plot.x, x2: plot.x + plot.width, y1: y, y2: y }),
      s('text', { class: 'axis', x: plot.x - 6, y: y + 4, 'text-anchor': 'end' }, String(t)),
    );
  }
  const stride = labelStride(bars.length, Math.floor(plot.width / 56));
  bars.forEach((b, i) => {
    svg.append(
      s('rect', { class: 'bar', x: b.x, y: b.y, width: b.width, height: Math.max(b.height, b.value > 0 ? 1 : 0), fill: opts.color ?? 'var(--accent)' },
        s('title', {}, `${b.label}: ${b.value}`)),
    );
    if (i % stride === 0) {
      svg.append(s('text', { class: 'axis', x: b.x + b.width / 2, y: plot.y + plot.height + 16, 'text-anchor': 'middle' }, b.label));
    }
  });
  if (!bars.length) svg.append(s('text', { class: 'empty', x: width / 2, y: height / 2, 'text-anchor': 'middle' }, 'No data in this period'));
  return svg;
}

/** Horizontal bars, one row per category (violations per camera / zone). */
export function rowChart(title: string, data: readonly Datum[], opts: { width?: number } = {}): SVGSVGElement {
  const width = opts.width ?? 640;
  const row = 26;
  const labelW = 180;
  const height = Math.max(60, data.length * row + 28);
  const svg = frame(title, width, height, summarise(data));
  const top = axis(Math.max(0, ...data.map((d) => d.value))).top;
  const plotW = width - labelW - 60;
  data.forEach((d, i) => {
    const y = 8 + i * row;
    const w = (d.value / top) * plotW;
    const label = d.label.length > 26 ? `${d.label.slice(0, 25)}…` : d.label;
    svg.append(
      s('text', { class: 'axis', x: labelW - 8, y: y + 15, 'text-anchor': 'end' }, label),
      s('rect', { class: 'bar', x: labelW, y, width: Math.max(w, d.value > 0 ? 1 : 0), height: row - 8, fill: 'var(--accent)' }, s('title', {}, `${d.label}: ${d.value}`)),
      s('text', { class: 'value', x: labelW + w + 6, y: y + 15 }, String(d.value)),
    );
  });
  if (!data.length) svg.append(s('text', { class: 'empty', x: width / 2, y: height / 2, 'text-anchor': 'middle' }, 'No data in this period'));
  return svg;
}

/** Response-time histogram with median and p90 called out. */
export function distributionChart(
  title: string,
  d: { count: number; medianSeconds: number | null; p90Seconds: number | null; histogram: { upToSeconds: number; count: number }[] },
): SVGSVGElement {
  const n = d.histogram.length;
  // The last bin is open-ended: "> previous bound".
  const data = d.histogram.map((b, i) => ({
    label: i === n - 1 && n > 1 ? `>${formatDuration(d.histogram[n - 2]!.upToSeconds)}` : `≤${formatDuration(b.upToSeconds)}`,
    value: b.count,
  }));
  const svg = barChart(title, data, { width: 420, height: 200, color: 'var(--accent-2)' });
  svg.setAttribute(
    'aria-label',
    `${title}. ${d.count} alerts; median ${formatDuration(d.medianSeconds)}, 90th percentile ${formatDuration(d.p90Seconds)}`,
  );
  return svg;
}
