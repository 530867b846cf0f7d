/** GET /api/v1/stats: violations, alerts and response-time distributions over a period. */
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import { GROUP_BY, type GroupBy } from '../../db/repositories/stats.ts';
import type { StatsService } from '../../services/stats.ts';
import { requireUser } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity } from '../schemas/common.ts';

/** What the plugin needs; ApiContext satisfies it, so `await statsRoutes(scope, ctx)` works. */
export interface StatsRoutesOptions {
  auth: AuthService;
  services: { stats: StatsService };
}

const distributionSchema = {
  type: 'object',
  required: ['count', 'medianSeconds', 'p90Seconds', 'histogram'],
  properties: {
    count: { type: 'integer' },
    medianSeconds: { type: ['number', 'null'] },
    p90Seconds: { type: ['number', 'null'] },
    histogram: {
      type: 'array',
      description: 'bins by upper bound (seconds); the last bin also holds everything longer',
      items: { type: 'object', required: ['upToSeconds', 'count'], properties: { upToSeconds: { type: 'number' }, count: { type: 'integer' } } },
    },
  },
} as const;

export const statsResponseSchema = {
  type: 'object',
  required: ['from', 'to', 'groupBy', 'totals', 'buckets', 'responseTimes', 'falsePositives'],
  properties: {
    falsePositives: {
      type: 'array',
      description: 'Per camera: people of alerts created in the period and how many were marked false positives (rate = falsePositives / people)',
      items: {
        type: 'object',
        required: ['cameraId', 'label', 'people', 'falsePositives', 'rate'],
        properties: {
          cameraId: { type: 'string' },
          label: { type: 'string' },
          people: { type: 'integer' },
          falsePositives: { type: 'integer' },
          rate: { type: 'number' },
        },
      },
    },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    groupBy: { type: 'string', enum: GROUP_BY },
    totals: { type: 'object', required: ['violations', 'alerts'], properties: { violations: { type: 'integer' }, alerts: { type: 'integer' } } },
    buckets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'label', 'violations', 'alerts'],
        properties: { key: { type: 'string' }, label: { type: 'string' }, violations: { type: 'integer' }, alerts: { type: 'integer' } },
      },
    },
    responseTimes: {
      type: 'object',
      description: 'toDispatch: created → dispatched; toAcknowledge: dispatched → acknowledged; toResolve: created → resolved (alerts created in the period)',
      required: ['toDispatch', 'toAcknowledge', 'toResolve'],
      properties: { toDispatch: distributionSchema, toAcknowledge: distributionSchema, toResolve: distributionSchema },
    },
  },
} as const;

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
