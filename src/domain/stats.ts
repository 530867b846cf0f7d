/**
 * Statistics (pure): time buckets, category buckets, quantiles and
 * response-time distributions. The counts come from the database
 * (src/db/repositories/stats.ts, GROUP BY); src/services/stats.ts assembles them.
 */

import { RESOLUTION_OUTCOMES, STATS_GROUP_BY, type StatsGroupBy } from '../contracts/vocabulary.ts';
import type { Bucket, Distribution, Stats } from '../contracts/api.ts';
import { resolutionOutcomeOf } from './lifecycle.ts';

export type GroupBy = StatsGroupBy;
export const GROUP_BY = STATS_GROUP_BY;
export type { Bucket, Distribution };
export type StatsResult = Stats;

export const MAX_RANGE_DAYS = 366;
export const MAX_HOURLY_DAYS = 31;

export class StatsInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatsInputError';
  }
}

/** Linear-interpolated quantile (type 7, as numpy/R default) of unsorted values; null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new StatsInputError(`quantile must be in [0, 1], got ${q}`);
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Upper bounds of the response-time histogram bins, seconds; the last bin is open-ended. */
export const HISTOGRAM_BOUNDS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, Infinity] as const;

export function distribution(seconds: readonly number[]): Distribution {
  const valid = seconds.filter((s) => Number.isFinite(s) && s >= 0);
  const histogram = HISTOGRAM_BOUNDS.map((b) => ({ upToSeconds: b, count: 0 }));
  for (const s of valid) histogram.find((h) => s <= h.upToSeconds)!.count += 1;
  // JSON has no Infinity: the open bin is reported with the largest finite bound × 2.
  const last = histogram[histogram.length - 1]!;
  last.upToSeconds = HISTOGRAM_BOUNDS[HISTOGRAM_BOUNDS.length - 2]! * 2;
  const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
  return { count: valid.length, medianSeconds: round(quantile(valid, 0.5)), p90Seconds: round(quantile(valid, 0.9)), histogram };
}

/** Start of the hour/day containing `t`, in a fixed UTC offset (minutes east of UTC). */
export function bucketStart(t: Date, unit: 'hour' | 'day', utcOffsetMinutes: number): Date {
  const shifted = t.getTime() + utcOffsetMinutes * 60_000;
  const size = unit === 'hour' ? 3_600_000 : 86_400_000;
  return new Date(Math.floor(shifted / size) * size - utcOffsetMinutes * 60_000);
}

function timeLabel(start: Date, unit: 'hour' | 'day', utcOffsetMinutes: number): string {
  const local = new Date(start.getTime() + utcOffsetMinutes * 60_000).toISOString();
  return unit === 'day' ? local.slice(0, 10) : `${local.slice(5, 10)} ${local.slice(11, 16)}`;
}

/**
 * Every bucket of the period (zeros included), filled from per-bucket counts
 * keyed by bucket start (ms since the epoch), as the database groups them.
 */
export function timeBucketsFromCounts(
  violations: ReadonlyMap<number, number>,
  alerts: ReadonlyMap<number, number>,
  from: Date,
  to: Date,
  unit: 'hour' | 'day',
  utcOffsetMinutes = 0,
): Bucket[] {
  const size = unit === 'hour' ? 3_600_000 : 86_400_000;
  const buckets: Bucket[] = [];
  for (let t = bucketStart(from, unit, utcOffsetMinutes).getTime(); t < to.getTime(); t += size) {
    const start = new Date(t);
    buckets.push({ key: start.toISOString(), label: timeLabel(start, unit, utcOffsetMinutes), violations: violations.get(t) ?? 0, alerts: alerts.get(t) ?? 0 });
  }
  return buckets;
}

export interface AlertTimes {
  createdAt: Date;
  /** The first dispatch (a reassignment dispatches again). */
  firstDispatchedAt: Date | null;
  /** The latest dispatch: the one the unit acknowledged. */
  dispatchedAt: Date | null;
  acknowledgedAt: Date | null;
  resolvedAt: Date | null;
}

const secondsBetween = (a: Date | null, b: Date | null) => (a && b ? (b.getTime() - a.getTime()) / 1000 : null);

