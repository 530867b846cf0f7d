import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CROP_FIGURES, cropCounts, faceSizeBucket, FIGURES, imageCounts } from '../../src/vision/protocol/report-run.ts';
import type { GtFace } from '../../src/vision/evaluation/detection.ts';

test('face-size buckets of the report: 24–32, 32–48, 48–96, ≥ 96 px; smaller faces are not bucketed', () => {
  assert.equal(faceSizeBucket(23.9), null);
  assert.equal(faceSizeBucket(24), '24-32');
  assert.equal(faceSizeBucket(32), '32-48');
  assert.equal(faceSizeBucket(95.9), '48-96');
  assert.equal(faceSizeBucket(96), '>=96');
});

test('per-image counts: violations by the `violation` field, 3-class accuracy per size, mask_incorrect rates', () => {
  const gt: GtFace[] = [
    { label: 'without_mask', box: [0, 0, 30, 30] },
    { label: 'with_mask', box: [100, 0, 40, 40] },
    { label: 'mask_weared_incorrect', box: [200, 0, 50, 50] },
    { label: 'with_mask', box: [300, 0, 100, 100] },
  ];
  const c = imageCounts(gt, [
    { box: [0, 0, 30, 30], label: 'no_mask', violation: true },
    // Labelled no_mask but gated (not a violation): no false alarm, still a labelling error.
    { box: [100, 0, 40, 40], label: 'no_mask', violation: false },
    { box: [200, 0, 50, 50], label: 'mask_incorrect', violation: true },
    { box: [300, 0, 100, 100], label: 'mask_incorrect', violation: true },
  ]);
  assert.equal(FIGURES.violation_precision!(c), 0.5, 'the masked face called mask_incorrect is a false violation');
  assert.equal(FIGURES.violation_recall!(c), 1);
  assert.equal(FIGURES['accuracy_no_mask@24-32']!(c), 1);
  assert.equal(FIGURES['accuracy_mask@32-48']!(c), 0);
  assert.equal(FIGURES.incorrect_labelled_incorrect!(c), 1);
  assert.equal(FIGURES.masked_labelled_incorrect!(c), 0.5);
});

test('crop figures: a masked crop is right unless called no_mask; an unmasked one only as no_mask', () => {
  const sum = (...cs: Array<Record<string, number>>) => cs.reduce((a, c) => {
    for (const [k, v] of Object.entries(c)) a[k] = (a[k] ?? 0) + v;
    return a;
  }, {} as Record<string, number>);
  const c = sum(cropCounts('with_mask', 'mask_incorrect'), cropCounts('with_mask', 'no_mask'), cropCounts('without_mask', 'no_mask'), cropCounts('mask_weared_incorrect', 'mask'));
  assert.equal(CROP_FIGURES.crops_mask_recall!(c), 0.5);
  assert.equal(CROP_FIGURES.crops_no_mask_recall!(c), 1);
  assert.equal(CROP_FIGURES.crops_balanced_accuracy!(c), 0.75);
  assert.equal(CROP_FIGURES.crops_incorrect_labelled_incorrect!(c), 0);
});
