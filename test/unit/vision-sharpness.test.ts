import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { laplacianVariance } from '../../src/vision/sharpness.ts';

function image(width: number, height: number, pixel: (x: number, y: number) => number) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.fill(pixel(x, y), (y * width + x) * 3, (y * width + x) * 3 + 3);
  return { data, width, height };
}

describe('laplacianVariance', () => {
  it('ranks a sharp checkerboard above a blurred ramp, and a flat region at 0', () => {
    const sharpImg = image(64, 64, (x, y) => (((x >> 2) + (y >> 2)) % 2 ? 230 : 20));
    const blurImg = image(64, 64, (x) => Math.round((x / 63) * 255));
    const flat = image(64, 64, () => 128);
    const box = [0, 0, 64, 64] as const;
    assert.ok(laplacianVariance(sharpImg, box) > 10 * Math.max(1, laplacianVariance(blurImg, box)));
    assert.equal(laplacianVariance(flat, box), 0);
  });
  it('clips boxes to the image and returns 0 for degenerate ones', () => {
    const img = image(16, 16, (x) => x * 10);
    assert.equal(laplacianVariance(img, [20, 20, 5, 5]), 0);
    assert.ok(Number.isFinite(laplacianVariance(img, [-5, -5, 40, 40])));
  });
});
