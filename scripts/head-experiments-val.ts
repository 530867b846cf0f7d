// Head experiments on the CHOOSING side only (train + val scenes of
// models/scene-split.json; the report scenes are never read). Trains head
// variants on the train scenes' cached features exactly as `maskwatch train`
// does, chooses each one's rule on val with the same chooser, and prints val
// figures: violation precision / recall (faces ≥ 24 px), precision on
// 24–50 px faces, mask_incorrect recall, crops balanced accuracy (val crops
// of kaggle-face-crops-dev). HEAD=file also scores an existing head (its own
// rule) on the same val faces; FLIP=1 adds test-time flip averaging.
//   BACKBONE=float VARIANTS=h64,h64-photos nice -n 10 npx tsx scripts/head-experiments-val.ts
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { Backbone, backboneModelPath, DEFAULT_BACKBONE_FORM, FEATURE_DIM, parseBackboneForm, resizeToInput } from '../src/vision/backbone.ts';
import { CROP_MARGIN } from '../src/vision/crop.ts';
import { decideFace } from '../src/vision/decision.ts';
import { createFaceDetector } from '../src/vision/detector/factory.ts';
import { matchFaces } from '../src/vision/evaluation/detection.ts';
import { CLASSES, headBackboneForm, headProbabilities, headWeightsFromArtifact, parseHeadArtifact, type DecisionRule, type HeadWeights } from '../src/vision/head.ts';
import { decodeImage } from '../src/vision/image.ts';
import { iou } from '../src/vision/nms.ts';
import { choosingScenes, cropScene } from '../src/vision/protocol/scene-split.ts';
import { chooseRule, sceneCounts, type ScoredScene } from '../src/vision/train/choose.ts';
import { FeatureCache } from '../src/vision/train/feature-cache.ts';
import { decodeForTraining } from '../src/vision/train/features.ts';
import { DEFAULT_MLP_OPTIONS, trainMlp, weightedLoss } from '../src/vision/train/mlp.ts';
import { stderrProgress } from '../src/vision/train/progress.ts';
import { combine, DEFAULT_VARIANTS, EXTRA_VARIANTS, labelledSet, photoSet, sceneCacheFile, type SceneTrainOptions } from '../src/vision/train/scene-train.ts';
import { runtimeInput, sceneDetectionsFile, sceneFaces, type SceneRecord } from '../src/vision/train/scene-faces.ts';
import type { Box } from '../src/vision/types.ts';
import { datasetDir, SCENES_DATASET } from '../src/vision/train/datasets.ts';

const config = loadConfig();
const assetsDir = config.assetsDir;
const cacheDir = path.resolve('.cache');
const augmentSeed = 11;
const form = process.env.BACKBONE ? parseBackboneForm(process.env.BACKBONE, 'BACKBONE') : DEFAULT_BACKBONE_FORM;
const epochs = Number(process.env.EPOCHS ?? 12);
const flip = process.env.FLIP === '1';
const known = [...DEFAULT_VARIANTS, ...EXTRA_VARIANTS];
const variants = (process.env.VARIANTS ?? 'h64').split(',').filter(Boolean).map((n) => {
  const v = known.find((k) => k.name === n);
  if (!v) throw new Error(`unknown variant ${n}`);
  return v;
});
const head = process.env.HEAD ? parseHeadArtifact(await readFile(process.env.HEAD, 'utf8'), process.env.HEAD) : null;
if (head && headBackboneForm(head) !== form) throw new Error(`HEAD is a ${headBackboneForm(head)} head, BACKBONE=${form}`);
if (head?.backbone.tail) throw new Error('HEAD comes with a fine-tuned backbone tail: these variants train on the plain backbone (compare with scripts/tail-finetune/)');

