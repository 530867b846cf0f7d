import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bucketRecall,
  emptyBuckets,
  emptyCounts,
  matchFaces,
  parseVocAnnotation,
  scoreImage,
  sizeBucket,
  summarise,
  type GtFace,
} from '../../src/vision/evaluation/detection.ts';
import type { Box, MaskLabel } from '../../src/vision/types.ts';

const VOC = `<annotation><size><width>400</width><height>300</height></size>
<object><name>with_mask</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>40</xmax><ymax>45</ymax></bndbox></object>
<object><name>without_mask</name><bndbox><xmin>100</xmin><ymin>20</ymin><xmax>160</xmax><ymax>90</ymax></bndbox></object>
<object><name>mask_weared_incorrect</name><bndbox><xmin>200</xmin><ymin>20</ymin><xmax>230</xmax><ymax>50</ymax></bndbox></object>
<object><name>without_mask</name><bndbox><xmin>300</xmin><ymin>20</ymin><xmax>310</xmax><ymax>32</ymax></bndbox></object>
</annotation>`;

test('parses Pascal VOC objects into [x, y, w, h] boxes', () => {
  const gt = parseVocAnnotation(VOC);
  assert.equal(gt.length, 4);
  assert.deepEqual(gt[0], { label: 'with_mask', box: [10, 10, 30, 35] });
  assert.throws(() => parseVocAnnotation('<object><name>cat</name></object>'), /unknown class/);
  assert.throws(() => parseVocAnnotation('<object><name>with_mask</name><bndbox><xmin>a</xmin></bndbox></object>'), /xmin/);
});

test('size buckets use the shorter side', () => {
  assert.equal(sizeBucket([0, 0, 100, 23]), '<24');
  assert.equal(sizeBucket([0, 0, 24, 60]), '24-48');
  assert.equal(sizeBucket([0, 0, 48, 48]), '>=48');
});

test('greedy matching pairs the highest IoU first, one-to-one, IoU ≥ 0.4', () => {
  const preds = [{ box: [0, 0, 10, 10] as Box }, { box: [1, 0, 10, 10] as Box }];
  const gt = [{ box: [1, 0, 10, 10] as Box }];
  const { predToGt, gtToPred } = matchFaces(preds, gt);
  assert.equal(gtToPred.get(0), 1);
  assert.equal(predToGt.size, 1);
  assert.equal(matchFaces([{ box: [0, 0, 10, 10] }], [{ box: [6, 0, 10, 10] }]).predToGt.size, 0);
});

test('scores an image exactly like score_detections.py', () => {
  const gt: GtFace[] = parseVocAnnotation(VOC);
  const f = (box: Box, label: MaskLabel) => ({ box, label });
  const faces = [
    f([11, 10, 30, 35], 'no_mask'), // matches with_mask → violation false positive
    f([100, 22, 60, 68], 'no_mask'), // matches without_mask → true positive
    f([200, 20, 30, 30], 'no_mask'), // matches mask_weared_incorrect → don't care
    f([299, 20, 11, 12], 'no_mask'), // matches a face under 24 px → don't care
    f([350, 200, 30, 30], 'no_mask'), // nothing there → false face AND false alarm
    f([105, 25, 60, 70], 'no_mask'), // unmatched but overlaps a GT face ≥ 0.2 → false face only
  ];
  const st = emptyCounts();
  const buckets = emptyBuckets();
  scoreImage(gt, faces, 24, st, buckets);
  assert.deepEqual(st, {
    gt_mask: 1,
    gt_nomask: 1,
    hit_mask: 1,
    hit_nomask: 1,
    viol_tp: 1,
    viol_fp: 2,
    viol_fn: 0,
    mask_as_mask: 0,
    nomask_as_nomask: 1,
    pred_faces: 6,
    false_faces: 2,
  });
  const s = summarise(st, 1, 0, 24);
  assert.equal(s.violation_precision, 0.3333);
  assert.equal(s.violation_recall, 1);
  assert.equal(s.violation_f1, 0.5);
  assert.equal(s.classification_balanced_accuracy, 0.5);
  const r = bucketRecall(buckets);
  assert.deepEqual(r.without_mask!['<24'], { gt: 1, hit: 1, recall: 1 });
  assert.deepEqual(r.without_mask!['>=48'], { gt: 1, hit: 1, recall: 1 });
});

test('a missed unmasked face is a violation false negative', () => {
  const st = emptyCounts();
  scoreImage(parseVocAnnotation(VOC), [], 24, st, emptyBuckets());
  assert.equal(st.viol_fn, 1);
  assert.equal(st.gt_mask, 1);
  assert.equal(summarise(st, 1, 0, 24).face_recall_unmasked, 0);
});
