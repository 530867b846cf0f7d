import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropFaces, cropRect, CROP_MARGIN, extractRgb } from '../../src/vision/crop.ts';
import { affineFor, warpRgb } from '../../src/vision/train/augment.ts';

/** Frame whose pixel (x, y) is [x, y, 7]: every crop tells where it came from. */
function coordFrame(width: number, height: number) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 7], (y * width + x) * 3);
  return { data, width, height };
}

test('crop grows the face box by the margin on each side (Kaggle crop framing ≈ 1.3 × box)', () => {
  assert.equal(CROP_MARGIN, 0.15);
  assert.deepEqual(cropRect([100, 100, 40, 60], 400, 300), [94, 91, 52, 78]);
});

test('crop is clamped to the frame and never empty', () => {
  assert.deepEqual(cropRect([0, 0, 20, 20], 100, 100), [0, 0, 23, 23]);
  assert.deepEqual(cropRect([90, 90, 20, 20], 100, 100), [87, 87, 13, 13]);
  assert.deepEqual(cropRect([150, 150, 10, 10], 100, 100), [99, 99, 1, 1]);
  assert.throws(() => cropRect([0, 0, 0, 10], 100, 100), /no area/);
  assert.throws(() => cropRect([NaN, 0, 5, 10], 100, 100), /non-finite/);
});

test('cropFaces copies exactly the crop rectangles out of the frame', async () => {
  const frame = coordFrame(120, 80);
  const [a, b] = await cropFaces(frame, [
    [20, 10, 20, 20],
    [110, 70, 20, 20],
  ]);
  assert.equal(a!.width, 26);
  assert.equal(a!.height, 26);
  assert.deepEqual([...a!.data.subarray(0, 3)], [17, 7, 7]); // top-left = (20 − 3, 10 − 3)
  const last = (a!.width * a!.height - 1) * 3;
  assert.deepEqual([...a!.data.subarray(last, last + 3)], [42, 32, 7]);
  assert.deepEqual([b!.width, b!.height], [13, 13]);
  assert.deepEqual([...b!.data.subarray(0, 3)], [107, 67, 7]);
  assert.throws(() => extractRgb({ data: Buffer.alloc(5), width: 2, height: 2 }, [0, 0, 1, 1]), /expected 2×2×3/);
});

test('identity affine leaves the image unchanged; flip mirrors it', () => {
  const f = coordFrame(9, 5);
  const identity = { rotationDeg: 0, zoomX: 1, zoomY: 1, shiftX: 0, shiftY: 0, shear: 0, flip: false };
  assert.deepEqual(warpRgb(f.data, 9, 5, affineFor(identity, 9, 5)), f.data);
  const flipped = warpRgb(f.data, 9, 5, affineFor({ ...identity, flip: true }, 9, 5));
  for (let y = 0; y < 5; y++) for (let x = 0; x < 9; x++) assert.equal(flipped[(y * 9 + x) * 3], 8 - x);
  // Shift beyond the border repeats the edge (Keras fill_mode "nearest").
  const shifted = warpRgb(f.data, 9, 5, affineFor({ ...identity, shiftX: 0.5 }, 9, 5));
  assert.equal(shifted[(0 * 9 + 8) * 3], 8);
  // 90° rotation about the centre of a square image maps rows to columns.
  const sq = coordFrame(5, 5);
  const rot = warpRgb(sq.data, 5, 5, affineFor({ ...identity, rotationDeg: 90 }, 5, 5));
  assert.deepEqual([rot[0], rot[1]], [4, 0]);
});
