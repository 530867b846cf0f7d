import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headForward } from '../../src/vision/head.ts';
import { balancedWeights, mergeLogitAverage, trainMlp, weightedLoss, type WeightedSet } from '../../src/vision/train/mlp.ts';
import { mulberry32 } from '../../src/vision/train/rng.ts';

/** Three noisy clusters in 16-d, non-negative like pooled backbone features, class 2 rare. */
function clusters(n: number, seed: number): WeightedSet {
  const rng = mulberry32(seed);
  const x: Float32Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 10 === 0 ? 2 : i % 2;
    x.push(Float32Array.from({ length: 16 }, (_, d) => Math.max(0, (d % 3 === c ? 1.5 : 0.2) + (rng() - 0.5) * 0.8)));
    y.push(c);
  }
  return { x, y, w: balancedWeights(y, 3) };
}

test('the plain-JS trainer learns three classes, rare one included, and keeps the best validation epoch', () => {
  const train = clusters(400, 1);
  const val = clusters(200, 2);
  const run = trainMlp(train, val, 3, { hidden: 8, epochs: 15, batchSize: 32, learningRate: 0.01, dropout: 0.2 });
  const correct = val.x.filter((x, i) => {
    const p = headForward(run.weights, x);
    return p.indexOf(Math.max(...p)) === val.y[i];
  }).length;
  assert.ok(correct / val.x.length > 0.97, `val accuracy ${correct / val.x.length}`);
  const rare = val.x.filter((x, i) => val.y[i] === 2 && headForward(run.weights, x)[2]! > 0.5).length;
  assert.equal(rare, val.y.filter((c) => c === 2).length, 'every rare-class sample found');
  const best = Math.min(...run.history.map((h) => h.valLoss!));
  assert.equal(run.history[run.bestEpoch - 1]!.valLoss, best);
  assert.ok(Math.abs(weightedLoss(run.weights, val) - best) < 1e-9, 'the returned weights are the best epoch');
  // Loss went down from the first epoch.
  assert.ok(run.history.at(-1)!.loss < run.history[0]!.loss);
});

test('training is deterministic for a seed, and class-balanced weights give each class the same mass', () => {
  const train = clusters(120, 3);
  const a = trainMlp(train, null, 3, { hidden: 4, epochs: 2, seed: 5 });
  const b = trainMlp(train, null, 3, { hidden: 4, epochs: 2, seed: 5 });
  assert.deepEqual(a.weights.w1, b.weights.w1);
  const w = balancedWeights([0, 0, 0, 1, 2], 3);
  const mass = [0, 1, 2].map((c) => w.filter((_, i) => [0, 0, 0, 1, 2][i] === c).reduce((s, v) => s + v, 0));
  assert.ok(mass.every((m) => Math.abs(m - mass[0]!) < 1e-12), JSON.stringify(mass));
  assert.throws(() => trainMlp({ x: [], y: [], w: [] }, null, 3), /empty/);
});

test('combine: parts keep their weight relative to each other, classes stay balanced', async () => {
  const { combine } = await import('../../src/vision/train/scene-train.ts');
  const v = new Float32Array(2);
  const set = combine([
    { x: [v, v, v], y: [0, 0, 1], weight: 1 },
    { x: [v, v], y: [2, 2], weight: 0.5 },
  ]);
  assert.equal(set.x.length, 5);
  assert.deepEqual(set.y, [0, 0, 1, 2, 2]);
  const mass = [0, 0, 0];
  set.y.forEach((c, i) => (mass[c]! += set.w[i]!));
  // Each class carries the same total weight; within a class, a part's weight scales its samples.
  assert.ok(Math.abs(mass[0]! - mass[1]!) < 1e-9 && Math.abs(mass[1]! - mass[2]!) < 1e-9);
});

test('mergeLogitAverage: the merged head gives the softmax of the members\' mean logits', () => {
  const train = clusters(200, 4);
  const members = [7, 8, 9].map((seed) => trainMlp(train, null, 3, { hidden: 5, epochs: 2, seed }).weights);
  const merged = mergeLogitAverage(members);
  assert.equal(merged.hiddenDim, 15);
  const logits = (p: number[]) => p.map((v) => Math.log(v));
  for (const x of clusters(20, 5).x) {
    const mean = [0, 1, 2].map((c) => members.reduce((a, w) => a + logits(headForward(w, x))[c]!, 0) / members.length);
    const z = mean.map((v) => Math.exp(v - Math.max(...mean)));
    const expected = z.map((v) => v / z.reduce((a, b) => a + b, 0));
    headForward(merged, x).forEach((p, c) => assert.ok(Math.abs(p - expected[c]!) < 1e-5, `class ${c}: ${p} vs ${expected[c]}`));
  }
  assert.throws(() => mergeLogitAverage([]), /no heads/);
  assert.throws(() => mergeLogitAverage([members[0]!, trainMlp(train, null, 3, { hidden: 4, epochs: 1 }).weights]), /differ in shape/);
});
