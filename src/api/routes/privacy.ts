import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, uuidParam } from '../schemas/common.ts';
import { CameraNotFoundError, purgeCameraData } from '../../privacy/purge-camera.ts';

/** Privacy actions (admin only): erase what a camera recorded. */
export async function privacyRoutes(app: FastifyInstance, ctx: ApiContext) {
  const admin = requireUser(ctx.auth, { roles: ['ADMIN'] });

  app.post<{ Params: { id: string } }>(
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
      try {
        return await purgeCameraData(
          { prisma: ctx.prisma, audit: ctx.audit, dataDir: ctx.config.dataDir, logger: ctx.logger },
          request.params.id,
          { id: user.id, role: user.role },
        );
      } catch (err) {
        if (err instanceof CameraNotFoundError) throw new HttpProblem(404, err.message, 'not-found');
        throw err;
      }
    },
  );
}
