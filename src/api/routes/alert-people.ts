/**
 * An alert as an incident: its detail with people, one person's track (crops
 * over time), and marking one person a false positive without dismissing the
 * incident (dispatchers and admins; audited; emits alert.updated).
 */
import type { FastifyInstance } from 'fastify';
import { alertInclude, toAlertEvent } from '../../db/repositories/alerts.ts';
import { createPeopleRepository } from '../../db/repositories/incidents.ts';
import { snapshotUrl } from '../../realtime/snapshot-url.ts';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, dateTime, nullableString, uuidParam } from '../schemas/common.ts';
import { updateRooms } from './alert-actions.ts';
import { alertSchema } from './alerts.ts';

const idPattern = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } as const;
const personParams = {
  type: 'object',
  required: ['id', 'personId'],
  properties: { id: idPattern, personId: idPattern },
  additionalProperties: false,
} as const;

export async function alertPeopleRoutes(app: FastifyInstance, ctx: ApiContext) {
  const people = createPeopleRepository(ctx.prisma);
  const loggedIn = requireUser(ctx.auth);
  const command = requireUser(ctx.auth, { roles: ['ADMIN', 'DISPATCHER'] });

  /** Officers see only alerts assigned to their unit (as in the list); others are "not found" to them. */
  const visibleAlert = async (id: string, user: { role: string; unitId: string | null }) => {
    const alert = await ctx.prisma.alert.findUnique({ where: { id }, include: alertInclude });
    if (!alert || (user.role === 'OFFICER' && (!user.unitId || alert.assignedUnitId !== user.unitId))) {
      throw new HttpProblem(404, `no alert ${id}`, 'not-found');
    }
    return alert;
  };

  app.get<{ Params: { id: string } }>(
    '/api/v1/alerts/:id',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['alerts'],
        summary: 'One alert (incident) with its people',
        security: bearerSecurity,
        params: uuidParam,
        response: { 200: alertSchema, ...problemResponses },
      },
    },
    async (request) => toAlertEvent(await visibleAlert(request.params.id, userOf(request))),
  );

  app.get<{ Params: { id: string; personId: string } }>(
    '/api/v1/alerts/:id/people/:personId/track',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['alerts'],
        summary: "One person's violating sightings over time (the track's crops), oldest first",
        security: bearerSecurity,
        params: personParams,
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['capturedAt', 'box', 'noMaskProbability', 'snapshotUrl', 'frameSnapshotUrl'],
                  properties: {
                    capturedAt: dateTime,
                    box: { type: 'array', items: { type: 'integer' }, minItems: 4, maxItems: 4 },
                    noMaskProbability: { type: 'number' },
                    snapshotUrl: nullableString,
                    frameSnapshotUrl: nullableString,
                  },
                },
              },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      await visibleAlert(request.params.id, userOf(request));
      const rows = await people.track(request.params.id, request.params.personId);
      if (!rows) throw new HttpProblem(404, `alert ${request.params.id} has no person ${request.params.personId}`, 'not-found');
      return {
        items: rows.map((r) => ({
          capturedAt: r.capturedAt.toISOString(),
          box: [r.boxX, r.boxY, r.boxW, r.boxH],
          noMaskProbability: r.maskProbability,
          snapshotUrl: snapshotUrl(r.faceSnapshotPath),
          frameSnapshotUrl: snapshotUrl(r.frameSnapshotPath),
        })),
      };
    },
  );

  app.post<{ Params: { id: string; personId: string }; Body: { reason: string } }>(
    '/api/v1/alerts/:id/people/:personId/false-positive',
    {
      onRequest: command,
      schema: {
        tags: ['alerts'],
        summary: 'Mark one person of an incident a false positive, with a reason; the incident stays open',
        description: 'Unknown alert or person → 404; already marked → 409. Writes an AuditEvent and emits alert.updated.',
        security: bearerSecurity,
        params: personParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['reason'],
          properties: { reason: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S' } },
        },
        response: { 200: alertSchema, ...problemResponses },
      },
    },
    async (request) => {
      const user = userOf(request);
      const outcome = await people.markFalsePositive(
        request.params.id,
        request.params.personId,
        request.body.reason.trim(),
        { userId: user.id, role: user.role },
        new Date(),
      );
      if (!outcome.ok) {
        throw outcome.kind === 'NOT_FOUND'
          ? new HttpProblem(404, outcome.message, 'not-found')
          : new HttpProblem(409, outcome.message, 'already-marked');
      }
      const event = toAlertEvent(outcome.alert);
      request.log.info({ alertId: event.id, personId: request.params.personId, userId: user.id }, 'person marked false positive');
      if (ctx.io) ctx.io.to(updateRooms(event, null)).emit('alert.updated', event);
      else ctx.logger.warn({ alertId: event.id }, 'no Socket.IO server attached: alert.updated not emitted');
      await ctx.webhooks?.notify('alert.updated', event).catch((err: unknown) => ctx.logger.error({ err, alertId: event.id }, 'webhook enqueue failed'));
      return event;
    },
  );
}
