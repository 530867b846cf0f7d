/**
 * Alert grouping (pure): turns the no-mask faces of one frame into "attach to
 * this open alert" or "create a new alert" decisions, so one person standing
 * in front of a camera for a minute is one alert, not 120.
 *
 * The track state is derived from the violations already attached to alerts
 * (their boxes and capture times), so any worker process, after any restart,
 * reaches the same decision from the database alone.
 */
import type { AlertStatus } from './lifecycle.ts';
import {
  DEFAULT_TRACKER_OPTIONS,
  matchDetections,
  TrackerInputError,
  type Box,
  type Track,
  type TrackerOptions,
} from './tracker.ts';

/** A past violation already grouped into an alert of the same camera. */
export interface Sighting {
  alertId: string;
  alertStatus: AlertStatus;
  box: Box;
  capturedAt: Date;
}

/** A no-mask face found in the frame being processed. */
export interface FrameViolation {
  faceIndex: number;
  box: Box;
  noMaskProbability: number;
}

/** Identifies a new person track: the frame and face it was first seen in (deterministic across retries). */
export interface TrackKey {
  frameId: string;
  faceIndex: number;
}

export type Assignment =
  | { faceIndex: number; kind: 'attach'; alertId: string }
  | { faceIndex: number; kind: 'create'; track: TrackKey };

export interface GroupingInput {
  frameId: string;
  capturedAt: Date;
  violations: readonly FrameViolation[];
  /** Sightings of this camera within historyWindow(capturedAt, cooldownSeconds). */
  history: readonly Sighting[];
  cooldownSeconds: number;
  tracker?: Partial<Omit<TrackerOptions, 'cooldownMs'>>;
}

/**
 * A resolved alert no longer absorbs sightings: the person still there after
 * the officer closed it is a new incident. A dismissed one does, so a false
 * positive that stays in view is not raised again and again.
 */
export function absorbsSightings(status: AlertStatus): boolean {
  return status !== 'RESOLVED';
}

/** The capture-time window of history a grouping decision needs. */
export function historyWindow(capturedAt: Date, cooldownSeconds: number): { from: Date; to: Date } {
  const ms = cooldownSeconds * 1000;
  return { from: new Date(capturedAt.getTime() - ms), to: new Date(capturedAt.getTime() + ms) };
}

/** Deterministic, so a retried job that created the alert finds the same one. */
export function newTrack(frameId: string, faceIndex: number): TrackKey {
  return { frameId, faceIndex };
}

export function tracksFromSightings(sightings: readonly Sighting[]): Track[] {
  const byAlert = new Map<string, { box: Box; at: number }[]>();
  for (const s of sightings) {
    if (!absorbsSightings(s.alertStatus)) continue;
    const list = byAlert.get(s.alertId) ?? [];
    list.push({ box: s.box, at: s.capturedAt.getTime() });
    byAlert.set(s.alertId, list);
  }
  return [...byAlert.entries()].map(([id, observations]) => ({ id, observations }));
}

export function planGrouping(input: GroupingInput): Assignment[] {
  if (!input.frameId) throw new TrackerInputError('frameId is required');
  const at = input.capturedAt.getTime();
  if (!Number.isFinite(at)) throw new TrackerInputError('capturedAt is not a valid date');
  if (!(input.cooldownSeconds > 0)) throw new TrackerInputError('cooldownSeconds must be positive');
  const { matches } = matchDetections(
    tracksFromSightings(input.history),
    input.violations.map((v) => ({ index: v.faceIndex, box: v.box })),
    at,
    { ...DEFAULT_TRACKER_OPTIONS, ...input.tracker, cooldownMs: input.cooldownSeconds * 1000 },
  );
  const matched = new Map(matches.map((m) => [m.detectionIndex, m.trackId]));
  return input.violations.map((v): Assignment => {
    const alertId = matched.get(v.faceIndex);
    return alertId
      ? { faceIndex: v.faceIndex, kind: 'attach', alertId }
      : { faceIndex: v.faceIndex, kind: 'create', track: newTrack(input.frameId, v.faceIndex) };
  });
}

export interface AlertSummary {
  firstSeenAt: Date;
  lastSeenAt: Date;
  noMaskProbability: number;
}

/** Folds new sightings into an alert; order-independent, as frames may arrive out of order. */
export function mergeSightings(
  alert: AlertSummary,
  sightings: readonly { capturedAt: Date; noMaskProbability: number }[],
): AlertSummary {
  let { firstSeenAt, lastSeenAt, noMaskProbability } = alert;
  for (const s of sightings) {
    if (s.capturedAt < firstSeenAt) firstSeenAt = s.capturedAt;
    if (s.capturedAt > lastSeenAt) lastSeenAt = s.capturedAt;
    noMaskProbability = Math.max(noMaskProbability, s.noMaskProbability);
  }
  return { firstSeenAt, lastSeenAt, noMaskProbability };
}
