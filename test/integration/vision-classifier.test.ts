import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/config.ts';
import { MaskClassifier } from '../../src/vision/classifier.ts';
import { cropFaces } from '../../src/vision/crop.ts';
import { decodeImage } from '../../src/vision/image.ts';
import type { Box } from '../../src/vision/types.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const assetsDir = loadConfig().assetsDir;
const cropsDir = path.join(assetsDir, 'datasets', 'kaggle-face-crops-dev');

/** The largest crop of a class (by pixel area, then name): the clearest face, chosen without looking at the model. */
async function largestCrop(folder: string): Promise<string> {
  let best = { file: '', area: -1 };
  for (const f of (await readdir(path.join(cropsDir, folder))).sort()) {
    const m = await sharp(path.join(cropsDir, folder, f)).metadata();
    const area = (m.width ?? 0) * (m.height ?? 0);
    if (area > best.area) best = { file: path.join(cropsDir, folder, f), area };
  }
  return best.file;
}

let classifier: MaskClassifier;
let masked: string;
let unmasked: string;
let tmp: string;

before(async () => {
  classifier = await MaskClassifier.load({ assetsDir });
  masked = await largestCrop('with_mask');
  unmasked = await largestCrop('without_mask');
  tmp = await mkdtemp(path.join(tmpdir(), 'maskwatch-classify-'));
  // Head files written here travel with the committed head's fine-tuned tail (named relative to the head).
  const tail = (JSON.parse(await readFile(path.join(repo, 'models', 'mask-head.json'), 'utf8')) as { backbone: { tail?: { file: string } } }).backbone.tail;
  if (tail) await copyFile(path.join(repo, 'models', tail.file), path.join(tmp, tail.file));
});

