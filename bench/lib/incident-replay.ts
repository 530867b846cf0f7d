/**
 * Replays analysed frames of one camera through the pure incident planner with
 * an in-memory store that applies plans the way the worker's repository does
 * (sightings, people, alerts). Used by bench:incidents to choose k/n, the
 * confirmation rule, the averaged threshold and the sighting gate on validation
 * clips without a server round trip per setting. Each face's sighting verdict is
 * the worker's (domain/people.ts sightingAllowed on the engine's output).
 */
import { planIncidentFrame, type IncidentView, type KnownPerson, type StoredSighting } from '../../src/domain/incidents.ts';
import {
  sightingAllowed,
  toProbabilities,
  type ConfirmationSettings,
  type SightingGate,
  type ViolationThreshold,
} from '../../src/domain/people.ts';
import type { Box, FaceResult } from '../../src/vision/types.ts';

export interface ReplaySettings {
  confirmation: ConfirmationSettings;
  /** What a track's averaged probabilities must show to be confirmed. */
  threshold: ViolationThreshold;
  gate: SightingGate;
  windowMs: number;
}

export interface ReplayPerson {
  alertId: string;
  trackKey: string;
  /** Box in the frame where last seen, and that frame's index. */
  box: Box;
  lastFrame: number;
  /** Index of the frame in which the person was confirmed (joined an alert). */
  confirmedFrame: number;
}

export interface Replay {
  people: ReplayPerson[];
  /** Per frame: face index → track key of its sighting (faces that started no track are absent). */
  tracks: Map<number, string>[];
  /** Per frame: face index → whether it was a violating sighting. */
  violating: Map<number, boolean>[];
}

export function replayClip(frames: readonly { at: number; faces: readonly FaceResult[] }[], s: ReplaySettings): Replay {
  const history: StoredSighting[] = [];
  const people: (KnownPerson & { last: { box: Box; frame: number; at: number }; confirmedFrame: number })[] = [];
  const alerts: (IncidentView & { key: string })[] = [];
  const tracks: Map<number, string>[] = [];
  const violating: Map<number, boolean>[] = [];
  frames.forEach((frame, frameIndex) => {
    const faces = frame.faces.map((f, faceIndex) => ({
      faceIndex,
      box: f.box,
      probabilities: toProbabilities(f),
      violationAllowed: sightingAllowed(f, s.gate),
    }));
    const plan = planIncidentFrame({
      frameId: `f${frameIndex}`,
      at: frame.at,
      faces,
      history: history.filter((h) => Math.abs(h.at - frame.at) <= s.windowMs),
      people,
      incidents: alerts,
      confirmation: s.confirmation,
      threshold: s.threshold,
      windowMs: s.windowMs,
    });
    const boxOf = new Map(faces.map((f) => [f.faceIndex, f]));
    tracks.push(new Map(plan.sightings.map((sg) => [sg.faceIndex, sg.trackKey])));
    violating.push(new Map(plan.sightings.map((sg) => [sg.faceIndex, sg.violating])));
    for (const sg of plan.sightings) {
      const f = boxOf.get(sg.faceIndex)!;
      history.push({ trackKey: sg.trackKey, box: f.box, at: frame.at, probabilities: f.probabilities, violating: sg.violating });
    }
    for (const p of plan.people) {
      if (p.kind === 'pending') continue;
      const face = boxOf.get(plan.sightings.find((sg) => sg.trackKey === p.trackKey)!.faceIndex)!;
      let alertId: string;
      if (p.kind === 'open') {
        let alert = alerts.find((a) => a.key === p.incidentKey);
        if (!alert) {
          alert = { id: `A${alerts.length}`, key: p.incidentKey, status: 'NEW', firstSeenAt: frame.at, lastSeenAt: frame.at };
          alerts.push(alert);
        }
        alertId = alert.id;
      } else alertId = p.alertId;
      const last = { box: face.box, frame: frameIndex, at: frame.at };
      if (p.kind === 'update') {
        const person = people.find((x) => x.id === p.personId)!;
        if (frame.at >= person.last.at) person.last = last;
      } else {
        people.push({ id: `P${people.length}`, alertId, alertStatus: 'NEW', trackKey: p.trackKey, last, confirmedFrame: frameIndex });
      }
      const alert = alerts.find((a) => a.id === alertId)!;
      alert.lastSeenAt = Math.max(alert.lastSeenAt, frame.at);
    }
  });
  return {
    people: people.map((p) => ({ alertId: p.alertId, trackKey: p.trackKey, box: p.last.box, lastFrame: p.last.frame, confirmedFrame: p.confirmedFrame })),
    tracks,
    violating,
  };
}
