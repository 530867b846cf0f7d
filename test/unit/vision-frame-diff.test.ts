import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { thumbnailDifference } from '../../src/vision/frame-diff.ts';

/** A 32×32 scene: a gradient with a few darker blobs (people). */
function scene(blobs: { x: number; y: number }[] = [{ x: 8, y: 10 }, { x: 20, y: 12 }]): number[] {
  const out: number[] = [];
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      let v = 60 + x * 3 + y * 2;
      for (const b of blobs) if (Math.abs(x - b.x) <= 2 && Math.abs(y - b.y) <= 3) v -= 50;
      out.push(v);
    }
  }
  return out;
}

describe('thumbnailDifference', () => {
  it('is 0 for identical thumbnails', () => {
    assert.equal(thumbnailDifference(scene(), scene()), 0);
  });

  it('ignores a global brightness offset and a gain change (exposure)', () => {
    const a = scene();
    assert.ok(thumbnailDifference(a, a.map((v) => v + 25)) < 1e-9);
    assert.ok(thumbnailDifference(a, a.map((v) => v * 1.15)) < 1e-6);
    assert.ok(thumbnailDifference(a, a.map((v) => v * 0.85 - 10)) < 1e-6);
  });

  it('stays small under thumbnail-level noise (sensor noise / JPEG averaged over many pixels)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const a = scene();
    const b = a.map((v) => v + (rand() - 0.5) * 3);
    assert.ok(thumbnailDifference(a, b) < 2, `noise gave ${thumbnailDifference(a, b)}`);
  });

  it('ignores one or two odd pixels (rank 3) but sees a person who moved', () => {
    const a = scene();
    const twoHot = [...a];
    twoHot[100] = 255;
    twoHot[500] = 0;
    assert.ok(thumbnailDifference(a, twoHot) < 2);
    const moved = scene([{ x: 8, y: 10 }, { x: 25, y: 20 }]);
    assert.ok(thumbnailDifference(a, moved) > 30, `a moved person gave ${thumbnailDifference(a, moved)}`);
  });

  it('does not treat a big contrast change (lens covered) as exposure', () => {
    const a = scene();
    const flat = a.map(() => 40);
    assert.ok(thumbnailDifference(a, flat) > 30);
  });

  it('refuses thumbnails of different sizes', () => {
    assert.throws(() => thumbnailDifference([1, 2, 3], [1, 2]), RangeError);
  });
});
