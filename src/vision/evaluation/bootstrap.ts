import { mulberry32 } from '../train/rng.ts';

/** A figure with its 95 % percentile bootstrap interval over images. */
export interface Estimate {
  value: number | null;
  lo: number | null;
  hi: number | null;
}

/**
 * Percentile bootstrap over units (images): `perUnit` holds each image's
 * additive counts; `figure` turns summed counts into the statistic (null when
 * undefined, e.g. no positives in a resample — such resamples are skipped).
 */
export function bootstrap<C extends Record<string, number>>(
  perUnit: C[],
  figure: (sum: C) => number | null,
  opts: { resamples?: number; seed?: number } = {},
): Estimate {
  const sum = (units: C[]): C => {
    const s = {} as Record<string, number>;
    for (const u of units) for (const [k, v] of Object.entries(u)) s[k] = (s[k] ?? 0) + v;
    return s as C;
  };
  const value = perUnit.length ? figure(sum(perUnit)) : null;
  const rng = mulberry32(opts.seed ?? 1);
  const stats: number[] = [];
  const n = perUnit.length;
  for (let r = 0; r < (opts.resamples ?? 2000) && n > 0; r++) {
    const pick: C[] = [];
    for (let i = 0; i < n; i++) pick.push(perUnit[Math.floor(rng() * n)]!);
    const f = figure(sum(pick));
    if (f !== null && Number.isFinite(f)) stats.push(f);
  }
  stats.sort((a, b) => a - b);
  const q = (p: number) => (stats.length ? stats[Math.min(stats.length - 1, Math.max(0, Math.round(p * (stats.length - 1))))]! : null);
  return { value, lo: q(0.025), hi: q(0.975) };
}

export const ratioOrNull = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/**
 * Several figures from the same resamples (one pass over the units per
 * resample, instead of one per figure): counts are packed into arrays.
 */
export function bootstrapMany(
  perUnit: Array<Record<string, number>>,
  figures: Record<string, (sum: Record<string, number>) => number | null>,
  opts: { resamples?: number; seed?: number } = {},
): Record<string, Estimate> {
  const keys = [...new Set(perUnit.flatMap((u) => Object.keys(u)))];
  const rows = perUnit.map((u) => Float64Array.from(keys, (k) => u[k] ?? 0));
  const asRecord = (v: Float64Array): Record<string, number> => Object.fromEntries(keys.map((k, i) => [k, v[i]!]));
  const total = new Float64Array(keys.length);
  for (const r of rows) for (let i = 0; i < keys.length; i++) total[i]! += r[i]!;
  const names = Object.keys(figures);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const rng = mulberry32(opts.seed ?? 1);
  const n = rows.length;
  const acc = new Float64Array(keys.length);
  for (let r = 0; r < (opts.resamples ?? 2000) && n > 0; r++) {
    acc.fill(0);
    for (let i = 0; i < n; i++) {
      const row = rows[Math.floor(rng() * n)]!;
      for (let k = 0; k < keys.length; k++) acc[k]! += row[k]!;
    }
    const rec = asRecord(acc);
    for (const name of names) {
      const f = figures[name]!(rec);
      if (f !== null && Number.isFinite(f)) samples[name]!.push(f);
    }
  }
  const out: Record<string, Estimate> = {};
  for (const name of names) {
    const s = samples[name]!.sort((a, b) => a - b);
    const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))]! : null);
    out[name] = { value: n ? figures[name]!(asRecord(total)) : null, lo: q(0.025), hi: q(0.975) };
  }
  return out;
}
