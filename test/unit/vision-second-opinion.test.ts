import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { AIZOO_SECOND_OPINION_RULE, secondOpinionConfirms } from '../../src/vision/decision.ts';
import { createVisionEngine } from '../../src/vision/engine.ts';
import { decodeImage } from '../../src/vision/image.ts';
import { aizooAnchors, AizooDetector, bestMatch, regionAround, type AizooFace } from '../../src/vision/second-opinion/aizoo.ts';
import { parsePrototxt, numbers, strings, field } from '../../src/vision/second-opinion/prototxt.ts';
import type { Box } from '../../src/vision/types.ts';

const config = loadConfig();
const scenes = path.join(config.assetsDir, 'datasets/scenes');
let aizoo: AizooDetector;
before(async () => {
  aizoo = await AizooDetector.load({ assetsDir: config.assetsDir });
});
after(async () => {
  await aizoo?.close();
});

test('prototxt: repeated keys, nested blocks, strings, enums and comments', () => {
  const m = parsePrototxt('name: "n" # c\ninput_dim: 1\ninput_dim: 3\nlayer { name: "a" pooling_param { pool: MAX kernel_size: 2 } }\nlayer { name: "b" }');
  assert.deepEqual(strings(m, 'name'), ['n']);
  assert.deepEqual(numbers(m, 'input_dim'), [1, 3]);
  const layers = m.layer as Array<Record<string, unknown>>;
  assert.equal(layers.length, 2);
  const p = field(m.layer![0] as never, 'pooling_param');
  assert.deepEqual(strings(p, 'pool'), ['MAX']);
  assert.throws(() => parsePrototxt('layer { name: "a"'), /missing "}"/);
});

test('anchors: 4 per cell over the 33, 17, 9, 5, 3 maps (as the original generate_anchors)', () => {
  const a = aizooAnchors();
  assert.equal(a.length / 4, (33 * 33 + 17 * 17 + 9 * 9 + 5 * 5 + 3 * 3) * 4);
  // First cell: centre (0.5/33, 0.5/33); sizes 0.04, 0.056 at ratio 1; then 0.04 at ratio 0.62 (w = 0.04·√0.62).
  assert.ok(Math.abs(a[0]! - 0.5 / 33) < 1e-6 && Math.abs(a[2]! - 0.04) < 1e-6 && Math.abs(a[6]! - 0.056) < 1e-6);
  assert.ok(Math.abs(a[10]! - 0.04 * Math.sqrt(0.62)) < 1e-6 && Math.abs(a[11]! - 0.04 / Math.sqrt(0.62)) < 1e-6);
});

test('converted Caffe model: finds the bare faces of the group photo as no mask, the masked portraits as mask', async () => {
  const group = await decodeImage(await readFile(path.join(scenes, 'group-faces.jpg')));
  const bare = await aizoo.detect(group, [0, 0, group.width, group.height], 0.5);
  assert.ok(bare.length >= 3, `${bare.length} faces`);
  assert.ok(bare.every((f) => f.noMask > 0.9 && f.mask < 0.1), JSON.stringify(bare));
  const portraits = await decodeImage(await readFile(path.join(scenes, 'masked-crowd-img3.jpg')));
  const faces = await aizoo.detect(portraits, [0, 0, portraits.width, portraits.height], 0.5);
  assert.ok(faces.filter((f) => f.mask > 0.9 && f.noMask < 0.1).length >= 3, JSON.stringify(faces));
  for (const f of [...bare, ...faces]) {
    assert.ok(f.box[2] > 10 && f.box[3] > 10, `box ${f.box}`);
    assert.ok(f.box[0] > -5 && f.box[1] > -5 && f.box[0] + f.box[2] < portraits.width + 5);
  }
});

test('a region around one bare face: AIZOO finds that face and calls it no mask', async () => {
  const group = await decodeImage(await readFile(path.join(scenes, 'group-faces.jpg')));
  const [face] = await aizoo.detect(group, [0, 0, group.width, group.height], 0.5);
  const region = regionAround(face!.box, group.width, group.height, 3);
  const match = bestMatch(await aizoo.detect(group, region, 0.1), face!.box, 0.3);
  assert.ok(match && match.noMask > 0.9, JSON.stringify(match));
});

test('concurrent reviews (a worker running several frames at once) read the same as one at a time', async () => {
  const group = await decodeImage(await readFile(path.join(scenes, 'group-faces.jpg')));
  const portraits = await decodeImage(await readFile(path.join(scenes, 'masked-crowd-img3.jpg')));
  const calls: Array<[typeof group, Box]> = [
    [group, [0, 0, group.width, group.height]],
    [portraits, [0, 0, portraits.width, portraits.height]],
    [group, [0, 0, Math.round(group.width / 2), group.height]],
    [portraits, [Math.round(portraits.width / 2), 0, Math.round(portraits.width / 2), portraits.height]],
  ];
  const oneByOne = [];
  for (const [frame, rect] of calls) oneByOne.push(await aizoo.detect(frame, rect, 0.1));
  const together = await Promise.all(calls.map(([frame, rect]) => aizoo.detect(frame, rect, 0.1)));
  assert.deepEqual(together, oneByOne);
});

