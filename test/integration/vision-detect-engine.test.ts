import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, symlink, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/config.ts';
import { createVisionEngine } from '../../src/vision/engine.ts';
import { evaluateScenes } from '../../src/vision/evaluation/detection.ts';
import { decodeImage } from '../../src/vision/image.ts';
import { ImageInputError, type VisionEngine } from '../../src/vision/types.ts';

const run = promisify(execFile);
const config = loadConfig();
const scenes = path.join(config.assetsDir, 'datasets/scenes');
const kaggle = path.join(config.assetsDir, 'datasets/kaggle-scenes-dev');
const repo = path.resolve(import.meta.dirname, '..', '..');
let engine: VisionEngine;

before(async () => {
  engine = await createVisionEngine({
    assetsDir: config.assetsDir,
    faceScoreThreshold: 0.6,
    noMaskThreshold: 0.8,
    minFaceSize: 12,
    maxPixels: config.ingest.maxFramePixels,
    intraOpThreads: 1,
  });
});
after(async () => {
  await engine?.close();
});

test('portrait grid: the 16 bare faces are violations, the 16 masked ones are not', async () => {
  const r = await engine.analyzeFrame(await readFile(path.join(scenes, 'masked-crowd-img4.jpeg')));
  assert.deepEqual([r.width, r.height], [1022, 575]);
  assert.equal(r.faces.length, 32);
  const bare = r.faces.filter((f) => f.violation);
  assert.ok(Math.abs(bare.length - 16) <= 1, `${bare.length} violations`);
  for (const f of r.faces) {
    assert.ok(f.noMaskProbability >= 0 && f.noMaskProbability <= 1);
    assert.equal(f.maskProbability, f.noMaskProbability, 'deprecated alias');
    assert.equal(f.probabilities.no_mask, f.noMaskProbability);
    assert.ok(Math.abs(f.probabilities.mask + f.probabilities.no_mask + f.probabilities.mask_incorrect - 1) < 1e-3);
    assert.ok(!f.violation || f.label !== 'mask', 'a violation is never labelled mask');
    // boxes are original-image pixels with at most one decimal
    assert.ok(f.box.every((v) => Number.isFinite(v) && Number(v.toFixed(1)) === v), `box ${f.box}`);
    assert.ok(f.box[0] + f.box[2] <= r.width + 0.05 && f.box[1] + f.box[3] <= r.height + 0.05);
  }
});

test('all-masked portraits give at most the camouflage mask as a violation; the four bare faces of the group photo are violations', async () => {
  const masked = await engine.analyzeFrame(await readFile(path.join(scenes, 'masked-crowd-img2.jpeg')));
  assert.equal(masked.faces.length, 10);
  // A camouflage-patterned mask (x ≈ 430, y ≈ 271) is the head's hard case: P(no mask) 0.87 on an
  // AVX-512 VNNI machine, while earlier runs of this test on another machine saw no violation here.
  const falseViolations = masked.faces.filter((f) => f.violation);
  assert.ok(falseViolations.length <= 1, JSON.stringify(falseViolations));
  assert.ok(falseViolations.every((f) => Math.abs(f.box[0] - 430) < 10), JSON.stringify(falseViolations));
  const group = await engine.analyzeFrame(await readFile(path.join(scenes, 'group-faces.jpg')), { noMaskThreshold: 0.5 });
  assert.equal(group.faces.length, 4);
  // Three faces are fully visible and bare: violations. The fourth (right edge, x ≈ 441) has its
  // chin hidden behind a shoulder, which a mask classifier may fairly read either way: found, label free.
  const visible = group.faces.filter((f) => f.box[0] < 400);
  assert.equal(visible.length, 3);
  assert.ok(visible.every((f) => f.label === 'no_mask' && f.violation), JSON.stringify(visible));
});

test('per-call thresholds override the engine defaults', async () => {
  const img = await readFile(path.join(scenes, 'group-faces.jpg'));
  const none = await engine.analyzeFrame(img, { noMaskThreshold: 1 });
  assert.ok(none.faces.every((f) => f.label !== 'no_mask' || f.noMaskProbability === 1));
  const strict = await engine.analyzeFrame(img, { faceScoreThreshold: 0.999 });
  assert.equal(strict.faces.length, 0);
  await assert.rejects(engine.analyzeFrame(img, { noMaskThreshold: 2 }), RangeError);
});

test('a bad frame is an ImageInputError, not a crash', async () => {
  await assert.rejects(engine.analyzeFrame(Buffer.from('GIF89a')), ImageInputError);
});

/** Standard deviation of the luma inside a box of a packed RGB image. */
function boxStd(img: { data: Buffer; width: number }, [x, y, w, h]: number[]): number {
  const vals: number[] = [];
  for (let j = Math.ceil(y! + h! * 0.2); j < y! + h! * 0.8; j++) {
    for (let i = Math.ceil(x! + w! * 0.2); i < x! + w! * 0.8; i++) {
      const o = (j * img.width + i) * 3;
      vals.push(0.299 * img.data[o]! + 0.587 * img.data[o + 1]! + 0.114 * img.data[o + 2]!);
    }
  }
  const m = vals.reduce((a, b) => a + b, 0) / vals.length;
  return Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length);
}

