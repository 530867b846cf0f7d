import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, bootstrapMany } from '../../src/vision/evaluation/bootstrap.ts';
import { chooseRule, type ScoredScene } from '../../src/vision/train/choose.ts';
import type { GtFace } from '../../src/vision/evaluation/detection.ts';
import type { Box } from '../../src/vision/types.ts';

const probs = (mask: number, no_mask: number, mask_incorrect: number) => ({ mask, no_mask, mask_incorrect });

/** A validation scene: one masked face, one bare face, one incorrectly worn, and a doubtful background box that looks bare. */
function scene(i: number): ScoredScene {
  const at = (k: number): Box => [k * 100, i * 10, 40, 40];
  const gt: GtFace[] = [
    { label: 'with_mask', box: at(0) },
    { label: 'without_mask', box: at(1) },
    { label: 'mask_weared_incorrect', box: at(2) },
  ];
  return {
    stem: `s${i}`,
    gt,
    dets: [
      { box: at(0), score: 0.95, p: probs(0.85, 0.1, i % 10 === 0 ? 0.5 : 0.05) },
      { box: at(1), score: 0.95, p: probs(0.2, 0.65, 0.15) },
      { box: at(2), score: 0.95, p: probs(0.3, 0.1, 0.6) },
      { box: [900, i * 10, 40, 40], score: 0.65, p: probs(0.05, 0.9, 0.05) },
    ],
  };
}

test('the chooser gates out doubtful detections, puts the no_mask threshold between the classes and keeps masked → mask_incorrect ≤ 1.5 %', () => {
  const scenes = Array.from({ length: 100 }, (_, i) => scene(i));
  const c = chooseRule(scenes, 'ignore');
  assert.ok(c.rule.violationFaceScore > 0.65, `gate ${c.rule.violationFaceScore}`);
  assert.ok(c.rule.noMaskThreshold > 0.1 && c.rule.noMaskThreshold <= 0.65, `threshold ${c.rule.noMaskThreshold}`);
  // One masked face in ten has P(incorrect) 0.5: the threshold must sit above it, and still catch the 0.6 ones.
  assert.ok(c.rule.incorrectThreshold > 0.5 && c.rule.incorrectThreshold <= 0.6, `incorrect ${c.rule.incorrectThreshold}`);
  assert.equal(c.validation.precision, 1);
  assert.equal(c.validation.recall, 1);
  assert.equal(c.validation.incorrectRecall, 1);
  assert.equal(c.validation.maskedAsIncorrect, 0);
});

test('bootstrap over images: the interval holds the point value and narrows with more images; one pass gives the same figures', () => {
  const units = (n: number) => Array.from({ length: n }, (_, i) => ({ tp: i % 4 === 0 ? 0 : 1, all: 1 }));
  const f = (c: Record<string, number>) => (c.all ? c.tp! / c.all! : null);
  const small = bootstrap(units(40), f, { resamples: 500 });
  const large = bootstrap(units(400), f, { resamples: 500 });
  assert.equal(small.value, 0.75);
  assert.ok(small.lo! <= 0.75 && small.hi! >= 0.75 && small.lo! < small.hi!);
  assert.ok(large.hi! - large.lo! < small.hi! - small.lo!);
  const many = bootstrapMany(units(40), { rate: f }, { resamples: 500 });
  assert.equal(many.rate!.value, 0.75);
  assert.ok(Math.abs(many.rate!.lo! - small.lo!) < 0.1 && Math.abs(many.rate!.hi! - small.hi!) < 0.1);
  assert.deepEqual(bootstrap([], f), { value: null, lo: null, hi: null });
});
