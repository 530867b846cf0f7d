/**
 * The privacy use cases' database side: erasing a camera's records and the
 * retention sweep's batches. Which files go and in what order is decided in
 * src/services/privacy.ts.
 */
import type { PrismaClient } from '../generated/sqlite/client.ts';

export interface ImagePaths {
  id: string;
  paths: string[];
}

export function createPrivacyRepository(prisma: PrismaClient) {
  return {
    cameraName(cameraId: string): Promise<{ id: string; name: string } | null> {
      return prisma.camera.findUnique({ where: { id: cameraId }, select: { id: true, name: true } });
    },

    /** Deletes a camera's violations and alerts in one transaction. */
    async deleteCameraRecords(cameraId: string): Promise<{ violations: number; alerts: number }> {
      const [violations, alerts] = await prisma.$transaction([
        prisma.violation.deleteMany({ where: { cameraId } }),
        prisma.alert.deleteMany({ where: { cameraId } }), // its people go with it (cascade)
        prisma.trackSighting.deleteMany({ where: { cameraId } }),
      ]);
      return { violations: violations.count, alerts: alerts.count };
    },

    /** Violations captured before `cutoff` that still point at images. */
    async violationsWithImages(cutoff: Date, take: number): Promise<ImagePaths[]> {
      const rows = await prisma.violation.findMany({
        where: { capturedAt: { lt: cutoff }, OR: [{ faceSnapshotPath: { not: null } }, { frameSnapshotPath: { not: null } }] },
        select: { id: true, faceSnapshotPath: true, frameSnapshotPath: true },
        take,
      });
      return rows.map((v) => ({ id: v.id, paths: [v.faceSnapshotPath, v.frameSnapshotPath].filter((p): p is string => !!p) }));
    },

    /** Forgets the images of these violations, and of alerts showing any of `paths`; counts per table. */
    async clearViolationImages(ids: readonly string[], paths: readonly string[]): Promise<{ violations: number; alerts: number }> {
      const res = await prisma.violation.updateMany({ where: { id: { in: [...ids] } }, data: { faceSnapshotPath: null, frameSnapshotPath: null } });
      const list = [...paths];
      const a1 = await prisma.alert.updateMany({ where: { snapshotPath: { in: list } }, data: { snapshotPath: null } });
      const a2 = await prisma.alert.updateMany({ where: { frameSnapshotPath: { in: list } }, data: { frameSnapshotPath: null } });
      await prisma.alertPerson.updateMany({ where: { bestShotPath: { in: list } }, data: { bestShotPath: null } });
      await prisma.alertPerson.updateMany({ where: { lastFrameSnapshotPath: { in: list } }, data: { lastFrameSnapshotPath: null } });
      return { violations: res.count, alerts: a1.count + a2.count };
    },

    /** Alerts last seen before `cutoff` that still point at images. */
    async alertsWithImages(cutoff: Date, take: number): Promise<ImagePaths[]> {
      const rows = await prisma.alert.findMany({
        where: { lastSeenAt: { lt: cutoff }, OR: [{ snapshotPath: { not: null } }, { frameSnapshotPath: { not: null } }] },
        select: { id: true, snapshotPath: true, frameSnapshotPath: true },
        take,
      });
      return rows.map((a) => ({ id: a.id, paths: [a.snapshotPath, a.frameSnapshotPath].filter((p): p is string => !!p) }));
    },

    async clearAlertImages(ids: readonly string[]): Promise<number> {
      const res = await prisma.alert.updateMany({ where: { id: { in: [...ids] } }, data: { snapshotPath: null, frameSnapshotPath: null } });
      await prisma.alertPerson.updateMany({ where: { alertId: { in: [...ids] } }, data: { bestShotPath: null, lastFrameSnapshotPath: null } });
      return res.count;
    },

    /**
     * Track sightings captured before `cutoff`: tracking state only needed within an incident
     * window, whose crop paths point at files the retention sweep deletes.
     */
    async deleteSightingsBefore(cutoff: Date): Promise<number> {
      return (await prisma.trackSighting.deleteMany({ where: { capturedAt: { lt: cutoff } } })).count;
    },

    async deleteSessionsExpiredBefore(cutoff: Date): Promise<number> {
      return (await prisma.session.deleteMany({ where: { expiresAt: { lt: cutoff } } })).count;
    },
  };
}

export type PrivacyRepository = ReturnType<typeof createPrivacyRepository>;