test('regionAround: square, centred, shifted inside the frame; clipped only by a smaller frame', () => {
  assert.deepEqual(regionAround([100, 100, 20, 30], 1000, 1000, 2), [80, 85, 60, 60]);
  assert.deepEqual(regionAround([0, 0, 20, 20], 1000, 1000, 3), [0, 0, 60, 60]);
  assert.deepEqual(regionAround([990, 990, 10, 10], 1000, 1000, 4), [960, 960, 40, 40]);
  assert.deepEqual(regionAround([10, 10, 50, 50], 100, 80, 4), [0, 0, 100, 80]);
});

test('bestMatch and the rule: no face found keeps or vetoes by the rule; a reading is compared to the threshold', () => {
  const f = (box: Box, noMask: number): AizooFace => ({ box, score: noMask, mask: 1 - noMask, noMask });
  const faces = [f([0, 0, 10, 10], 0.9), f([2, 2, 10, 10], 0.1)];
  assert.equal(bestMatch(faces, [2, 2, 10, 10], 0.3)?.noMask, 0.1);
  assert.equal(bestMatch(faces, [50, 50, 10, 10], 0.3), null);
  assert.equal(secondOpinionConfirms({ noMask: null }, { noMaskThreshold: 0.5, noFace: 'keep' }), true);
  assert.equal(secondOpinionConfirms({ noMask: null }, { noMaskThreshold: 0.5, noFace: 'veto' }), false);
  assert.equal(secondOpinionConfirms({ noMask: 0.5 }, { noMaskThreshold: 0.5, noFace: 'veto' }), true);
  assert.equal(secondOpinionConfirms({ noMask: 0.49 }, { noMaskThreshold: 0.5, noFace: 'keep' }), false);
});

test('engine with the AIZOO second opinion: the bare faces of the portrait grid stay violations', async () => {
  const opts = { assetsDir: config.assetsDir, faceScoreThreshold: 0.6, minFaceSize: 12, maxPixels: config.ingest.maxFramePixels, intraOpThreads: 1 };
  const image = await readFile(path.join(scenes, 'masked-crowd-img4.jpeg'));
  const plain = await createVisionEngine({ ...opts, secondOpinion: 'off' });
  const checked = await createVisionEngine({ ...opts, secondOpinion: 'aizoo' });
  try {
    const a = await plain.analyzeFrame(image);
    const b = await checked.analyzeFrame(image);
    assert.deepEqual(b.faces.map((f) => [f.box, f.probabilities]), a.faces.map((f) => [f.box, f.probabilities]), 'boxes and probabilities stay');
    b.faces.forEach((f, i) => {
      const vetoed = a.faces[i]!.violation && !f.violation;
      assert.equal(f.label, vetoed && a.faces[i]!.label === 'no_mask' ? 'mask' : a.faces[i]!.label, 'only a vetoed no_mask face changes label');
    });
    const before = a.faces.filter((f) => f.violation).length;
    const afterCheck = b.faces.filter((f) => f.violation).length;
    assert.ok(afterCheck <= before && afterCheck >= before - 1, `${before} → ${afterCheck} violations`);
    assert.ok(b.faces.every((f, i) => !f.violation || a.faces[i]!.violation), 'the second opinion never adds a violation');
    // Each reviewed face carries the reading (what an edge agent sends); the others none.
    b.faces.forEach((f, i) => {
      const reviewed = a.faces[i]!.violation && a.faces[i]!.label === 'no_mask';
      assert.equal(f.secondOpinion !== undefined, reviewed, `face ${i}: a reading exactly when reviewed`);
      if (f.secondOpinion) assert.equal(f.violation, secondOpinionConfirms({ noMask: f.secondOpinion.noMaskProbability }, AIZOO_SECOND_OPINION_RULE));
    });
    assert.ok(a.faces.every((f) => f.secondOpinion === undefined), 'no reading without a second opinion');
  } finally {
    await plain.close();
    await checked.close();
  }
});

test('MASKWATCH_SECOND_OPINION: default aizoo (chosen on validation), "off" accepted, anything else refused', () => {
  assert.equal(loadConfig({}).vision.secondOpinion, 'aizoo');
  assert.equal(loadConfig({ MASKWATCH_SECOND_OPINION: 'off' }).vision.secondOpinion, 'off');
  assert.throws(() => loadConfig({ MASKWATCH_SECOND_OPINION: 'yes' }), /MASKWATCH_SECOND_OPINION/);
});
