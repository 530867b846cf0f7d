/**
 * The privacy blur in JS (vision/blur.ts) against libvips's (sharp .blur), which it replaces for
 * small regions: same pixels to within one grey level, at face sizes and sigmas render.ts uses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gaussianBlur, gaussianBlurJs, gaussianBlurVips, gaussianKernel, JS_BLUR_MAX_WORK } from '../../src/vision/blur.ts';
import type { DecodedImage } from '../../src/vision/image.ts';

/** Detail everywhere (what a blur must remove): a checkerboard with a gradient, per channel. */
function pattern(width: number, height: number): DecodedImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const check = ((x >> 1) + (y >> 1)) % 2 ? 220 : 30;
      data[o] = check;
      data[o + 1] = (x * 255) / width;
      data[o + 2] = 255 - check;
    }
  }
  return { data, width, height };
}

function variance(img: DecodedImage, channel: number): number {
  let s = 0;
  let s2 = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const v = img.data[i * 3 + channel]!;
    s += v;
    s2 += v * v;
  }
  return s2 / n - (s / n) ** 2;
}

describe('privacy blur', () => {
  it('matches libvips to within one grey level on face-sized regions', async () => {
    for (const [w, h, sigma] of [
      [12, 12, 2],
      [30, 36, 7.2],
      [53, 47, 10.6],
      [80, 40, 16],
    ] as const) {
      const img = pattern(w, h);
      const js = gaussianBlurJs(img, sigma);
      const vips = await gaussianBlurVips(img, sigma);
      let max = 0;
      for (let i = 0; i < js.data.length; i++) max = Math.max(max, Math.abs(js.data[i]! - vips.data[i]!));
      assert.ok(max <= 1, `${w}×${h} σ ${sigma}: largest difference ${max} grey levels`);
      assert.ok(variance(js, 0) < variance(img, 0) / 20, `${w}×${h} σ ${sigma}: the checkerboard is still visible`);
    }
  });

  it('kernel sums to 1 and ends where the Gaussian falls below 0.2 of its centre', () => {
    const k = gaussianKernel(10);
    assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    const r = (k.length - 1) / 2;
    assert.equal(r, Math.floor(10 * Math.sqrt(2 * Math.log(5))));
    assert.ok(k[0]! / k[r]! >= 0.2 && Math.exp(-((r + 1) ** 2) / 200) < 0.2);
    assert.throws(() => gaussianKernel(0), RangeError);
  });

  it('hands regions too large for the JS kernel to libvips, with the same result', async () => {
    const img = pattern(200, 160);
    const sigma = 40;
    assert.ok(img.width * img.height * gaussianKernel(sigma).length > JS_BLUR_MAX_WORK);
    assert.deepEqual((await gaussianBlur(img, sigma)).data, (await gaussianBlurVips(img, sigma)).data);
  });
});
