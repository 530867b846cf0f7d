import type { Prisma, PrismaClient } from '../generated/sqlite/client.ts';
import { mergeSightings, type Assignment, type Sighting, type TrackKey } from '../../domain/grouping.ts';
import type { Box } from '../../domain/tracker.ts';
import type { AlertStatus } from '../../contracts/vocabulary.ts';
import { afterKey, type PageKey } from './paging.ts';
import { readSightings } from './violations.ts';
import { peopleInclude, type PersonRecord } from './people.ts';
import type { EscalationView } from '../../domain/escalation.ts';

/**
 * Alert persistence: the detection worker's grouping writes, the queries of the
 * API and the escalation timers. Rows come back as plain records (AlertRecord);
 * mapping them to API / socket payloads is the services' job (src/services/alert-view.ts).
 * The client type is the SQLite one; the PostgreSQL client has the same model API.
 */

/** The camera fields an alert is shown with. */
export interface CameraSummary {
  name: string;
  latitude: number;
  longitude: number;
  address: string | null;
  zone: string | null;
}

/** A stored alert with its camera, as the repositories return it. */
export interface AlertRecord {
  id: string;
  cameraId: string;
  trackId: string;
  status: AlertStatus;
  firstSeenAt: Date;
  lastSeenAt: Date;
  createdAt: Date;
  violationCount: number;
  noMaskProbability: number;
  snapshotPath: string | null;
  frameSnapshotPath: string | null;
  assignedUnitId: string | null;
  dispatchedAt: Date | null;
  acknowledgedAt: Date | null;
  enRouteAt: Date | null;
  onSceneAt: Date | null;
  resolvedAt: Date | null;
  dismissedAt: Date | null;
  dismissReason: string | null;
  resolutionNote: string | null;
  escalationLevel: number;
  escalatedAt: Date | null;
  updatedAt: Date;
  camera: CameraSummary;
  /** The incident's confirmed people, oldest first (see people.ts). */
  people: PersonRecord[];
}

/** @deprecated the old name of AlertRecord. */
export type AlertWithCamera = AlertRecord;

/** The one select of a camera summary (every query of an alert or violation with its camera uses it). */
export const cameraSummarySelect = { name: true, latitude: true, longitude: true, address: true, zone: true } as const;
/** What an AlertRecord is read with: its camera summary and its people. */
export const withCamera = { camera: { select: cameraSummarySelect }, people: peopleInclude };

export interface AlertQuery {
  status?: AlertStatus;
  cameraId?: string;
  /** Only alerts assigned to this unit (officers); null matches nothing. */
  assignedUnitId?: string | null;
  after?: PageKey | null;
  take: number;
}

export interface EscalationWrite {
  alertId: string;
  expectStatus: AlertStatus;
  expectLevel: number;
  level: number;
  at: Date;
  /** AuditEvent details (actor SYSTEM, action alert.escalated). */
  details: Record<string, unknown>;
}

export interface FrameViolationRecord {
  faceIndex: number;
  box: Box;
  faceScore: number;
  noMaskProbability: number;
  /** Relative to the data dir. */
  faceSnapshotPath: string | null;
}

export interface RecordFrameInput {
  cameraId: string;
  frameId: string;
  capturedAt: Date;
  receivedAt: Date;
  frameSnapshotPath: string | null;
  violations: readonly FrameViolationRecord[];
  /** The capture-time window of the camera's history the decision needs (domain/grouping.ts historyWindow). */
  historyWindow: { from: Date; to: Date };
  /**
   * The grouping decision (domain/grouping.ts planGrouping) for the faces not stored yet,
   * given the camera's sightings in the window; called inside the transaction.
   */
  decide(todo: readonly FrameViolationRecord[], history: readonly Sighting[]): readonly Assignment[] | Promise<readonly Assignment[]>;
}

/**
 * How a track key is stored: the Alert.trackId column, unique per camera. Only
 * this module writes or reads that format (the frame's alerts are found by its prefix).
 */
function trackIdColumn(key: TrackKey): string {
  return `${key.frameId}:${key.faceIndex}`;
}
const trackIdPrefixOfFrame = (frameId: string) => `${frameId}:`;

/** The camera was deleted while its frame was being processed. */
export class CameraGoneError extends Error {
  constructor(readonly cameraId: string) {
    super(`camera ${cameraId} does not exist`);
    this.name = 'CameraGoneError';
  }
}

export interface RecordFrameResult {
  /** Violations inserted by this call (0 when a retried job had already stored them). */
  inserted: number;
  createdAlertIds: string[];
  /** Existing alerts that received violations, excluding created ones. */
  updatedAlertIds: string[];
}

