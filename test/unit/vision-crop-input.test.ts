import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INPUT_SIZE, MEAN, STD, mirrorInput, resizeToInput, toInputTensor, writeCropInput } from '../../src/vision/backbone.ts';
import { cropRect, extractRgb } from '../../src/vision/crop.ts';
import { resizeRgb } from '../../src/vision/resize.ts';
import type { DecodedImage } from '../../src/vision/image.ts';
import type { Box } from '../../src/vision/types.ts';

/*
 * The fused crop → resize → normalise path must give the classifier exactly
 * the input the head was trained on. The reference below is the previous
 * implementation (resize.ts and toInputTensor before the fused path),
 * verbatim, so any drift in either path fails here, bit for bit.
 */
function referenceAxisWeights(srcSize: number, dstSize: number) {
  const scale = srcSize / dstSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dstSize);
  const count = new Int32Array(dstSize);
  const weights = new Float32Array(dstSize * taps);
  for (let i = 0; i < dstSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support + 0.5));
    const hi = Math.min(srcSize, Math.floor(centre + support + 0.5));
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / filterScale));
      weights[i * taps + j - lo] = w;
      sum += w;
    }
    for (let k = 0; k < hi - lo; k++) weights[i * taps + k]! /= sum || 1;
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, taps };
}

function referenceResize(img: DecodedImage, width: number, height: number): Buffer {
  const { data: src, width: sw, height: sh } = img;
  if (sw === width && sh === height) return src;
  const h = referenceAxisWeights(sw, width);
  const v = referenceAxisWeights(sh, height);
  const mid = new Float32Array(sh * width * 3);
  for (let y = 0; y < sh; y++) {
    const row = y * sw * 3;
    const out = y * width * 3;
    for (let x = 0; x < width; x++) {
      const base = x * h.taps;
      let s = row + h.start[x]! * 3;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0, n = h.count[x]!; k < n; k++, s += 3) {
        const w = h.weights[base + k]!;
        r += src[s]! * w;
        g += src[s + 1]! * w;
        b += src[s + 2]! * w;
      }
      const o = out + x * 3;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
    }
  }
  const dst = Buffer.allocUnsafe(width * height * 3);
  const stride = width * 3;
  const acc = new Float32Array(stride);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let k = 0, n = v.count[y]!; k < n; k++) {
      const w = v.weights[y * v.taps + k]!;
      const s = (v.start[y]! + k) * stride;
      for (let i = 0; i < stride; i++) acc[i]! += mid[s + i]! * w;
    }
    const out = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = acc[i]!;
      dst[out + i] = a <= 0 ? 0 : a >= 255 ? 255 : (a + 0.5) | 0;
    }
  }
  return dst;
}

function referenceTensor(rgb224: Buffer): Float32Array {
  const plane = INPUT_SIZE * INPUT_SIZE;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * STD[c]!);
    const shift = MEAN[c]! / STD[c]!;
    for (let i = 0; i < plane; i++) out[c * plane + i] = rgb224[i * 3 + c]! * scale - shift;
  }
  return out;
}

/** Deterministic textured frame (smooth shapes, hard edges, saturated corners). */
function frame(width: number, height: number, seed: number): DecodedImage {
  const data = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const smooth = 127 + 120 * Math.sin(x / (5 + c)) * Math.cos(y / 7);
        const v = (x + y) % 17 === 0 ? (c ? 255 : 0) : smooth + ((s >>> 24) % 23) - 11;
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { data, width, height };
}

const cases: Array<[string, DecodedImage, Box]> = [
  ['small CCTV face, enlarged ~7×', frame(320, 240, 1), [101, 57, 31, 38]],
  ['mid face, enlarged', frame(640, 480, 2), [200, 150, 97, 120]],
  ['large face, shrunk', frame(900, 700, 3), [40, 30, 600, 640]],
  ['mild shrink (3 taps per output pixel)', frame(400, 400, 8), [20, 30, 290, 310]],
  ['enlarged one way, shrunk the other', frame(500, 300, 10), [5, 5, 450, 60]],
  ['exactly 224×224', frame(300, 300, 4), [10, 20, 224, 224]],
  ['224 wide only', frame(300, 300, 5), [0, 0, 224, 100]],
  ['touches the frame corner', frame(120, 90, 6), [0, 0, 120, 90]],
  ['1×1 pixel', frame(8, 8, 7), [7, 7, 1, 1]],
];