const detector = await createFaceDetector({ assetsDir, kind: 'yunet-s', intraOpThreads: 2 });
const backbone = await Backbone.load({ modelPath: await backboneModelPath(assetsDir), intraOpThreads: 2, form });
const cache = await FeatureCache.open(sceneCacheFile({ cacheDir, augmentSeed }, backbone), FEATURE_DIM);
const { train, val } = choosingScenes();
const scenesDir = datasetDir(assetsDir, SCENES_DATASET);
const common = {
  scenesDir, detector, backbone, cache,
  detectionsFile: sceneDetectionsFile(cacheDir, 'yunet-s', config.vision.faceScoreThreshold),
  faceScoreThreshold: config.vision.faceScoreThreshold, minFaceSize: config.vision.minFaceSize, cropMargin: CROP_MARGIN, maxPixels: config.ingest.maxFramePixels, augmentSeed,
};
// VARIANTS= (empty) with HEAD=…: only the head is scored, no train-scene features needed.
const trainRecords = variants.length ? await sceneFaces(train, { ...common, copies: 2, withGtCrops: true }) : [];
const valRecords = await sceneFaces(val, { ...common, copies: 0, withGtCrops: false });
const opts: SceneTrainOptions = {
  assetsDir, cacheDir, detector: 'yunet-s', faceScoreThreshold: config.vision.faceScoreThreshold, minFaceSize: config.vision.minFaceSize, maxPixels: config.ingest.maxFramePixels,
  intraOpThreads: 2, backboneForm: form, copies: 2, augmentSeed, variants, logger: pino({ level: 'warn' }), progress: stderrProgress,
};
const photos = variants.some((v) => v.seedWeight) ? await photoSet(opts, backbone, cache) : null;

const mirror = (rgb: Buffer, w: number) => {
  const out = Buffer.alloc(rgb.length);
  for (let y = 0; y < rgb.length / (3 * w); y++) for (let x = 0; x < w; x++) rgb.copy(out, (y * w + (w - 1 - x)) * 3, (y * w + x) * 3, (y * w + x) * 3 + 3);
  return out;
};
const mean2 = (a: Float32Array, b: Float32Array) => a.map((v, i) => (v + b[i]!) / 2);
/** Val detections' features (clean, or averaged with the mirrored crop). */
const valFeatures = new Map<SceneRecord, Float32Array[]>();
for (const r of valRecords) {
  const dets = r.faces.filter((f) => f.kind === 'det');
  if (!flip) {
    valFeatures.set(r, dets.map((f) => f.features[0]!));
    continue;
  }
  let frame: Awaited<ReturnType<typeof decodeImage>> | null = null;
  const out: Float32Array[] = [];
  for (const f of dets) {
    const key = `${r.stem}:det:${f.box.map((v) => v.toFixed(1)).join(',')}:flip`;
    let m = cache.get(key);
    if (!m) {
      const ext = ['.jpg', '.png', '.jpeg'].find((e) => existsSync(path.join(scenesDir, 'images', `${r.stem}${e}`)));
      frame ??= await decodeImage(await readFile(path.join(scenesDir, 'images', `${r.stem}${ext}`)), { maxPixels: config.ingest.maxFramePixels });
      m = (await backbone.run([mirror(runtimeInput(frame, f.box, CROP_MARGIN), 224)])).features[0]!;
      cache.set(key, m);
    }
    out.push(mean2(f.features[0]!, m));
  }
  valFeatures.set(r, out);
}
// Val crops (kaggle-face-crops-dev files of val scenes), as `evaluate` classifies them (whole file = the face).
const cropsDir = path.join(assetsDir, 'datasets', 'kaggle-face-crops-dev');
const valSet = new Set(val);
const crops: Array<{ folder: string; x: Float32Array }> = [];
for (const folder of ['with_mask', 'without_mask', 'mask_weared_incorrect']) {
  for (const file of (await readdir(path.join(cropsDir, folder))).sort().filter((f) => valSet.has(cropScene(f)))) {
    const key = `crop:${folder}/${file}`;
    let x = cache.get(key);
    const rgb = resizeToInput(await decodeForTraining(path.join(cropsDir, folder, file)));
    if (!x) cache.set(key, (x = (await backbone.run([rgb])).features[0]!));
    if (flip) {
      let m = cache.get(`${key}:flip`);
      if (!m) cache.set(`${key}:flip`, (m = (await backbone.run([mirror(rgb, 224)])).features[0]!));
      x = mean2(x, m);
    }
    crops.push({ folder, x });
  }
}
await cache.save();
await detector.close();
await backbone.close();

