import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeYunet, yunetGrid, type YunetOutputs } from '../../src/vision/detector/yunet.ts';
import { decodeUltraface } from '../../src/vision/detector/ultraface.ts';

/** Empty YuNet outputs for a W×H input (all scores 0). */
function blank(width: number, height: number): YunetOutputs {
  const cells = [8, 16, 32].map((s) => (width / s) * (height / s));
  return {
    cls: cells.map((n) => new Float32Array(n)),
    obj: cells.map((n) => new Float32Array(n)),
    bbox: cells.map((n) => new Float32Array(n * 4)),
  };
}

test('yunet grid has one prior per cell for each stride', () => {
  assert.deepEqual(yunetGrid(640, 480, 8), { cols: 80, rows: 60 });
  assert.deepEqual(yunetGrid(640, 480, 32), { cols: 20, rows: 15 });
  assert.throws(() => yunetGrid(630, 480, 8), RangeError);
});

test('yunet box decoding: centre = (cell + offset)·stride, size = exp(v)·stride, score = sqrt(cls·obj)', () => {
  const out = blank(64, 64);
  // stride 16 grid is 4×4; cell (row 2, col 1) → index 9
  const idx = 2 * 4 + 1;
  out.cls[1]![idx] = 0.81;
  out.obj[1]![idx] = 1.0;
  out.bbox[1]!.set([0.5, 0.25, Math.log(2), 0], idx * 4);
  const boxes = decodeYunet(out, 64, 64, 0.5);
  assert.equal(boxes.length, 1);
  const b = boxes[0]!;
  assert.ok(Math.abs(b.score - 0.9) < 1e-6);
  // cx = (1 + 0.5)·16 = 24, cy = (2 + 0.25)·16 = 36, w = 2·16 = 32, h = 16
  assert.ok(Math.abs(b.x1 - 8) < 1e-4 && Math.abs(b.x2 - 40) < 1e-4);
  assert.ok(Math.abs(b.y1 - 28) < 1e-4 && Math.abs(b.y2 - 44) < 1e-4);
});

test('yunet decoding clamps scores to [0,1] and drops those under the threshold', () => {
  const out = blank(32, 32);
  out.cls[0]![0] = 1.7; // clamped to 1
  out.obj[0]![0] = 0.64;
  out.cls[0]![1] = 0.3;
  out.obj[0]![1] = 0.3;
  out.cls[2]![0] = -0.5; // clamped to 0
  out.obj[2]![0] = 1;
  const boxes = decodeYunet(out, 32, 32, 0.5);
  assert.equal(boxes.length, 1);
  assert.ok(Math.abs(boxes[0]!.score - 0.8) < 1e-6);
});

test('yunet decoding rejects outputs that do not fit the input size', () => {
  assert.throws(() => decodeYunet(blank(64, 64), 64, 32, 0.5), /expected/);
});

test('ultraface decoding: face score = 1 − background, corners scaled to the input', () => {
  const scores = new Float32Array([0.9, 0.05, 0.05, 0.2, 0.1, 0.7, 0.3, 0.6, 0.1]);
  const boxes = new Float32Array([0, 0, 1, 1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.75, 1]);
  const out = decodeUltraface(scores, boxes, 640, 480, 0.5);
  assert.equal(out.length, 2);
  assert.ok(Math.abs(out[0]!.score - 0.8) < 1e-6);
  assert.ok(Math.abs(out[0]!.x1 - 64) < 1e-3 && Math.abs(out[0]!.y2 - 192) < 1e-3);
  assert.ok(Math.abs(out[1]!.x2 - 480) < 1e-3 && Math.abs(out[1]!.y2 - 480) < 1e-3);
  assert.throws(() => decodeUltraface(scores, boxes.subarray(0, 8), 640, 480, 0.5), /disagree/);
});

test('yunet landmark decoding: each point = (cell + offset)·stride, like the centre', () => {
  const out = blank(64, 64);
  out.kps = [8, 16, 32].map((s) => new Float32Array((64 / s) * (64 / s) * 10));
  const idx = 2 * 4 + 1; // stride 16, row 2, col 1
  out.cls[1]![idx] = 1;
  out.obj[1]![idx] = 1;
  out.kps[1]!.set([0, 0, 1, 0, 0.5, 0.5, 0, 1, 1, 1], idx * 10);
  const [b] = decodeYunet(out, 64, 64, 0.5);
  assert.deepEqual(b!.landmarks, [16, 32, 32, 32, 24, 40, 16, 48, 32, 48]);
  // Without landmark outputs, boxes carry none.
  const plain = blank(64, 64);
  plain.cls[1]![idx] = 1;
  plain.obj[1]![idx] = 1;
  assert.equal(decodeYunet(plain, 64, 64, 0.5)[0]!.landmarks, undefined);
});

test('yunet decoding keeps exactly the cells whose sqrt(cls·obj) reaches the threshold, in grid order, scores near it included', () => {
  // Reference: the formula written out cell by cell (the decoder skips most cells without a square root).
  const reference = (out: YunetOutputs, w: number, h: number, threshold: number) =>
    [8, 16, 32].flatMap((stride, s) => {
      const { cols, rows } = yunetGrid(w, h, stride);
      const kept = [];
      for (let idx = 0; idx < cols * rows; idx++) {
        const clamp = (v: number) => Math.min(1, Math.max(0, v));
        const score = Math.sqrt(clamp(out.cls[s]![idx]!) * clamp(out.obj[s]![idx]!));
        if (score >= threshold) kept.push({ stride, idx, score });
      }
      return kept;
    });
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const threshold = 0.6;
  const out = blank(128, 96);
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < out.cls[s]!.length; i++) {
      // Half the cells sit within 1e-6 of the threshold, where a shortcut on cls·obj could disagree.
      const near = random() < 0.5;
      const obj = near ? 1 : random() * 1.2 - 0.1;
      out.obj[s]![i] = obj;
      out.cls[s]![i] = near ? threshold * threshold + (random() - 0.5) * 2e-6 : random() * 1.2 - 0.1;
      out.bbox[s]!.set([random(), random(), random() - 0.5, random() - 0.5], i * 4);
    }
  }
  const expected = reference(out, 128, 96, threshold);
  const boxes = decodeYunet(out, 128, 96, threshold);
  assert.ok(expected.length > 50, `fixture keeps ${expected.length} cells`);
  assert.deepEqual(boxes.map((b) => b.score), expected.map((e) => e.score));
  // Same cells: each box's centre falls in its own cell of its stride.
  boxes.forEach((b, i) => {
    const { stride, idx } = expected[i]!;
    const cols = 128 / stride;
    const cx = (b.x1 + b.x2) / 2 / stride - (idx % cols);
    const cy = (b.y1 + b.y2) / 2 / stride - Math.floor(idx / cols);
    assert.ok(cx >= 0 && cx <= 1 && cy >= 0 && cy <= 1, `box ${i} is not in cell ${idx} of stride ${stride}`);
  });
});
