import { test } from 'node:test';
import assert from 'node:assert/strict';
import { letterboxTensor } from '../../src/vision/detector/tensor.ts';
import { planDynamicInput } from '../../src/vision/detector/letterbox.ts';

// 2×1 image: a red pixel then a blue one
const image = { data: Buffer.from([255, 0, 0, 0, 0, 255]), width: 2, height: 1 };
const plan = { scale: 1, resizedWidth: 2, resizedHeight: 1, inputWidth: 4, inputHeight: 2 };

test('BGR 0–255 NCHW with zero padding (YuNet)', async () => {
  const t = await letterboxTensor(image, plan, { order: 'bgr', mean: 0, multiplier: 1 });
  assert.equal(t.length, 3 * 4 * 2);
  const plane = (c: number) => Array.from(t.subarray(c * 8, c * 8 + 8));
  assert.deepEqual(plane(0), [0, 255, 0, 0, 0, 0, 0, 0]); // B
  assert.deepEqual(plane(1), [0, 0, 0, 0, 0, 0, 0, 0]); // G
  assert.deepEqual(plane(2), [255, 0, 0, 0, 0, 0, 0, 0]); // R
});

test('RGB (x − 127) / 128 with padding at the normalised mean (UltraFace)', async () => {
  const t = await letterboxTensor(image, plan, { order: 'rgb', mean: 127, multiplier: 1 / 128 });
  assert.equal(t[0], 1); // R of the red pixel: (255 − 127) / 128
  assert.equal(t[1], -127 / 128); // R of the blue pixel
  assert.equal(t[2], 0); // padding
  assert.equal(t[16 + 1], 1); // B plane, blue pixel
});

test('a frame needing a resize is resized to the plan, then padded below', async () => {
  const big = { data: Buffer.alloc(100 * 40 * 3, 200), width: 100, height: 40 };
  const p = planDynamicInput(100, 40, { minLongSide: 64, maxLongSide: 64 });
  assert.deepEqual([p.resizedWidth, p.resizedHeight, p.inputWidth, p.inputHeight], [64, 26, 64, 32]);
  const t = await letterboxTensor(big, p, { order: 'bgr', mean: 0, multiplier: 1 });
  assert.equal(t.length, 3 * 64 * 32);
  assert.equal(t[64 * 25 + 63], 200); // last resized row, last column
  assert.equal(t[64 * 26], 0); // first padding row
});

test('a reused (dirty) tensor body gives exactly what a fresh one gives, padding included', async () => {
  const frame = { data: Buffer.from(Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256)), width: 5, height: 3 };
  const p = { scale: 1, resizedWidth: 5, resizedHeight: 3, inputWidth: 8, inputHeight: 4 };
  const fresh = await letterboxTensor(frame, p, { order: 'bgr', mean: 0, multiplier: 1 });
  const dirty = new Float32Array(3 * 8 * 4).fill(-7);
  const reused = await letterboxTensor(frame, p, { order: 'bgr', mean: 0, multiplier: 1 }, dirty);
  assert.equal(reused, dirty);
  assert.deepEqual(reused, fresh);
  await assert.rejects(letterboxTensor(frame, p, { order: 'bgr', mean: 0, multiplier: 1 }, new Float32Array(10)), /need 96/);
});
