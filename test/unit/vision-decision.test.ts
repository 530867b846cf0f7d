import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from '../../src/config/config.ts';
import { decideFace, labelOf, meanProbabilities, needsMirroredLook, parseIncorrectMaskPolicy } from '../../src/vision/decision.ts';
import type { DecisionRule } from '../../src/vision/head.ts';
import type { Box } from '../../src/vision/types.ts';

const rule: DecisionRule = { noMaskThreshold: 0.6, incorrectThreshold: 0.4, violationFaceScore: 0.8, violationMinFaceSize: 20 };
const face = (score = 0.95, side = 40): { box: Box; score: number } => ({ box: [10, 10, side, side], score });
const p = (mask: number, no_mask: number, mask_incorrect: number) => ({ mask, no_mask, mask_incorrect });

test('labels: no_mask first, then mask_incorrect, else mask', () => {
  assert.equal(labelOf(p(0.1, 0.7, 0.2), rule), 'no_mask');
  assert.equal(labelOf(p(0.1, 0.45, 0.45), rule), 'mask_incorrect');
  assert.equal(labelOf(p(0.6, 0.05, 0.35), rule), 'mask');
  assert.equal(labelOf(p(0.4, 0.6, 0), rule), 'no_mask', 'threshold is inclusive');
});

test('policy: mask_incorrect is a violation under "violation", not under "ignore"; no_mask always is', () => {
  const inc = p(0.1, 0.2, 0.7);
  assert.deepEqual(decideFace(face(), inc, rule, 'violation'), { label: 'mask_incorrect', violation: true });
  assert.deepEqual(decideFace(face(), inc, rule, 'ignore'), { label: 'mask_incorrect', violation: false });
  assert.deepEqual(decideFace(face(), p(0, 1, 0), rule, 'ignore'), { label: 'no_mask', violation: true });
  assert.deepEqual(decideFace(face(), p(1, 0, 0), rule, 'violation'), { label: 'mask', violation: false });
});

test('mirrored look: only accused faces whose verdict the mean of two looks could change', () => {
  const accused = (q: ReturnType<typeof p>) => needsMirroredLook(decideFace(face(), q, rule, 'violation'), q, rule);
  // noMaskThreshold 0.6: a no_mask face at ≥ 1.2 would stay no_mask whatever the mirror says; none can be.
  assert.equal(accused(p(0, 1, 0)), true);
  const low = { ...rule, noMaskThreshold: 0.45 };
  assert.equal(needsMirroredLook({ violation: true, label: 'no_mask' }, p(0.05, 0.9, 0.05), low), false, 'P ≥ 2 × threshold: the mean stays ≥ threshold');
  assert.equal(needsMirroredLook({ violation: true, label: 'no_mask' }, p(0.11, 0.89, 0), low), true);
  assert.equal(accused(p(0.1, 0.2, 0.7)), true, 'mask_incorrect accusations are always looked at again');
  assert.equal(accused(p(0.9, 0.05, 0.05)), false, 'a face not accused is never looked at again');
  assert.equal(needsMirroredLook(decideFace(face(0.5), p(0, 0.7, 0.3), rule, 'violation'), p(0, 0.7, 0.3), rule), false, 'gated faces are no accusation');
  assert.deepEqual(meanProbabilities(p(0.25, 0.5, 0.25), p(0.75, 0, 0.25)), p(0.5, 0.25, 0.25));
});

test('MASKWATCH_INCORRECT_MASK: default violation, "ignore" accepted, anything else refused', () => {
  assert.equal(loadConfig({}).vision.incorrectMaskPolicy, 'violation');
  assert.equal(loadConfig({ MASKWATCH_INCORRECT_MASK: 'ignore' }).vision.incorrectMaskPolicy, 'ignore');
  assert.throws(() => loadConfig({ MASKWATCH_INCORRECT_MASK: 'alert' }), (e: unknown) => e instanceof ConfigError && /MASKWATCH_INCORRECT_MASK/.test((e as Error).message));
  assert.equal(parseIncorrectMaskPolicy('ignore'), 'ignore');
  assert.throws(() => parseIncorrectMaskPolicy('nope'), /violation" or "ignore/);
  // The P(no mask) threshold is the head's unless overridden.
  assert.equal(loadConfig({}).vision.noMaskThreshold, undefined);
  assert.equal(loadConfig({ MASKWATCH_NO_MASK_THRESHOLD: '0.7' }).vision.noMaskThreshold, 0.7);
});
