import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity, type Defaulted } from '../schemas/common.ts';
import { AlertListQuerySchema, AlertSchema, PageSchema, type AlertListQuery } from '../../contracts/api.ts';
import { cursorOrProblem, page } from '../queries/cursor.ts';

/** Response shapes live in src/contracts/api.ts (one definition for validation, OpenAPI, server and dashboard). */
export const alertSchema = AlertSchema;

export async function alertRoutes(app: FastifyInstance, ctx: ApiContext) {
  const loggedIn = requireUser(ctx.auth);

  app.get<{ Querystring: Defaulted<AlertListQuery, 'limit'> }>(
    '/api/v1/alerts',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['alerts'],
        summary: "Alerts, newest first (officers see only alerts assigned to their unit; dispatchers with zones only their zones' cameras')",
        security: bearerSecurity,
        querystring: AlertListQuerySchema,
        response: {
          200: PageSchema(AlertSchema),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { status, cameraId, limit, cursor } = request.query;
      const rows = await ctx.services.alerts.list(user, { status, cameraId, after: cursorOrProblem('alerts', cursor), take: limit + 1 });
      // Cursors are exact: timestamps are stored with millisecond precision, as ISO strings carry them.
      return page('alerts', rows, limit, (r) => new Date(r.createdAt));
    },
  );
}
