/**
 * Evidence per alert over HTTP: an alert's view of one of its frames (the
 * `frameSnapshotUrl` of the alert, of its people, of their track items and of
 * violations). The use case (access, rendering, audit) is services/evidence.ts.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses, rawResponse } from '../problem.ts';
import { bearerSecurity } from '../schemas/common.ts';

const idPattern = () => Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' });
const frameParams = Type.Object({ id: idPattern(), frameId: idPattern() }, { additionalProperties: false });
type FrameParams = Static<typeof frameParams>;

export async function alertEvidenceRoutes(app: FastifyInstance, ctx: ApiContext) {
  // Bearer header only, never a token in the URL (the dashboard fetches images with the header, src/web/images.ts).
  const loggedIn = requireUser(ctx.auth);

  app.get<{ Params: FrameParams }>(
    '/api/v1/alerts/:id/frames/:frameId',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['alerts'],
        summary: "An alert's annotated frame: only this alert's people unblurred (JPEG; login token as Bearer header, never in the URL)",
        description:
          'Rendered for this alert on each request from the stored frame: the faces of the alert\'s people (not marked false positive) stay ' +
          'sharp and are boxed in red; every other face of the frame (bystanders, other alerts\' people, unconfirmed violators, people ' +
          'marked false positive) is blurred and boxed in grey. `frameSnapshotUrl` of alerts, people, track items and violations point here. ' +
          "Officers: their unit's alerts only; dispatchers with zones: their zones' alerts only. Every refusal (no such alert, another unit's or zone's alert, a frame this alert does not show, a frame " +
          'deleted by retention) is the same 404 problem. Each view is audited (`snapshot.view`, subject `AlertFrame`, with the client IP); ' +
          'responses are `Cache-Control: private, no-store`.',
        security: bearerSecurity,
        params: frameParams,
        response: { 200: rawResponse('image/jpeg', 'the frame rendered for this alert (JPEG)'), ...problemResponses },
      },
    },
    async (request, reply) => {
      const jpeg = await ctx.services.evidence.alertFrame(request.params.id, request.params.frameId, userOf(request), request.ip);
      return reply.type('image/jpeg').header('cache-control', 'private, no-store').header('x-content-type-options', 'nosniff').send(jpeg);
    },
  );
}
