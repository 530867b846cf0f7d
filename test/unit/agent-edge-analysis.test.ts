/**
 * Edge analysis with more faces than an upload may carry (MAX_DETECTED_FACES):
 * the agent sends the largest ones (by box area) instead of a body the API
 * refuses, with crops for exactly the violating faces it sends, indexed by
 * their position in the upload.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { MAX_DETECTED_FACES } from '../../src/contracts/api.ts';
import { createEdgeAnalyzer, largestFaces } from '../../src/agent/edge-analysis.ts';
import type { Box, FaceResult, FrameAnalysis } from '../../src/vision/types.ts';

const W = 1200;
const H = 800;

function face(box: Box, violation: boolean): FaceResult {
  const p = violation ? { mask: 0.05, no_mask: 0.9, mask_incorrect: 0.05 } : { mask: 0.9, no_mask: 0.05, mask_incorrect: 0.05 };
  return { box, score: 0.9, label: violation ? 'no_mask' : 'mask', violation, noMaskProbability: p.no_mask, maskProbability: p.no_mask, probabilities: p };
}

/** 70 faces on a 10-column grid; face i is (10 + i % 7) px wide, so sizes repeat and ties occur. */
function crowd(n = MAX_DETECTED_FACES + 6): FaceResult[] {
  return Array.from({ length: n }, (_, i) => {
    const side = 10 + (i % 7);
    return face([(i % 10) * 110 + 20, Math.floor(i / 10) * 100 + 20, side, side], i % 5 === 0);
  });
}

describe('edge analysis: a crowd beyond the upload limit', () => {
  it('largestFaces keeps every face up to the limit, in order', () => {
    const faces = crowd(MAX_DETECTED_FACES);
    assert.deepEqual(largestFaces(faces), faces.map((_, i) => i));
  });

  it('largestFaces keeps the largest by area, ties to the earlier face, in the original order', () => {
    const faces = crowd();
    const kept = largestFaces(faces);
    assert.equal(kept.length, MAX_DETECTED_FACES);
    assert.deepEqual(kept, [...kept].sort((a, b) => a - b), 'original order');
    const area = (i: number) => faces[i]!.box[2] * faces[i]!.box[3];
    const smallestKept = Math.min(...kept.map(area));
    const dropped = faces.map((_, i) => i).filter((i) => !kept.includes(i));
    assert.equal(dropped.length, 6);
    for (const i of dropped) {
      assert.ok(area(i) <= smallestKept, `dropped face ${i} (area ${area(i)}) is not larger than a kept one (${smallestKept})`);
      // A tie is broken for the earlier face: a dropped face of the smallest kept size comes after every kept one of that size.
      if (area(i) === smallestKept) assert.ok(kept.filter((k) => area(k) === smallestKept).every((k) => k < i));
    }
    assert.deepEqual(largestFaces(faces, 3), [6, 13, 20], 'the three 16 px faces, the earliest of the ties');
  });

  it('uploads the 64 largest faces, with crops for exactly the violating ones sent', async () => {
    const faces = crowd();
    const image = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 120, g: 120, b: 120 } } }).jpeg().toBuffer();
    const engine = { analyzeFrame: async (): Promise<FrameAnalysis> => ({ width: W, height: H, faces }) };
    const result = await createEdgeAnalyzer(engine)(image, new Date('2026-01-01T00:00:00Z'));

    const kept = largestFaces(faces);
    assert.equal(result.body.faces.length, MAX_DETECTED_FACES);
    assert.equal(result.faces, MAX_DETECTED_FACES);
    assert.equal(result.droppedFaces, faces.length - MAX_DETECTED_FACES);
    assert.deepEqual(result.body.faces.map((f) => f.box), kept.map((i) => faces[i]!.box));
    const violatingSent = kept.filter((i) => faces[i]!.violation);
    assert.ok(faces.some((f, i) => f.violation && !kept.includes(i)), 'the crowd drops a violating face too');
    assert.equal(result.violations, violatingSent.length);
    result.body.faces.forEach((f, position) => {
      const violation = faces[kept[position]!]!.violation;
      assert.equal(f.crop !== undefined, violation, `face ${position}: a crop exactly for a violation`);
      if (f.crop) assert.equal(Buffer.from(f.crop, 'base64').subarray(0, 2).toString('hex'), 'ffd8', 'a JPEG');
    });
  });

  it('leaves a frame within the limit untouched', async () => {
    const faces = crowd(3);
    const image = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 120, g: 120, b: 120 } } }).jpeg().toBuffer();
    const engine = { analyzeFrame: async (): Promise<FrameAnalysis> => ({ width: W, height: H, faces }) };
    const result = await createEdgeAnalyzer(engine)(image, new Date());
    assert.equal(result.droppedFaces, 0);
    assert.deepEqual(result.body.faces.map((f) => f.box), faces.map((f) => f.box));
    assert.deepEqual(result.body.faces.map((f) => f.crop !== undefined), [true, false, false]);
  });
});
