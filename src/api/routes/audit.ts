import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { cursorOrProblem, page } from '../queries/cursor.ts';
import { bearerSecurity, type Defaulted } from '../schemas/common.ts';
import { AuditEventSchema, AuditIntegritySchema, AuditQuerySchema, EvidenceAccessSchema, PageSchema, type AuditQuery } from '../../contracts/api.ts';
import { EVIDENCE_VIEWS_LISTED } from '../../services/audit-log.ts';

const alertParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false });

/** The audit trail (who viewed which evidence, dispatched whom, changed which account…), newest first, for admins. */
export async function auditRoutes(app: FastifyInstance, ctx: ApiContext) {
  const admins = requireUser(ctx.auth, { roles: ['ADMIN'] });

  app.get<{ Querystring: Defaulted<AuditQuery, 'limit'> }>(
    '/api/v1/audit',
    {
      onRequest: admins,
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

  app.get(
    '/api/v1/audit/integrity',
    {
      onRequest: admins,
      schema: {
        tags: ['audit'],
        summary: 'Verify the audit trail against its seals (tamper evidence)',
        description:
          'Recomputes every seal (the worker seals new events after each retention run): an event changed, deleted or inserted into a sealed stretch, ' +
          'a seal removed, or one not made with this server\'s secret key is reported in `problems`. Reading it is audited (audit.verify). ' +
          'It reads the whole sealed trail: a command for an auditor, not for a dashboard poll.',
        security: bearerSecurity,
        response: { 200: AuditIntegritySchema, ...problemResponses },
      },
    },
    async (request) => {
      const u = userOf(request);
      return ctx.services.auditSeals.verify({ actorType: 'USER', actorId: u.id, actorRole: u.role, clientIp: request.ip });
    },
  );

  app.get<{ Params: Static<typeof alertParams> }>(
    '/api/v1/alerts/:id/evidence-access',
    {
      onRequest: admins,
      schema: {
        tags: ['audit', 'alerts'],
        summary: "Who saw an alert's evidence: every view of its annotated frames and face crops (chain of custody); audited (audit.view)",
        description:
          `\`viewers\` sums up every view by viewer; \`items\` lists the views newest first, at most ${EVIDENCE_VIEWS_LISTED} (\`truncated\` says when there are more). ` +
          'Views are kept by retention even after the images are deleted. 404 problem for no such alert.',
        security: bearerSecurity,
        params: alertParams,
        response: { 200: EvidenceAccessSchema, ...problemResponses },
      },
    },
    (request) => ctx.services.auditLog.evidenceAccess({ actor: userOf(request), clientIp: request.ip }, request.params.id),
  );
}
