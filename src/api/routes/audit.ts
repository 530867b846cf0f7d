import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { cursorOrProblem, page } from '../queries/cursor.ts';
import { bearerSecurity, type Defaulted } from '../schemas/common.ts';
import { AuditEventSchema, AuditQuerySchema, PageSchema, type AuditQuery } from '../../contracts/api.ts';

/** The audit trail (who viewed which evidence, dispatched whom, changed which account…), newest first, for admins. */
export async function auditRoutes(app: FastifyInstance, ctx: ApiContext) {
  app.get<{ Querystring: Defaulted<AuditQuery, 'limit'> }>(
    '/api/v1/audit',
    {
      onRequest: requireUser(ctx.auth, { roles: ['ADMIN'] }),
      schema: {
        tags: ['audit'],
        summary: 'Audit events, newest first; from inclusive, to exclusive. Each search is itself audited (audit.view)',
        security: bearerSecurity,
        querystring: AuditQuerySchema,
        response: { 200: PageSchema(AuditEventSchema), ...problemResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const from = q.from === undefined ? undefined : new Date(q.from);
      const to = q.to === undefined ? undefined : new Date(q.to);
      if (from && to && to <= from) throw new HttpProblem(400, 'to must be after from', 'validation');
      const after = cursorOrProblem('audit', q.cursor);
      const rows = await ctx.services.auditLog.search(
        { actor: userOf(request), clientIp: request.ip },
        { actorId: q.actorId, action: q.action, subjectType: q.subjectType, subjectId: q.subjectId, from, to },
        after,
        q.limit + 1,
      );
      return page('audit', rows, q.limit, (r) => new Date(r.at));
    },
  );
}
