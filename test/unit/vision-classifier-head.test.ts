import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { decodeFloat32, encodeFloat32, headForward, headProbabilities, headWeightsFromArtifact, parseHeadArtifact, predictNoMask, validateWeights, type HeadWeights } from '../../src/vision/head.ts';
import { mulberry32 } from '../../src/vision/train/rng.ts';

function randomWeights(inputDim: number, hiddenDim: number, seed: number): HeadWeights {
  const rng = mulberry32(seed);
  const r = (n: number, s: number) => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * s);
  return { inputDim, hiddenDim, w1: r(inputDim * hiddenDim, 0.1), b1: r(hiddenDim, 0.1), w2: r(hiddenDim * 2, 0.5), b2: r(2, 0.1) };
}

test('plain-JS head matches a tfjs Dense(128, relu) → Dropout → Dense(2, softmax) model with the same weights', async () => {
  // tfjs (a dev dependency) only as the reference implementation of the Keras layers.
  await tf.setBackend('wasm');
  await tf.ready();
  const w = randomWeights(1280, 128, 1);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [1280], units: 128, activation: 'relu' }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  model.setWeights([tf.tensor2d(w.w1, [1280, 128]), tf.tensor1d(w.b1), tf.tensor2d(w.w2, [128, 2]), tf.tensor1d(w.b2)]);
  const rng = mulberry32(2);
  // Non-negative like pooled ReLU6 features, with exact zeros (the JS path skips them).
  const xs = Array.from({ length: 8 }, () => Float32Array.from({ length: 1280 }, () => (rng() < 0.3 ? 0 : rng() * 3)));
  const flat = new Float32Array(8 * 1280);
  xs.forEach((x, i) => flat.set(x, i * 1280));
  const expected = (model.predict(tf.tensor2d(flat, [8, 1280])) as tf.Tensor).arraySync() as number[][];
  xs.forEach((x, i) => {
    const [p0, p1] = headForward(w, x) as [number, number];
    assert.ok(Math.abs(p0 - expected[i]![0]!) < 1e-5, `row ${i} mask: ${p0} vs ${expected[i]![0]}`);
    assert.ok(Math.abs(p1 - expected[i]![1]!) < 1e-5, `row ${i} no_mask: ${p1} vs ${expected[i]![1]}`);
    assert.ok(Math.abs(p0 + p1 - 1) < 1e-12);
  });
  predictNoMask(w, xs).forEach((p, i) => assert.ok(Math.abs(p - expected[i]![1]!) < 1e-5));
  // The rows are not all the same answer (the comparison above is not vacuous).
  assert.ok(new Set(expected.map((r) => r[1]!.toFixed(3))).size > 1);
});

test('softmax stays finite for huge logits', () => {
  const w: HeadWeights = { inputDim: 1, hiddenDim: 1, w1: Float32Array.of(1), b1: Float32Array.of(0), w2: Float32Array.of(1000, -1000), b2: Float32Array.of(0, 0) };
  const [p0, p1] = headForward(w, Float32Array.of(10)) as [number, number];
  assert.equal(p0, 1);
  assert.equal(p1, 0);
});

test('float32 base64 round trip is exact', () => {
  const a = Float32Array.of(0, -1.5, 3.4028234663852886e38, 1e-40, Math.PI);
  assert.deepEqual(decodeFloat32(encodeFloat32(a)), a);
  assert.throws(() => decodeFloat32(Buffer.from([1, 2, 3]).toString('base64')), /whole number of float32/);
});

test('bad weights and bad artifacts give clear errors', () => {
  const w = randomWeights(4, 3, 3);
  assert.throws(() => headForward(w, new Float32Array(5)), /feature has 5 values, head expects 4/);
  assert.throws(() => validateWeights({ ...w, b1: new Float32Array(2) }), /b1 has 2 values, expected 3/);
  assert.throws(() => validateWeights({ ...w, w2: Float32Array.of(NaN, 0, 0, 0, 0, 0) }), /non-finite/);
  assert.throws(() => parseHeadArtifact('{nope', 'x.json'), /x.json is not JSON/);
  assert.throws(() => parseHeadArtifact('{"weights":{}}', 'x.json'), /not a mask head artifact/);
  const artifact = {
    format: 'maskwatch-mask-head/1',
    classes: ['mask', 'no_mask'],
    backbone: { featureDim: 4 },
    architecture: { hidden: 3 },
    input: {},
    cropMargin: 0.15,
    weights: { w1: encodeFloat32(w.w1), b1: encodeFloat32(w.b1), w2: encodeFloat32(w.w2), b2: encodeFloat32(w.b2) },
  };
  const parsed = headWeightsFromArtifact(parseHeadArtifact(JSON.stringify(artifact)));
  assert.deepEqual(parsed.w1, w.w1);
  assert.throws(() => headWeightsFromArtifact(parseHeadArtifact(JSON.stringify({ ...artifact, classes: ['no_mask', 'mask'] }))), /classes/);
});

test('a 3-class head: softmax over mask, no_mask, mask_incorrect; a 2-class head reports P(mask_incorrect) = 0', () => {
  const rng = mulberry32(9);
  const r = (n: number) => Float32Array.from({ length: n }, () => rng() * 2 - 1);
  const w: HeadWeights = { inputDim: 5, hiddenDim: 4, w1: r(20), b1: r(4), w2: r(12), b2: r(3) };
  const x = Float32Array.from({ length: 5 }, () => rng());
  // Reference: the same network written out directly.
  const h = Array.from({ length: 4 }, (_, j) => Math.max(0, w.b1[j]! + [...x].reduce((s, xi, i) => s + xi * w.w1[i * 4 + j]!, 0)));
  const z = [0, 1, 2].map((c) => w.b2[c]! + h.reduce((s, a, j) => s + a * w.w2[j * 3 + c]!, 0));
  const e = z.map((v) => Math.exp(v));
  const expected = e.map((v) => v / e.reduce((a, b) => a + b, 0));
  const p = headProbabilities(w, x);
  [p.mask, p.no_mask, p.mask_incorrect].forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `${i}: ${v} vs ${expected[i]}`));
  assert.equal(predictNoMask(w, [x])[0], p.no_mask);
  const two = randomWeights(5, 4, 10);
  assert.equal(headProbabilities(two, x).mask_incorrect, 0);
  const artifact = {
    format: 'maskwatch-mask-head/2',
    classes: ['mask', 'no_mask', 'mask_incorrect'],
    backbone: { featureDim: 5 },
    architecture: { hidden: 4 },
    input: {},
    cropMargin: 0.15,
    weights: { w1: encodeFloat32(w.w1), b1: encodeFloat32(w.b1), w2: encodeFloat32(w.w2), b2: encodeFloat32(w.b2) },
  };
  assert.deepEqual(headWeightsFromArtifact(parseHeadArtifact(JSON.stringify(artifact))).b2, w.b2);
  // Weights for 3 outputs under a 2-class list are refused.
  assert.throws(() => headWeightsFromArtifact(parseHeadArtifact(JSON.stringify({ ...artifact, classes: ['mask', 'no_mask'] }))), /outputs/);
});
