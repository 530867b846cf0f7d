/**
 * GET /api/v1/violations.csv: the violation history as CSV, with the filters of
 * GET /api/v1/violations (plus the alert status). Streamed in keyset-paged
 * batches so a large export never sits in memory; text cells are neutralised
 * against spreadsheet formula injection.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import type { PrismaClient } from '../../db/generated/sqlite/client.ts';
import { requireUser } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity } from '../schemas/common.ts';

/** What the plugin needs; ApiContext satisfies it, so `await exportRoutes(scope, ctx)` works. */
export interface ExportRoutesOptions {
  prisma: PrismaClient;
  auth: AuthService;
  /** Rows read per database round trip (tests use a small value to cross batch edges). */
  batchSize?: number;
}

import { ALERT_STATUSES as STATUSES } from '../../domain/lifecycle.ts';

// ---- pure CSV ---------------------------------------------------------------

/**
 * One CSV cell (RFC 4180). Text that a spreadsheet would run as a formula
 * (starting with = + - @ tab or CR) gets a leading apostrophe (OWASP advice);
 * numbers are written as numbers.
 */
export function csvCell(value: string | number | boolean | Date | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let s = value instanceof Date ? value.toISOString() : value;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(cells: readonly Parameters<typeof csvCell>[0][]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export const CSV_COLUMNS = [
  'violation_id',
  'captured_at',
  'received_at',
  'camera_id',
  'camera_name',
  'zone',
  'address',
  'latitude',
  'longitude',
  'p_no_mask',
  'face_score',
  'box_x',
  'box_y',
  'box_w',
  'box_h',
  'alert_id',
  'alert_status',
  'assigned_unit',
  'person_id',
  'person_label',
  'person_false_positive',
] as const;

// ---- route ------------------------------------------------------------------

interface CsvQuery {
  cameraId?: string;
  zone?: string;
  from?: string;
  to?: string;
  status?: (typeof STATUSES)[number];
}

export async function exportRoutes(app: FastifyInstance, opts: ExportRoutesOptions) {
  const batch = opts.batchSize ?? 500;

  app.get<{ Querystring: CsvQuery }>(
    '/api/v1/violations.csv',
    {
      onRequest: requireUser(opts.auth, { roles: ['ADMIN', 'DISPATCHER'] }), // before query validation
      schema: {
        tags: ['violations'],
        summary: 'Export violations as CSV (same filters as GET /api/v1/violations, plus the alert status)',
        security: bearerSecurity,
        produces: ['text/csv'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            cameraId: { type: 'string', maxLength: 64 },
            zone: { type: 'string', maxLength: 100 },
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
            status: { type: 'string', enum: STATUSES, description: 'status of the alert the violation belongs to' },
          },
        },
        response: { 200: { type: 'string', description: `CSV with header ${CSV_COLUMNS.join(',')}` }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const from = q.from ? new Date(q.from) : undefined;
      const to = q.to ? new Date(q.to) : undefined;
      if (from && to && to <= from) throw new HttpProblem(400, 'to must be after from', 'validation');
      const where: Record<string, unknown>[] = [];
      if (q.cameraId) where.push({ cameraId: q.cameraId });
      if (q.zone) where.push({ camera: { zone: q.zone } });
      if (from) where.push({ capturedAt: { gte: from } });
      if (to) where.push({ capturedAt: { lt: to } });
      if (q.status) where.push({ alert: { status: q.status } });
      const prisma = opts.prisma;

      // Cameras and units are few: read them once instead of joining them into every page.
      const [cameras, units] = await Promise.all([
        prisma.camera.findMany({ select: { id: true, name: true, zone: true, address: true, latitude: true, longitude: true } }),
        prisma.patrolUnit.findMany({ select: { id: true, callSign: true } }),
      ]);
      const cameraById = new Map(cameras.map((c) => [c.id, c]));
      const callSign = new Map(units.map((u) => [u.id, u.callSign]));

      async function* lines(): AsyncGenerator<string> {
        yield csvRow([...CSV_COLUMNS]);
        let after: { capturedAt: Date; id: string } | null = null;
        for (;;) {
          const page: Awaited<ReturnType<typeof fetchPage>> = await fetchPage(after);
          for (const v of page) {
            const camera = cameraById.get(v.cameraId);
            yield csvRow([
              v.id,
              v.capturedAt,
              v.receivedAt,
              v.cameraId,
              camera?.name,
              camera?.zone,
              camera?.address,
              camera?.latitude,
              camera?.longitude,
              v.maskProbability,
              v.faceScore,
              v.boxX,
              v.boxY,
              v.boxW,
              v.boxH,
              v.alertId,
              v.alert?.status,
              v.alert?.assignedUnitId ? callSign.get(v.alert.assignedUnitId) : null,
              v.personId,
              v.person?.label,
              v.person ? v.person.falsePositive : null,
            ]);
          }
          if (page.length < batch) return;
          const last = page[page.length - 1]!;
          after = { capturedAt: last.capturedAt, id: last.id };
        }
      }
      function fetchPage(after: { capturedAt: Date; id: string } | null) {
        // "Strictly after (capturedAt, id) in descending order", written as a range plus an
        // exclusion: the (a < x OR (a = x AND id < y)) form makes SQLite sort the whole
        // table for every page (measured 160 ms vs 3 ms per 500-row page at 50k rows).
        const and = after
          ? [...where, { capturedAt: { lte: after.capturedAt }, NOT: { capturedAt: after.capturedAt, id: { gte: after.id } } }]
          : where;
        return prisma.violation.findMany({
          where: { AND: and },
          orderBy: [{ capturedAt: 'desc' }, { id: 'desc' }],
          take: batch,
          include: {
            alert: { select: { status: true, assignedUnitId: true } },
            person: { select: { label: true, falsePositive: true } },
          },
        });
      }

      const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="violations-${stamp}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines()));
    },
  );
}
