/** Statistics over a period: violations and alerts per bucket, response times. */
import { StatsInputError, type GroupBy, type StatsRepository, type StatsResult } from '../db/repositories/stats.ts';
import { ServiceError } from './errors.ts';

export function createStatsService(deps: { stats: StatsRepository; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    /** Period [from, to), default the last 7 days up to now. */
    async compute(q: { from?: Date; to?: Date; groupBy: GroupBy; utcOffsetMinutes: number }): Promise<StatsResult> {
      const to = q.to ?? now();
      const from = q.from ?? new Date(to.getTime() - 7 * 86_400_000);
      try {
        return await deps.stats.compute({ from, to, groupBy: q.groupBy, utcOffsetMinutes: q.utcOffsetMinutes });
      } catch (err) {
        if (err instanceof StatsInputError) throw new ServiceError('INVALID', err.message, 'validation');
        throw err;
      }
    },
  };
}

export type StatsService = ReturnType<typeof createStatsService>;
