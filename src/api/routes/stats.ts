/** GET /api/v1/stats: violations, alerts and response-time distributions over a period. */
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import { GROUP_BY, type GroupBy } from '../../domain/stats.ts';
import { StatsSchema } from '../../contracts/api.ts';
import type { StatsService } from '../../services/stats.ts';
import { requireUser } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity } from '../schemas/common.ts';

/** What the plugin needs; ApiContext satisfies it, so `await statsRoutes(scope, ctx)` works. */
export interface StatsRoutesOptions {
  auth: AuthService;
  services: { stats: StatsService };
}

export const statsResponseSchema = StatsSchema;

export async function statsRoutes(app: FastifyInstance, opts: StatsRoutesOptions) {

  app.get<{ Querystring: { from?: string; to?: string; groupBy: GroupBy; utcOffsetMinutes: number } }>(
    '/api/v1/stats',
    {
      onRequest: requireUser(opts.auth, { roles: ['ADMIN', 'DISPATCHER'] }), // before query validation
      schema: {
        tags: ['stats'],
        summary: 'Violations and alerts per hour/day/camera/zone, with median and p90 response times',
        description: 'Period [from, to), default the last 7 days. Hour/day buckets start at local midnight/hour for utcOffsetMinutes.',
        security: bearerSecurity,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
            groupBy: { type: 'string', enum: GROUP_BY, default: 'day' },
            utcOffsetMinutes: { type: 'integer', minimum: -840, maximum: 840, default: 0 },
          },
        },
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
      });
    },
  );
}
