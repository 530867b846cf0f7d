import type { Prisma, PrismaClient, Violation } from '../generated/sqlite/client.ts';
import type { AlertStatus, PersonLabel } from '../../contracts/vocabulary.ts';
import { cameraSummarySelect, type CameraSummary } from './alerts.ts';
import { afterKey, type PageKey } from './paging.ts';
import type { AlertScope } from '../../auth/roles.ts';
import { violationScopeWhere } from './scope.ts';

/**
 * Violation persistence for the detection worker. The client type is the SQLite
 * one; the PostgreSQL client has the identical model API, so either can be passed.
 */
export type ViolationRow = Violation;

export interface ViolationRecord {
  id: string;
  cameraId: string;
  frameId: string;
  faceIndex: number;
  capturedAt: Date;
  receivedAt: Date;
  boxX: number;
  boxY: number;
  boxW: number;
  boxH: number;
  faceScore: number;
  noMaskProbability: number;
  faceSnapshotPath: string | null;
  frameSnapshotPath: string | null;
  alertId: string | null;
  /** The incident person this violation belongs to (null for violations stored before incidents). */
  personId: string | null;
}

/** What a violation shows of its incident person. */
export interface ViolationPerson {
  label: PersonLabel;
  falsePositive: boolean;
}
const personSelect = { label: true, falsePositive: true } as const;
const toViolationPerson = (p: { label: string; falsePositive: boolean } | null): ViolationPerson | null =>
  p && { label: p.label as PersonLabel, falsePositive: p.falsePositive };

/** Filters of the violation history (list and CSV export); from inclusive, to exclusive. */
export interface ViolationFilter {
  cameraId?: string;
  zone?: string;
  from?: Date;
  to?: Date;
  /** Status of the alert the violation belongs to. */
  status?: AlertStatus;
  /** The viewer's scope (an officer's unit, a dispatcher's zones). */
  scope?: AlertScope;
}

function filterWhere(f: ViolationFilter): Record<string, unknown>[] {
  const and: Record<string, unknown>[] = [];
  if (f.cameraId) and.push({ cameraId: f.cameraId });
  if (f.zone) and.push({ camera: { zone: f.zone } });
  if (f.from) and.push({ capturedAt: { gte: f.from } });
  if (f.to) and.push({ capturedAt: { lt: f.to } });
  if (f.status) and.push({ alert: { status: f.status } });
  and.push(...violationScopeWhere(f.scope));
  return and;
}

type Db = PrismaClient | Prisma.TransactionClient;

export function createViolationRepository(prisma: PrismaClient) {
  return {
    /** Faces of a frame already stored (a retried job skips them). */
    findByFrame(frameId: string, db: Db = prisma): Promise<{ faceIndex: number; alertId: string | null }[]> {
      return db.violation.findMany({
        where: { frameId },
        select: { faceIndex: true, alertId: true },
        orderBy: { faceIndex: 'asc' },
      });
    },

    listByAlert(alertId: string): Promise<ViolationRow[]> {
      return prisma.violation.findMany({ where: { alertId }, orderBy: [{ capturedAt: 'asc' }, { faceIndex: 'asc' }] });
    },

    /** Violations with their camera, newest first (capturedAt desc, id desc). */
    list(
      f: ViolationFilter,
      after: PageKey | null,
      take: number,
    ): Promise<(ViolationRecord & { camera: CameraSummary; alert: { status: AlertStatus } | null; person: ViolationPerson | null })[]> {
      const and = filterWhere(f);
      if (after) and.push(afterKey('capturedAt', after));
      return prisma.violation.findMany({
        where: { AND: and },
        orderBy: [{ capturedAt: 'desc' }, { id: 'desc' }],
        take,
        include: { camera: { select: cameraSummarySelect }, alert: { select: { status: true } }, person: { select: personSelect } },
      }).then((rows) => rows.map((r) => ({ ...r, alert: r.alert && { status: r.alert.status as AlertStatus }, person: toViolationPerson(r.person) })));
    },

    /** A page of the CSV export: violations with their alert's status and unit, newest first. */
    exportPage(
      f: ViolationFilter,
      after: PageKey | null,
      take: number,
    ): Promise<
      (ViolationRecord & {
        alert: { status: AlertStatus; assignedUnitId: string | null; resolutionOutcome: string | null } | null;
        person: ViolationPerson | null;
      })[]
    > {
      const and = filterWhere(f);
      if (after) and.push(afterKey('capturedAt', after));
      return prisma.violation.findMany({
        where: { AND: and },
        orderBy: [{ capturedAt: 'desc' }, { id: 'desc' }],
        take,
        include: { alert: { select: { status: true, assignedUnitId: true, resolutionOutcome: true } }, person: { select: personSelect } },
      }).then((rows) => rows.map((r) => ({ ...r, person: toViolationPerson(r.person) })));
    },

    countByFrame(frameId: string): Promise<number> {
      return prisma.violation.count({ where: { frameId } });
    },
  };
}

export type ViolationRepository = ReturnType<typeof createViolationRepository>;
