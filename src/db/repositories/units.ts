/**
 * Patrol units (call sign, status, last position, members) and the dispatch
 * workflow's writes: an alert transition, the units' status that follows from
 * it and its AuditEvent, in one transaction.
 *
 * The client type is the SQLite one; the PostgreSQL client has the same model API.
 */
import type { Prisma, PrismaClient } from '../generated/sqlite/client.ts';
import { transition, type Actor, type AlertAction, type AlertStatus, type LifecycleError } from '../../domain/lifecycle.ts';
import { alertInclude, toAlertEvent, type AlertWithCamera } from './alerts.ts';
import type { AlertEvent } from '../../realtime/events.ts';

export type UnitStatus = 'AVAILABLE' | 'BUSY' | 'OFF_DUTY';
export const UNIT_STATUSES: readonly UnitStatus[] = ['AVAILABLE', 'BUSY', 'OFF_DUTY'];

export interface UnitView {
  id: string;
  callSign: string;
  status: UnitStatus;
  latitude: number | null;
  longitude: number | null;
  positionAt: string | null;
  members: { id: string; username: string }[];
  /** Open alerts assigned to the unit, oldest first. */
  openAlertIds: string[];
  createdAt: string;
  updatedAt: string;
}

export interface NewUnit {
  callSign: string;
  status?: UnitStatus;
  latitude?: number;
  longitude?: number;
}

export interface UnitPatch {
  callSign?: string;
  status?: UnitStatus;
}

/** A write the caller should answer with 404 / 409 / 400. */
export class UnitError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT' | 'INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'UnitError';
  }
}

const OPEN_STATUSES: AlertStatus[] = ['NEW', 'DISPATCHED', 'ACKNOWLEDGED', 'EN_ROUTE', 'ON_SCENE'];

const unitInclude = {
  members: { select: { id: true, username: true }, orderBy: { username: 'asc' } },
  alerts: { where: { status: { in: OPEN_STATUSES } }, select: { id: true }, orderBy: { createdAt: 'asc' } },
} as const;

type UnitRow = Prisma.PatrolUnitGetPayload<{ include: typeof unitInclude }>;

function view(u: UnitRow): UnitView {
  return {
    id: u.id,
    callSign: u.callSign,
    status: u.status,
    latitude: u.latitude,
    longitude: u.longitude,
    positionAt: u.positionAt ? u.positionAt.toISOString() : null,
    members: u.members,
    openAlertIds: u.alerts.map((a) => a.id),
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
  };
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}

