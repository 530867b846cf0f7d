import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  historyWindow,
  mergeSightings,
  newTrack,
  planGrouping,
  type Assignment,
  type Sighting,
} from '../../src/domain/grouping.ts';
import type { Box } from '../../src/domain/tracker.ts';

const T0 = new Date('2026-01-01T12:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const face: Box = [200, 120, 48, 52];

/**
 * Replays frames through planGrouping the way the worker does: each decision
 * becomes history for the next frame. Returns the alert id of every violation.
 */
function replay(frames: { id: string; at: Date; boxes: Box[] }[], cooldownSeconds = 60) {
  const history: Sighting[] = [];
  const alertOf: string[][] = [];
  for (const frame of frames) {
    const plan = planGrouping({
      frameId: frame.id,
      capturedAt: frame.at,
      violations: frame.boxes.map((box, faceIndex) => ({ faceIndex, box, noMaskProbability: 0.9 })),
      history: history.filter((s) => Math.abs(s.capturedAt.getTime() - frame.at.getTime()) <= cooldownSeconds * 1000),
      cooldownSeconds,
    });
    alertOf.push(
      plan.map((a: Assignment) => {
        const alertId = a.kind === 'attach' ? a.alertId : `alert-of-${a.track.frameId}:${a.track.faceIndex}`;
        history.push({ alertId, alertStatus: 'NEW', box: frame.boxes[a.faceIndex]!, capturedAt: frame.at });
        return alertId;
      }),
    );
  }
  return alertOf;
}

describe('planGrouping', () => {
  it('groups a person standing for a minute at 2 fps into ONE alert, not 120', () => {
    const frames = Array.from({ length: 120 }, (_, i) => ({
      id: `f${i}`,
      at: at(i * 500),
      // jitter of a few pixels, and every 7th frame the detector misses the face
      boxes: i % 7 === 3 ? [] : [[face[0] + (i % 3), face[1] - (i % 2), face[2], face[3]] as Box],
    }));
    const alerts = new Set(replay(frames).flat());
    assert.equal(alerts.size, 1);
  });

  it('opens a new alert when the same place is seen again after the cooldown', () => {
    const alerts = replay([
      { id: 'a', at: at(0), boxes: [face] },
      { id: 'b', at: at(30_000), boxes: [face] },
      { id: 'c', at: at(30_000 + 61_000), boxes: [face] },
    ]);
    assert.equal(alerts[0]![0], alerts[1]![0]);
    assert.notEqual(alerts[1]![0], alerts[2]![0]);
  });

  it('creates one alert per person when two stand side by side', () => {
    const other: Box = [320, 118, 50, 50];
    const alerts = replay(
      Array.from({ length: 10 }, (_, i) => ({ id: `f${i}`, at: at(i * 1000), boxes: [face, other] })),
    );
    assert.equal(new Set(alerts.map((a) => a[0])).size, 1);
    assert.equal(new Set(alerts.map((a) => a[1])).size, 1);
    assert.notEqual(alerts[0]![0], alerts[0]![1]);
  });

  it('uses a deterministic track id for a new alert, so a retried job finds it again', () => {
    const input = {
      frameId: 'frame-1',
      capturedAt: T0,
      violations: [{ faceIndex: 2, box: face, noMaskProbability: 0.8 }],
      history: [],
      cooldownSeconds: 60,
    };
    assert.deepEqual(planGrouping(input), [{ faceIndex: 2, kind: 'create', track: newTrack('frame-1', 2) }]);
    assert.deepEqual(planGrouping(input), planGrouping(input));
  });

  it('does not attach sightings to a resolved alert, but does to a dismissed one', () => {
    const base = { frameId: 'x', capturedAt: at(1000), violations: [{ faceIndex: 0, box: face, noMaskProbability: 0.9 }], cooldownSeconds: 60 };
    const resolved = planGrouping({ ...base, history: [{ alertId: 'r', alertStatus: 'RESOLVED', box: face, capturedAt: T0 }] });
    assert.equal(resolved[0]!.kind, 'create');
    const dismissed = planGrouping({ ...base, history: [{ alertId: 'd', alertStatus: 'DISMISSED', box: face, capturedAt: T0 }] });
    assert.deepEqual(dismissed[0], { faceIndex: 0, kind: 'attach', alertId: 'd' });
  });

  it('rejects invalid input', () => {
    assert.throws(
      () => planGrouping({ frameId: 'x', capturedAt: new Date('nope'), violations: [], history: [], cooldownSeconds: 60 }),
      /capturedAt/,
    );
    assert.throws(
      () => planGrouping({ frameId: 'x', capturedAt: T0, violations: [], history: [], cooldownSeconds: 0 }),
      /cooldownSeconds/,
    );
  });
});

describe('historyWindow / mergeSightings', () => {
  it('spans the cooldown on both sides of the capture time', () => {
    assert.deepEqual(historyWindow(at(100_000), 60), { from: at(40_000), to: at(160_000) });
  });

  it('merges sightings order-independently: first/last seen and max probability', () => {
    const alert = { firstSeenAt: at(5000), lastSeenAt: at(5000), noMaskProbability: 0.7 };
    const sightings = [
      { capturedAt: at(9000), noMaskProbability: 0.6 },
      { capturedAt: at(1000), noMaskProbability: 0.95 },
    ];
    const expected = { firstSeenAt: at(1000), lastSeenAt: at(9000), noMaskProbability: 0.95 };
    assert.deepEqual(mergeSightings(alert, sightings), expected);
    assert.deepEqual(mergeSightings(alert, [...sightings].reverse()), expected);
  });
});
