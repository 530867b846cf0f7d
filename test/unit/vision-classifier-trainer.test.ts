import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classWeights, trainHead } from '../../src/vision/train/trainer.ts';
import { predictNoMask } from '../../src/vision/head.ts';
import { mulberry32 } from '../../src/vision/train/rng.ts';
import type { Label } from '../../src/vision/train/datasets.ts';

/** Two clusters in 16-d, imbalanced 3:1 like real mask data. */
function clusters(n: number, seed: number) {
  const rng = mulberry32(seed);
  const x: Float32Array[] = [];
  const y: Label[] = [];
  for (let i = 0; i < n; i++) {
    const label: Label = i % 4 === 0 ? 1 : 0;
    x.push(Float32Array.from({ length: 16 }, (_, k) => Math.max(0, (k < 8 ? label : 1 - label) * 2 + (rng() - 0.5))));
    y.push(label);
  }
  return { x, y };
}

test('head training learns a separable problem and is reproducible for a seed', async () => {
  const train = clusters(128, 1);
  const val = clusters(64, 2);
  const opts = { epochs: 12, hidden: 8, learningRate: 1e-2, seed: 3 };
  const a = await trainHead(train, val, opts);
  const accuracy = predictNoMask(a.weights, val.x).filter((p, i) => (p >= 0.5 ? 1 : 0) === val.y[i]).length / val.x.length;
  assert.equal(accuracy, 1);
  assert.equal(a.history.length, 12);
  assert.ok(a.history[11]!.loss < a.history[0]!.loss, 'loss goes down');
  assert.ok(a.bestEpoch >= 1 && a.bestEpoch <= 12);
  const b = await trainHead(train, val, opts);
  assert.deepEqual(b.weights.w1, a.weights.w1, 'same seed, same weights');
  const c = await trainHead(train, val, { ...opts, seed: 4 });
  assert.notDeepEqual(c.weights.w1, a.weights.w1);
});

test('class weights balance the classes; one class alone is refused', async () => {
  assert.deepEqual(classWeights([0, 0, 0, 1]), [4 / 6, 2]);
  await assert.rejects(trainHead({ x: [new Float32Array(2)], y: [0] }, null), /needs both classes/);
  await assert.rejects(trainHead({ x: [], y: [] }, null), /empty/);
});