export function createUnitRepository(prisma: PrismaClient) {
  async function get(db: Prisma.TransactionClient | PrismaClient, id: string): Promise<UnitView | null> {
    const u = await db.patrolUnit.findUnique({ where: { id }, include: unitInclude });
    return u ? view(u) : null;
  }

  return {
    async list(): Promise<UnitView[]> {
      const rows = await prisma.patrolUnit.findMany({ include: unitInclude, orderBy: { callSign: 'asc' } });
      return rows.map(view);
    },

    findById(id: string): Promise<UnitView | null> {
      return get(prisma, id);
    },

    async create(data: NewUnit): Promise<UnitView> {
      if ((data.latitude === undefined) !== (data.longitude === undefined)) {
        throw new UnitError('INVALID', 'latitude and longitude go together');
      }
      try {
        const u = await prisma.patrolUnit.create({
          data: {
            callSign: data.callSign,
            status: data.status ?? 'AVAILABLE',
            latitude: data.latitude ?? null,
            longitude: data.longitude ?? null,
            positionAt: data.latitude === undefined ? null : new Date(),
          },
          include: unitInclude,
        });
        return view(u);
      } catch (err) {
        if (isUniqueViolation(err)) throw new UnitError('CONFLICT', `call sign "${data.callSign}" is taken`);
        throw err;
      }
    },

    async update(id: string, patch: UnitPatch): Promise<UnitView> {
      try {
        const r = await prisma.patrolUnit.updateMany({ where: { id }, data: patch });
        if (r.count === 0) throw new UnitError('NOT_FOUND', `no unit ${id}`);
      } catch (err) {
        if (isUniqueViolation(err)) throw new UnitError('CONFLICT', `call sign "${patch.callSign}" is taken`);
        throw err;
      }
      return (await get(prisma, id))!;
    },

    async setPosition(id: string, latitude: number, longitude: number, at: Date): Promise<UnitView> {
      const r = await prisma.patrolUnit.updateMany({ where: { id }, data: { latitude, longitude, positionAt: at } });
      if (r.count === 0) throw new UnitError('NOT_FOUND', `no unit ${id}`);
      return (await get(prisma, id))!;
    },

    /** Makes exactly these users (officers) the unit's members. */
    async setMembers(id: string, userIds: readonly string[]): Promise<UnitView> {
      return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
        if (!(await tx.patrolUnit.findUnique({ where: { id }, select: { id: true } }))) {
          throw new UnitError('NOT_FOUND', `no unit ${id}`);
        }
        const unique = [...new Set(userIds)];
        const users = await tx.user.findMany({ where: { id: { in: unique } }, select: { id: true, role: true, username: true } });
        const missing = unique.filter((u) => !users.some((x) => x.id === u));
        if (missing.length) throw new UnitError('INVALID', `unknown user(s): ${missing.join(', ')}`);
        const notOfficers = users.filter((u) => u.role !== 'OFFICER');
        if (notOfficers.length) throw new UnitError('INVALID', `only officers can be unit members: ${notOfficers.map((u) => u.username).join(', ')}`);
        await tx.user.updateMany({ where: { unitId: id, id: { notIn: unique } }, data: { unitId: null } });
        await tx.user.updateMany({ where: { id: { in: unique } }, data: { unitId: id } });
        return (await get(tx, id))!;
      });
    },

    /** Deletes a unit with no open alerts (an open alert must be reassigned first). */
    async remove(id: string): Promise<void> {
      await prisma.$transaction(async (tx: Prisma.TransactionClient) => {
        const open = await tx.alert.count({ where: { assignedUnitId: id, status: { in: OPEN_STATUSES } } });
        if (open > 0) throw new UnitError('CONFLICT', `the unit has ${open} open alert(s): reassign or close them first`);
        const r = await tx.patrolUnit.deleteMany({ where: { id } });
        if (r.count === 0) throw new UnitError('NOT_FOUND', `no unit ${id}`);
      });
    },

    /** Positions and statuses of every unit, for nearest-unit ranking. */
    positions() {
      return prisma.patrolUnit.findMany({
        select: { id: true, callSign: true, status: true, latitude: true, longitude: true },
        orderBy: { callSign: 'asc' },
      });
    },
  };
}

export type UnitRepository = ReturnType<typeof createUnitRepository>;

// ---- dispatch workflow ------------------------------------------------------

export type TransitionOutcome =
  | { ok: true; alert: AlertEvent; from: AlertStatus; to: AlertStatus; previousUnitId: string | null }
  | { ok: false; kind: 'NOT_FOUND'; message: string }
  | { ok: false; kind: 'UNIT'; code: 'NOT_FOUND' | 'CONFLICT'; message: string }
  | { ok: false; kind: 'LIFECYCLE'; error: LifecycleError }
  /** Someone else changed the alert between our read and our write. */
  | { ok: false; kind: 'STALE'; message: string };

const cameraSelect = { name: true, latitude: true, longitude: true, address: true, zone: true } as const;

/**
 * Applies one lifecycle action: reads the alert, asks the pure state machine,
 * writes the change only if the alert is still in the state that was checked
 * (compare-and-set, so two dispatchers racing cannot both win), keeps unit
 * statuses in step (dispatched → BUSY; freed when it has no open alert left)
 * and records an AuditEvent — all in one transaction.
 */
