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

/** An alert's evidence hold, with the names an admin reads it by. */
export interface EvidenceHoldRow {
  alertId: string;
  cameraId: string;
  cameraName: string;
  heldAt: Date;
  heldBy: string | null;
  reason: string;
  reviewAt: Date | null;
}

/** Only alerts not on hold lose their images (src/services/privacy.ts, evidence holds). */
const notHeld = { heldAt: null };

export function createPrivacyRepository(prisma: PrismaClient) {
  async function holds(where: { id?: string }): Promise<EvidenceHoldRow[]> {
    const rows = await prisma.alert.findMany({
      where: { ...where, heldAt: { not: null } },
      orderBy: { heldAt: 'asc' },
      select: { id: true, cameraId: true, heldAt: true, heldBy: true, holdReason: true, holdReviewAt: true, camera: { select: { name: true } } },
    });
    return rows.map((a) => ({ alertId: a.id, cameraId: a.cameraId, cameraName: a.camera.name, heldAt: a.heldAt!, heldBy: a.heldBy, reason: a.holdReason ?? '', reviewAt: a.holdReviewAt }));
  }

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

    /** Violations captured before `cutoff` that still point at images, but those of alerts on hold. */
    async violationsWithImages(cutoff: Date, take: number): Promise<ImagePaths[]> {
      const rows = await prisma.violation.findMany({
        where: {
          capturedAt: { lt: cutoff },
          AND: [{ OR: [{ faceSnapshotPath: { not: null } }, { frameSnapshotPath: { not: null } }] }, { OR: [{ alertId: null }, { alert: notHeld }] }],
        },
        select: { id: true, faceSnapshotPath: true, frameSnapshotPath: true },
        take,
      });
      return rows.map((v) => ({ id: v.id, paths: [v.faceSnapshotPath, v.frameSnapshotPath].filter((p): p is string => !!p) }));
    },

    /** Forgets the images of these violations, and of alerts (not on hold) showing any of `paths`; counts per table. */
    async clearViolationImages(ids: readonly string[], paths: readonly string[]): Promise<{ violations: number; alerts: number }> {
      const res = await prisma.violation.updateMany({ where: { id: { in: [...ids] } }, data: { faceSnapshotPath: null, frameSnapshotPath: null } });
      const list = [...paths];
      const a1 = await prisma.alert.updateMany({ where: { snapshotPath: { in: list }, ...notHeld }, data: { snapshotPath: null } });
      const a2 = await prisma.alert.updateMany({ where: { frameSnapshotPath: { in: list }, ...notHeld }, data: { frameSnapshotPath: null } });
      await prisma.alertPerson.updateMany({ where: { bestShotPath: { in: list }, alert: notHeld }, data: { bestShotPath: null } });
      await prisma.alertPerson.updateMany({ where: { lastFrameSnapshotPath: { in: list }, alert: notHeld }, data: { lastFrameSnapshotPath: null } });
      return { violations: res.count, alerts: a1.count + a2.count };
    },

    /** Alerts last seen before `cutoff` that still point at images, but those on hold. */
    async alertsWithImages(cutoff: Date, take: number): Promise<ImagePaths[]> {
      const rows = await prisma.alert.findMany({
        where: { lastSeenAt: { lt: cutoff }, ...notHeld, OR: [{ snapshotPath: { not: null } }, { frameSnapshotPath: { not: null } }] },
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
     * window, whose crop paths point at files the retention sweep deletes. Those of `keepFrames`
     * stay: a held alert's frame blurs every face they record.
     */
    async deleteSightingsBefore(cutoff: Date, keepFrames: readonly string[] = []): Promise<number> {
      return (await prisma.trackSighting.deleteMany({ where: { capturedAt: { lt: cutoff }, frameId: { notIn: [...keepFrames] } } })).count;
    },

    /** What retention keeps for alerts on hold: their image files, and the frames of their violations. */
    async heldEvidence(): Promise<{ paths: Set<string>; frameIds: string[] }> {
      const held = await prisma.alert.findMany({
        where: { heldAt: { not: null } },
        select: {
          snapshotPath: true,
          frameSnapshotPath: true,
          people: { select: { bestShotPath: true, lastFrameSnapshotPath: true } },
          violations: { select: { frameId: true, faceSnapshotPath: true, frameSnapshotPath: true } },
        },
      });
      const paths = held.flatMap((a) => [
        a.snapshotPath,
        a.frameSnapshotPath,
        ...a.people.flatMap((p) => [p.bestShotPath, p.lastFrameSnapshotPath]),
        ...a.violations.flatMap((v) => [v.faceSnapshotPath, v.frameSnapshotPath]),
      ]);
      return { paths: new Set(paths.filter((p): p is string => p !== null)), frameIds: [...new Set(held.flatMap((a) => a.violations.map((v) => v.frameId)))] };
    },

    /** Puts an alert's evidence on hold (or releases it: null); false when there is no such alert. */
    async setHold(alertId: string, hold: { at: Date; by: string; reason: string; reviewAt: Date } | null): Promise<boolean> {
      const res = await prisma.alert.updateMany({
        where: { id: alertId },
        data: { heldAt: hold?.at ?? null, heldBy: hold?.by ?? null, holdReason: hold?.reason ?? null, holdReviewAt: hold?.reviewAt ?? null },
      });
      return res.count > 0;
    },

    async hold(alertId: string): Promise<EvidenceHoldRow | null> {
      return (await holds({ id: alertId }))[0] ?? null;
    },

    /** Every alert on hold, oldest hold first. */
    holds(): Promise<EvidenceHoldRow[]> {
      return holds({});
    },

    /** Holds by review state at `now` (the metric): due when the review date has passed or there is none. */
    async holdCounts(now: Date): Promise<{ due: number; notDue: number }> {
      const [held, notDue] = await Promise.all([
        prisma.alert.count({ where: { heldAt: { not: null } } }),
        prisma.alert.count({ where: { heldAt: { not: null }, holdReviewAt: { gt: now } } }),
      ]);
      return { due: held - notDue, notDue };
    },

    /** How many of a camera's alerts are on hold (a purge must not erase them). */
    heldAlertsOfCamera(cameraId: string): Promise<number> {
      return prisma.alert.count({ where: { cameraId, heldAt: { not: null } } });
    },

    async deleteSessionsExpiredBefore(cutoff: Date): Promise<number> {
      return (await prisma.session.deleteMany({ where: { expiresAt: { lt: cutoff } } })).count;
    },
  };
}

export type PrivacyRepository = ReturnType<typeof createPrivacyRepository>;