export class GroupingPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GroupingPlanError';
  }
}

export function createAlertRepository(prisma: PrismaClient) {
  const one = (id: string): Promise<AlertRecord | null> => prisma.alert.findUnique({ where: { id }, include: withCamera });
  return {
    findWithCamera: one,

    async exists(id: string): Promise<boolean> {
      return (await prisma.alert.findUnique({ where: { id }, select: { id: true } })) !== null;
    },

    /** Where the alert's camera stands; null when there is no such alert. */
    async cameraPosition(id: string): Promise<{ latitude: number; longitude: number } | null> {
      const a = await prisma.alert.findUnique({ where: { id }, select: { camera: { select: { latitude: true, longitude: true } } } });
      return a?.camera ?? null;
    },

    /** Alerts, newest first (createdAt desc, id desc). */
    list(q: AlertQuery): Promise<AlertRecord[]> {
      const and: Record<string, unknown>[] = [];
      if (q.status) and.push({ status: q.status });
      if (q.cameraId) and.push({ cameraId: q.cameraId });
      if (q.assignedUnitId !== undefined) and.push({ assignedUnitId: q.assignedUnitId ?? '\u0000none' });
      if (q.after) and.push(afterKey('createdAt', q.after));
      return prisma.alert.findMany({ where: { AND: and }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: q.take, include: withCamera });
    },

    /** Number of alerts per status (metrics). */
    async countsByStatus(): Promise<Record<string, number>> {
      const groups = await prisma.alert.groupBy({ by: ['status'], _count: { _all: true } });
      return Object.fromEntries(groups.map((g) => [g.status, g._count._all]));
    },

    /** Alerts a frame created (a retried job re-announces them: events are at-least-once). */
    createdByFrame(cameraId: string, frameId: string): Promise<AlertRecord[]> {
      return prisma.alert.findMany({
        where: { cameraId, trackId: { startsWith: trackIdPrefixOfFrame(frameId) } },
        include: withCamera,
        orderBy: { trackId: 'asc' },
      });
    },

    /** A page of alerts that may need an escalation timer (id order, after `afterId`). */
    openForEscalation(maxLevel: number, afterId: string | undefined, take: number): Promise<EscalationView[]> {
      return prisma.alert.findMany({
        where: { status: { in: ['NEW', 'DISPATCHED'] }, escalationLevel: { lt: maxLevel }, ...(afterId ? { id: { gt: afterId } } : {}) },
        select: { id: true, status: true, escalationLevel: true, createdAt: true, dispatchedAt: true, escalatedAt: true },
        orderBy: { id: 'asc' },
        take,
      });
    },

    /**
     * Raises the escalation level only if nobody handled (or escalated) the alert
     * since it was read (compare-and-set), with its AuditEvent, in one transaction.
     * False when the alert changed meanwhile.
     */
    escalate(w: EscalationWrite): Promise<boolean> {
      return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
        const r = await tx.alert.updateMany({
          where: { id: w.alertId, status: w.expectStatus, escalationLevel: w.expectLevel },
          data: { escalationLevel: w.level, escalatedAt: w.at },
        });
        if (r.count === 0) return false;
        await tx.auditEvent.create({
          data: { actorType: 'SYSTEM', action: 'alert.escalated', subjectType: 'Alert', subjectId: w.alertId, at: w.at, details: JSON.stringify(w.details) },
        });
        return true;
      });
    },

    /** Whether the alert is assigned to the unit. */
    async isAssignedTo(alertId: string, unitId: string): Promise<boolean> {
      return (await prisma.alert.findFirst({ where: { id: alertId, assignedUnitId: unitId }, select: { id: true } })) !== null;
    },

    /**
     * Whether a face crop (path as stored, e.g. snapshots/<cameraId>/<frameId>-0.jpg) is shown by an
     * alert — as its snapshot, a person's best shot or one of its violations' crops — assigned to
     * `unitId` (null: any alert). Stored frames never match: they are shown only through an alert's
     * frame route, rendered for that alert (services/evidence.ts).
     */
    async faceCropShown(dbPath: string, unitId: string | null): Promise<boolean> {
      const unit = unitId === null ? {} : { assignedUnitId: unitId };
      const alert = await prisma.alert.findFirst({ where: { ...unit, snapshotPath: dbPath }, select: { id: true } });
      if (alert) return true;
      const person = await prisma.alertPerson.findFirst({ where: { alert: unit, bestShotPath: dbPath }, select: { id: true } });
      if (person) return true;
      const violation = await prisma.violation.findFirst({ where: { alert: unit, faceSnapshotPath: dbPath }, select: { id: true } });
      return violation !== null;
    },

    /**
     * Groups and stores a frame's violations in one transaction that holds the
     * camera's row lock from its first statement: read the camera's recent
     * sightings, decide (input.decide), write new alerts for new tracks and, for
     * each touched alert, an exact violationCount (counted, not incremented, so a
     * retry can never inflate it), first/last seen and the highest P(no mask).
     * Faces already stored for this frame are skipped.
     *
     * The lock is the database's: bumping Camera.groupingVersion takes the row
     * lock on PostgreSQL and the write lock on SQLite until commit, so two workers
     * with frames of one camera group one after the other however slow the
     * database is — no lease that can expire under a running transaction.
     */
    recordFrame(input: RecordFrameInput): Promise<RecordFrameResult> {
      const byFace = new Map(input.violations.map((v) => [v.faceIndex, v]));
      return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
        const locked = await tx.camera.updateMany({ where: { id: input.cameraId }, data: { groupingVersion: { increment: 1 } } });
        if (locked.count === 0) throw new CameraGoneError(input.cameraId);
        const stored = await tx.violation.findMany({ where: { frameId: input.frameId }, select: { faceIndex: true } });
        const done = new Set(stored.map((s) => s.faceIndex));
        const todo = input.violations.filter((v) => !done.has(v.faceIndex));
        const created: string[] = [];
        const touched = new Map<string, { capturedAt: Date; noMaskProbability: number }[]>();
        if (todo.length === 0) return { inserted: 0, createdAlertIds: [], updatedAlertIds: [] };
        const history = await readSightings(tx, input.cameraId, input.historyWindow.from, input.historyWindow.to);
        const plan = await input.decide(todo, history);
        for (const a of plan) {
          if (!byFace.has(a.faceIndex) || done.has(a.faceIndex)) throw new GroupingPlanError(`plan refers to unknown face ${a.faceIndex}`);
        }

        for (const a of plan) {
          const v = byFace.get(a.faceIndex)!;
          let alertId: string;
          if (a.kind === 'create') {
            const trackId = trackIdColumn(a.track);
            const key = { cameraId_trackId: { cameraId: input.cameraId, trackId } };
            const existing = await tx.alert.findUnique({ where: key, select: { id: true } });
            if (existing) {
              alertId = existing.id;
            } else {
              const alert = await tx.alert.create({
                data: {
                  cameraId: input.cameraId,
                  trackId,
                  firstSeenAt: input.capturedAt,
                  lastSeenAt: input.capturedAt,
                  noMaskProbability: v.noMaskProbability,
                  snapshotPath: v.faceSnapshotPath,
                  frameSnapshotPath: input.frameSnapshotPath,
                },
                select: { id: true },
              });
              alertId = alert.id;
              created.push(alertId);
            }
          } else {
            alertId = a.alertId;
          }
          await tx.violation.create({
            data: {
              cameraId: input.cameraId,
              frameId: input.frameId,
              faceIndex: v.faceIndex,
              capturedAt: input.capturedAt,
              receivedAt: input.receivedAt,
              boxX: Math.round(v.box[0]),
              boxY: Math.round(v.box[1]),
              boxW: Math.round(v.box[2]),
              boxH: Math.round(v.box[3]),
              faceScore: v.faceScore,
              noMaskProbability: v.noMaskProbability,
              faceSnapshotPath: v.faceSnapshotPath,
              frameSnapshotPath: input.frameSnapshotPath,
              alertId,
            },
          });
          const list = touched.get(alertId) ?? [];
          list.push({ capturedAt: input.capturedAt, noMaskProbability: v.noMaskProbability });
          touched.set(alertId, list);
        }

        for (const [alertId, sightings] of touched) {
          const current = await tx.alert.findUnique({
            where: { id: alertId },
            select: { firstSeenAt: true, lastSeenAt: true, noMaskProbability: true },
          });
          if (!current) throw new GroupingPlanError(`alert ${alertId} vanished while grouping`);
          const merged = mergeSightings(current, sightings);
          const violationCount = await tx.violation.count({ where: { alertId } });
          await tx.alert.update({ where: { id: alertId }, data: { ...merged, violationCount } });
        }
        const inserted = [...touched.values()].reduce((n, list) => n + list.length, 0);
        const updated = [...touched.keys()].filter((id) => !created.includes(id));
        return { inserted, createdAlertIds: created, updatedAlertIds: updated };
      });
    },
  };
}

export type AlertRepository = ReturnType<typeof createAlertRepository>;
