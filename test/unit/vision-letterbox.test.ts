import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDynamicInput, planFixedInput, unletterboxBox } from '../../src/vision/detector/letterbox.ts';

test('dynamic plan upscales a small frame to the minimum long side and pads to 32', () => {
  const p = planDynamicInput(400, 267, { minLongSide: 640, maxLongSide: 1280 });
  assert.equal(p.scale, 1.6);
  assert.equal(p.resizedWidth, 640);
  assert.equal(p.resizedHeight, 427);
  assert.equal(p.inputWidth, 640);
  assert.equal(p.inputHeight, 448);
});

test('dynamic plan keeps an in-range frame at native size and shrinks a huge one', () => {
  const native = planDynamicInput(1280, 720, { minLongSide: 640, maxLongSide: 1280 });
  assert.deepEqual(native, { scale: 1, resizedWidth: 1280, resizedHeight: 720, inputWidth: 1280, inputHeight: 736 });
  const huge = planDynamicInput(3840, 2160, { minLongSide: 640, maxLongSide: 1280 });
  assert.equal(huge.scale, 1 / 3);
  assert.equal(huge.resizedWidth, 1280);
  assert.equal(huge.inputHeight % 32, 0);
  // portrait: the long side is the height
  const portrait = planDynamicInput(301, 400, { minLongSide: 640, maxLongSide: 640 });
  assert.equal(portrait.resizedHeight, 640);
  assert.equal(portrait.inputWidth, 512);
});

test('fixed plan fits the frame inside the network input, aspect kept', () => {
  const p = planFixedInput(1280, 720, 640, 640);
  assert.equal(p.scale, 0.5);
  assert.deepEqual([p.resizedWidth, p.resizedHeight, p.inputWidth, p.inputHeight], [640, 360, 640, 640]);
  const up = planFixedInput(320, 480, 640, 480);
  assert.equal(up.scale, 1);
});

test('unletterbox maps back by the scale and clips to the frame', () => {
  assert.deepEqual(unletterboxBox(160, 80, 320, 240, 1.6, 400, 300), [100, 50, 100, 100]);
  assert.deepEqual(unletterboxBox(-16, -16, 16, 16, 1.6, 400, 300), [0, 0, 10, 10]);
  assert.deepEqual(unletterboxBox(600, 450, 700, 500, 1.6, 400, 300), [375, 281.25, 25, 18.75]);
});

test('plans reject empty or fractional sizes', () => {
  assert.throws(() => planDynamicInput(0, 10, { minLongSide: 640, maxLongSide: 1280 }), RangeError);
  assert.throws(() => planFixedInput(10.5, 10, 640, 640), RangeError);
  assert.throws(() => planDynamicInput(10, 10, { minLongSide: 700, maxLongSide: 640 }), RangeError);
});
