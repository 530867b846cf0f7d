import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bestShot,
  confirmationProblem,
  confirmTrack,
  DEFAULT_CONFIRMATION_THRESHOLD,
  DEFAULT_SIGHTING_GATE,
  meetsThreshold,
  resolveConfirmation,
  sightingAllowed,
  shotQuality,
  toProbabilities,
  violationProbability,
  type ClassProbabilities,
} from '../../src/domain/people.ts';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

const noMask = (p: number): ClassProbabilities => ({ mask: 1 - p, no_mask: p, mask_incorrect: 0 });
const samples = (ps: ClassProbabilities[]) => ps.map((probabilities, i) => ({ at: i * 500, probabilities }));
const twoOfThree = { confirmFrames: 2, confirmWindow: 3 };

describe('toProbabilities', () => {
  it('defaults missing class probabilities to 0', () => {
    assert.deepEqual(toProbabilities({ probabilities: { no_mask: 0.7 } }), { mask: 0, no_mask: 0.7, mask_incorrect: 0 });
  });
  it('derives the mask class from a two-class P(no mask)', () => {
    assert.deepEqual(toProbabilities({ maskProbability: 0.8 }), { mask: 1 - 0.8, no_mask: 0.8, mask_incorrect: 0 });
  });
  it('counts an incorrectly worn mask as a violation', () => {
    assert.equal(violationProbability({ mask: 0.2, no_mask: 0.3, mask_incorrect: 0.5 }), 0.8);
  });
});