after(async () => {
  await classifier?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('a masked and an unmasked real face crop are classified right, in one batch', async () => {
  const crops = await Promise.all([masked, unmasked].map(async (f) => decodeImage(await readFile(f))));
  const [pMasked, pUnmasked] = await classifier.predict(crops);
  const [probs] = await classifier.predictProbabilities([crops[1]!]);
  assert.ok(Math.abs(probs!.no_mask - pUnmasked!) < 1e-6, 'predict() is P(no mask) of predictProbabilities()');
  assert.ok(pMasked! < 0.5, `${path.basename(masked)}: P(no mask) = ${pMasked}`);
  assert.ok(pUnmasked! >= 0.5, `${path.basename(unmasked)}: P(no mask) = ${pUnmasked}`);
  assert.deepEqual(await classifier.predict([]), []);
});

test('batching does not change a single bit of the answers', async () => {
  // More crops than any backbone batch, so the call spans full and partial batches; each alone is batch 1.
  const files = [
    ...(await readdir(path.join(cropsDir, 'with_mask'))).sort().slice(0, 5).map((f) => path.join(cropsDir, 'with_mask', f)),
    ...(await readdir(path.join(cropsDir, 'without_mask'))).sort().slice(0, 4).map((f) => path.join(cropsDir, 'without_mask', f)),
  ];
  const crops = await Promise.all(files.map(async (f) => decodeImage(await readFile(f))));
  const together = await classifier.predictProbabilities(crops);
  const alone = [];
  for (const crop of crops) alone.push(...(await classifier.predictProbabilities([crop])));
  assert.equal(together.length, crops.length);
  assert.deepEqual(together, alone);
});

test('cropFaces + classifier on a real scene, from the annotated boxes', async () => {
  // Scene of the largest without_mask crop: its annotation boxes, labels from the file.
  const stem = path.basename(unmasked).replace(/_\d+\.jpg$/, '');
  const xml = await readFile(path.join(assetsDir, 'datasets', 'kaggle-scenes-dev', 'annotations', `${stem}.xml`), 'utf8');
  const objects = [...xml.matchAll(/<object>([\s\S]*?)<\/object>/g)].map((m) => {
    const body = m[1]!;
    const n = (tag: string) => Number(new RegExp(`<${tag}>([\\d.]+)</${tag}>`).exec(body)![1]);
    return { label: /<name>(.*?)<\/name>/.exec(body)![1]!, box: [n('xmin'), n('ymin'), n('xmax') - n('xmin'), n('ymax') - n('ymin')] as Box };
  });
  const clear = objects.filter((o) => o.label !== 'mask_weared_incorrect');
  assert.ok(clear.some((o) => o.label === 'without_mask'));
  const frame = await decodeImage(await readFile(path.join(assetsDir, 'datasets', 'kaggle-scenes-dev', 'images', `${stem}.jpg`)));
  const crops = await cropFaces(frame, clear.map((o) => o.box), classifier.cropMargin);
  const probs = await classifier.predict(crops);
  // The biggest face of the scene is the clear example.
  const biggest = clear.reduce((a, o, i) => (o.box[2] * o.box[3] > clear[a]!.box[2] * clear[a]!.box[3] ? i : a), 0);
  assert.equal(probs[biggest]! >= 0.5 ? 'without_mask' : 'with_mask', clear[biggest]!.label);
});

test('a mirrored look at a face box reads the same crop flipped left to right (real crops and model)', async () => {
  const crops = await Promise.all([masked, unmasked].map(async (f) => decodeImage(await readFile(f))));
  for (const crop of crops) {
    const whole: Box = [0, 0, crop.width, crop.height];
    const flopped = await decodeImage(await sharp(crop.data, { raw: { width: crop.width, height: crop.height, channels: 3 } }).flop().png().toBuffer());
    const [mirrored] = await classifier.predictFaces(crop, [whole], { mirrored: true });
    const [ofFlopped] = await classifier.predictProbabilities([flopped]);
    const [plain] = await classifier.predictFaces(crop, [whole]);
    assert.deepEqual(plain, (await classifier.predictProbabilities([crop]))[0]);
    for (const k of ['mask', 'no_mask', 'mask_incorrect'] as const) assert.ok(Math.abs(mirrored![k] - ofFlopped![k]) < 0.01, `${k}: ${mirrored![k]} vs ${ofFlopped![k]}`);
    assert.notDeepEqual(mirrored, plain, 'the mirrored look is a different input');
  }
});

test('the head file must match the backbone and the resize it was trained with', async () => {
  const original = await readFile(path.join(repo, 'models', 'mask-head.json'), 'utf8');
  const head = JSON.parse(original) as { backbone: { sha256: string }; input: { resize: string } };
  head.backbone.sha256 = '0'.repeat(64);
  const file = path.join(tmp, 'other-backbone.json');
  await writeFile(file, JSON.stringify(head));
  await assert.rejects(MaskClassifier.load({ assetsDir, headPath: file }), /trained on backbone sha256 000000000000/);
  // A head from before the resize change (features of lanczos-resized crops) must not load silently.
  const oldResize = JSON.parse(original) as typeof head;
  oldResize.input.resize = 'fill (stretch) to 224x224, sharp default kernel';
  await writeFile(file, JSON.stringify(oldResize));
  await assert.rejects(MaskClassifier.load({ assetsDir, headPath: file }), /trained with resize "fill \(stretch\) to 224x224, sharp default kernel".*retrain/);
  await assert.rejects(MaskClassifier.load({ assetsDir, headPath: path.join(tmp, 'missing.json') }), /mask head not readable/);
});

test('a head runs on the backbone form it was trained on, and refuses features of the other form', async () => {
  const head = JSON.parse(await readFile(path.join(repo, 'models', 'mask-head.json'), 'utf8')) as { backbone: { form?: string } };
  const form = head.backbone.form ?? 'int8';
  assert.equal(classifier.backboneForm, form);
  const other = form === 'float' ? 'int8' : 'float';
  await assert.rejects(MaskClassifier.load({ assetsDir, backbone: other }), new RegExp(`trained on ${form} backbone features, not ${other}`));
  // A head recording the other form gets a backbone of that form (no silent mix of features).
  const file = path.join(tmp, 'other-form.json');
  // (A fine-tuned tail names tensors of the float form only, so the other form goes without it.)
  await writeFile(file, JSON.stringify({ ...head, backbone: { ...head.backbone, form: other, tail: undefined } }));
  const swapped = await MaskClassifier.load({ assetsDir, headPath: file, backbone: other });
  try {
    assert.equal(swapped.backboneForm, other);
  } finally {
    await swapped.close();
  }
  head.backbone.form = 'fp16';
  await writeFile(file, JSON.stringify(head));
  await assert.rejects(MaskClassifier.load({ assetsDir, headPath: file }), /unknown backbone form "fp16"/);
});

test('the fine-tuned backbone tail the head lists is applied, and a tail file that is not the one trained is refused', async (t) => {
  const head = JSON.parse(await readFile(path.join(repo, 'models', 'mask-head.json'), 'utf8')) as { backbone: { tail?: { file: string; sha256: string } } };
  if (!head.backbone.tail) return t.skip('the committed head has no fine-tuned tail');
  const imgs = await Promise.all([unmasked, masked].map(async (f) => decodeImage(await readFile(f))));
  const tuned = await classifier.predictProbabilities(imgs);
  // The same head on the plain float backbone: the tail's weights must be what changes the answer.
  const plainFile = path.join(tmp, 'plain-tail.json');
  await writeFile(plainFile, JSON.stringify({ ...head, backbone: { ...head.backbone, tail: undefined } }));
  const plain = await MaskClassifier.load({ assetsDir, headPath: plainFile });
  try {
    const untuned = await plain.predictProbabilities(imgs);
    // Compared as log-probabilities: a clear face's top class is near 1 with or without the tail, its others are not.
    const logGap = (a: number, b: number) => Math.abs(Math.log(Math.max(a, 1e-12)) - Math.log(Math.max(b, 1e-12)));
    const gap = Math.max(...tuned.flatMap((p, i) => (['mask', 'no_mask', 'mask_incorrect'] as const).map((k) => logGap(p[k], untuned[i]![k]))));
    assert.ok(gap > 0.05, `the tail changed no log-probability by more than ${gap}`);
  } finally {
    await plain.close();
  }
  const forged = path.join(tmp, 'forged-tail.json');
  await writeFile(forged, JSON.stringify({ ...head, backbone: { ...head.backbone, tail: { ...head.backbone.tail, sha256: 'f'.repeat(64) } } }));
  await assert.rejects(MaskClassifier.load({ assetsDir, headPath: forged }), /backbone tail .* has sha256 .*, the head expects ffffffffffff/);
});

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), ...args], { cwd: repo, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('`maskwatch classify --json`: one line per file, a bad file gets an error line and exit 2', async () => {
  const bad = path.join(tmp, 'not-an-image.jpg');
  await writeFile(bad, 'this is text');
  const { code, stdout } = await runCli(['classify', '--json', masked, bad, unmasked]);
  assert.equal(code, 2);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 3);
  assert.equal(lines[0]!.file, masked);
  assert.equal(lines[0]!.label, 'mask');
  assert.equal(lines[0]!.violation, false);
  assert.ok(typeof lines[0]!.noMaskProbability === 'number' && lines[0]!.noMaskProbability < 0.5);
  assert.deepEqual(Object.keys(lines[1]!).sort(), ['error', 'file']);
  assert.equal(lines[1]!.file, bad);
  assert.match(String(lines[1]!.error), /unsupported image format/);
  assert.equal(lines[2]!.label, 'no_mask');
  assert.equal(lines[2]!.violation, true);
  assert.ok((lines[2]!.noMaskProbability as number) >= 0.5);
  // The contract: every field, the deprecated alias equal to noMaskProbability, probabilities summing to 1.
  for (const l of [lines[0]!, lines[2]!]) {
    assert.deepEqual(Object.keys(l).sort(), ['file', 'label', 'maskProbability', 'noMaskProbability', 'probabilities', 'violation']);
    assert.equal(l.maskProbability, l.noMaskProbability);
    const p = l.probabilities as Record<string, number>;
    assert.deepEqual(Object.keys(p).sort(), ['mask', 'mask_incorrect', 'no_mask']);
    assert.equal(p.no_mask, l.noMaskProbability);
    assert.ok(Math.abs(p.mask! + p.no_mask! + p.mask_incorrect! - 1) < 1e-5, JSON.stringify(p));
  }
});

