import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chooseIncident,
  planIncidentFrame,
  planSightings,
  type IncidentView,
  type KnownPerson,
  type StoredSighting,
} from '../../src/domain/incidents.ts';
import type { AlertStatus } from '../../src/domain/lifecycle.ts';
import type { ClassProbabilities, ConfirmationSettings } from '../../src/domain/people.ts';
import type { Box } from '../../src/domain/tracker.ts';

const P = (p: number): ClassProbabilities => ({ mask: 1 - p, no_mask: p, mask_incorrect: 0 });
const WINDOW = 60_000;

/**
 * A tiny in-memory "database" that applies each plan the way the worker's
 * repository does, so a sequence of frames can be replayed.
 */
function world(confirmation: ConfirmationSettings = { confirmFrames: 2, confirmWindow: 3 }) {
  const history: StoredSighting[] = [];
  const people: (KnownPerson & { frames: number })[] = [];
  const alerts: (IncidentView & { key: string })[] = [];
  const events: { type: 'created' | 'updated'; alertId: string }[] = [];
  let frameNo = 0;
  return {
    history,
    people,
    alerts,
    events,
    setStatus(alertId: string, status: AlertStatus) {
      alerts.find((a) => a.id === alertId)!.status = status;
      for (const p of people) if (p.alertId === alertId) p.alertStatus = status;
    },
    frame(at: number, faces: { box: Box; p: number }[]) {
      const frameId = `f${frameNo++}`;
      const plan = planIncidentFrame({
        frameId,
        at,
        faces: faces.map((f, faceIndex) => ({ faceIndex, box: f.box, probabilities: P(f.p) })),
        history: history.filter((s) => Math.abs(s.at - at) <= WINDOW),
        people,
        incidents: alerts,
        confirmation,
        threshold: 0.5,
        windowMs: WINDOW,
      });
      for (const s of plan.sightings) history.push({ trackKey: s.trackKey, box: faces[s.faceIndex]!.box, at, probabilities: P(faces[s.faceIndex]!.p) });
      const touched = new Set<string>();
      let created: string | null = null;
      for (const p of plan.people) {
        let alertId: string | null = null;
        if (p.kind === 'update') alertId = p.alertId;
        if (p.kind === 'join') alertId = p.alertId;
        if (p.kind === 'open') {
          let alert = alerts.find((a) => a.key === p.incidentKey);
          if (!alert) {
            alert = { id: `A${alerts.length}`, key: p.incidentKey, status: 'NEW', firstSeenAt: at, lastSeenAt: at };
            alerts.push(alert);
            created = alert.id;
          }
          alertId = alert.id;
        }
        if (!alertId) continue;
        if (p.kind !== 'update') people.push({ id: `P${people.length}`, alertId, alertStatus: alerts.find((a) => a.id === alertId)!.status, trackKey: p.trackKey, frames: 0 });
        const alert = alerts.find((a) => a.id === alertId)!;
        alert.lastSeenAt = Math.max(alert.lastSeenAt, at);
        if (alertId !== created) touched.add(alertId);
      }
      if (created) events.push({ type: 'created', alertId: created });
      for (const id of touched) events.push({ type: 'updated', alertId: id });
      return plan;
    },
  };
}

const A: Box = [100, 100, 40, 44];
const B: Box = [300, 110, 42, 46];
const C: Box = [500, 90, 38, 40];
const jitter = (b: Box, i: number): Box => [b[0] + (i % 3) - 1, b[1] + ((i * 7) % 3) - 1, b[2], b[3]];

describe('planIncidentFrame: confirmation', () => {
  it('alerts nobody on one violating frame with 2 of 3, and opens the alert on the second', () => {
    const w = world();
    const first = w.frame(0, [{ box: A, p: 0.9 }]);
    assert.equal(first.people[0]!.kind, 'pending');
    assert.equal(w.alerts.length, 0);
    w.frame(500, [{ box: jitter(A, 1), p: 0.8 }]);
    assert.equal(w.alerts.length, 1);
    assert.equal(w.people.length, 1);
  });

  it('does not alert on a single false-positive flicker in a masked track', () => {
    const w = world();
    const ps = [0.1, 0.9, 0.1, 0.2, 0.1, 0.05, 0.6, 0.1];
    ps.forEach((p, i) => w.frame(i * 500, [{ box: jitter(A, i), p }]));
    assert.equal(w.alerts.length, 0);
  });

  it('a snapshot camera (1 of 1) alerts on the first frame', () => {
    const w = world({ confirmFrames: 1, confirmWindow: 1 });
    w.frame(0, [{ box: A, p: 0.7 }]);
    assert.equal(w.alerts.length, 1);
  });
});