describe('confirmTrack', () => {
  it('needs k violating observations among the last n', () => {
    const one = confirmTrack(samples([noMask(0.9)]), 0, twoOfThree, 0.5);
    assert.equal(one.confirmed, false);
    assert.equal(one.positives, 1);
    const two = confirmTrack(samples([noMask(0.9), noMask(0.1), noMask(0.95)]), 1000, twoOfThree, 0.5);
    assert.equal(two.confirmed, true);
    assert.equal(two.positives, 2);
    assert.equal(two.label, 'no_mask');
  });

  it('forgets observations older than the last n', () => {
    const r = confirmTrack(samples([noMask(0.9), noMask(0.1), noMask(0.1), noMask(0.9)]), 1500, twoOfThree, 0.5);
    assert.equal(r.positives, 1);
    assert.equal(r.confirmed, false);
  });

  it('rejects a track whose averaged probability is below the threshold even with k positives', () => {
    const r = confirmTrack(samples([noMask(0.52), noMask(0.02), noMask(0.52)]), 1000, twoOfThree, 0.5);
    assert.equal(r.positives, 2);
    assert.ok(r.violationProbability < 0.5);
    assert.equal(r.confirmed, false);
  });

  it('ignores samples captured after the frame being decided (out-of-order frames)', () => {
    const s = samples([noMask(0.9), noMask(0.9), noMask(0.9)]);
    assert.equal(confirmTrack(s, 0, twoOfThree, 0.5).confirmed, false);
    assert.equal(confirmTrack(s, 500, twoOfThree, 0.5).confirmed, true);
  });

  it('confirms a snapshot camera (1 of 1) on one frame, on the sighting verdict alone', () => {
    assert.equal(confirmTrack(samples([noMask(0.8)]), 0, { confirmFrames: 1, confirmWindow: 1 }, 0.5).confirmed, true);
    // The engine labelled it no_mask at its validated 0.15: the track threshold (for several frames) does not apply.
    const engineSays = [{ at: 0, probabilities: noMask(0.3), violating: true }];
    assert.equal(confirmTrack(engineSays, 0, { confirmFrames: 1, confirmWindow: 1 }, { noMask: 0.4, incorrect: 0.95 }).confirmed, true);
    assert.equal(confirmTrack(engineSays, 0, { confirmFrames: 1, confirmWindow: 2 }, { noMask: 0.4, incorrect: 0.95 }).confirmed, false);
  });

  it('says since when a person wears a mask once masked sightings outweigh the violating ones, never on one flicker', () => {
    // 2 of 3 at 2 fps: violating, violating, masked (a flicker: still confirmed), masked, masked.
    const s = samples([noMask(0.9), noMask(0.9), noMask(0.02), noMask(0.02), noMask(0.02)]);
    assert.deepEqual(
      [500, 1000, 1500, 2000].map((at) => confirmTrack(s, at, twoOfThree, 0.5).maskedSince),
      [null, null, 1000, 1000],
      'from the first masked sighting, once the window no longer confirms',
    );
    // Violating again: no longer masked; the latest sighting violating is never "masked", confirmed or not.
    const back = samples([noMask(0.9), noMask(0.9), noMask(0.02), noMask(0.02), noMask(0.9)]);
    assert.equal(confirmTrack(back, 2000, twoOfThree, 0.5).maskedSince, null);
    // A snapshot camera (1 of 1): each masked still after the violating one, the first of them.
    const still = samples([noMask(0.9), noMask(0.02), noMask(0.02)]);
    assert.deepEqual(
      [0, 500, 1000].map((at) => confirmTrack(still, at, { confirmFrames: 1, confirmWindow: 1 }, 0.5).maskedSince),
      [null, 500, 500],
    );
  });

  it('labels a track by its averaged classes: mask_incorrect when that dominates', () => {
    const inc = { mask: 0.1, no_mask: 0.3, mask_incorrect: 0.6 };
    const r = confirmTrack(samples([inc, inc]), 500, twoOfThree, 0.5);
    assert.equal(r.confirmed, true);
    assert.equal(r.label, 'mask_incorrect');
    assert.ok(Math.abs(r.violationProbability - 0.9) < 1e-9);
    // noMaskProbability means P(no mask) only (the API's field), also for a mask_incorrect person.
    assert.ok(Math.abs(r.noMaskProbability - 0.3) < 1e-9);
  });

  it('with per-class thresholds, judges the averaged probabilities the way the head labels a face', () => {
    const thresholds = { noMask: 0.4, incorrect: 0.95 };
    // A masked face the head calls "incorrect" at 0.6–0.9 frame after frame: the sum passes 0.5, the classes do not.
    const unsure = { mask: 0.05, no_mask: 0.1, mask_incorrect: 0.85 };
    assert.equal(confirmTrack(samples([unsure, unsure]), 500, twoOfThree, 0.5).confirmed, true);
    assert.equal(confirmTrack(samples([unsure, unsure]), 500, twoOfThree, thresholds).confirmed, false);
    assert.equal(confirmTrack(samples([noMask(0.45), noMask(0.5)]), 500, twoOfThree, thresholds).confirmed, true);
    const sure = { mask: 0, no_mask: 0.02, mask_incorrect: 0.98 };
    const r = confirmTrack(samples([sure, sure]), 500, twoOfThree, thresholds);
    assert.equal(r.confirmed, true);
    assert.equal(r.label, 'mask_incorrect');
    // Above 1 switches a class off.
    assert.equal(confirmTrack(samples([sure, sure]), 500, twoOfThree, { noMask: 0.4, incorrect: 1.01 }).confirmed, false);
    assert.equal(meetsThreshold(noMask(0.4), thresholds), true);
    assert.throws(() => confirmTrack(samples([sure]), 0, twoOfThree, { noMask: 0, incorrect: 0.9 }), /thresholds/);
  });

  it('counts k frames that are each a violation: a flicker between them does not break the count', () => {
    // Engine verdicts: violating, not (flicker), violating.
    const flicker = [
      { at: 0, probabilities: noMask(0.9), violating: true },
      { at: 500, probabilities: noMask(0.9), violating: false },
      { at: 1000, probabilities: noMask(0.9), violating: true },
    ];
    assert.equal(confirmTrack(flicker.slice(0, 2), 500, twoOfThree, 0.5).confirmed, false, 'one violating frame of two is not 2 of 3');
    assert.equal(confirmTrack(flicker, 1000, twoOfThree, 0.5).confirmed, true);
  });
});

