/**
 * Evidence pixels (issue 13, item 4), on synthetic frames whose "faces" are
 * checkerboards (all detail) on a flat background: a face crop shows one face
 * sharp and every other face that reaches into it blurred; the stored frame has
 * no overlay; an alert's view blurs every face but its people's and boxes them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { decodeImage, type DecodedImage } from '../../src/vision/image.ts';
import { renderAlertFrame, renderFaceCrops, renderPrivateFaceCrops, renderStoredFrame } from '../../src/vision/render.ts';
import type { Box, FaceResult } from '../../src/vision/types.ts';

const W = 220;
const H = 110;
// Two faces side by side, 5 px apart: A's crop (25 % margin) reaches 10 px into B's face.
const A: Box = [40, 30, 40, 40];
const B: Box = [85, 30, 40, 40];
const C: Box = [160, 30, 40, 40];

const inside = (x: number, y: number, [bx, by, bw, bh]: Box) => x >= bx && x < bx + bw && y >= by && y < by + bh;

function frame(boxes: Box[] = [A, B, C], width = W, height = H): DecodedImage {
  const data = Buffer.alloc(width * height * 3, 128);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (boxes.some((b) => inside(x, y, b))) data.fill(((x >> 1) + (y >> 1)) % 2 ? 235 : 20, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return { data, width, height };
}

const face = (box: Box, violation: boolean): FaceResult => ({
  box,
  score: 0.9,
  label: violation ? 'no_mask' : 'mask',
  violation,
  noMaskProbability: violation ? 0.9 : 0.1,
  maskProbability: violation ? 0.9 : 0.1,
  probabilities: { mask: violation ? 0.1 : 0.9, no_mask: violation ? 0.9 : 0.1, mask_incorrect: 0 },
});

/** Mean absolute difference between horizontal neighbours inside a rectangle (high = sharp detail). */
function detail(img: DecodedImage, [x0, y0, w, h]: Box): number {
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w - 1; x++) {
      for (let c = 0; c < 3; c++) sum += Math.abs(img.data[(y * img.width + x) * 3 + c]! - img.data[(y * img.width + x + 1) * 3 + c]!);
      n += 3;
    }
  }
  return sum / n;
}

describe('face crops show one face', () => {
  it("blurs the part of a neighbour's face that falls inside a crop, and keeps the crop's own face sharp", async () => {
    const img = frame();
    const faces = [face(A, true), face(B, false), face(C, true)];
    const [cropA, cropB] = await renderFaceCrops(img, faces, [0, 1]);
    const a = await decodeImage(cropA!);
    // A's crop starts at x = 30 (25 % of 40 px): B's face (x 85–124) is at crop x 55 onwards.
    assert.deepEqual([a.width, a.height], [60, 60]);
    const neighbour: Box = [56, 8, 3, 40];
    const own: Box = [14, 14, 32, 32];
    const original = detail(img, [86, 38, 3, 40]);
    assert.ok(original > 60, `the neighbour is all detail in the frame (${original})`);
    assert.ok(detail(a, neighbour) < original * 0.25, `neighbour in A's crop: detail ${detail(a, neighbour).toFixed(1)} of ${original.toFixed(1)}`);
    assert.ok(detail(a, own) > 80, `A's own face keeps its detail (${detail(a, own).toFixed(1)})`);
    // And the other way round: B's crop blurs A's edge, not B.
    const b = await decodeImage(cropB!);
    assert.ok(detail(b, [1, 8, 3, 40]) < original * 0.25, "A's edge in B's crop is blurred");
    assert.ok(detail(b, [24, 14, 24, 32]) > 80, "B's own face keeps its detail");
  });

  it('leaves a crop with no other face in reach untouched', async () => {
    const img = frame();
    const [cropC] = await renderFaceCrops(img, [face(A, true), face(C, true)], [1]);
    const c = await decodeImage(cropC!);
    assert.ok(detail(c, [10, 10, 40, 40]) > 80);
  });
});