for (const [name, img, rect] of cases) {
  test(`fused crop input is bit-identical to extract → resize → pack: ${name}`, () => {
    const expected = referenceTensor(referenceResize(extractRgb(img, rect), INPUT_SIZE, INPUT_SIZE));
    // Slot 1 of a dirty 2-image body: offsets and reuse must not leak old values.
    const body = new Float32Array(2 * 3 * INPUT_SIZE * INPUT_SIZE).fill(Number.NaN);
    writeCropInput(img, rect, body, 1);
    const got = body.subarray(3 * INPUT_SIZE * INPUT_SIZE);
    assert.equal(Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(expected.buffer)), 0);
    // The training path (resizeRgb + toInputTensor) shares the same code and gives the same bits.
    const training = toInputTensor([resizeToInput(extractRgb(img, rect))]);
    assert.deepEqual(training, expected);
    assert.deepEqual(resizeRgb(extractRgb(img, rect), 57, 91), referenceResize(extractRgb(img, rect), 57, 91));
  });
}

test('detector boxes go through cropRect first; rectangles outside the frame are refused', () => {
  const img = frame(64, 48, 9);
  const rect = cropRect([50, 30, 20, 30], img.width, img.height, 0.15);
  const body = new Float32Array(3 * INPUT_SIZE * INPUT_SIZE);
  writeCropInput(img, rect, body, 0);
  assert.deepEqual(body, referenceTensor(referenceResize(extractRgb(img, rect), INPUT_SIZE, INPUT_SIZE)));
  assert.throws(() => writeCropInput(img, [60, 0, 10, 10], body, 0), /not inside the 64×48 frame/);
  assert.throws(() => writeCropInput(img, [0, 0, 10, 10], body, 1), /target holds/);
});

test('mirrorInput shows slot k of a body mirrored left to right, the other slot untouched', () => {
  const img = frame(300, 200, 10);
  const rect: Box = [17, 9, 150, 170];
  const plane = INPUT_SIZE * INPUT_SIZE;
  const body = new Float32Array(2 * 3 * plane);
  writeCropInput(img, rect, body, 0);
  writeCropInput(img, rect, body, 1);
  const original = body.slice();
  mirrorInput(body, 1);
  assert.deepEqual(body.subarray(0, 3 * plane), original.subarray(0, 3 * plane));
  for (const [c, y, x] of [[0, 0, 0], [1, 100, 3], [2, 223, 223], [2, 57, 111]] as const) {
    assert.equal(body[3 * plane + c * plane + y * INPUT_SIZE + x], original[3 * plane + c * plane + y * INPUT_SIZE + (INPUT_SIZE - 1 - x)]);
  }
  // The same as the crop of the mirrored frame, up to one level of the last rounding.
  const mirroredFrame = { width: img.width, height: img.height, data: Buffer.alloc(img.data.length) };
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) img.data.copy(mirroredFrame.data, (y * img.width + img.width - 1 - x) * 3, (y * img.width + x) * 3, (y * img.width + x) * 3 + 3);
  const direct = new Float32Array(3 * plane);
  writeCropInput(mirroredFrame, [img.width - rect[0] - rect[2], rect[1], rect[2], rect[3]], direct, 0);
  const oneLevel = 1 / (255 * Math.min(...STD)) + 1e-6;
  const got = body.subarray(3 * plane);
  assert.ok(direct.every((v, i) => Math.abs(v - got[i]!) <= oneLevel));
  mirrorInput(body, 1);
  assert.deepEqual(body, original, 'mirroring twice is the identity');
});
