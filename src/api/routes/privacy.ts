import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity, uuidParam, type UuidParam } from '../schemas/common.ts';

/** Privacy actions (admin only): erase what a camera recorded. */
export async function privacyRoutes(app: FastifyInstance, ctx: ApiContext) {
  const admin = requireUser(ctx.auth, { roles: ['ADMIN'] });

  app.post<{ Params: UuidParam }>(
    '/api/v1/cameras/:id/purge',
    {
      onRequest: admin,
      schema: {
        tags: ['privacy'],
        summary: "Delete a camera's violations, alerts and every frame / snapshot file (audited as camera.purge)",
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
}
