import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iou, nms } from '../../src/vision/nms.ts';
import type { Box } from '../../src/vision/types.ts';

test('iou: identical, disjoint, half-overlapping and empty boxes', () => {
  assert.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  assert.equal(iou([0, 0, 10, 10], [20, 20, 5, 5]), 0);
  // 10x10 boxes shifted by 5 px: intersection 50, union 150
  assert.equal(iou([0, 0, 10, 10], [5, 0, 10, 10]), 50 / 150);
  assert.equal(iou([0, 0, 0, 0], [0, 0, 0, 0]), 0);
});

test('nms keeps the best of each overlapping cluster, ordered by score', () => {
  const d = (box: Box, score: number) => ({ box, score });
  const kept = nms(
    [d([0, 0, 10, 10], 0.8), d([1, 1, 10, 10], 0.9), d([50, 50, 10, 10], 0.7), d([52, 50, 10, 10], 0.6)],
    0.3,
  );
  assert.deepEqual(kept.map((k) => k.score), [0.9, 0.7]);
});

test('nms keeps boxes that overlap less than the threshold and honours topK', () => {
  const items = [
    { box: [0, 0, 10, 10] as Box, score: 0.9 },
    { box: [8, 0, 10, 10] as Box, score: 0.8 }, // IoU 20/180 ≈ 0.11
    { box: [100, 0, 10, 10] as Box, score: 0.7 },
  ];
  assert.equal(nms(items, 0.3).length, 3);
  assert.equal(nms(items, 0.05).length, 2);
  assert.deepEqual(nms(items, 0.3, 1).map((k) => k.score), [0.9]);
});

test('nms rejects a threshold outside [0, 1]', () => {
  assert.throws(() => nms([], 1.5), RangeError);
});
