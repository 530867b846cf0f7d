/**
 * Statistics over a period: violations and alerts per hour / day / camera /
 * zone (counted in the database), and response-time distributions. A
 * dispatcher with zones gets the figures of their zones' cameras only.
 */
import type { StatsRepository } from '../db/repositories/stats.ts';
import {
  categoryBucketsFromCounts,
  checkRange,
  falsePositiveRates,
  MAX_HOURLY_DAYS,
  NO_ZONE,
  resolutionOutcomeCounts,
  responseTimes,
  StatsInputError,
  timeBucketsFromCounts,
  type Bucket,
  type GroupBy,
  type StatsResult,
} from '../domain/stats.ts';
import { ServiceError } from './errors.ts';
import { alertScopeOf, zoneInScope, type Viewer } from '../auth/roles.ts';

export function createStatsService(deps: { stats: StatsRepository; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  async function compute(q: { from: Date; to: Date; groupBy: GroupBy; utcOffsetMinutes?: number }, viewer: Viewer): Promise<StatsResult> {
    checkRange(q.from, q.to);
    if (q.groupBy === 'hour' && q.to.getTime() - q.from.getTime() > MAX_HOURLY_DAYS * 86_400_000) {
      throw new StatsInputError(`groupBy=hour allows at most ${MAX_HOURLY_DAYS} days; use groupBy=day`);
    }
    // A dispatcher with zones counts only their zones' cameras.
    const scope = alertScopeOf(viewer);
    const cameras = (await deps.stats.cameraNames()).filter((c) => zoneInScope(scope, c.zone));
    const period = { from: q.from, to: q.to, ...(scope.zones ? { cameraIds: cameras.map((c) => c.id) } : {}) };
    const offset = q.utcOffsetMinutes ?? 0;
    let buckets: Bucket[];
    if (q.groupBy === 'hour' || q.groupBy === 'day') {
      const [v, a] = await Promise.all([deps.stats.violationsByTime(period, q.groupBy, offset), deps.stats.alertsByTime(period, q.groupBy, offset)]);
      buckets = timeBucketsFromCounts(v, a, q.from, q.to, q.groupBy, offset);
    } else {
      const [v, a] = await Promise.all([deps.stats.violationsByCamera(period), deps.stats.alertsByCamera(period)]);
      const cam = new Map(cameras.map((c) => [c.id, c]));
      buckets =
        q.groupBy === 'camera'
          ? categoryBucketsFromCounts(v, a, (id) => id, (id) => cam.get(id)?.name ?? id)
          : categoryBucketsFromCounts(v, a, (id) => cam.get(id)?.zone || NO_ZONE, (z) => z);
    }
    const [totals, times, people, outcomes, resolvedByCamera] = await Promise.all([
      deps.stats.totals(period),
      deps.stats.handledAlertTimes(period),
      deps.stats.peopleOfAlerts(period),
      deps.stats.resolvedByOutcome(period),
      deps.stats.resolvedByCameraAndOutcome(period),
    ]);
    const names = new Map(cameras.map((c) => [c.id, c.name]));
    return {
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      groupBy: q.groupBy,
      totals,
      buckets,
      responseTimes: responseTimes(times),
      falsePositives: falsePositiveRates(people, resolvedByCamera, (id) => names.get(id) ?? id),
      resolutionOutcomes: resolutionOutcomeCounts(outcomes),
    };
  }

  return {
    /** Period [from, to), default the last 7 days up to now. */
    async compute(q: { from?: Date; to?: Date; groupBy: GroupBy; utcOffsetMinutes?: number }, viewer: Viewer): Promise<StatsResult> {
      const to = q.to ?? now();
      const from = q.from ?? new Date(to.getTime() - 7 * 86_400_000);
      try {
        return await compute({ from, to, groupBy: q.groupBy, utcOffsetMinutes: q.utcOffsetMinutes }, viewer);
      } catch (err) {
        if (err instanceof StatsInputError) throw new ServiceError('INVALID', err.message, 'validation');
        throw err;
      }
    },
  };
}

export type StatsService = ReturnType<typeof createStatsService>;