describe('planIncidentFrame: incidents', () => {
  it('a crowd confirmed in one frame is ONE alert with N people', () => {
    const w = world({ confirmFrames: 1, confirmWindow: 1 });
    const plan = w.frame(0, [{ box: A, p: 0.9 }, { box: B, p: 0.8 }, { box: C, p: 0.95 }, { box: [700, 100, 40, 40], p: 0.05 }]);
    assert.equal(w.alerts.length, 1);
    assert.equal(w.people.length, 3);
    assert.equal(plan.incidentKey, 'f0:0');
    assert.deepEqual(w.events, [{ type: 'created', alertId: 'A0' }]);
  });

  it('an 8-frame clip of three people is one alert, each person once', () => {
    const w = world();
    for (let i = 0; i < 8; i++) w.frame(i * 500, [A, B, C].map((b) => ({ box: jitter(b, i), p: 0.85 })));
    assert.equal(w.alerts.length, 1);
    assert.equal(w.people.length, 3);
    assert.equal(new Set(w.people.map((p) => p.trackKey)).size, 3);
  });

  it('a person confirmed later at the same camera joins the open alert (alert.updated), not a new one', () => {
    const w = world();
    w.frame(0, [{ box: A, p: 0.9 }]);
    w.frame(500, [{ box: A, p: 0.9 }]);
    w.frame(20_000, [{ box: A, p: 0.9 }, { box: B, p: 0.9 }]);
    w.frame(20_500, [{ box: A, p: 0.9 }, { box: B, p: 0.9 }]);
    assert.equal(w.alerts.length, 1);
    assert.equal(w.people.length, 2);
    assert.deepEqual(w.events.at(-1), { type: 'updated', alertId: 'A0' });
  });

  it('opens a new alert once the incident window has passed', () => {
    const w = world();
    w.frame(0, [{ box: A, p: 0.9 }]);
    w.frame(500, [{ box: A, p: 0.9 }]);
    w.frame(500 + WINDOW + 1000, [{ box: B, p: 0.9 }]);
    w.frame(500 + WINDOW + 1500, [{ box: B, p: 0.9 }]);
    assert.equal(w.alerts.length, 2);
  });

  it('opens a new alert when the incident has been resolved; a dismissed one keeps its people silent', () => {
    const w = world();
    w.frame(0, [{ box: A, p: 0.9 }]);
    w.frame(500, [{ box: A, p: 0.9 }]);
    w.setStatus('A0', 'DISMISSED');
    w.frame(1000, [{ box: A, p: 0.9 }]); // same track: stays with the dismissed alert
    assert.equal(w.alerts.length, 1);
    w.frame(1500, [{ box: A, p: 0.9 }, { box: B, p: 0.9 }]);
    w.frame(2000, [{ box: A, p: 0.9 }, { box: B, p: 0.9 }]); // B is new: the dismissed alert does not absorb it
    assert.equal(w.alerts.length, 2);
    w.setStatus('A1', 'RESOLVED');
    w.frame(2500, [{ box: A, p: 0.9 }, { box: B, p: 0.9 }]); // B still there after resolution: a new incident
    assert.equal(w.alerts.length, 3);
    assert.equal(w.people.filter((p) => p.alertId === 'A2').length, 1);
  });

  it('keeps the same people across frames arriving out of order', () => {
    const w = world();
    for (const i of [0, 2, 1, 4, 3, 5]) w.frame(i * 500, [{ box: jitter(A, i), p: 0.9 }, { box: jitter(B, i), p: 0.9 }]);
    assert.equal(w.alerts.length, 1);
    assert.equal(w.people.length, 2);
  });

  it('a masked face only continues a track, it never starts one', () => {
    const w = world();
    const plan = w.frame(0, [{ box: A, p: 0.1 }]);
    assert.deepEqual(plan.sightings, []);
    w.frame(500, [{ box: A, p: 0.9 }]);
    const later = w.frame(1000, [{ box: A, p: 0.2 }]);
    assert.equal(later.sightings.length, 1);
    assert.equal(later.sightings[0]!.violating, false);
  });
});

