/**
 * The dispatch workflow over HTTP: suggested units, the timeline and notes, then dispatch /
 * acknowledge / en-route / on-scene / resolve / dismiss. The use case (state
 * machine, one transaction, one announcement) is src/services/alerts.ts.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';
import type { AuthService } from '../../auth/service.ts';
import type { AlertAction } from '../../domain/lifecycle.ts';
import type { Role } from '../../contracts/vocabulary.ts';
import type { AlertService, TransitionOutcome } from '../../services/alerts.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, uuidParam, type Defaulted, type UuidParam } from '../schemas/common.ts';
import {
  AlertSchema as alertSchema,
  DispatchBodySchema,
  IncidentNoteBodySchema,
  IncidentNoteHeadersSchema,
  ListSchema,
  NoteBodySchema,
  ReasonBodySchema,
  ResolveBodySchema,
  SuggestedUnitSchema,
  TimelineEntrySchema,
  type AlertActionBody,
  type DispatchBody,
  type IncidentNoteBody,
  type IncidentNoteHeaders,
  type ReasonBody,
  type ResolveBody,
} from '../../contracts/api.ts';

/** What the plugin needs; ApiContext satisfies it, so `await alertActionRoutes(scope, ctx)` works. */
export interface AlertActionRoutesOptions {
  auth: AuthService;
  services: { alerts: AlertService };
}

const suggestedUnitsQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10 })) }, { additionalProperties: false });
type SuggestedUnitsQuery = Defaulted<Static<typeof suggestedUnitsQuery>, 'limit'>;

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
  roles: readonly Role[];
  body: TSchema;
  // Method syntax on purpose: each route's toAction takes its own body type (a member of the union).
  toAction(body: AlertActionBody): AlertAction;
}

const ACTIONS: ActionRoute[] = [
  {
    path: 'dispatch',
    summary: 'Assign (or reassign) the alert to a patrol unit',
    roles: ['ADMIN', 'DISPATCHER'],
    body: DispatchBodySchema,
    toAction: (b: DispatchBody) => ({ type: 'dispatch', unitId: b.unitId }),
  },
  { path: 'acknowledge', summary: 'The assigned unit acknowledges', roles: ['OFFICER'], body: NoteBodySchema, toAction: () => ({ type: 'acknowledge' }) },
  { path: 'en-route', summary: 'The assigned unit is on its way', roles: ['OFFICER'], body: NoteBodySchema, toAction: () => ({ type: 'en_route' }) },
  { path: 'on-scene', summary: 'The assigned unit arrived', roles: ['OFFICER'], body: NoteBodySchema, toAction: () => ({ type: 'on_scene' }) },
  {
    path: 'resolve',
    summary: 'The assigned unit closes the alert with a note and, optionally, how it ended (outcome)',
    roles: ['OFFICER'],
    body: ResolveBodySchema,
    toAction: (b: ResolveBody) => ({ type: 'resolve', note: b.note, outcome: b.outcome }),
  },
  {
    path: 'dismiss',
    summary: 'Close an open alert as a false positive / duplicate, with a reason',
    roles: ['ADMIN', 'DISPATCHER'],
    body: ReasonBodySchema,
    toAction: (b: ReasonBody) => ({ type: 'dismiss', reason: b.reason }),
  },
];

export async function alertActionRoutes(app: FastifyInstance, opts: AlertActionRoutesOptions) {
  const alerts = opts.services.alerts;
  const command = requireUser(opts.auth, { roles: ['ADMIN', 'DISPATCHER'] });
  const anyUser = requireUser(opts.auth);

  app.get<{ Params: UuidParam; Querystring: SuggestedUnitsQuery }>(
    '/api/v1/alerts/:id/suggested-units',
    {
      onRequest: command, // auth before parsing and validation: strangers learn only "401"
      schema: {
        tags: ['alerts'],
        summary: 'Available units nearest the camera first (haversine), those with no known position after them; units without an officer after all staffed ones',
        security: bearerSecurity,
        params: uuidParam,
        querystring: suggestedUnitsQuery,
        response: {
          200: ListSchema(SuggestedUnitSchema),
          ...problemResponses,
        },
      },
    },
    async (request) => ({ items: await alerts.suggestedUnits(request.params.id, request.query.limit, userOf(request)) }),
  );

  app.get<{ Params: UuidParam }>(
    '/api/v1/alerts/:id/timeline',
    {
      onRequest: anyUser, // auth before parsing and validation: strangers learn only "401"
      schema: {
        tags: ['alerts'],
        summary: 'Who did what to the alert, when (from its audit trail), with its notes',
        description: "Officers: their unit's alerts only (another alert is 404, as for none), so an officer sent to an incident reads what was noted before.",
        security: bearerSecurity,
        params: uuidParam,
        response: {
          200: ListSchema(TimelineEntrySchema),
          ...problemResponses,
        },
      },
    },
    async (request) => ({ items: await alerts.timeline(request.params.id, userOf(request)) }),
  );

  app.post<{ Params: UuidParam; Body: IncidentNoteBody; Headers: IncidentNoteHeaders }>(
    '/api/v1/alerts/:id/notes',
    {
      onRequest: anyUser, // before body parsing and validation
      schema: {
        tags: ['alerts'],
        summary: "Add a note to an open incident's record (what the officer found, what a caller added)",
        description:
          "Dispatchers and admins: any alert they see; officers: their unit's alerts (another alert is 404, as for none). The note is audited as " +
          '`alert.note` with the author, listed in the timeline (GET /api/v1/alerts/:id/timeline), and announced as alert.updated with `noteCount` ' +
          'raised by one. 409 alert-closed once the alert is resolved or dismissed. A phone that had no connection sends the note later ' +
          'with `tappedAt` (when it was written), and again with the same `Idempotency-Key` if an answer was lost: recorded once.',
        security: bearerSecurity,
        params: uuidParam,
        headers: IncidentNoteHeadersSchema,
        body: IncidentNoteBodySchema,
        response: { 200: alertSchema, ...problemResponses },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { text, tappedAt } = request.body;
      const alert = await alerts.addNote(
        request.params.id,
        text,
        { userId: user.id, role: user.role, unitId: user.unitId, zones: user.zones, username: user.username },
        { tappedAt: tappedAt ? new Date(tappedAt) : undefined, idempotencyKey: request.headers['idempotency-key'] },
      );
      request.log.info({ alertId: alert.id, userId: user.id }, 'incident note');
      return alert;
    },
  );

  for (const route of ACTIONS) {
    app.post<{ Params: UuidParam; Body: AlertActionBody }>(
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
          body: route.body,
          response: { 200: alertSchema, ...problemResponses },
        },
      },
      async (request) => {
        const user = userOf(request);
        const body = request.body; // never undefined: see preValidation
        const action = route.toAction(body);
        const outcome = await alerts.act(
          request.params.id,
          action,
          { userId: user.id, role: user.role, unitId: user.unitId, zones: user.zones, username: user.username },
          'reason' in body ? body.reason : body.note,
          'tappedAt' in body && body.tappedAt ? new Date(body.tappedAt) : undefined,
        );
        if (!outcome.ok) throw outcomeProblem(outcome);
        request.log.info({ alertId: outcome.alert.id, from: outcome.from, to: outcome.to, userId: user.id, unitId: outcome.alert.assignedUnitId }, 'alert transition');
        return outcome.alert;
      },
    );
  }
}