test('`maskwatch classify`: real incorrectly-worn masks are labelled mask_incorrect; MASKWATCH_INCORRECT_MASK decides whether that is a violation', async () => {
  const dir = path.join(cropsDir, 'mask_weared_incorrect');
  const files = (await readdir(dir)).sort().map((f) => path.join(dir, f));
  const byPolicy: Record<string, Array<Record<string, unknown>>> = {};
  for (const policy of ['violation', 'ignore']) {
    const { code, stdout, stderr } = await runCli(['classify', '--json', ...files], { MASKWATCH_INCORRECT_MASK: policy });
    assert.equal(code, 0, stderr);
    byPolicy[policy] = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const l of byPolicy[policy]!) {
      const expected = l.label === 'no_mask' || (l.label === 'mask_incorrect' && policy === 'violation');
      assert.equal(l.violation, expected, `${policy}: ${JSON.stringify(l)}`);
    }
  }
  const incorrect = byPolicy.violation!.filter((l) => l.label === 'mask_incorrect').length;
  assert.ok(incorrect >= files.length / 3, `only ${incorrect} of ${files.length} labelled mask_incorrect`);
  // Labels do not depend on the policy, only violations do.
  assert.deepEqual(byPolicy.ignore!.map((l) => l.label), byPolicy.violation!.map((l) => l.label));
  const bad = await runCli(['classify', '--json', files[0]!], { MASKWATCH_INCORRECT_MASK: 'sometimes' });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /MASKWATCH_INCORRECT_MASK/);
});

test('`maskwatch classify` without files and `train`/`evaluate` with bad options exit non-zero with a message', async () => {
  const none = await runCli(['classify', '--json']);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no files given/);
  const train = await runCli(['train', '--copies', 'lots']);
  assert.notEqual(train.code, 0);
  assert.match(train.stderr, /--copies must be an integer/);
  const evaluate = await runCli(['evaluate', '--head', path.join(tmp, 'missing.json')]);
  assert.notEqual(evaluate.code, 0);
  assert.match(evaluate.stderr, /no head at/);
  // An assets folder without the data: a clear message, not a stack trace.
  const missing = await runCli(['train', '--cache-dir', path.join(tmp, 'cache')], { MASKWATCH_ASSETS: tmp });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^maskwatch train: .*(not found|missing)/m);
});
