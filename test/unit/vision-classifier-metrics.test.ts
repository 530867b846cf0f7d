import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averagePrecision, classificationMetrics, prCurve, rocAuc } from '../../src/vision/evaluation/classification.ts';

test('confusion matrix, per-class precision/recall/F1 and accuracy', () => {
  // actual: 3 mask, 2 no_mask; predictions at 0.5: mask,mask,no_mask | no_mask,mask
  const m = classificationMetrics([0, 0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9, 0.4]);
  assert.deepEqual(m.confusion, [
    [2, 1],
    [1, 1],
  ]);
  assert.equal(m.accuracy, 3 / 5);
  assert.equal(m.perClass.mask.precision, 2 / 3);
  assert.equal(m.perClass.mask.recall, 2 / 3);
  assert.equal(m.perClass.no_mask.precision, 1 / 2);
  assert.equal(m.perClass.no_mask.recall, 1 / 2);
  assert.ok(Math.abs(m.perClass.no_mask.f1 - 0.5) < 1e-12);
  assert.ok(Math.abs(m.balancedAccuracy - (2 / 3 + 1 / 2) / 2) < 1e-12);
  assert.equal(m.perClass.mask.support, 3);
});

test('ROC-AUC: perfect, inverted, ties, one class', () => {
  assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
  assert.equal(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]), 0);
  assert.equal(rocAuc([0, 1], [0.5, 0.5]), 0.5);
  // 2 positives, 2 negatives: pairs (p,n) ordered right 3 of 4.
  assert.equal(rocAuc([0, 1, 0, 1], [0.1, 0.3, 0.4, 0.9]), 0.75);
  assert.equal(rocAuc([1, 1], [0.2, 0.3]), null);
});

test('PR curve and average precision', () => {
  const labels = [1, 0, 1, 0];
  const scores = [0.9, 0.8, 0.7, 0.1];
  assert.deepEqual(prCurve(labels, scores, 1).map((p) => [p.recall, p.precision]), [
    [0.5, 1],
    [0.5, 0.5],
    [1, 2 / 3],
    [1, 0.5],
  ]);
  assert.ok(Math.abs(averagePrecision(labels, scores, 1)! - (0.5 * 1 + 0.5 * (2 / 3))) < 1e-12);
  // mask as positive uses 1 − P(no_mask).
  assert.equal(averagePrecision([0, 0, 1], [0.1, 0.2, 0.9], 0), 1);
});

test('bad input is refused', () => {
  assert.throws(() => classificationMetrics([0, 1], [0.5]), /2 labels but 1 scores/);
  assert.throws(() => classificationMetrics([2], [0.5]), /expected 0 or 1/);
  assert.throws(() => classificationMetrics([0], [1.5]), /expected a probability/);
  assert.throws(() => classificationMetrics([], []), /no samples/);
});
