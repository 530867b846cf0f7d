import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, type Defaulted } from '../schemas/common.ts';
import { PageSchema, ViolationListQuerySchema, ViolationSchema, type ViolationListQuery } from '../../contracts/api.ts';
import { cursorOrProblem, page } from '../queries/cursor.ts';

function isoOrProblem(name: string, raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new HttpProblem(400, `${name} must be an ISO 8601 date-time`, 'validation');
  return d;
}

export async function violationRoutes(app: FastifyInstance, ctx: ApiContext) {
  const loggedIn = requireUser(ctx.auth);

  app.get<{ Querystring: Defaulted<ViolationListQuery, 'limit'> }>(
    '/api/v1/violations',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['violations'],
        summary: 'Violations by capture time, newest first; from inclusive, to exclusive',
        security: bearerSecurity,
        querystring: ViolationListQuerySchema,
        response: {
          200: PageSchema(ViolationSchema),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const user = userOf(request);
      const q = request.query;
      const from = isoOrProblem('from', q.from);
      const to = isoOrProblem('to', q.to);
      const key = cursorOrProblem('violations', q.cursor);
      const rows = await ctx.services.violations.list(
        user,
        { cameraId: q.cameraId, zone: q.zone, from, to, status: q.status },
        key,
        q.limit + 1,
      );
      return page('violations', rows, q.limit, (r) => new Date(r.capturedAt));
    },
  );
}
