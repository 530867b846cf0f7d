/**
 * The one mapping from stored rows to what clients see: an alert as pushed to
 * dashboards and webhooks and returned by the API (AlertEvent), a violation as
 * the API lists it, and snapshot paths as URLs.
 */
import type { AlertRecord } from '../db/repositories/alerts.ts';
import type { CameraSummary } from '../db/repositories/alerts.ts';
import type { ViolationPerson, ViolationRecord } from '../db/repositories/violations.ts';
import type { AlertEvent, AlertPersonEvent } from '../realtime/events.ts';
import type { AlertStatus } from '../contracts/vocabulary.ts';
import type { PersonRecord } from '../db/repositories/people.ts';
import { SNAPSHOT_ROUTE_PREFIX } from '../contracts/vocabulary.ts';
import { resolutionOutcomeOf } from '../domain/lifecycle.ts';

/**
 * Snapshot files live under `${dataDir}/snapshots/…`; the database stores their
 * path relative to the data dir (e.g. `snapshots/<cameraId>/<frameId>-0.jpg`).
 * Clients fetch face crops from `/api/v1/snapshots/<path below snapshots/>` and
 * frames from the alert's frame route (alertFrameUrl), with their login token as
 * a bearer header (never in the URL).
 */
export const SNAPSHOTS_DIR = 'snapshots';

/**
 * A violating frame is stored once, at `snapshots/<cameraId>/<frameId>-frame.jpg` (faces that are
 * not violations blurred, no overlay), and never served as it is: each alert shows it through
 * `/api/v1/alerts/<alertId>/frames/<frameId>`, rendered for that alert (services/evidence.ts).
 */
export function storedFramePath(cameraId: string, frameId: string): string {
  return `${SNAPSHOTS_DIR}/${cameraId}/${frameId}-frame.jpg`;
}

/** A violating face's crop, `snapshots/<cameraId>/<frameId>-<faceIndex>.jpg`. */
export function storedCropPath(cameraId: string, frameId: string, faceIndex: number): string {
  return `${SNAPSHOTS_DIR}/${cameraId}/${frameId}-${faceIndex}.jpg`;
}

const STORED_FRAME = /^snapshots\/[A-Za-z0-9_-]+\/([A-Za-z0-9_-]+)-frame\.jpg$/;

/** The frame id of a stored frame path; null for anything else (a face crop, a foreign path). */
export function frameIdOfStoredFrame(relativePath: string | null | undefined): string | null {
  return (relativePath && STORED_FRAME.exec(relativePath)?.[1]) || null;
}

/** The alert's view of a stored frame; null when there is no alert or no frame (e.g. after retention). */
export function alertFrameUrl(alertId: string | null | undefined, framePath: string | null | undefined): string | null {
  const frameId = frameIdOfStoredFrame(framePath);
  if (!alertId || !frameId) return null;
  return `/api/v1/alerts/${encodeURIComponent(alertId)}/frames/${encodeURIComponent(frameId)}`;
}

export function snapshotUrl(relativePath: string | null | undefined): string | null {
  if (!relativePath) return null;
  const rel = relativePath.replace(/\\/g, '/').replace(/^\/+/, '').replace(/^snapshots\//, '');
  return SNAPSHOT_ROUTE_PREFIX + rel.split('/').map(encodeURIComponent).join('/');
}

function cameraView(c: CameraSummary): CameraSummary {
  return { name: c.name, latitude: c.latitude, longitude: c.longitude, address: c.address, zone: c.zone };
}

export function toAlertEvent(alert: AlertRecord): AlertEvent {
  return {
    id: alert.id,
    status: alert.status,
    cameraId: alert.cameraId,
    camera: cameraView(alert.camera),
    createdAt: alert.createdAt.toISOString(),
    lastSeenAt: alert.lastSeenAt.toISOString(),
    violationCount: alert.violationCount,
    noMaskProbability: alert.noMaskProbability,
    maskProbability: alert.noMaskProbability,
    snapshotUrl: snapshotUrl(alert.snapshotPath),
    frameSnapshotUrl: alertFrameUrl(alert.id, alert.frameSnapshotPath),
    assignedUnitId: alert.assignedUnitId,
    escalationLevel: alert.escalationLevel,
    people: alert.people.map(toPersonEvent),
    resolutionOutcome: resolutionOutcomeOf(alert.resolutionOutcome),
    noteCount: alert.noteCount,
  };
}

/** A confirmed person of an incident, as in the alert contract (`people` of AlertEvent). */
export function toPersonEvent(p: PersonRecord): AlertPersonEvent {
  return {
    id: p.id,
    label: p.label === 'mask_incorrect' ? 'mask_incorrect' : 'no_mask',
    box: [p.boxX, p.boxY, p.boxW, p.boxH],
    frames: p._count.violations,
    noMaskProbability: p.noMaskProbability,
    snapshotUrl: snapshotUrl(p.bestShotPath),
    firstSeenAt: p.firstSeenAt.toISOString(),
    lastSeenAt: p.lastSeenAt.toISOString(),
    maskedSince: p.maskedSince?.toISOString() ?? null,
    frameSnapshotUrl: alertFrameUrl(p.alertId, p.lastFrameSnapshotPath),
    falsePositive: p.falsePositive,
    falsePositiveReason: p.falsePositiveReason,
  };
}

export function toViolationView(v: ViolationRecord & { camera: CameraSummary; alert: { status: AlertStatus } | null; person: ViolationPerson | null }) {
  return {
    id: v.id,
    cameraId: v.cameraId,
    camera: cameraView(v.camera),
    frameId: v.frameId,
    faceIndex: v.faceIndex,
    capturedAt: v.capturedAt.toISOString(),
    receivedAt: v.receivedAt.toISOString(),
    box: [v.boxX, v.boxY, v.boxW, v.boxH],
    faceScore: v.faceScore,
    noMaskProbability: v.noMaskProbability,
    maskProbability: v.noMaskProbability,
    snapshotUrl: snapshotUrl(v.faceSnapshotPath),
    frameSnapshotUrl: alertFrameUrl(v.alertId, v.frameSnapshotPath),
    alertId: v.alertId,
    alertStatus: v.alert?.status ?? null,
    personId: v.personId,
    label: v.person?.label ?? null,
    falsePositive: v.person?.falsePositive ?? false,
  };
}
