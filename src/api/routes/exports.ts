/**
 * GET /api/v1/violations.csv: the violation history as CSV, with the filters of
 * GET /api/v1/violations (plus the alert status). The use case (paged, streamed,
 * formula-safe cells) is src/services/exports.ts.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses, rawResponse } from '../problem.ts';
import { bearerSecurity } from '../schemas/common.ts';
import { ViolationCsvQuerySchema, type ViolationCsvQuery } from '../../contracts/api.ts';
import { CSV_COLUMNS, type ExportService } from '../../services/exports.ts';

/** What the plugin needs; ApiContext satisfies it, so `await exportRoutes(scope, ctx)` works. */
export interface ExportRoutesOptions {
  auth: AuthService;
  services: { exports: ExportService };
}

export async function exportRoutes(app: FastifyInstance, opts: ExportRoutesOptions) {
  app.get<{ Querystring: ViolationCsvQuery }>(
    '/api/v1/violations.csv',
    {
      onRequest: requireUser(opts.auth, { roles: ['ADMIN', 'DISPATCHER'] }), // before query validation
      schema: {
        tags: ['violations'],
        summary: 'Export violations as CSV (same filters as GET /api/v1/violations, plus the alert status)',
        security: bearerSecurity,
        querystring: ViolationCsvQuerySchema,
        response: { 200: rawResponse('text/csv', `CSV with header ${CSV_COLUMNS.join(',')}`), ...problemResponses },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const lines = await opts.services.exports.violationsCsv({
        cameraId: q.cameraId,
        zone: q.zone,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        status: q.status,
      }, { actor: userOf(request), clientIp: request.ip, filters: { ...q } });
      const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="violations-${stamp}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines));
    },
  );
}
