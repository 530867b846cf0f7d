import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, dateTime, nullableString, pageQuery, pageResponse } from '../schemas/common.ts';
import { CursorError, decodeCursor, page } from '../queries/cursor.ts';
import { ALERT_STATUSES as STATUSES } from '../../contracts/vocabulary.ts';

export const cameraSummarySchema = {
  type: 'object',
  required: ['name', 'latitude', 'longitude', 'address', 'zone'],
  properties: {
    name: { type: 'string' },
    latitude: { type: 'number' },
    longitude: { type: 'number' },
    address: nullableString,
    zone: nullableString,
  },
} as const;

/** A confirmed person of an incident (realtime AlertPersonEvent). */
export const personSchema = {
  type: 'object',
  required: ['id', 'label', 'box', 'frames', 'noMaskProbability', 'snapshotUrl', 'firstSeenAt', 'lastSeenAt', 'frameSnapshotUrl', 'falsePositive', 'falsePositiveReason'],
  properties: {
    id: { type: 'string' },
    label: { type: 'string', enum: ['no_mask', 'mask_incorrect'] },
    box: {
      type: 'array',
      items: { type: 'integer' },
      minItems: 4,
      maxItems: 4,
      description: '[x, y, width, height] in original-frame pixels, in the frame where the person was last seen',
    },
    frames: { type: 'integer', description: 'Frames in which the person was seen violating (stored violations)' },
    noMaskProbability: { type: 'number', description: 'P(no mask) + P(mask worn incorrectly), averaged over the confirmation window' },
    snapshotUrl: { ...nullableString, description: "The track's best shot (large, sharp, confident)" },
    firstSeenAt: dateTime,
    lastSeenAt: dateTime,
    frameSnapshotUrl: { ...nullableString, description: 'Annotated frame in which the person was last seen violating' },
    falsePositive: { type: 'boolean' },
    falsePositiveReason: nullableString,
  },
} as const;

// Same shape as the realtime AlertEvent, so the dashboard renders both alike.
const alertProps = {
  id: { type: 'string' },
  status: { type: 'string', enum: STATUSES },
  cameraId: { type: 'string' },
  camera: cameraSummarySchema,
  createdAt: dateTime,
  lastSeenAt: dateTime,
  violationCount: { type: 'integer' },
  maskProbability: { type: 'number' },
  snapshotUrl: nullableString,
  frameSnapshotUrl: nullableString,
  assignedUnitId: nullableString,
  escalationLevel: { type: 'integer' },
  people: { type: 'array', items: personSchema, description: "The incident's confirmed people" },
} as const;
export const alertSchema = { type: 'object', required: Object.keys(alertProps), properties: alertProps } as const;

export function cursorOrProblem(cursor: string | undefined) {
  if (!cursor) return null;
  try {
    return decodeCursor(cursor);
  } catch (err) {
    if (err instanceof CursorError) throw new HttpProblem(400, err.message, 'bad-cursor');
    throw err;
  }
}

export async function alertRoutes(app: FastifyInstance, ctx: ApiContext) {
  const loggedIn = requireUser(ctx.auth);

  app.get<{ Querystring: { status?: (typeof STATUSES)[number]; cameraId?: string; limit: number; cursor?: string } }>(
    '/api/v1/alerts',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, newest first (officers see only alerts assigned to their unit)',
        security: bearerSecurity,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { status: { type: 'string', enum: STATUSES }, cameraId: { type: 'string', maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }, ...pageQuery },
        },
        response: {
          200: pageResponse(alertProps),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { status, cameraId, limit, cursor } = request.query;
      const rows = await ctx.services.alerts.list(user, { status, cameraId, after: cursorOrProblem(cursor), take: limit + 1 });
      // Cursors are exact: timestamps are stored with millisecond precision, as ISO strings carry them.
      return page(rows, limit, (r) => new Date(r.createdAt));
    },
  );
}
