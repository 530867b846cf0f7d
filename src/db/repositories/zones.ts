import type { PrismaClient } from '../generated/sqlite/client.ts';
import { OPEN_ALERT_STATUSES } from '../../contracts/vocabulary.ts';
import { parseZones, storedZones } from '../../auth/roles.ts';

/**
 * Zones are not a table: a zone is the name cameras and dispatchers share. This reads them together
 * (who watches which) and renames one everywhere at once.
 */
export function createZoneRepository(prisma: PrismaClient) {
  return {
    /** Cameras per zone (null: without one), with their open alerts. */
    async cameraZones(): Promise<{ zone: string | null; cameras: number; openAlerts: number }[]> {
      const [cameras, open] = await Promise.all([
        prisma.camera.findMany({ select: { id: true, zone: true } }),
        prisma.alert.groupBy({ by: ['cameraId'], where: { status: { in: [...OPEN_ALERT_STATUSES] } }, _count: { _all: true } }),
      ]);
      const openOf = new Map(open.map((g) => [g.cameraId, g._count._all]));
      const byZone = new Map<string | null, { zone: string | null; cameras: number; openAlerts: number }>();
      for (const c of cameras) {
        const row = byZone.get(c.zone) ?? { zone: c.zone, cameras: 0, openAlerts: 0 };
        row.cameras += 1;
        row.openAlerts += openOf.get(c.id) ?? 0;
        byZone.set(c.zone, row);
      }
      return [...byZone.values()];
    },

    /** Enabled dispatchers and the zones each is limited to (empty: every zone). */
    async dispatchers(): Promise<{ id: string; zones: string[] }[]> {
      const rows = await prisma.user.findMany({ where: { role: 'DISPATCHER', disabled: false, deletedAt: null }, select: { id: true, zones: true } });
      return rows.map((r) => ({ id: r.id, zones: parseZones(r.zones) }));
    },

    /**
     * Renames a zone on every camera and in every dispatcher's list (of any account, disabled ones too, so
     * enabling one later does not bring the old name back), in one transaction. Into an existing name, the two
     * zones merge. The ids of the cameras and users changed.
     */
    async rename(from: string, to: string): Promise<{ cameraIds: string[]; userIds: string[] }> {
      return prisma.$transaction(async (tx) => {
        const cameraIds = (await tx.camera.findMany({ where: { zone: from }, select: { id: true } })).map((c) => c.id);
        await tx.camera.updateMany({ where: { zone: from }, data: { zone: to } });
        // Zones are a JSON array per user; few users have any, so they are rewritten one by one.
        const limited = await tx.user.findMany({ where: { zones: { not: null } }, select: { id: true, zones: true } });
        const userIds: string[] = [];
        for (const user of limited) {
          const zones = parseZones(user.zones);
          if (!zones.includes(from)) continue;
          await tx.user.update({ where: { id: user.id }, data: { zones: storedZones([...new Set(zones.map((z) => (z === from ? to : z)))]) } });
          userIds.push(user.id);
        }
        return { cameraIds, userIds };
      });
    },
  };
}

export type ZoneRepository = ReturnType<typeof createZoneRepository>;