describe('planIncidentFrame: engine veto', () => {
  it('a face the vision engine vetoed (unsure detection, tiny) never counts as a violation', () => {
    const plan = planIncidentFrame({
      frameId: 'v',
      at: 0,
      faces: [{ faceIndex: 0, box: A, probabilities: P(0.99), violationAllowed: false }],
      history: [],
      people: [],
      incidents: [],
      confirmation: { confirmFrames: 1, confirmWindow: 1 },
      threshold: 0.5,
      windowMs: WINDOW,
    });
    assert.deepEqual(plan.sightings, []);
    assert.deepEqual(plan.people, []);
  });
});

describe('chooseIncident', () => {
  it('picks the most recently seen open alert covering the time', () => {
    const alerts: IncidentView[] = [
      { id: 'old', status: 'DISPATCHED', firstSeenAt: 0, lastSeenAt: 10_000 },
      { id: 'new', status: 'NEW', firstSeenAt: 5_000, lastSeenAt: 30_000 },
      { id: 'closed', status: 'RESOLVED', firstSeenAt: 0, lastSeenAt: 40_000 },
    ];
    assert.equal(chooseIncident(alerts, 35_000, WINDOW)!.id, 'new');
    assert.equal(chooseIncident(alerts, 30_000 + WINDOW + 1, WINDOW), null);
  });
});

describe('planIncidentFrame: confirmation on averaged class probabilities', () => {
  const B: Box = [100, 100, 40, 40];
  const unsure: ClassProbabilities = { mask: 0.05, no_mask: 0.1, mask_incorrect: 0.85 };
  const plan = (at: number, probabilities: ClassProbabilities, history: StoredSighting[], threshold: number | { noMask: number; incorrect: number }) =>
    planIncidentFrame({
      frameId: `u${at}`,
      at,
      faces: [{ faceIndex: 0, box: B, probabilities, violationAllowed: true }],
      history,
      people: [],
      incidents: [],
      confirmation: { confirmFrames: 2, confirmWindow: 2 },
      threshold,
      windowMs: WINDOW,
    });
  it('a masked face the head keeps calling "incorrect" at 0.85 is not confirmed under the per-class default, a clear no_mask one is', () => {
    const perClass = { noMask: 0.4, incorrect: 0.95 };
    const first = plan(0, unsure, [], perClass);
    const history: StoredSighting[] = [{ trackKey: first.sightings[0]!.trackKey, box: B, at: 0, probabilities: unsure, violating: true }];
    assert.equal(plan(500, unsure, history, perClass).people[0]!.kind, 'pending');
    // The old sum rule (P(no mask) + P(mask incorrect) ≥ 0.5) opened an alert for it.
    assert.equal(plan(500, unsure, history, 0.5).people[0]!.kind, 'open');
    const clear = P(0.7);
    const seen: StoredSighting[] = [{ trackKey: first.sightings[0]!.trackKey, box: B, at: 0, probabilities: clear, violating: true }];
    const opened = plan(500, clear, seen, perClass).people[0]!;
    assert.equal(opened.kind, 'open');
    assert.ok(Math.abs(opened.confirmation.noMaskProbability - 0.7) < 1e-9);
  });
});

describe('planSightings', () => {
  const track: StoredSighting = { trackKey: 'f0:0', box: [100, 100, 40, 40], at: 0, probabilities: P(0.95), violating: true };
  const plan = (faces: { box: Box; p: number }[]) =>
    planSightings({
      frameId: 'f1',
      at: 1000,
      faces: faces.map((f, faceIndex) => ({ faceIndex, box: f.box, probabilities: P(f.p) })),
      history: [track],
      threshold: 0.5,
      windowMs: WINDOW,
    }).sightings;

  it('a masked face on a track is a non-violating sighting of it', () => {
    assert.deepEqual(plan([{ box: [102, 101, 40, 40], p: 0.05 }]), [{ faceIndex: 0, trackKey: 'f0:0', violating: false }]);
  });

  it('masked faces away from every track change nothing (the worker then skips the transaction)', () => {
    assert.deepEqual(plan([{ box: [400, 300, 40, 40], p: 0.05 }, { box: [0, 0, 30, 30], p: 0.1 }]), []);
  });

  it('a violating face away from every track starts one', () => {
    assert.deepEqual(plan([{ box: [400, 300, 40, 40], p: 0.9 }]), [{ faceIndex: 0, trackKey: 'f1:0', violating: true }]);
  });
});