test('snapshots: JPEG crops of violations; the stored frame blurs the other faces and has no overlay', async () => {
  const buf = await readFile(path.join(scenes, 'masked-crowd-img4.jpeg'));
  const r = await engine.analyzeFrame(buf);
  const violations = r.faces.flatMap((f, i) => (f.violation ? [i] : []));
  const { faceCrops, storedFrame } = await engine.renderSnapshots(buf, r.faces, violations);
  assert.equal(faceCrops.length, violations.length);
  for (const c of faceCrops) {
    const meta = await sharp(c).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.ok(meta.width! >= 40 && meta.height! >= 40);
  }
  const original = await decodeImage(buf);
  const stored = await decodeImage(storedFrame);
  assert.deepEqual([stored.width, stored.height], [r.width, r.height]);
  const masked = r.faces.find((f) => f.label === 'mask' && !f.violation)!;
  const bare = r.faces[violations[0]!]!;
  assert.ok(boxStd(stored, masked.box) < boxStd(original, masked.box) * 0.6, 'bystander face blurred');
  assert.ok(boxStd(stored, bare.box) > boxStd(original, bare.box) * 0.8, 'violation face left sharp');
  // No overlay is baked in (each alert's view draws its own): the top edge of the violation box is as in the photo.
  const [x, y, w] = bare.box.map(Math.round) as [number, number, number];
  const o = (y * stored.width + x + Math.round(w / 2)) * 3;
  const diff = [0, 1, 2].map((c) => Math.abs(stored.data[o + c]! - original.data[o + c]!));
  assert.ok(Math.max(...diff) < 40, `edge pixel changed by ${diff.join(',')}`);
  await assert.rejects(engine.renderSnapshots(buf, r.faces, [r.faces.length]), RangeError);
});

test('evaluateScenes agrees exactly with score_detections.py on the same detections', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mw-scenes-'));
  try {
    const stems = (await readdir(path.join(kaggle, 'annotations'))).map((f) => f.slice(0, -4)).sort().slice(0, 25);
    await mkdir(path.join(dir, 'annotations'));
    await mkdir(path.join(dir, 'images'));
    const lines: string[] = [];
    for (const s of stems) {
      await symlink(path.join(kaggle, 'annotations', `${s}.xml`), path.join(dir, 'annotations', `${s}.xml`));
      await symlink(path.join(kaggle, 'images', `${s}.jpg`), path.join(dir, 'images', `${s}.jpg`));
      const res = await engine.analyzeFrame(await readFile(path.join(kaggle, 'images', `${s}.jpg`)));
      lines.push(JSON.stringify({ file: `${s}.jpg`, ...res }));
    }
    await writeFile(path.join(dir, 'dets.jsonl'), `${lines.join('\n')}\n`);
    const ours = await evaluateScenes(engine, dir, { minSide: 24 });
    const { stdout } = await run('python3', [path.join(config.assetsDir, 'tools/score_detections.py'), dir, path.join(dir, 'dets.jsonl'), '24']);
    const theirs = JSON.parse(stdout) as Record<string, number>;
    for (const [k, v] of Object.entries(theirs)) assert.equal((ours as unknown as Record<string, number>)[k], v, k);
    assert.ok(ours.face_recall_by_size.with_mask!['24-48']!.gt > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('detect CLI prints one JSON line per file and exits 2 when a file is bad (from the sources and from the bundle)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mw-detect-'));
  try {
    const gif = path.join(dir, 'anim.gif');
    await writeFile(gif, Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
    const good = path.join(scenes, 'group-faces.jpg');
    const missing = path.join(dir, 'missing.jpg');
    // As right after `npm ci` (tsx), and as `npm start` runs it (dist/, built by scripts/test.sh).
    const outputs: string[] = [];
    for (const fromSource of ['1', '']) {
      const err = await run(process.execPath, [path.join(repo, 'bin/maskwatch.js'), 'detect', '--json', good, missing, gif, path.join(scenes, 'masked-crowd-img3.jpg')], {
        cwd: repo,
        env: { ...process.env, MASKWATCH_ASSETS: config.assetsDir, LOG_LEVEL: 'warn', MASKWATCH_FROM_SOURCE: fromSource },
      }).then(
        () => assert.fail('expected exit code 2'),
        (e: { code: number; stdout: string }) => e,
      );
      assert.equal(err.code, 2);
      outputs.push(err.stdout);
    }
    assert.equal(outputs[1], outputs[0], 'bundle and sources give the same output');
    const lines = outputs[0]!.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 4);
    assert.equal(lines[0].file, good);
    assert.deepEqual([lines[0].width, lines[0].height], [512, 355]);
    assert.equal(lines[0].faces.length, 4);
    for (const f of lines[0].faces) {
      // The contract of issue 10: label, violation, noMaskProbability (+ deprecated maskProbability), probabilities.
      assert.deepEqual(Object.keys(f).sort(), ['box', 'label', 'maskProbability', 'noMaskProbability', 'probabilities', 'score', 'violation']);
      assert.equal(f.box.length, 4);
      assert.ok(['mask', 'no_mask', 'mask_incorrect'].includes(f.label));
      assert.equal(typeof f.violation, 'boolean');
      assert.equal(f.maskProbability, f.noMaskProbability);
      assert.deepEqual(Object.keys(f.probabilities).sort(), ['mask', 'mask_incorrect', 'no_mask']);
    }
    assert.deepEqual(Object.keys(lines[1]).sort(), ['error', 'file']);
    assert.match(lines[1].error, /not found/);
    assert.match(lines[2].error, /unsupported image format \(GIF\)/);
    assert.ok(lines[3].faces.length > 5, 'the WebP after the bad files is still processed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
