/**
 * An alert as an incident: its detail with people, one person's track (crops
 * over time), and marking one person a false positive without dismissing the
 * incident (dispatchers and admins; audited; emits alert.updated).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity, dateTime, nullableString, uuidParam, type UuidParam } from '../schemas/common.ts';
import { alertSchema } from './alerts.ts';
import { ReasonBodySchema, type ReasonBody } from '../../contracts/api.ts';

const idPattern = () => Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const personParams = Type.Object({ id: idPattern(), personId: idPattern() }, { additionalProperties: false });
type PersonParams = Static<typeof personParams>;

export async function alertPeopleRoutes(app: FastifyInstance, ctx: ApiContext) {
  const loggedIn = requireUser(ctx.auth);
  const command = requireUser(ctx.auth, { roles: ['ADMIN', 'DISPATCHER'] });

  app.get<{ Params: UuidParam }>(
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
    async (request) => ctx.services.people.alert(request.params.id, userOf(request)),
  );

  app.get<{ Params: PersonParams }>(
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
    async (request) => ({ items: await ctx.services.people.track(request.params.id, request.params.personId, userOf(request)) }),
  );

  app.post<{ Params: PersonParams; Body: ReasonBody }>(
    '/api/v1/alerts/:id/people/:personId/false-positive',
    {
      onRequest: command,
      schema: {
        tags: ['alerts'],
        summary: 'Mark one person of an incident a false positive, with a reason; the incident stays open',
        description: 'Unknown alert or person → 404; already marked → 409. Writes an AuditEvent and emits alert.updated.',
        security: bearerSecurity,
        params: personParams,
        body: ReasonBodySchema,
        response: { 200: alertSchema, ...problemResponses },
      },
    },
    async (request) => {
      const user = userOf(request);
      const event = await ctx.services.people.markFalsePositive(request.params.id, request.params.personId, request.body.reason, { userId: user.id, role: user.role, unitId: user.unitId, zones: user.zones, username: user.username });
      request.log.info({ alertId: event.id, personId: request.params.personId, userId: user.id }, 'person marked false positive');
      return event;
    },
  );
}
