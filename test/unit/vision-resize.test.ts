import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { resizeRgb } from '../../src/vision/resize.ts';
import type { DecodedImage } from '../../src/vision/image.ts';

function image(width: number, height: number, pixel: (x: number, y: number, c: number) => number): DecodedImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = pixel(x, y, c);
  return { data, width, height };
}

const at = (img: Buffer, width: number, x: number, y: number, c: number) => img[(y * width + x) * 3 + c]!;

test('a flat colour stays exactly that colour, shrinking or enlarging', () => {
  const flat = image(37, 53, (_x, _y, c) => [12, 200, 255][c]!);
  for (const [w, h] of [[224, 224], [5, 7], [100, 20]] as const) {
    const out = resizeRgb(flat, w, h);
    assert.equal(out.length, w * h * 3);
    for (let i = 0; i < out.length; i++) assert.equal(out[i], [12, 200, 255][i % 3]);
  }
});

test('same size returns the pixels untouched', () => {
  const img = image(4, 3, (x, y, c) => x * 40 + y * 7 + c);
  assert.equal(resizeRgb(img, 4, 3), img.data);
});

test('shrinking is antialiased: a one-pixel checkerboard halved becomes mid grey, not black or white', () => {
  const board = image(64, 64, (x, y) => ((x + y) % 2 ? 255 : 0));
  const out = resizeRgb(board, 32, 32);
  // Edge pixels see a lopsided window (weights renormalised inside the image), hence the small slack.
  for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i]! - 127.5) <= 4, `pixel ${i} = ${out[i]}`);
});

test('enlarging a ramp keeps it monotonic and keeps the channels apart', () => {
  const ramp = image(8, 2, (x, _y, c) => (c === 0 ? x * 30 : c === 1 ? 255 - x * 30 : 9));
  const out = resizeRgb(ramp, 224, 4);
  for (let x = 1; x < 224; x++) {
    assert.ok(at(out, 224, x, 1, 0) >= at(out, 224, x - 1, 1, 0), `red falls at x=${x}`);
    assert.ok(at(out, 224, x, 1, 1) <= at(out, 224, x - 1, 1, 1), `green rises at x=${x}`);
    assert.equal(at(out, 224, x, 1, 2), 9);
  }
  assert.equal(at(out, 224, 0, 0, 0), 0);
  assert.equal(at(out, 224, 223, 0, 0), 210);
});

test('agrees with libvips (sharp) on a real-looking image to within a few grey levels', async () => {
  // Smooth shapes plus texture: what a face crop looks like to a resizer.
  const src = image(300, 260, (x, y, c) => Math.round(127 + 100 * Math.sin(x / (9 + c)) * Math.cos(y / 13) + ((x * 7 + y * 3) % 11)));
  for (const [w, h] of [[224, 224], [224, 300 * 2]] as const) {
    const ours = resizeRgb(src, w, h);
    const vips = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } }).resize(w, h, { fit: 'fill' }).raw().toBuffer();
    let sum = 0;
    for (let i = 0; i < ours.length; i++) sum += Math.abs(ours[i]! - vips[i]!);
    assert.ok(sum / ours.length < 4, `mean absolute difference ${sum / ours.length} to ${w}×${h}`);
  }
});

test('bad targets and inconsistent buffers are refused', () => {
  const img = image(4, 4, () => 0);
  assert.throws(() => resizeRgb(img, 0, 10), RangeError);
  assert.throws(() => resizeRgb(img, 2.5, 10), RangeError);
  assert.throws(() => resizeRgb({ ...img, width: 5 }, 10, 10), RangeError);
});
