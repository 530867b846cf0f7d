import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity, uuidParam, type UuidParam } from '../schemas/common.ts';
import { EvidenceHoldInputSchema, EvidenceHoldListSchema, EvidenceHoldSchema, type EvidenceHoldInput } from '../../contracts/api.ts';

/** Privacy actions (admin only): erase what a camera recorded; keep an alert's evidence past retention, or let it go. */
export async function privacyRoutes(app: FastifyInstance, ctx: ApiContext) {
  const admin = requireUser(ctx.auth, { roles: ['ADMIN'] });

  app.post<{ Params: UuidParam }>(
    '/api/v1/cameras/:id/purge',
    {
      onRequest: admin,
      schema: {
        tags: ['privacy'],
        summary: "Delete a camera's violations, alerts and every frame / snapshot file (audited as camera.purge); 409 evidence-on-hold while any of its alerts is held",
        security: bearerSecurity,
        params: uuidParam,
        response: {
          200: {
            type: 'object',
            required: ['cameraId', 'violationsDeleted', 'alertsDeleted'],
            properties: {
              cameraId: { type: 'string' },
              violationsDeleted: { type: 'integer' },
              alertsDeleted: { type: 'integer' },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const user = userOf(request);
      return ctx.services.privacy.purgeCamera(request.params.id, { id: user.id, role: user.role });
    },
  );

  app.get(
    '/api/v1/evidence-holds',
    {
      onRequest: admin,
      schema: {
        tags: ['privacy'],
        summary: 'Alerts whose evidence is kept past retention, oldest hold first, with who set each, why, and when each is due for review',
        security: bearerSecurity,
        response: { 200: EvidenceHoldListSchema, ...problemResponses },
      },
    },
    async () => ctx.services.evidenceHolds.list(),
  );

  app.put<{ Params: UuidParam; Body: EvidenceHoldInput }>(
    '/api/v1/alerts/:id/hold',
    {
      onRequest: admin,
      schema: {
        tags: ['privacy'],
        summary: 'Keep an alert\'s evidence past retention (a complaint, an inquiry) until a review: its images, and the faces its frames are blurred by',
        description:
          '`reviewAt` (default: MASKWATCH_EVIDENCE_HOLD_REVIEW_DAYS ahead; in the future and within 3 years, else 400 validation): past it the hold is `reviewDue` ' +
          'until an admin keeps it (sets it again, with a new date) or releases it; nothing is released by itself. ' +
          'Audited as evidence.hold with the reason and review date (setting it again replaces both, audited too). The retention run skips the alert until the hold is released; ' +
          'a camera with held alerts cannot be purged (409 evidence-on-hold). Who may see the evidence does not change. 404 alert-not-found.',
        security: bearerSecurity,
        params: uuidParam,
        body: EvidenceHoldInputSchema,
        response: { 200: EvidenceHoldSchema, ...problemResponses },
      },
    },
    async (request) => {
      const user = userOf(request);
      return ctx.services.evidenceHolds.hold(request.params.id, request.body, { id: user.id, role: user.role, clientIp: request.ip });
    },
  );

  app.delete<{ Params: UuidParam }>(
    '/api/v1/alerts/:id/hold',
    {
      onRequest: admin,
      schema: {
        tags: ['privacy'],
        summary: 'Release an evidence hold: retention deletes the evidence at its next run when it is old enough (audited as evidence.release)',
        security: bearerSecurity,
        params: uuidParam,
        response: { 204: { type: 'null', description: 'released' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      await ctx.services.evidenceHolds.release(request.params.id, { id: user.id, role: user.role, clientIp: request.ip });
      return reply.code(204).send();
    },
  );
}
