import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleVisionEngine, type FaceClassifier } from '../../src/vision/engine.ts';
import type { FaceDetector } from '../../src/vision/detector/types.ts';
import type { DecodedImage } from '../../src/vision/image.ts';
import type { Box } from '../../src/vision/types.ts';

// The engine's second, mirrored look at accused faces, with a scripted detector and classifier: which
// faces are looked at again, and what the verdict is taken on.
const frame: DecodedImage = { width: 400, height: 100, data: Buffer.alloc(400 * 100 * 3) };
const rule = { noMaskThreshold: 0.45, incorrectThreshold: 0.85, violationFaceScore: 0.85, violationMinFaceSize: 20 };
const p = (mask: number, no_mask: number, mask_incorrect: number) => ({ mask, no_mask, mask_incorrect });
// Face x → [first look, mirrored look].
const looks: Record<number, [ReturnType<typeof p>, ReturnType<typeof p>]> = {
  0: [p(0, 1, 0), p(1, 0, 0)], // clear violator: P(no mask) ≥ 2 × 0.45, never looked at again
  100: [p(0.4, 0.6, 0), p(0.9, 0.1, 0)], // borderline: mean 0.35 → mask
  200: [p(0.05, 0.05, 0.9), p(0.05, 0.05, 0.9)], // mask_incorrect, confirmed by the mirror
  300: [p(0.9, 0.1, 0), p(0, 1, 0)], // not accused: never looked at again
};

function parts() {
  const calls: Array<{ xs: number[]; mirrored: boolean }> = [];
  const detector: FaceDetector = {
    name: 'scripted',
    detect: async () => Object.keys(looks).map((x) => ({ box: [Number(x), 10, 60, 60] as Box, score: 0.95, source: 'scripted' })),
    close: async () => {},
  };
  const classifier: FaceClassifier = {
    decision: rule,
    predictProbabilities: async () => assert.fail('the engine uses the fast path'),
    predictFaces: async (_f, boxes, opts) => {
      calls.push({ xs: boxes.map((b) => b[0]), mirrored: Boolean(opts?.mirrored) });
      return boxes.map((b) => looks[b[0]]![opts?.mirrored ? 1 : 0]);
    },
    close: async () => {},
  };
  return { calls, detector, classifier };
}
const options = { faceScoreThreshold: 0.5, minFaceSize: 10, maxPixels: 1_000_000 };

test('accused faces whose verdict could change are looked at again, mirrored, and judged on the mean', async () => {
  const { calls, detector, classifier } = parts();
  const engine = assembleVisionEngine(detector, classifier, options);
  const { faces } = await engine.analyzeFrame(frame);
  assert.deepEqual(calls, [{ xs: [0, 100, 200, 300], mirrored: false }, { xs: [100, 200], mirrored: true }]);
  assert.deepEqual(faces.map((f) => [f.label, f.violation]), [['no_mask', true], ['mask', false], ['mask_incorrect', true], ['mask', false]]);
  assert.deepEqual(faces[1]!.probabilities, { mask: 0.65, no_mask: 0.35, mask_incorrect: 0 });
  assert.equal(faces[1]!.noMaskProbability, 0.35);
  assert.deepEqual(faces[0]!.probabilities, { mask: 0, no_mask: 1, mask_incorrect: 0 }, 'a single look: its own probabilities');
});

test('carried-over verdicts are not looked at again; mirroredLook: false turns the look off', async () => {
  const { calls, detector, classifier } = parts();
  const engine = assembleVisionEngine(detector, classifier, options);
  await engine.analyzeFrame(frame, { knownVerdicts: (faces) => faces.map((f) => (f.box[0] === 100 ? p(0.4, 0.6, 0) : null)) });
  assert.deepEqual(calls, [{ xs: [0, 200, 300], mirrored: false }, { xs: [200], mirrored: true }]);

  const off = parts();
  const { faces } = await assembleVisionEngine(off.detector, off.classifier, { ...options, mirroredLook: false }).analyzeFrame(frame);
  assert.deepEqual(off.calls, [{ xs: [0, 100, 200, 300], mirrored: false }]);
  assert.deepEqual(faces[1]!.label, 'no_mask');
});
