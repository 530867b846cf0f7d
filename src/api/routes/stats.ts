/** GET /api/v1/stats: violations, alerts and response-time distributions over a period. */
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import { StatsQuerySchema, StatsSchema, type StatsQuery } from '../../contracts/api.ts';
import type { StatsService } from '../../services/stats.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity, type Defaulted } from '../schemas/common.ts';

/** What the plugin needs; ApiContext satisfies it, so `await statsRoutes(scope, ctx)` works. */
export interface StatsRoutesOptions {
  auth: AuthService;
  services: { stats: StatsService };
}

export const statsResponseSchema = StatsSchema;

export async function statsRoutes(app: FastifyInstance, opts: StatsRoutesOptions) {

  app.get<{ Querystring: Defaulted<StatsQuery, 'groupBy' | 'utcOffsetMinutes'> }>(
    '/api/v1/stats',
    {
      onRequest: requireUser(opts.auth, { roles: ['ADMIN', 'DISPATCHER'] }), // before query validation
      schema: {
        tags: ['stats'],
        summary: 'Violations and alerts per hour/day/camera/zone, with median and p90 response times',
        description: 'Period [from, to), default the last 7 days. Hour/day buckets start at local midnight/hour for utcOffsetMinutes.',
        security: bearerSecurity,
        querystring: StatsQuerySchema,
        response: { 200: statsResponseSchema, ...problemResponses },
      },
    },
    async (request) => {
      const q = request.query;
      return opts.services.stats.compute({
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        groupBy: q.groupBy,
        utcOffsetMinutes: q.utcOffsetMinutes,
      }, userOf(request));
    },
  );
}
