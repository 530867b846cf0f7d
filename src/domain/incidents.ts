/**
 * Incidents (pure): an alert is an incident — one camera, one time window, one
 * or more confirmed people. For each analysed frame this decides:
 *   - which track each face continues (or which new track it starts),
 *   - which tracks are confirmed violators (people.ts: k of the last n),
 *   - which incident a newly confirmed person joins: the camera's open alert
 *     whose window covers the frame, else one new alert shared by everyone
 *     confirmed in this frame.
 *
 * All state comes from the database (stored sightings, people, alerts), so any
 * worker after any restart reaches the same decision.
 */
import { isOpen, type AlertStatus } from './lifecycle.ts';
import {
  confirmTrack,
  isViolatingSample,
  type ClassProbabilities,
  type Confirmation,
  type ConfirmationSettings,
  type ViolationThreshold,
} from './people.ts';
import {
  DEFAULT_TRACKER_OPTIONS,
  matchDetections,
  TrackerInputError,
  type Box,
  type Track,
  type TrackerOptions,
} from './tracker.ts';

/** A face of an earlier frame of this camera, with the track it belongs to. */
export interface StoredSighting {
  trackKey: string;
  box: Box;
  /** Capture time, ms. */
  at: number;
  probabilities: ClassProbabilities;
  /** As stored: whether the observation was a violation. */
  violating?: boolean;
}

/** A person already attached to an alert of this camera. */
export interface KnownPerson {
  id: string;
  alertId: string;
  alertStatus: AlertStatus;
  trackKey: string;
}

/** An alert of this camera that may absorb newly confirmed people. */
export interface IncidentView {
  id: string;
  status: AlertStatus;
  firstSeenAt: number;
  lastSeenAt: number;
}

export interface FrameFace {
  faceIndex: number;
  box: Box;
  probabilities: ClassProbabilities;
  /** The vision engine's verdict (`face.violation`: policy and detector gates); when given it decides the sighting. */
  violationAllowed?: boolean;
}

export interface IncidentPlanInput {
  frameId: string;
  /** Capture time of the frame, ms. */
  at: number;
  faces: readonly FrameFace[];
  /** Sightings of this camera captured within windowMs of `at` (excluding this frame). */
  history: readonly StoredSighting[];
  /** People whose trackKey appears in history. */
  people: readonly KnownPerson[];
  /** Alerts of this camera last seen within windowMs before `at` (or later). */
  incidents: readonly IncidentView[];
  confirmation: ConfirmationSettings;
  /** What a track's averaged probabilities must show to be confirmed (people.ts ViolationThreshold). */
  threshold: ViolationThreshold;
  /** An incident absorbs people confirmed up to this long after its last sighting; also the track gap. */
  windowMs: number;
  tracker?: Partial<Omit<TrackerOptions, 'cooldownMs'>>;
}

export interface PlannedSighting {
  faceIndex: number;
  trackKey: string;
  violating: boolean;
}

export type PersonPlan = { trackKey: string; confirmation: Confirmation } & (
  /** Not confirmed (yet): the sighting is stored, nobody is alerted. */
  | { kind: 'pending' }
  /** The track already is a person of an alert: update it (also when dismissed or marked false positive). */
  | { kind: 'update'; personId: string; alertId: string }
  /** Newly confirmed: joins the camera's open incident. */
  | { kind: 'join'; alertId: string }
  /** Newly confirmed and no incident is open: opens the frame's new incident. */
  | { kind: 'open'; incidentKey: string }
);

export interface IncidentPlan {
  sightings: PlannedSighting[];
  people: PersonPlan[];
  /** Key (Alert.trackId) of the alert this frame opens, or null. */
  incidentKey: string | null;
}

/**
 * A resolved alert is over: a person still there after the officer closed it
 * is a new incident. A dismissed one keeps its people, so a false positive
 * that stays in view is not raised again and again.
 */
export function keepsItsPeople(status: AlertStatus): boolean {
  return status !== 'RESOLVED';
}

/** Deterministic, so a retried job finds the alert (Alert.trackId) or track it created before. */
export function newTrackKey(frameId: string, faceIndex: number): string {
  return `${trackKeyPrefixOfFrame(frameId)}${faceIndex}`;
}

/** What the keys of every track (and so every alert) a frame started begin with. */
export function trackKeyPrefixOfFrame(frameId: string): string {
  return `${frameId}:`;
}

