import type { Prisma, PrismaClient, Violation } from '../generated/sqlite/client.ts';
import type { Sighting } from '../../domain/grouping.ts';
import type { AlertStatus } from '../../domain/lifecycle.ts';

/**
 * Violation persistence for the detection worker. The client type is the SQLite
 * one; the PostgreSQL client has the identical model API, so either can be passed.
 */
export type ViolationRow = Violation;

/** Most sightings a grouping decision reads; a camera with more in one cooldown window is an outlier. */
export const MAX_SIGHTINGS = 2000;

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

    /** Grouped violations of a camera captured in [from, to]: the tracker's state. */
    async sightings(cameraId: string, from: Date, to: Date, db: Db = prisma): Promise<Sighting[]> {
      const rows = await db.violation.findMany({
        where: { cameraId, capturedAt: { gte: from, lte: to }, alertId: { not: null } },
        select: {
          alertId: true,
          capturedAt: true,
          boxX: true,
          boxY: true,
          boxW: true,
          boxH: true,
          alert: { select: { status: true } },
        },
        orderBy: [{ capturedAt: 'desc' }, { id: 'asc' }],
        take: MAX_SIGHTINGS,
      });
      return rows.flatMap((r) =>
        r.alertId && r.alert
          ? [
              {
                alertId: r.alertId,
                alertStatus: r.alert.status as AlertStatus,
                box: [r.boxX, r.boxY, r.boxW, r.boxH] as const,
                capturedAt: r.capturedAt,
              },
            ]
          : [],
      );
    },

    listByAlert(alertId: string): Promise<ViolationRow[]> {
      return prisma.violation.findMany({ where: { alertId }, orderBy: [{ capturedAt: 'asc' }, { faceIndex: 'asc' }] });
    },

    countByFrame(frameId: string): Promise<number> {
      return prisma.violation.count({ where: { frameId } });
    },
  };
}

export type ViolationRepository = ReturnType<typeof createViolationRepository>;