describe('stored frame and an alert view of it', () => {
  it('stores the frame with non-violating faces blurred and no overlay', async () => {
    const img = frame();
    const stored = await decodeImage(await renderStoredFrame(img, [face(A, true), face(B, false), face(C, true)], [0, 2]));
    assert.ok(detail(stored, [90, 35, 30, 30]) < 20, 'B (masked) blurred');
    assert.ok(detail(stored, [45, 35, 30, 30]) > 80, 'A (violation) sharp');
    // No box drawn: the background just outside A stays flat grey (no red outline).
    const o = ((A[1] - 1) * W + A[0] + 20) * 3;
    assert.ok(Math.abs(stored.data[o]! - 128) < 12 && Math.abs(stored.data[o + 1]! - 128) < 12, `no overlay: ${stored.data.subarray(o, o + 3).join(',')}`);
  });

  it("an alert's view keeps only its people sharp, blurs every other face and boxes its people in red", async () => {
    const img = frame();
    const stored = await renderStoredFrame(img, [face(A, true), face(B, true), face(C, true)], [0, 1, 2]);
    const view = await decodeImage(await renderAlertFrame(stored, { people: [C], others: [A, B] }));
    assert.deepEqual([view.width, view.height], [W, H]);
    assert.ok(detail(view, [45, 35, 30, 30]) < 20, "A (another alert's violator) blurred");
    assert.ok(detail(view, [90, 35, 30, 30]) < 20, 'B blurred');
    assert.ok(detail(view, [165, 35, 30, 30]) > 80, 'C (the alert person) sharp');
    const o = (C[1] * W + C[0] + 20) * 3;
    const [r, g, b] = [view.data[o]!, view.data[o + 1]!, view.data[o + 2]!];
    assert.ok(r > 150 && g < 110 && b < 110, `red edge on the alert's person: ${r},${g},${b}`);
    // A decoded frame cannot be a decompression bomb: the stored file is decoded under the pixel limit.
    await assert.rejects(renderAlertFrame(await sharp(img.data, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer(), { people: [], others: [] }, { maxPixels: 100 }));
  });
});

describe("in a crowd, a neighbour's margin does not blur a face shown sharp; their face does", () => {
  // P and Q 2 px apart: each one's blur margin (10 % of 80 px = 8 px) reaches 6 px into the other's face.
  const P: Box = [20, 20, 80, 80];
  const Q: Box = [102, 20, 80, 80];
  // R and S overlap by 10 px (x 90–99): there the faces themselves overlap.
  const R: Box = P;
  const S: Box = [90, 20, 80, 80];
  const [FW, FH] = [200, 120];
  const pEdge: Box = [94, 25, 6, 70]; // P's own pixels inside Q's margin
  const qEdge: Box = [102, 25, 6, 70]; // Q's own pixels inside P's margin

  it("a face crop keeps its whole face; the neighbour's face stays blurred", async () => {
    const img = frame([P, Q], FW, FH);
    const [crop] = await renderFaceCrops(img, [face(P, true), face(Q, false)], [0]);
    // P's crop (25 % margin) starts at the frame's origin: crop pixels are frame pixels.
    const c = await decodeImage(crop!);
    assert.ok(detail(c, pEdge) > 80, `P's edge under Q's margin is sharp (${detail(c, pEdge).toFixed(1)})`);
    assert.ok(detail(c, qEdge) < 20, `Q's face in P's crop is blurred (${detail(c, qEdge).toFixed(1)})`);
    // The edge agent's crops (the frame never leaves the site) are framed and blurred alike.
    const edge = await decodeImage((await renderPrivateFaceCrops(img, [face(P, true), face(Q, false)], [0]))[0]!);
    assert.ok(detail(edge, pEdge) > 80 && detail(edge, qEdge) < 20, `edge crop: P ${detail(edge, pEdge).toFixed(1)}, Q ${detail(edge, qEdge).toFixed(1)}`);
  });

  it('the stored frame and an alert view keep their people whole', async () => {
    const img = frame([P, Q], FW, FH);
    const stored = await renderStoredFrame(img, [face(P, true), face(Q, false)], [0]);
    const s = await decodeImage(stored);
    assert.ok(detail(s, pEdge) > 80, `stored: P's edge sharp (${detail(s, pEdge).toFixed(1)})`);
    assert.ok(detail(s, qEdge) < 20, `stored: Q blurred (${detail(s, qEdge).toFixed(1)})`);
    const view = await decodeImage(await renderAlertFrame(await renderStoredFrame(img, [face(P, true), face(Q, true)], [0, 1]), { people: [P], others: [Q] }));
    assert.ok(detail(view, pEdge) > 80, `alert view: P's edge sharp (${detail(view, pEdge).toFixed(1)})`);
    assert.ok(detail(view, qEdge) < 20, `alert view: Q blurred (${detail(view, qEdge).toFixed(1)})`);
  });

  it('where two faces overlap, the blur wins', async () => {
    const img = frame([R, S], FW, FH);
    const stored = await renderStoredFrame(img, [face(R, true), face(S, true)], [0, 1]);
    const view = await decodeImage(await renderAlertFrame(stored, { people: [R], others: [S] }));
    assert.ok(detail(view, [82, 25, 8, 70]) > 80, `R's own pixels under S's margin are sharp (${detail(view, [82, 25, 8, 70]).toFixed(1)})`);
    assert.ok(detail(view, [90, 25, 10, 70]) < 20, `the overlap stays blurred (${detail(view, [90, 25, 10, 70]).toFixed(1)})`);
    const [crop] = await renderFaceCrops(img, [face(R, true), face(S, true)], [0]);
    assert.ok(detail(await decodeImage(crop!), [90, 25, 10, 70]) < 20, "the overlap is blurred in R's crop too");
  });
});
