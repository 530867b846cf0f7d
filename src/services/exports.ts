/**
 * The violation history as CSV: streamed in keyset-paged batches so a large
 * export never sits in memory; text cells are neutralised against spreadsheet
 * formula injection.
 */
import type { CameraRepository } from '../db/repositories/cameras.ts';
import type { PageKey } from '../db/repositories/paging.ts';
import type { UnitRepository } from '../db/repositories/units.ts';
import type { ViolationFilter, ViolationRepository } from '../db/repositories/violations.ts';
import { ServiceError } from './errors.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import { alertScopeOf, type Viewer } from '../auth/roles.ts';
import type { ViolationCsvQuery } from '../contracts/api.ts';

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
  // Added last, so that readers of the earlier columns by position still read them.
  'alert_resolution_outcome',
] as const;

export type ExportFilter = Omit<ViolationFilter, 'scope'>;

/** Who asked for an export: every export is audited, since a CSV carries the whole violation history. */
export interface ExportRequester {
  actor: Viewer & { id: string };
  clientIp: string;
  filters: ViolationCsvQuery;
}

export function createExportService(deps: {
  violations: ViolationRepository;
  cameras: CameraRepository;
  units: UnitRepository;
  audit: Pick<AuditRepository, 'record'>;
  batchSize?: number;
}) {
  const batch = deps.batchSize ?? 500;
  return {
    /** The CSV lines (header first) of the violations matching the filter, newest first. */
    async violationsCsv(filter: ExportFilter, by: ExportRequester): Promise<AsyncGenerator<string>> {
      if (filter.from && filter.to && filter.to <= filter.from) throw new ServiceError('INVALID', 'to must be after from', 'validation');
      await deps.audit.record({
        actorType: 'USER',
        actorId: by.actor.id,
        actorRole: by.actor.role,
        action: 'violations.export',
        subjectType: 'Violation',
        details: { filters: by.filters, clientIp: by.clientIp, ...(by.actor.zones.length > 0 ? { zones: by.actor.zones } : {}) },
      });
      // A dispatcher with zones exports their zones' violations only.
      const scoped = { ...filter, scope: alertScopeOf(by.actor) };
      // Cameras and units are few: read them once instead of joining them into every page.
      const [cameras, callSign] = await Promise.all([deps.cameras.list(), deps.units.callSigns()]);
      const cameraById = new Map(cameras.map((c) => [c.id, c]));

      async function* lines(): AsyncGenerator<string> {
        yield csvRow([...CSV_COLUMNS]);
        let after: PageKey | null = null;
        for (;;) {
          const page = await deps.violations.exportPage(scoped, after, batch);
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
              v.noMaskProbability,
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
              v.alert?.resolutionOutcome,
            ]);
          }
          if (page.length < batch) return;
          const last = page[page.length - 1]!;
          after = { at: last.capturedAt, id: last.id };
        }
      }
      return lines();
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;
