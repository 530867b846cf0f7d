/**
 * What an alert's view of one stored frame needs (services/evidence.ts decides
 * from it): the alert with its people, and every face recorded in that frame —
 * track sightings (every violating face, and masked faces that continued a
 * track) and violations (which alert and person each belongs to).
 */
import type { PrismaClient } from '../generated/sqlite/client.ts';

export interface FrameFaceRow {
  faceIndex: number;
  boxX: number;
  boxY: number;
  boxW: number;
  boxH: number;
}

export interface FrameViolationRow extends FrameFaceRow {
  alertId: string | null;
  personId: string | null;
  frameSnapshotPath: string | null;
}

export interface AlertFrameRecord {
  alert: {
    id: string;
    cameraId: string;
    assignedUnitId: string | null;
    frameSnapshotPath: string | null;
    camera: { zone: string | null };
    people: { id: string; falsePositive: boolean; lastFrameSnapshotPath: string | null }[];
  };
  sightings: FrameFaceRow[];
  violations: FrameViolationRow[];
}

const box = { faceIndex: true, boxX: true, boxY: true, boxW: true, boxH: true } as const;

export function createEvidenceRepository(prisma: PrismaClient) {
  return {
    /** The alert and the faces of one of its camera's frames; null when there is no such alert. */
    async alertFrame(alertId: string, frameId: string): Promise<AlertFrameRecord | null> {
      const alert = await prisma.alert.findUnique({
        where: { id: alertId },
        select: {
          id: true,
          cameraId: true,
          assignedUnitId: true,
          frameSnapshotPath: true,
          camera: { select: { zone: true } },
          people: { select: { id: true, falsePositive: true, lastFrameSnapshotPath: true } },
        },
      });
      if (!alert) return null;
      // A frame id is unique to its camera's frame; the camera filter keeps another camera's rows out anyway.
      const [sightings, violations] = await Promise.all([
        prisma.trackSighting.findMany({ where: { frameId, cameraId: alert.cameraId }, select: box }),
        prisma.violation.findMany({
          where: { frameId, cameraId: alert.cameraId },
          select: { ...box, alertId: true, personId: true, frameSnapshotPath: true },
        }),
      ]);
      return { alert, sightings, violations };
    },

    /**
     * The face crops an alert shows or showed: the stored paths of its snapshot and its people's best shots, and
     * the faces of its violations (whose crop paths retention clears; the rows stay). Null when there is no such alert.
     */
    async crops(alertId: string): Promise<{ paths: string[]; faces: { cameraId: string; frameId: string; faceIndex: number }[] } | null> {
      const alert = await prisma.alert.findUnique({
        where: { id: alertId },
        select: {
          snapshotPath: true,
          people: { select: { bestShotPath: true } },
          violations: { select: { cameraId: true, frameId: true, faceIndex: true } },
        },
      });
      if (!alert) return null;
      const paths = [alert.snapshotPath, ...alert.people.map((p) => p.bestShotPath)].filter((p): p is string => p !== null);
      return { paths, faces: alert.violations };
    },
  };
}

export type EvidenceRepository = ReturnType<typeof createEvidenceRepository>;
