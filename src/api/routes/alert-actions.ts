/**
 * The dispatch workflow over HTTP: suggested units, then dispatch / acknowledge /
 * en-route / on-scene / resolve / dismiss. Each action goes through the pure
 * state machine (src/domain/lifecycle.ts); the alert change, unit statuses and
 * the AuditEvent are written in one transaction; then `alert.updated` goes to
 * the dispatch room and the unit room(s) on every API instance (Redis adapter).
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AuthService } from '../../auth/service.ts';
import type { PrismaClient } from '../../db/generated/sqlite/client.ts';
import { alertTimeline, createDispatchRepository, createUnitRepository, type TransitionOutcome } from '../../db/repositories/units.ts';
import { nearestAvailableUnits } from '../../domain/geo.ts';
import type { AlertAction } from '../../domain/lifecycle.ts';
import type { AlertEvent } from '../../realtime/events.ts';
import { DISPATCH_ROOM, unitRoom } from '../../realtime/rooms.ts';
import type { RealtimeServer } from '../../realtime/server.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, nullableString, uuidParam } from '../schemas/common.ts';
import type { WebhookNotifier } from '../../notify/webhooks.ts';
import type { EscalationScheduler } from '../../queue/handlers/escalation.ts';
import { alertSchema } from './alerts.ts';
import { unitSchema } from './units.ts';
import { officerHasAlert } from '../snapshot-access.ts';

/** What the plugin needs; ApiContext satisfies it, so `await alertActionRoutes(scope, ctx)` works. */
export interface AlertActionRoutesOptions {
  prisma: PrismaClient;
  auth: AuthService;
  logger: Logger;
  /** Read at emit time (the server may be attached after the app is built). */
  readonly io?: RealtimeServer;
  /** Outbound webhooks (src/notify/webhooks.ts), when configured. */
  readonly webhooks?: Pick<WebhookNotifier, 'notify'>;
  /** Escalation timers (src/queue/handlers/escalation.ts): a dispatch starts the acknowledgement deadline. */
  readonly escalation?: Pick<EscalationScheduler, 'watchEvent'>;
}


const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max, pattern: '\\S' }) as const;

/** The rooms an update goes to: dispatchers, the unit now assigned, and a unit it was taken from. */
export function updateRooms(alert: Pick<AlertEvent, 'assignedUnitId'>, previousUnitId: string | null): string[] {
  const rooms = [DISPATCH_ROOM];
  if (alert.assignedUnitId) rooms.push(unitRoom(alert.assignedUnitId));
  if (previousUnitId && previousUnitId !== alert.assignedUnitId) rooms.push(unitRoom(previousUnitId));
  return rooms;
}

/** Maps a failed transition to its HTTP problem: 404, 409 (illegal / stale / unit busy), 403, 400. */
export function outcomeProblem(outcome: Exclude<TransitionOutcome, { ok: true }>): HttpProblem {
  switch (outcome.kind) {
    case 'NOT_FOUND':
      return new HttpProblem(404, outcome.message, 'not-found');
    case 'STALE':
      return new HttpProblem(409, outcome.message, 'stale-alert');
    case 'UNIT':
      return outcome.code === 'NOT_FOUND' ? new HttpProblem(400, outcome.message, 'unknown-unit') : new HttpProblem(409, outcome.message, 'unit-unavailable');
    case 'LIFECYCLE': {
      const e = outcome.error;
      if (e.code === 'ILLEGAL_TRANSITION') return new HttpProblem(409, e.message, 'illegal-transition');
      if (e.code === 'FORBIDDEN') return new HttpProblem(403, e.message, 'forbidden');
      return new HttpProblem(400, e.message, 'validation');
    }
  }
}

interface ActionRoute {
  path: string;
  summary: string;
  roles: readonly ('ADMIN' | 'DISPATCHER' | 'OFFICER')[];
  body: Record<string, unknown>;
  required: string[];
  toAction(body: Record<string, string | undefined>): AlertAction;
}

const ACTIONS: ActionRoute[] = [
  {
    path: 'dispatch',
    summary: 'Assign (or reassign) the alert to a patrol unit',
    roles: ['ADMIN', 'DISPATCHER'],
    body: { unitId: { type: 'string', minLength: 1, maxLength: 64 }, note: text(2000) },
    required: ['unitId'],
    toAction: (b) => ({ type: 'dispatch', unitId: b.unitId! }),
  },
  { path: 'acknowledge', summary: 'The assigned unit acknowledges', roles: ['OFFICER'], body: { note: text(2000) }, required: [], toAction: () => ({ type: 'acknowledge' }) },
  { path: 'en-route', summary: 'The assigned unit is on its way', roles: ['OFFICER'], body: { note: text(2000) }, required: [], toAction: () => ({ type: 'en_route' }) },
  { path: 'on-scene', summary: 'The assigned unit arrived', roles: ['OFFICER'], body: { note: text(2000) }, required: [], toAction: () => ({ type: 'on_scene' }) },
  {
    path: 'resolve',
    summary: 'The assigned unit closes the alert with a note',
    roles: ['OFFICER'],
    body: { note: text(2000) },
    required: ['note'],
    toAction: (b) => ({ type: 'resolve', note: b.note! }),
  },
  {
    path: 'dismiss',
    summary: 'Close an open alert as a false positive / duplicate, with a reason',
    roles: ['ADMIN', 'DISPATCHER'],
    body: { reason: text(500) },
    required: ['reason'],
    toAction: (b) => ({ type: 'dismiss', reason: b.reason! }),
  },
];

