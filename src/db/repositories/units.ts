/**
 * Patrol units: call sign, status, last position, members.
 * (The dispatch workflow's transaction is in ./dispatch.ts; its rules in src/services/alerts.ts.)
 *
 * The client type is the SQLite one; the PostgreSQL client has the same model API.
 */
import type { Prisma, PrismaClient } from '../generated/sqlite/client.ts';
import { OPEN_ALERT_STATUSES, UNIT_STATUSES, type UnitStatus } from '../../contracts/vocabulary.ts';
import { isUniqueViolation } from '../unique.ts';
import type { Unit, UnitInput, UnitPatch } from '../../contracts/api.ts';

export { UNIT_STATUSES, type UnitStatus };

/** A unit as the API and dashboards see it (src/contracts/api.ts UnitSchema). */
export type UnitView = Unit;

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

const OPEN_STATUSES = [...OPEN_ALERT_STATUSES];

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

    async create(data: UnitInput): Promise<UnitView> {
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
        // An officer needs a unit: one leaves this unit by joining another (its members list), not into none.
        const dropped = await tx.user.findMany({ where: { unitId: id, role: 'OFFICER', id: { notIn: unique } }, select: { username: true } });
        if (dropped.length) throw new UnitError('CONFLICT', `an officer needs a unit: ${usernames(dropped)} would have none; add them to another unit's members instead`);
        await tx.user.updateMany({ where: { unitId: id, id: { notIn: unique } }, data: { unitId: null } });
        await tx.user.updateMany({ where: { id: { in: unique } }, data: { unitId: id } });
        return (await get(tx, id))!;
      });
    },

    /** Deletes a unit with no open alerts and no officers (both must go elsewhere first). */
    async remove(id: string): Promise<void> {
      await prisma.$transaction(async (tx: Prisma.TransactionClient) => {
        const open = await tx.alert.count({ where: { assignedUnitId: id, status: { in: OPEN_STATUSES } } });
        if (open > 0) throw new UnitError('CONFLICT', `the unit has ${open} open alert(s): reassign or close them first`);
        const officers = await tx.user.findMany({ where: { unitId: id, role: 'OFFICER' }, select: { username: true } });
        if (officers.length) throw new UnitError('CONFLICT', `the unit has officers (${usernames(officers)}): move them to another unit first`);
        const r = await tx.patrolUnit.deleteMany({ where: { id } });
        if (r.count === 0) throw new UnitError('NOT_FOUND', `no unit ${id}`);
      });
    },

    /** The unit of a call sign, created when missing (CLI `users add --unit`). */
    async ensureByCallSign(callSign: string): Promise<{ id: string; created: boolean }> {
      const existing = await prisma.patrolUnit.findUnique({ where: { callSign }, select: { id: true } });
      if (existing) return { id: existing.id, created: false };
      const u = await prisma.patrolUnit.create({ data: { callSign }, select: { id: true } });
      return { id: u.id, created: true };
    },

    /** id → call sign of every unit (few rows: read once per export). */
    async callSigns(): Promise<Map<string, string>> {
      const rows = await prisma.patrolUnit.findMany({ select: { id: true, callSign: true } });
      return new Map(rows.map((u) => [u.id, u.callSign]));
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

function usernames(users: { username: string }[]): string {
  return users.map((u) => u.username).join(', ');
}
