import type { Prisma, PrismaClient } from '../generated/sqlite/client.ts';
import { trackKeyPrefixOfFrame } from '../../domain/incidents.ts';
import { OPEN_ALERT_STATUSES, type AlertStatus } from '../../contracts/vocabulary.ts';
import { afterKey, type PageKey } from './paging.ts';
import { peopleInclude, type PersonRecord } from './people.ts';
import type { EscalationView } from '../../domain/escalation.ts';
import type { AlertScope } from '../../auth/roles.ts';
import { alertScopeWhere } from './scope.ts';

/**
 * Alert persistence: the queries of the API and the escalation timers (a frame's
 * incident writes are the incidents repository's). Rows come back as plain records (AlertRecord);
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
  resolutionOutcome: string | null;
  escalationLevel: number;
  escalatedAt: Date | null;
  noteCount: number;
  updatedAt: Date;
  camera: CameraSummary;
  /** The incident's confirmed people, oldest first (see people.ts). */
  people: PersonRecord[];
}

/** The one select of a camera summary (every query of an alert or violation with its camera uses it). */
export const cameraSummarySelect = { name: true, latitude: true, longitude: true, address: true, zone: true } as const;
/** What an AlertRecord is read with: its camera summary and its people. */
export const withCamera = { camera: { select: cameraSummarySelect }, people: peopleInclude };

export interface AlertQuery {
  status?: AlertStatus;
  cameraId?: string;
  /** The viewer's scope (an officer's unit, a dispatcher's zones). */
  scope?: AlertScope;
  after?: PageKey | null;
  take: number;
}

/** A note a dispatcher or an officer adds to an open incident. */
export interface NoteWrite {
  alertId: string;
  text: string;
  actor: { userId: string; role: string; username: string; unitId: string | null };
  at: Date;
  /** When the author wrote it, by their phone's clock (sent late), already checked for plausibility. */
  tappedAt?: Date;
  /** The client's key for this note: the same author's note with the same key on the same alert is written once. */
  idempotencyKey?: string;
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

export function createAlertRepository(prisma: PrismaClient) {
  const one = (id: string): Promise<AlertRecord | null> => prisma.alert.findUnique({ where: { id }, include: withCamera });
  return {
    findWithCamera: one,

    /** The open alerts of a camera, as announced (a change to the camera changes what they show). */
    openOfCamera(cameraId: string): Promise<AlertRecord[]> {
      return prisma.alert.findMany({ where: { cameraId, status: { in: [...OPEN_ALERT_STATUSES] } }, include: withCamera, orderBy: { createdAt: 'asc' } });
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
      and.push(...alertScopeWhere(q.scope));
      if (q.after) and.push(afterKey('createdAt', q.after));
      return prisma.alert.findMany({ where: { AND: and }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: q.take, include: withCamera });
    },

    /** Number of alerts per status (metrics). */
    async countsByStatus(): Promise<Record<string, number>> {
      const groups = await prisma.alert.groupBy({ by: ['status'], _count: { _all: true } });
      return Object.fromEntries(groups.map((g) => [g.status, g._count._all]));
    },

    /** Alerts a frame created (their trackId is the key of the frame's track that opened them; a retried job re-announces them: events are at-least-once). */
    createdByFrame(cameraId: string, frameId: string): Promise<AlertRecord[]> {
      return prisma.alert.findMany({
        where: { cameraId, trackId: { startsWith: trackKeyPrefixOfFrame(frameId) } },
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

    /**
     * Adds a note to an open alert, with its AuditEvent (`alert.note`), in one transaction: the note count
     * moves only with the note. CLOSED when the alert was resolved or dismissed meanwhile.
     */
    addNote(w: NoteWrite): Promise<{ ok: true; alert: AlertRecord; repeated: boolean } | { ok: false; kind: 'NOT_FOUND' | 'CLOSED' }> {
      return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
        const current = async () => (await tx.alert.findUnique({ where: { id: w.alertId }, include: withCamera })) as AlertRecord;
        // A repeat of a recorded note (its answer was lost) answers as the first did, even once the alert has closed.
        // The key is a UUID inside JSON: its quoted `"idempotencyKey":"…"` cannot come from an escaped note text.
        if (w.idempotencyKey) {
          const seen = await tx.auditEvent.findFirst({
            where: { subjectType: 'Alert', subjectId: w.alertId, action: 'alert.note', actorId: w.actor.userId, details: { contains: `"idempotencyKey":"${w.idempotencyKey}"` } },
            select: { id: true },
          });
          if (seen) return { ok: true, alert: await current(), repeated: true } as const;
        }
        const r = await tx.alert.updateMany({ where: { id: w.alertId, status: { in: [...OPEN_ALERT_STATUSES] } }, data: { noteCount: { increment: 1 } } });
        if (r.count === 0) return { ok: false, kind: (await tx.alert.count({ where: { id: w.alertId } })) ? 'CLOSED' : 'NOT_FOUND' } as const;
        await tx.auditEvent.create({
          data: {
            at: w.at,
            actorType: 'USER',
            actorId: w.actor.userId,
            actorRole: w.actor.role,
            action: 'alert.note',
            subjectType: 'Alert',
            subjectId: w.alertId,
            details: JSON.stringify({
              note: w.text,
              username: w.actor.username,
              unitId: w.actor.unitId ?? undefined,
              tappedAt: w.tappedAt?.toISOString(),
              idempotencyKey: w.idempotencyKey,
            }),
          },
        });
        return { ok: true, alert: await current(), repeated: false } as const;
      });
    },

    /** Whether the alert exists and is in the scope. */
    async existsIn(alertId: string, scope: AlertScope): Promise<boolean> {
      return (await prisma.alert.findFirst({ where: { AND: [{ id: alertId }, ...alertScopeWhere(scope)] }, select: { id: true } })) !== null;
    },

    /**
     * Whether a face crop (path as stored, e.g. snapshots/<cameraId>/<frameId>-0.jpg) is shown by an
     * alert in the scope — as its snapshot, a person's best shot or one of its violations' crops. A
     * unit's officers are not shown the crops of people marked false positive (their view leaves them
     * out; the dispatchers who marked them keep them for review). Stored frames never match: they are
     * shown only through an alert's frame route, rendered for that alert (services/evidence.ts).
     */
    async faceCropShown(dbPath: string, scope: AlertScope): Promise<boolean> {
      const inScope = { AND: alertScopeWhere(scope) };
      const alert = await prisma.alert.findFirst({ where: { ...inScope, snapshotPath: dbPath }, select: { id: true } });
      if (alert) return true;
      const officer = scope.assignedUnitId !== undefined;
      const cleared = officer ? { falsePositive: false } : {};
      const person = await prisma.alertPerson.findFirst({ where: { alert: inScope, bestShotPath: dbPath, ...cleared }, select: { id: true } });
      if (person) return true;
      const notCleared = officer ? { NOT: { person: { is: { falsePositive: true } } } } : {};
      const violation = await prisma.violation.findFirst({ where: { alert: inScope, faceSnapshotPath: dbPath, ...notCleared }, select: { id: true } });
      return violation !== null;
    },
  };
}

export type AlertRepository = ReturnType<typeof createAlertRepository>;