export async function alertActionRoutes(app: FastifyInstance, opts: AlertActionRoutesOptions) {
  const units = createUnitRepository(opts.prisma);
  const dispatch = createDispatchRepository(opts.prisma);
  const command = requireUser(opts.auth, { roles: ['ADMIN', 'DISPATCHER'] });

  app.get<{ Params: { id: string }; Querystring: { limit: number } }>(
    '/api/v1/alerts/:id/suggested-units',
    {
      onRequest: command, // auth before parsing and validation: strangers learn only "401"
      schema: {
        tags: ['alerts'],
        summary: 'Available units nearest the camera first (haversine); available units with no known position last',
        security: bearerSecurity,
        params: uuidParam,
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 } } },
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: { type: 'object', required: ['unit', 'distanceMeters'], properties: { unit: unitSchema, distanceMeters: { type: ['number', 'null'] } } },
              },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const alert = await opts.prisma.alert.findUnique({
        where: { id: request.params.id },
        select: { camera: { select: { latitude: true, longitude: true } } },
      });
      if (!alert) throw new HttpProblem(404, `no alert ${request.params.id}`, 'not-found');
      const all = await units.list();
      const ranked = nearestAvailableUnits(alert.camera, all);
      const unplaced = all.filter((u) => u.status === 'AVAILABLE' && (u.latitude === null || u.longitude === null));
      const items = [
        ...ranked.map(({ distanceMeters, ...unit }) => ({ unit, distanceMeters: Math.round(distanceMeters) })),
        ...unplaced.map((unit) => ({ unit, distanceMeters: null })),
      ];
      return { items: items.slice(0, request.query.limit) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/alerts/:id/timeline',
    {
      onRequest: command, // auth before parsing and validation: strangers learn only "401"
      schema: {
        tags: ['alerts'],
        summary: 'Who did what to the alert, when (from its audit trail)',
        security: bearerSecurity,
        params: uuidParam,
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['at', 'action', 'actorRole', 'username', 'from', 'to', 'unitId', 'note'],
                  properties: {
                    at: { type: 'string', format: 'date-time' },
                    action: { type: 'string' },
                    actorRole: nullableString,
                    username: nullableString,
                    from: nullableString,
                    to: nullableString,
                    unitId: nullableString,
                    note: nullableString,
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
      const exists = await opts.prisma.alert.findUnique({ where: { id: request.params.id }, select: { id: true } });
      if (!exists) throw new HttpProblem(404, `no alert ${request.params.id}`, 'not-found');
      return { items: await alertTimeline(opts.prisma, request.params.id) };
    },
  );

  for (const route of ACTIONS) {
    app.post<{ Params: { id: string }; Body: Record<string, string | undefined> | undefined }>(
      `/api/v1/alerts/:id/${route.path}`,
      {
        // A bodiless POST (curl -X POST …/acknowledge) is an empty object, not a validation error.
        preValidation: async (request) => {
          if (request.body === undefined || request.body === null) request.body = {};
        },
        onRequest: requireUser(opts.auth, { roles: route.roles }), // before body parsing and validation
        schema: {
          tags: ['alerts'],
          summary: route.summary,
          description:
            'Illegal for the alert\'s current status → 409; wrong role → 403; an officer acting on an alert that is not their unit\'s → 404, as for no alert at all. Writes an AuditEvent and emits alert.updated.',
          security: bearerSecurity,
          params: uuidParam,
          body: { type: 'object', additionalProperties: false, required: route.required, properties: route.body },
          response: { 200: alertSchema, ...problemResponses },
        },
      },
      async (request) => {
        const user = userOf(request);
        const body = request.body ?? {};
        const action = route.toAction(body);
        const at = new Date();
        const outcome = await dispatch.apply(
          request.params.id,
          action,
          { userId: user.id, role: user.role, unitId: user.unitId, username: user.username },
          at,
          body.note ?? body.reason,
        );
        if (!outcome.ok) {
          // Officers learn nothing about alerts that are not their unit's: the same 404 as for no alert at all.
          if (user.role === 'OFFICER' && !(await officerHasAlert(opts.prisma, user.unitId, request.params.id))) {
            throw new HttpProblem(404, `no alert ${request.params.id}`, 'not-found');
          }
          throw outcomeProblem(outcome);
        }
        request.log.info({ alertId: outcome.alert.id, from: outcome.from, to: outcome.to, userId: user.id, unitId: outcome.alert.assignedUnitId }, 'alert transition');
        const io = opts.io;
        if (io) io.to(updateRooms(outcome.alert, outcome.previousUnitId)).emit('alert.updated', outcome.alert);
        else opts.logger.warn({ alertId: outcome.alert.id }, 'no Socket.IO server attached: alert.updated not emitted');
        // The transition is committed: a webhook queue problem is logged, not turned into a failed request.
        await opts.webhooks?.notify('alert.updated', outcome.alert).catch((err: unknown) => opts.logger.error({ err, alertId: outcome.alert.id }, 'webhook enqueue failed'));
        if (outcome.to === 'DISPATCHED') {
          await opts.escalation?.watchEvent(outcome.alert, at).catch((err: unknown) => opts.logger.error({ err, alertId: outcome.alert.id }, 'escalation timer not scheduled'));
        }
        return outcome.alert;
      },
    );
  }
}