/** Time to dispatch (created → first dispatch), to acknowledge (the dispatch acknowledged → acknowledged), to resolve (created → resolved). */
export function responseTimes(alerts: readonly AlertTimes[]): StatsResult['responseTimes'] {
  const pick = (f: (a: AlertTimes) => number | null) => alerts.map(f).filter((x): x is number => x !== null);
  return {
    toDispatch: distribution(pick((a) => secondsBetween(a.createdAt, a.firstDispatchedAt))),
    toAcknowledge: distribution(pick((a) => secondsBetween(a.dispatchedAt, a.acknowledgedAt))),
    toResolve: distribution(pick((a) => secondsBetween(a.createdAt, a.resolvedAt))),
  };
}

export function checkRange(from: Date, to: Date): void {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new StatsInputError('from and to must be valid dates');
  if (to <= from) throw new StatsInputError('to must be after from');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
    throw new StatsInputError(`the period may span at most ${MAX_RANGE_DAYS} days`);
  }
}

export const NO_ZONE = '(no zone)';

/** Counts per category from grouped counts: `key` maps a camera id to its category (itself, or its zone). */
export function categoryBucketsFromCounts(
  violations: ReadonlyMap<string, number>,
  alerts: ReadonlyMap<string, number>,
  key: (cameraId: string) => string,
  label: (key: string) => string,
): Bucket[] {
  const m = new Map<string, Bucket>();
  const add = (counts: ReadonlyMap<string, number>, field: 'violations' | 'alerts') => {
    for (const [cameraId, n] of counts) {
      const k = key(cameraId);
      let b = m.get(k);
      if (!b) m.set(k, (b = { key: k, label: label(k), violations: 0, alerts: 0 }));
      b[field] += n;
    }
  };
  add(violations, 'violations');
  add(alerts, 'alerts');
  return [...m.values()].sort((a, b) => b.violations - a.violations || b.alerts - a.alerts || a.label.localeCompare(b.label));
}

export interface CameraFalsePositives {
  cameraId: string;
  label: string;
  people: number;
  falsePositives: number;
  /** falsePositives / people (0 when no people). */
  rate: number;
  /** Alerts of the camera resolved by an officer. */
  resolvedAlerts: number;
  /** Of those, resolved as NOT_A_VIOLATION: the officer on the spot found none (the street's view of a false positive). */
  notAViolation: number;
}

/**
 * Per-camera false positives, highest rate first: people dispatchers marked not a violation, and resolved alerts
 * whose officer found none. `resolved`: resolved alerts per camera and outcome.
 */
export function falsePositiveRates(
  people: readonly { cameraId: string; falsePositive: boolean }[],
  resolved: readonly { cameraId: string; outcome: string | null; alerts: number }[],
  labelOf: (cameraId: string) => string,
): CameraFalsePositives[] {
  const by = new Map<string, { people: number; falsePositives: number; resolvedAlerts: number; notAViolation: number }>();
  const of = (cameraId: string) => by.get(cameraId) ?? by.set(cameraId, { people: 0, falsePositives: 0, resolvedAlerts: 0, notAViolation: 0 }).get(cameraId)!;
  for (const p of people) {
    const c = of(p.cameraId);
    c.people++;
    if (p.falsePositive) c.falsePositives++;
  }
  for (const r of resolved) {
    const c = of(r.cameraId);
    c.resolvedAlerts += r.alerts;
    if (r.outcome === 'NOT_A_VIOLATION') c.notAViolation += r.alerts;
  }
  return [...by.entries()]
    .map(([cameraId, c]) => ({ cameraId, label: labelOf(cameraId), ...c, rate: c.people ? c.falsePositives / c.people : 0 }))
    .sort((a, b) => b.rate - a.rate || b.people - a.people || a.cameraId.localeCompare(b.cameraId));
}

/**
 * Resolved alerts by outcome, in the vocabulary's order and then those resolved without one (null); outcomes with
 * no alert are left out. A value outside the vocabulary (written by hand in the database) counts as none.
 */
export function resolutionOutcomeCounts(counts: ReadonlyMap<string | null, number>): StatsResult['resolutionOutcomes'] {
  let none = 0;
  for (const [outcome, n] of counts) if (!resolutionOutcomeOf(outcome)) none += n;
  const rows: StatsResult['resolutionOutcomes'] = RESOLUTION_OUTCOMES.map((outcome) => ({ outcome, alerts: counts.get(outcome) ?? 0 }));
  rows.push({ outcome: null, alerts: none });
  return rows.filter((r) => r.alerts > 0);
}
