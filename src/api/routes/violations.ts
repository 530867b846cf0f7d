import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, dateTime, nullableString, pageQuery, pageResponse } from '../schemas/common.ts';
import { afterCursor, page } from '../queries/cursor.ts';
import { snapshotUrl } from '../../realtime/snapshot-url.ts';
import { cameraSummarySchema, cursorOrProblem } from './alerts.ts';
import { ALERT_STATUSES, type AlertStatus } from '../../domain/lifecycle.ts';

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
  alertStatus: { type: ['string', 'null'], enum: [...ALERT_STATUSES, null], description: 'current status of the alert the violation belongs to' },
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
      const and: Record<string, unknown>[] = [];
      if (q.cameraId) and.push({ cameraId: q.cameraId });
      if (q.zone) and.push({ camera: { zone: q.zone } });
      if (from) and.push({ capturedAt: { gte: from } });
      if (to) and.push({ capturedAt: { lt: to } });
      if (q.status) and.push({ alert: { status: q.status } });
      if (user.role === 'OFFICER') and.push({ alert: { assignedUnitId: user.unitId ?? '\u0000none' } });
      if (key) and.push(afterCursor('capturedAt', key));
      const rows = await ctx.prisma.violation.findMany({
        where: { AND: and },
        orderBy: [{ capturedAt: 'desc' }, { id: 'desc' }],
        take: q.limit + 1,
        include: { camera: { select: { name: true, latitude: true, longitude: true, address: true, zone: true } }, alert: { select: { status: true } } },
      });
      const { items, nextCursor } = page(rows, q.limit, (r) => r.capturedAt);
      return {
        nextCursor,
        items: items.map((v) => ({
          id: v.id,
          cameraId: v.cameraId,
          camera: v.camera,
          frameId: v.frameId,
          faceIndex: v.faceIndex,
          capturedAt: v.capturedAt.toISOString(),
          receivedAt: v.receivedAt.toISOString(),
          box: [v.boxX, v.boxY, v.boxW, v.boxH],
          faceScore: v.faceScore,
          maskProbability: v.maskProbability,
          snapshotUrl: snapshotUrl(v.faceSnapshotPath),
          frameSnapshotUrl: snapshotUrl(v.frameSnapshotPath),
          alertId: v.alertId,
          alertStatus: (v.alert?.status as AlertStatus | undefined) ?? null,
        })),
      };
    },
  );
}