export function createDispatchRepository(prisma: PrismaClient) {
  return {
    async apply(alertId: string, action: AlertAction, actor: Actor & { username?: string }, at: Date, note?: string): Promise<TransitionOutcome> {
      return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
        const current = await tx.alert.findUnique({ where: { id: alertId }, select: { status: true, assignedUnitId: true } });
        if (!current) return { ok: false, kind: 'NOT_FOUND', message: `no alert ${alertId}` } as const;
        const result = transition(current, action, actor, at);
        if (!result.ok) return { ok: false, kind: 'LIFECYCLE', error: result.error } as const;

        if (action.type === 'dispatch') {
          const unit = await tx.patrolUnit.findUnique({ where: { id: action.unitId }, select: { status: true, callSign: true } });
          if (!unit) return { ok: false, kind: 'UNIT', code: 'NOT_FOUND', message: `no unit ${action.unitId}` } as const;
          if (unit.status === 'OFF_DUTY') {
            return { ok: false, kind: 'UNIT', code: 'CONFLICT', message: `unit ${unit.callSign} is off duty` } as const;
          }
        }
        const { status, assignedUnitId, ...stamps } = result.changes;
        const written = await tx.alert.updateMany({
          where: { id: alertId, status: current.status, assignedUnitId: current.assignedUnitId },
          data: { status, assignedUnitId, ...stamps },
        });
        if (written.count === 0) {
          return { ok: false, kind: 'STALE', message: 'the alert was changed by someone else; reload and retry' } as const;
        }

        const previousUnitId = current.assignedUnitId;
        const closes = status === 'RESOLVED' || status === 'DISMISSED';
        if (action.type === 'dispatch') {
          await tx.patrolUnit.updateMany({ where: { id: action.unitId, status: 'AVAILABLE' }, data: { status: 'BUSY' } });
        }
        // The unit that lost (reassignment) or finished the alert is free again unless it has other work.
        const released = action.type === 'dispatch' ? (previousUnitId !== action.unitId ? previousUnitId : null) : closes ? previousUnitId : null;
        if (released) {
          const stillOpen = await tx.alert.count({ where: { assignedUnitId: released, status: { in: OPEN_STATUSES } } });
          if (stillOpen === 0) await tx.patrolUnit.updateMany({ where: { id: released, status: 'BUSY' }, data: { status: 'AVAILABLE' } });
        }

        // Officers' steps are also stamped with where their unit last reported itself.
        const unitPos =
          actor.role === 'OFFICER' && actor.unitId
            ? await tx.patrolUnit.findUnique({ where: { id: actor.unitId }, select: { latitude: true, longitude: true, positionAt: true } })
            : null;
        await tx.auditEvent.create({
          data: {
            actorType: 'USER',
            actorId: actor.userId,
            actorRole: actor.role,
            action: `alert.${action.type}`,
            subjectType: 'Alert',
            subjectId: alertId,
            at,
            details: JSON.stringify({
              from: result.from,
              to: result.to,
              username: actor.username,
              unitId: assignedUnitId,
              previousUnitId: previousUnitId !== assignedUnitId ? previousUnitId : undefined,
              note: note ?? undefined,
              position:
                unitPos && unitPos.latitude !== null && unitPos.longitude !== null
                  ? { latitude: unitPos.latitude, longitude: unitPos.longitude, at: unitPos.positionAt?.toISOString() }
                  : undefined,
            }),
          },
        });
        const alert = (await tx.alert.findUnique({ where: { id: alertId }, include: alertInclude })) as AlertWithCamera;
        return { ok: true, alert: toAlertEvent(alert), from: result.from, to: result.to, previousUnitId } as const;
      });
    },
  };
}

export type DispatchRepository = ReturnType<typeof createDispatchRepository>;

export interface TimelineEntry {
  at: string;
  action: string;
  actorRole: string | null;
  username: string | null;
  from: string | null;
  to: string | null;
  unitId: string | null;
  note: string | null;
}

/** The alert's audit trail, oldest first, as the dispatcher's timeline shows it. */
export async function alertTimeline(prisma: PrismaClient, alertId: string): Promise<TimelineEntry[]> {
  const rows = await prisma.auditEvent.findMany({
    where: { subjectType: 'Alert', subjectId: alertId, action: { startsWith: 'alert.' } },
    orderBy: [{ at: 'asc' }, { id: 'asc' }],
    take: 200,
  });
  return rows.map((r) => {
    let d: Record<string, unknown> = {};
    try {
      d = r.details ? (JSON.parse(r.details) as Record<string, unknown>) : {};
    } catch {
      // a malformed details column still yields an entry
    }
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    return {
      at: r.at.toISOString(),
      action: r.action,
      actorRole: r.actorRole,
      username: str(d.username),
      from: str(d.from),
      to: str(d.to),
      unitId: str(d.unitId),
      note: str(d.note),
    };
  });
}
