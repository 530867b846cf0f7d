import type { Alert, Camera, Prisma, PrismaClient } from '../generated/sqlite/client.ts';
import { mergeSightings, type Assignment } from '../../domain/grouping.ts';
import type { Box } from '../../domain/tracker.ts';
import type { AlertEvent } from '../../realtime/events.ts';
import { peopleInclude, toPersonEvent, type PersonRow } from './people.ts';

/**
 * Alert persistence for the detection worker, and the one mapping from a stored
 * alert to the AlertEvent payload pushed to dashboards (the API reuses it).
 * The client type is the SQLite one; the PostgreSQL client has the same model API.
 */
export type AlertWithCamera = Alert & {
  camera: Pick<Camera, 'name' | 'latitude' | 'longitude' | 'address' | 'zone'>;
  /** Loaded with alertInclude; an alert read without them announces no people. */
  people?: PersonRow[];
};

/** Snapshots live under `${dataDir}/snapshots/`; the API serves that folder (logged-in users only) here. */
export const SNAPSHOTS_DIR = 'snapshots';
export const SNAPSHOT_URL_PREFIX = '/api/v1/snapshots/';

/** `snapshots/<cameraId>/<file>.jpg` (relative to the data dir) → `/api/v1/snapshots/<cameraId>/<file>.jpg`. */
export function snapshotUrl(relativePath: string | null): string | null {
  if (!relativePath) return null;
  const inside = relativePath.startsWith(`${SNAPSHOTS_DIR}/`) ? relativePath.slice(SNAPSHOTS_DIR.length + 1) : relativePath;
  return SNAPSHOT_URL_PREFIX + inside.split('/').map(encodeURIComponent).join('/');
}

const cameraSelect = { name: true, latitude: true, longitude: true, address: true, zone: true } as const;
/** What toAlertEvent needs: the camera summary and the people. */
export const alertInclude = { camera: { select: cameraSelect }, people: peopleInclude };

export function toAlertEvent(alert: AlertWithCamera): AlertEvent {
  return {
    id: alert.id,
    status: alert.status,
    cameraId: alert.cameraId,
    camera: {
      name: alert.camera.name,
      latitude: alert.camera.latitude,
      longitude: alert.camera.longitude,
      address: alert.camera.address,
      zone: alert.camera.zone,
    },
    createdAt: alert.createdAt.toISOString(),
    lastSeenAt: alert.lastSeenAt.toISOString(),
    violationCount: alert.violationCount,
    maskProbability: alert.maskProbability,
    snapshotUrl: snapshotUrl(alert.snapshotPath),
    frameSnapshotUrl: snapshotUrl(alert.frameSnapshotPath),
    assignedUnitId: alert.assignedUnitId,
    escalationLevel: alert.escalationLevel,
    people: (alert.people ?? []).map(toPersonEvent),
  };
}

export interface FrameViolationRecord {
  faceIndex: number;
  box: Box;
  faceScore: number;
  maskProbability: number;
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
  /** planGrouping()'s decision for each violation. */
  plan: readonly Assignment[];
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
  return {
    findWithCamera(id: string): Promise<AlertWithCamera | null> {
      return prisma.alert.findUnique({ where: { id }, include: alertInclude });
    },

    /** Alerts a frame created (a retried job re-announces them: events are at-least-once). */
    createdByFrame(cameraId: string, frameId: string): Promise<AlertWithCamera[]> {
      return prisma.alert.findMany({
        where: { cameraId, trackId: { startsWith: `${frameId}:` } },
        include: alertInclude,
        orderBy: { trackId: 'asc' },
      });
    },

    /**
     * Stores a frame's violations and their alerts in one transaction: new alerts
     * for new tracks, and for each touched alert an exact violationCount (counted,
     * not incremented, so a retry can never inflate it), first/last seen and the
     * highest P(no mask). Faces already stored for this frame are skipped.
     */
    recordFrame(input: RecordFrameInput): Promise<RecordFrameResult> {
      const byFace = new Map(input.violations.map((v) => [v.faceIndex, v]));
      for (const a of input.plan) {
        if (!byFace.has(a.faceIndex)) throw new GroupingPlanError(`plan refers to unknown face ${a.faceIndex}`);
      }
      return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
        const stored = await tx.violation.findMany({ where: { frameId: input.frameId }, select: { faceIndex: true } });
        const done = new Set(stored.map((s) => s.faceIndex));
        const created: string[] = [];
        const touched = new Map<string, { capturedAt: Date; maskProbability: number }[]>();

        for (const a of input.plan) {
          if (done.has(a.faceIndex)) continue;
          const v = byFace.get(a.faceIndex)!;
          let alertId: string;
          if (a.kind === 'create') {
            const key = { cameraId_trackId: { cameraId: input.cameraId, trackId: a.trackId } };
            const existing = await tx.alert.findUnique({ where: key, select: { id: true } });
            if (existing) {
              alertId = existing.id;
            } else {
              const alert = await tx.alert.create({
                data: {
                  cameraId: input.cameraId,
                  trackId: a.trackId,
                  firstSeenAt: input.capturedAt,
                  lastSeenAt: input.capturedAt,
                  maskProbability: v.maskProbability,
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
              maskProbability: v.maskProbability,
              faceSnapshotPath: v.faceSnapshotPath,
              frameSnapshotPath: input.frameSnapshotPath,
              alertId,
            },
          });
          const list = touched.get(alertId) ?? [];
          list.push({ capturedAt: input.capturedAt, maskProbability: v.maskProbability });
          touched.set(alertId, list);
        }

        for (const [alertId, sightings] of touched) {
          const current = await tx.alert.findUnique({
            where: { id: alertId },
            select: { firstSeenAt: true, lastSeenAt: true, maskProbability: true },
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