describe('sightingAllowed', () => {
  const face = (score: number, side: number, label: string, violation: boolean) => ({ box: [0, 0, side, side] as const, score, label, violation });
  it("keeps the engine's verdict by default (the gate chosen on validation equals the head's)", () => {
    assert.deepEqual(DEFAULT_SIGHTING_GATE, { minFaceScore: 0.85, minFaceSide: 20 });
    assert.equal(sightingAllowed(face(0.9, 30, 'no_mask', true)), true);
    assert.equal(sightingAllowed(face(0.9, 30, 'no_mask', false)), true);
    assert.equal(sightingAllowed(face(0.8, 30, 'no_mask', false)), false);
    assert.equal(sightingAllowed(face(0.9, 19, 'no_mask', false)), false);
    assert.equal(sightingAllowed(face(0.9, 30, 'mask', false)), false);
  });
  it('lets a softer gate through no_mask faces the single-frame gate vetoed, never a mask_incorrect one', () => {
    const soft = { minFaceScore: 0.7, minFaceSide: 16 };
    assert.equal(sightingAllowed(face(0.8, 18, 'no_mask', false), soft), true);
    assert.equal(sightingAllowed(face(0.6, 18, 'no_mask', false), soft), false);
    assert.equal(sightingAllowed(face(0.8, 14, 'no_mask', false), soft), false);
    // Only the engine knows MASKWATCH_INCORRECT_MASK.
    assert.equal(sightingAllowed(face(0.8, 18, 'mask_incorrect', false), soft), false);
  });
});

describe('confirmation settings', () => {
  it('validates k and n', () => {
    assert.equal(confirmationProblem({ confirmFrames: 2, confirmWindow: 3 }), null);
    assert.match(confirmationProblem({ confirmFrames: 4, confirmWindow: 3 })!, /exceed/);
    assert.match(confirmationProblem({ confirmFrames: 0 })!, /confirmFrames/);
    assert.match(confirmationProblem({ confirmWindow: 1.5 })!, /confirmWindow/);
    assert.match(confirmationProblem({ confirmWindow: 31 })!, /confirmWindow/);
  });
  it('fills what a camera leaves unset from the defaults, keeping k ≤ n', () => {
    assert.deepEqual(resolveConfirmation({}), { confirmFrames: 2, confirmWindow: 3 });
    assert.deepEqual(resolveConfirmation({ confirmWindow: 1 }), { confirmFrames: 1, confirmWindow: 1 });
    assert.deepEqual(resolveConfirmation({ confirmFrames: 5 }), { confirmFrames: 5, confirmWindow: 5 });
    assert.deepEqual(resolveConfirmation({ confirmWindow: 2 }), { confirmFrames: 2, confirmWindow: 2 });
    assert.deepEqual(resolveConfirmation({ confirmWindow: 4 }), { confirmFrames: 2, confirmWindow: 4 });
  });
});

describe('bestShot', () => {
  const shot = (at: number, side: number, sharpness: number | null, faceScore = 0.9, p = 0.9) => ({
    at,
    box: [0, 0, side, side] as const,
    faceScore,
    sharpness,
    violationProbability: p,
    snapshotPath: `s${at}.jpg`,
  });
  it('prefers a large, sharp, confident crop over the first one', () => {
    const first = shot(0, 30, 80);
    const large = shot(500, 90, 80);
    const blurredLarge = shot(1000, 100, 5);
    assert.equal(bestShot([first, large, blurredLarge])!.snapshotPath, large.snapshotPath);
  });
  it('prefers a confident detection at equal size and sharpness', () => {
    assert.equal(bestShot([shot(0, 60, 80, 0.6), shot(500, 60, 80, 0.95)])!.at, 500);
  });
  it('is stable on ties and empty input', () => {
    assert.equal(bestShot([shot(500, 60, 80), shot(0, 60, 80)])!.at, 0);
    assert.equal(bestShot([]), null);
    assert.ok(shotQuality(shot(0, 200, 1e6, 1, 1)) <= 1);
  });
});

describe('deployment defaults of confirmation (config)', () => {
  it('MASKWATCH_CONFIRM_NO_MASK / _INCORRECT default to the validated per-class thresholds and are range-checked', () => {
    assert.deepEqual(loadConfig({}).alerts.confirmThreshold, DEFAULT_CONFIRMATION_THRESHOLD);
    assert.deepEqual(loadConfig({}).alerts.confirmation, { confirmFrames: 2, confirmWindow: 3 });
    assert.deepEqual(loadConfig({ MASKWATCH_CONFIRM_NO_MASK: '0.5', MASKWATCH_CONFIRM_INCORRECT: '1.01' }).alerts.confirmThreshold, { noMask: 0.5, incorrect: 1.01 });
    assert.throws(() => loadConfig({ MASKWATCH_CONFIRM_NO_MASK: '2' }), (e: unknown) => e instanceof ConfigError && /MASKWATCH_CONFIRM_NO_MASK/.test((e as Error).message));
  });
});