const side = (b: Box) => Math.min(b[2], b[3]);
function scored(w: HeadWeights): ScoredScene[] {
  return valRecords.map((r) => {
    const dets = r.faces.filter((f) => f.kind === 'det');
    const fx = valFeatures.get(r)!;
    return { stem: r.stem, gt: r.gt, dets: dets.map((f, i) => ({ box: f.box, score: f.score, p: headProbabilities(w, fx[i]!) })) };
  });
}
/** Violation precision on 24–50 px faces (annotated size; detection size for non-faces). */
function smallPrecision(scenes: ScoredScene[], rule: DecisionRule) {
  let tp = 0, fp = 0, fn = 0;
  for (const s of scenes) {
    const decided = s.dets.map((d) => ({ ...d, ...decideFace(d, d.p, rule, 'violation') }));
    const { predToGt, gtToPred } = matchFaces(decided, s.gt, 0.4);
    decided.forEach((d, di) => {
      const gi = predToGt.get(di);
      if (gi === undefined) {
        if (d.violation && side(d.box) >= 24 && side(d.box) < 50 && !s.gt.some((g) => iou(d.box, g.box) >= 0.2)) fp++;
        return;
      }
      const g = s.gt[gi]!;
      if (side(g.box) < 24 || side(g.box) >= 50 || !d.violation) return;
      if (g.label === 'without_mask') tp++;
      else if (g.label === 'with_mask') fp++;
    });
    s.gt.forEach((g, gi) => {
      if (g.label === 'without_mask' && side(g.box) >= 24 && side(g.box) < 50 && !(gtToPred.has(gi) && decided[gtToPred.get(gi)!]!.violation)) fn++;
    });
  }
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), tp, fp, fn };
}
function cropFigures(w: HeadWeights, rule: DecisionRule) {
  const r = { ...rule, violationFaceScore: 0, violationMinFaceSize: 0 };
  const ok: Record<string, [number, number]> = { with_mask: [0, 0], without_mask: [0, 0], mask_weared_incorrect: [0, 0] };
  for (const c of crops) {
    const { label } = decideFace({ box: [0, 0, 224, 224], score: 1 }, headProbabilities(w, c.x), r, 'violation');
    const good = c.folder === 'with_mask' ? label !== 'no_mask' : c.folder === 'without_mask' ? label === 'no_mask' : label === 'mask_incorrect';
    ok[c.folder]![0] += good ? 1 : 0;
    ok[c.folder]![1] += 1;
  }
  const rate = (k: string) => ok[k]![0] / Math.max(1, ok[k]![1]);
  return { balancedAccuracy: (rate('with_mask') + rate('without_mask')) / 2, maskRecall: rate('with_mask'), noMaskRecall: rate('without_mask'), incorrectLabelledIncorrect: rate('mask_weared_incorrect'), n: crops.length };
}
/** Val figures of a head: under `rule` when given (an existing head's own), else under the rule the chooser picks on val. */
function report(name: string, w: HeadWeights, rule: DecisionRule | null, extra: Record<string, unknown> = {}) {
  const scenes = scored(w);
  const choice = chooseRule(scenes);
  const r = rule ?? choice.rule;
  process.stdout.write(`${JSON.stringify({ name, form, flip, ...extra, rule: r, val: validationOf(scenes, r), objective: choice.validation.objective, incorrect: { recall: choice.validation.incorrectRecall, maskedAsIncorrect: choice.validation.maskedAsIncorrect }, small24to50: smallPrecision(scenes, r), crops: cropFigures(w, r) })}\n`);
}
function validationOf(scenes: ScoredScene[], rule: DecisionRule) {
  const c = scenes.map((s) => sceneCounts(s, rule, 'violation')).reduce<Record<string, number>>((a, x) => { for (const [k, v] of Object.entries(x)) a[k] = (a[k] ?? 0) + v; return a; }, {});
  return { precision: c.viol_tp! / Math.max(1, c.viol_tp! + c.viol_fp!), recall: c.viol_tp! / Math.max(1, c.viol_tp! + c.viol_fn!), tp: c.viol_tp, fp: c.viol_fp, fn: c.viol_fn };
}

if (head) report(`head:${process.env.HEAD}`, headWeightsFromArtifact(head), head.decision!);
const trainSet = labelledSet(trainRecords, { allVariants: true });
const valLossSet = labelledSet(valRecords, { allVariants: false });
for (const v of variants) {
  const { name, seedWeight, syntheticWeight: _s, backgroundWeight: _b, ...mlp } = v;
  const parts = [{ ...trainSet, weight: 1 }];
  if (seedWeight && photos) parts.push({ ...photos, w: [], weight: seedWeight });
  const run = trainMlp(combine(parts), valLossSet, CLASSES.length, { ...DEFAULT_MLP_OPTIONS, ...mlp, epochs });
  report(name, run.weights, null, { valLoss: weightedLoss(run.weights, valLossSet), bestEpoch: run.bestEpoch });
}
