/** Pure chart maths (axis ranges, bar geometry) for the inline-SVG charts. */

/** Smallest "nice" number (1, 2, 2.5, 5 × 10^k) ≥ value; 1 for 0 or less. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const exp = Math.floor(Math.log10(value));
  const base = 10 ** exp;
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * base >= value - 1e-9) return m * base;
  }
  return 10 * base;
}

/** 1, 2 or 5 × 10^k: the smallest such step ≥ raw. */
function niceStep(raw: number): number {
  const exp = Math.floor(Math.log10(raw));
  const base = 10 ** exp;
  for (const m of [1, 2, 5, 10]) if (m * base >= raw - 1e-9) return m * base;
  return 10 * base;
}

/**
 * Axis for counts: about `count` intervals of a nice step (1, 2, 5 × 10^k, at
 * least 1 since counts are whole), and a top that is a multiple of it.
 */
export function axis(max: number, count = 4): { top: number; step: number; ticks: number[] } {
  const step = Math.max(1, niceStep(Math.max(max, 1) / count));
  const top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= top + 1e-9; t += step) ticks.push(Math.round(t * 1e6) / 1e6);
  return { top, step, ticks };
}

export function ticks(max: number, count = 4): number[] {
  return axis(max, count).ticks;
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
  label: string;
}

/** Vertical bars filling a plot area; values scaled against niceCeil(max). */
export function layoutBars(
  data: readonly { label: string; value: number }[],
  plot: { x: number; y: number; width: number; height: number },
  gap = 0.2,
): { bars: Bar[]; top: number } {
  const top = axis(Math.max(0, ...data.map((d) => d.value))).top;
  const slot = data.length ? plot.width / data.length : 0;
  const bars = data.map((d, i) => {
    const height = (Math.max(0, d.value) / top) * plot.height;
    return {
      x: plot.x + i * slot + (slot * gap) / 2,
      y: plot.y + plot.height - height,
      width: Math.max(1, slot * (1 - gap)),
      height,
      value: d.value,
      label: d.label,
    };
  });
  return { bars, top };
}

/** Shows every n-th label so they do not overlap: n such that ≤ maxLabels are shown. */
export function labelStride(count: number, maxLabels: number): number {
  return count <= maxLabels ? 1 : Math.ceil(count / Math.max(1, maxLabels));
}