/** The open incident of the camera that covers `at`: the most recently seen one. */
export function chooseIncident(incidents: readonly IncidentView[], at: number, windowMs: number): IncidentView | null {
  let best: IncidentView | null = null;
  for (const inc of incidents) {
    if (!isOpen(inc.status)) continue;
    if (at < inc.firstSeenAt - windowMs || at > inc.lastSeenAt + windowMs) continue;
    if (!best || inc.lastSeenAt > best.lastSeenAt || (inc.lastSeenAt === best.lastSeenAt && inc.id < best.id)) best = inc;
  }
  return best;
}

/** What planSightings needs: the frame, its faces and the camera's recent sightings. */
export type SightingPlanInput = Pick<IncidentPlanInput, 'frameId' | 'at' | 'faces' | 'history' | 'threshold' | 'windowMs' | 'tracker'>;

/**
 * The frame's sightings: each face that continues a track of `history`, and each violating face that starts
 * one. Empty for a frame of masked faces that continue no track — such a frame changes nothing.
 */
export function planSightings(input: SightingPlanInput): { sightings: PlannedSighting[]; byTrack: Map<string, StoredSighting[]> } {
  if (!input.frameId) throw new TrackerInputError('frameId is required');
  if (!Number.isFinite(input.at)) throw new TrackerInputError('frame time must be a finite number of ms');
  if (!(input.windowMs > 0)) throw new TrackerInputError('windowMs must be positive');

  const byTrack = new Map<string, StoredSighting[]>();
  for (const s of input.history) {
    const list = byTrack.get(s.trackKey) ?? [];
    list.push(s);
    byTrack.set(s.trackKey, list);
  }
  const tracks: Track[] = [...byTrack.entries()].map(([id, list]) => ({
    id,
    observations: list.map((s) => ({ box: s.box, at: s.at })),
  }));
  const { matches } = matchDetections(
    tracks,
    input.faces.map((f) => ({ index: f.faceIndex, box: f.box })),
    input.at,
    { ...DEFAULT_TRACKER_OPTIONS, ...input.tracker, cooldownMs: input.windowMs },
  );
  const matched = new Map(matches.map((m) => [m.detectionIndex, m.trackId]));

  const sightings: PlannedSighting[] = [];
  for (const face of [...input.faces].sort((a, b) => a.faceIndex - b.faceIndex)) {
    const violating = isViolatingSample({ probabilities: face.probabilities, violating: face.violationAllowed }, input.threshold);
    const trackKey = matched.get(face.faceIndex);
    // A masked face only matters as a (negative) observation of a track that a violation started.
    if (trackKey) sightings.push({ faceIndex: face.faceIndex, trackKey, violating });
    else if (violating) sightings.push({ faceIndex: face.faceIndex, trackKey: newTrackKey(input.frameId, face.faceIndex), violating });
  }
  return { sightings, byTrack };
}

export function planIncidentFrame(input: IncidentPlanInput): IncidentPlan {
  const { sightings, byTrack } = planSightings(input);

  const personOf = new Map<string, KnownPerson>();
  for (const p of input.people) {
    if (!keepsItsPeople(p.alertStatus)) continue;
    const current = personOf.get(p.trackKey);
    // Two live people on one track cannot be made by this planner; prefer the stable (smallest) id if it happens.
    if (!current || p.id < current.id) personOf.set(p.trackKey, p);
  }

  const incident = chooseIncident(input.incidents, input.at, input.windowMs);
  const faceOf = new Map(input.faces.map((f) => [f.faceIndex, f]));
  const people: PersonPlan[] = [];
  let incidentKey: string | null = null;
  for (const s of sightings) {
    const face = faceOf.get(s.faceIndex)!;
    const samples = [
      ...(byTrack.get(s.trackKey) ?? []).map((h) => ({ at: h.at, probabilities: h.probabilities, violating: h.violating })),
      { at: input.at, probabilities: face.probabilities, violating: s.violating },
    ];
    const confirmation = confirmTrack(samples, input.at, input.confirmation, input.threshold);
    const person = personOf.get(s.trackKey);
    if (person) {
      people.push({ trackKey: s.trackKey, confirmation, kind: 'update', personId: person.id, alertId: person.alertId });
    } else if (!confirmation.confirmed) {
      people.push({ trackKey: s.trackKey, confirmation, kind: 'pending' });
    } else if (incident) {
      people.push({ trackKey: s.trackKey, confirmation, kind: 'join', alertId: incident.id });
    } else {
      incidentKey ??= newTrackKey(input.frameId, s.faceIndex);
      people.push({ trackKey: s.trackKey, confirmation, kind: 'open', incidentKey });
    }
  }
  return { sightings, people, incidentKey };
}
