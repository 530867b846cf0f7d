import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_REUSE,
  canReuse,
  canSkipDetection,
  isConfident,
  matchPreviousFaces,
  reusableVerdicts,
  usableState,
  type CameraAnalysisState,
  type RememberedFace,
  type ReuseSettings,
} from '../../src/domain/analysis-reuse.ts';

const S: ReuseSettings = { ...DEFAULT_REUSE, unchangedThreshold: 8, reclassifyEvery: 3, minConfidence: 0.9, minIou: 0.5, maxGapMs: 5000 };
const sure = { mask: 0.02, no_mask: 0.97, mask_incorrect: 0.01 };
const unsure = { mask: 0.55, no_mask: 0.4, mask_incorrect: 0.05 };
const face = (box: [number, number, number, number], over: Partial<RememberedFace> = {}): RememberedFace => ({
  box,
  score: 0.9,
  probabilities: sure,
  reuseCount: 0,
  ...over,
});
const state = (over: Partial<CameraAnalysisState> = {}): CameraAnalysisState => ({
  capturedAt: 1000,
  width: 640,
  height: 480,
  thumbnail: new Uint8Array(1024),
  unchangedRun: 0,
  faces: [face([100, 100, 40, 40])],
  ...over,
});

describe('matchPreviousFaces', () => {
  it('pairs each box with the previous face it overlaps most, one to one', () => {
    const previous = [face([0, 0, 40, 40]), face([100, 0, 40, 40])];
    assert.deepEqual(matchPreviousFaces(previous, [[102, 1, 40, 40], [2, 0, 40, 40], [300, 300, 40, 40]], 0.5), [1, 0, null]);
  });
  it('leaves pairs below the IoU gate unmatched and never uses a previous face twice', () => {
    const previous = [face([0, 0, 40, 40])];
    assert.deepEqual(matchPreviousFaces(previous, [[25, 0, 40, 40]], 0.5), [null]); // IoU 15/65
    assert.deepEqual(matchPreviousFaces(previous, [[1, 0, 40, 40], [0, 1, 40, 40]], 0.5), [0, null]);
  });
});

describe('isConfident / canReuse', () => {
  it('needs P(no mask) and P(mask incorrect) each near 0 or 1', () => {
    assert.equal(isConfident(sure, 0.9), true);
    assert.equal(isConfident({ mask: 0.95, no_mask: 0.04, mask_incorrect: 0.01 }, 0.9), true);
    assert.equal(isConfident(unsure, 0.9), false);
    // Near the head's no_mask threshold (0.15): not confident at c = 0.9.
    assert.equal(isConfident({ mask: 0.86, no_mask: 0.14, mask_incorrect: 0 }, 0.9), false);
  });
  it('reuses a verdict at most k − 1 frames in a row', () => {
    assert.equal(canReuse(face([0, 0, 9, 9], { reuseCount: 0 }), S), true);
    assert.equal(canReuse(face([0, 0, 9, 9], { reuseCount: 1 }), S), true);
    assert.equal(canReuse(face([0, 0, 9, 9], { reuseCount: 2 }), S), false);
    assert.equal(canReuse(face([0, 0, 9, 9]), { ...S, reclassifyEvery: 1 }), false);
  });
});

describe('reusableVerdicts', () => {
  it('gives matched, confident, not-due faces their previous probabilities; classifies the rest', () => {
    const previous = [face([0, 0, 40, 40]), face([100, 0, 40, 40], { probabilities: unsure }), face([200, 0, 40, 40], { reuseCount: 2 })];
    const out = reusableVerdicts(previous, [[1, 1, 40, 40], [101, 0, 40, 40], [201, 0, 40, 40], [400, 0, 40, 40]], S);
    assert.deepEqual(out, [{ probabilities: sure, reuseCount: 1 }, null, null, null]);
  });
  it('reuses nothing when k is 1', () => {
    assert.deepEqual(reusableVerdicts([face([0, 0, 40, 40])], [[0, 0, 40, 40]], { ...S, reclassifyEvery: 1 }), [null]);
  });
});

describe('canSkipDetection', () => {
  it('skips an unchanged frame, not a changed one', () => {
    assert.equal(canSkipDetection(state(), 3, S), true);
    assert.equal(canSkipDetection(state(), 8, S), true);
    assert.equal(canSkipDetection(state(), 8.5, S), false);
    assert.equal(canSkipDetection(state(), null, S), false);
  });
  it('runs the detector at least every k-th frame, even on an empty still scene', () => {
    assert.equal(canSkipDetection(state({ faces: [], unchangedRun: 1 }), 0, S), true);
    assert.equal(canSkipDetection(state({ faces: [], unchangedRun: 2 }), 0, S), false);
  });
  it('is off at threshold 0 and at k = 1', () => {
    assert.equal(canSkipDetection(state(), 0, { ...S, unchangedThreshold: 0 }), false);
    assert.equal(canSkipDetection(state(), 0, { ...S, reclassifyEvery: 1 }), false);
  });
});

describe('usableState', () => {
  it('uses only a state strictly older than the frame and within the gap', () => {
    assert.equal(usableState(state({ capturedAt: 1000 }), 1500, 5000), true);
    assert.equal(usableState(state({ capturedAt: 1500 }), 1500, 5000), false, 'the same frame (a retried job) is analysed in full');
    assert.equal(usableState(state({ capturedAt: 2000 }), 1500, 5000), false, 'a later frame’s state is ignored');
    assert.equal(usableState(state({ capturedAt: 1000 }), 7000, 5000), false, 'too old');
    assert.equal(usableState(null, 1500, 5000), false);
  });
});

describe('configuration', () => {
  it('reads MASKWATCH_UNCHANGED_THRESHOLD, MASKWATCH_RECLASSIFY_EVERY and MASKWATCH_REUSE_MIN_CONFIDENCE, defaults from validation', async () => {
    const { loadConfig, ConfigError } = await import('../../src/config/config.ts');
    assert.deepEqual(loadConfig({}).vision.reuse, DEFAULT_REUSE);
    const set = loadConfig({ MASKWATCH_UNCHANGED_THRESHOLD: '0', MASKWATCH_RECLASSIFY_EVERY: '1', MASKWATCH_REUSE_MIN_CONFIDENCE: '0.97' }).vision.reuse;
    assert.deepEqual([set.unchangedThreshold, set.reclassifyEvery, set.minConfidence], [0, 1, 0.97]);
    assert.throws(() => loadConfig({ MASKWATCH_RECLASSIFY_EVERY: '0' }), (err: Error) => err instanceof ConfigError && /MASKWATCH_RECLASSIFY_EVERY/.test(err.message));
    assert.throws(() => loadConfig({ MASKWATCH_UNCHANGED_THRESHOLD: '-1' }), /MASKWATCH_UNCHANGED_THRESHOLD/);
  });
});
