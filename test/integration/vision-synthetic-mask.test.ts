import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { decodeImage, type DecodedImage } from '../../src/vision/image.ts';
import { createFaceDetector } from '../../src/vision/detector/factory.ts';
import type { FaceDetection, FaceDetector } from '../../src/vision/detector/types.ts';
import { faceFrame, paintMask } from '../../src/vision/train/synthetic-mask.ts';
import { mulberry32 } from '../../src/vision/train/rng.ts';

const assets = loadConfig().assetsDir;
let detector: FaceDetector;
let img: DecodedImage;
let faces: FaceDetection[];

before(async () => {
  detector = await createFaceDetector({ assetsDir: assets, kind: 'yunet-s', intraOpThreads: 1 });
  img = await decodeImage(await readFile(path.join(assets, 'datasets/scenes/group-faces.jpg')));
  faces = await detector.detect(img, 0.6);
});
after(async () => {
  await detector?.close();
});

test('YuNet gives five landmarks per face, inside the box, in face order (eyes above nose above mouth)', () => {
  assert.equal(faces.length, 4);
  for (const f of faces) {
    const lm = f.landmarks;
    assert.ok(lm && lm.length === 5, 'five landmarks');
    const [x, y, w, h] = f.box;
    for (const [px, py] of lm) assert.ok(px >= x - 0.1 * w && px <= x + 1.1 * w && py >= y - 0.1 * h && py <= y + 1.1 * h, `landmark ${px},${py} outside ${f.box}`);
    const [re, le, nose, rm, lmouth] = lm;
    assert.ok(re![0] < le![0] && rm![0] < lmouth![0], 'right eye / mouth corner on the image left');
    assert.ok(Math.max(re![1], le![1]) < nose![1] && nose![1] < Math.min(rm![1], lmouth![1]), 'eyes, nose, mouth top to bottom');
    const frame = faceFrame(lm);
    assert.ok(frame.nose[1] > 0.3 && frame.nose[1] < 0.85, `nose at ${frame.nose[1]} of the eye→mouth distance`);
  }
});

/** Mean absolute change of the pixels in a horizontal band of the face (fractions of the box height). */
function bandChange(a: DecodedImage, b: DecodedImage, box: [number, number, number, number], from: number, to: number): number {
  const [x, y, w, h] = box;
  let sum = 0;
  let n = 0;
  for (let yy = Math.round(y + from * h); yy < Math.round(y + to * h); yy++) {
    for (let xx = Math.round(x + 0.3 * w); xx < Math.round(x + 0.7 * w); xx++) {
      const o = (yy * a.width + xx) * 3;
      for (let c = 0; c < 3; c++) sum += Math.abs(a.data[o + c]! - b.data[o + c]!);
      n += 3;
    }
  }
  return sum / n;
}

test('a mask painted below the nose covers the mouth and leaves the eyes and nose bridge; over the nose it covers the nose too', () => {
  for (const f of faces) {
    const below = paintMask(img, f.landmarks!, 'below-nose', mulberry32(1));
    const over = paintMask(img, f.landmarks!, 'over-nose', mulberry32(1));
    const lm = f.landmarks!;
    const [, y, , h] = f.box;
    const eyesAt = (lm[0]![1] + lm[1]![1]) / 2;
    const noseAt = lm[2]![1];
    const mouthAt = (lm[3]![1] + lm[4]![1]) / 2;
    const frac = (v: number) => (v - y) / h;
    // Eyes untouched by either; the mouth covered by both; the nose bridge (between eyes and nose tip) only by the correct mask.
    const eyes: [number, number] = [frac(eyesAt) - 0.03, frac(eyesAt) + 0.03];
    const bridge: [number, number] = [frac((eyesAt + noseAt) / 2) + 0.02, frac(noseAt) - 0.02];
    const mouth: [number, number] = [frac(mouthAt) - 0.02, frac(mouthAt) + 0.02];
    assert.ok(bandChange(img, below, f.box, ...eyes) < 1, 'eyes untouched (below-nose)');
    assert.ok(bandChange(img, over, f.box, ...eyes) < 1, 'eyes untouched (over-nose)');
    assert.ok(bandChange(img, below, f.box, ...mouth) > 10, 'mouth covered (below-nose)');
    assert.ok(bandChange(img, over, f.box, ...mouth) > 10, 'mouth covered (over-nose)');
    assert.ok(bandChange(img, below, f.box, ...bridge) < 1, 'nose bridge uncovered (below-nose)');
    assert.ok(bandChange(img, over, f.box, ...bridge) > 10, 'nose bridge covered (over-nose)');
  }
  // The source frame is not modified.
  assert.equal(img.data.length, img.width * img.height * 3);
});
