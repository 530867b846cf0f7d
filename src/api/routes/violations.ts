import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, dateTime, nullableString, pageQuery, pageResponse } from '../schemas/common.ts';
import { page } from '../queries/cursor.ts';
import { cameraSummarySchema, cursorOrProblem } from './alerts.ts';
import { ALERT_STATUSES, type AlertStatus } from '../../contracts/vocabulary.ts';

const violationProps = {
  id: { type: 'string' },
  cameraId: { type: 'string' },
  camera: cameraSummarySchema,
  frameId: { type: 'string' },
  faceIndex: { type: 'integer' },
  capturedAt: dateTime,
  receivedAt: dateTime,
  box: { type: 'array', items: { type: 'integer' }, minItems: 4, maxItems: 4, description: '[x, y, width, height] px' },
  faceScore: { type: 'number' },
  maskProbability: { type: 'number', description: 'P(no mask)' },
  snapshotUrl: nullableString,
  frameSnapshotUrl: nullableString,
  alertId: nullableString,
} as const;

function isoOrProblem(name: string, raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new HttpProblem(400, `${name} must be an ISO 8601 date-time`, 'validation');
  return d;
}

export async function violationRoutes(app: FastifyInstance, ctx: ApiContext) {
  const loggedIn = requireUser(ctx.auth);

  app.get<{ Querystring: { cameraId?: string; zone?: string; from?: string; to?: string; status?: AlertStatus; limit: number; cursor?: string } }>(
    '/api/v1/violations',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['violations'],
        summary: 'Violations by capture time, newest first; from inclusive, to exclusive',
        security: bearerSecurity,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            cameraId: { type: 'string', maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' },
            zone: { type: 'string', maxLength: 100 },
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
            status: { type: 'string', enum: ALERT_STATUSES, description: 'status of the alert the violation belongs to' },
            ...pageQuery,
          },
        },
        response: {
          200: pageResponse(violationProps),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const user = userOf(request);
      const q = request.query;
      const from = isoOrProblem('from', q.from);
      const to = isoOrProblem('to', q.to);
      const key = cursorOrProblem(q.cursor);
      const rows = await ctx.services.violations.list(
        user,
        { cameraId: q.cameraId, zone: q.zone, from, to, status: q.status },
        key,
        q.limit + 1,
      );
      return page(rows, q.limit, (r) => new Date(r.capturedAt));
    },
  );
}
