/**
 * Replays analysed frames of one camera through the pure incident planner with
 * an in-memory store that applies plans the way the worker's repository does
 * (sightings, people, alerts). Used by bench:incidents to choose k/n and the
 * violation threshold on validation clips without a server round trip per setting.
 */
import { planIncidentFrame, type IncidentView, type KnownPerson, type StoredSighting } from '../../src/domain/incidents.ts';
import { toProbabilities, type ConfirmationSettings } from '../../src/domain/people.ts';
import type { FaceResult } from '../../src/vision/types.ts';
import type { Box } from '../../src/vision/types.ts';

export interface ReplaySettings {
  confirmation: ConfirmationSettings;
  threshold: number;
  /** Faces smaller than this (min side, px) are ignored (the engine's MASKWATCH_MIN_FACE_PX). */
  minFaceSide: number;
  windowMs: number;
}

export interface ReplayPerson {
  alertId: string;
  /** Box in the frame where last seen, and that frame's index. */
  box: Box;
  lastFrame: number;
}

export function replayClip(frames: readonly { at: number; faces: readonly FaceResult[] }[], s: ReplaySettings): ReplayPerson[] {
  const history: StoredSighting[] = [];
  const people: (KnownPerson & { last: { box: Box; frame: number; at: number } })[] = [];
  const alerts: (IncidentView & { key: string })[] = [];
  frames.forEach((frame, frameIndex) => {
    const faces = frame.faces
      .map((f, faceIndex) => ({ faceIndex, box: f.box, probabilities: toProbabilities(f), violationAllowed: f.label !== 'mask' }))
      .filter((f) => Math.min(f.box[2], f.box[3]) >= s.minFaceSide);
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
        people.push({ id: `P${people.length}`, alertId, alertStatus: 'NEW', trackKey: p.trackKey, last });
      }
      const alert = alerts.find((a) => a.id === alertId)!;
      alert.lastSeenAt = Math.max(alert.lastSeenAt, frame.at);
    }
  });
  return people.map((p) => ({ alertId: p.alertId, box: p.last.box, lastFrame: p.last.frame }));
}
