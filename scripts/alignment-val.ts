// Face alignment with YuNet's five landmarks, compared on the CHOOSING side only (train + val
// scenes of models/scene-split.json; the report scenes are never read). Each face's run-time crop
// (box + margin, resized to 224) is warped by the similarity transform that puts its landmarks on a
// template: the mean landmark position of the train scenes' detections in that same crop space, so an
// aligned crop is framed like an unaligned one on average and only a face's own tilt, scale and
// offset are undone. Faces without landmarks (annotated boxes no detection matches) stay unaligned.
// Judged like scripts/head-oof-val.ts: val loss, out-of-fold loss, ranking of P(no mask), and the
// decision rule's transfer. Same head recipe (h64, 6 augmented copies, 12 epochs) on both arms.
//   ALIGN=0 npx tsx scripts/alignment-val.ts > /tmp/align0.jsonl &
//   ALIGN=1 npx tsx scripts/alignment-val.ts > /tmp/align1.jsonl     (ALIGN=2 / 3: the mild-augmentation arms; SEED=43 …: another head seed)
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { Backbone, backboneModelPath, FEATURE_DIM, INPUT_SIZE } from '../src/vision/backbone.ts';
import { CROP_MARGIN, cropRect } from '../src/vision/crop.ts';
import { createFaceDetector } from '../src/vision/detector/factory.ts';
import type { FaceDetection } from '../src/vision/detector/types.ts';
import { matchFaces, parseVocAnnotation } from '../src/vision/evaluation/detection.ts';
import { CLASSES, type HeadWeights } from '../src/vision/head.ts';
import { decodeImage, type DecodedImage } from '../src/vision/image.ts';
import { iou } from '../src/vision/nms.ts';
import { choosingScenes } from '../src/vision/protocol/scene-split.ts';
import type { Box } from '../src/vision/types.ts';
import { affineFor, augmentVariant, AUGMENTATION, jpegRoundTrip, lowResolution, warpRgb, type Affine } from '../src/vision/train/augment.ts';
import { chooseRule, type ScoredScene } from '../src/vision/train/choose.ts';
import { datasetDir, SCENES_DATASET } from '../src/vision/train/datasets.ts';
import { FeatureCache } from '../src/vision/train/feature-cache.ts';
import { DEFAULT_MLP_OPTIONS, trainMlp, weightedLoss } from '../src/vision/train/mlp.ts';
import { mulberry32, seedFrom, shuffled, uniform } from '../src/vision/train/rng.ts';
import { noMaskRanking, ruleOutcome } from './lib/no-mask-ranking.ts';
import { jitterBox, runtimeInput, type SceneFace, type SceneRecord } from '../src/vision/train/scene-faces.ts';
import { labelledSet, scoredScenes } from '../src/vision/train/scene-train.ts';

// MODE: 0 plain, 1 aligned (both with the training augmentation), 2 aligned and 3 plain with a mild
// geometric augmentation (rotation ±5°, zoom ±5 %, shift ±5 %, flip; low resolution and JPEG as in training).
const MODE = Number(process.env.ALIGN ?? 0);
const ALIGN = MODE === 1 || MODE === 2;
const MILD = MODE >= 2;
const COPIES = 6;
/** Head seed (the spread between seeds of one recipe tells which differences are noise). */
const SEED = Number(process.env.SEED ?? DEFAULT_MLP_OPTIONS.seed);
const config = loadConfig();
const assetsDir = config.assetsDir;
const scenesDir = datasetDir(assetsDir, SCENES_DATASET);
const augmentSeed = 11;
const { train, val } = choosingScenes();
const detector = await createFaceDetector({ assetsDir, kind: 'yunet-s', intraOpThreads: 1 });
const backbone = await Backbone.load({ modelPath: await backboneModelPath(assetsDir), intraOpThreads: 1, form: 'float' });
const cache = await FeatureCache.open(path.resolve('.cache', `alignment-val-m${MODE}-c${COPIES}.bin`), FEATURE_DIM);

interface Scene {
  stem: string;
  frame: DecodedImage;
  gt: ReturnType<typeof parseVocAnnotation>;
  all: FaceDetection[];
}
async function loadScene(stem: string): Promise<Scene> {
  const gt = parseVocAnnotation(await readFile(path.join(scenesDir, 'annotations', `${stem}.xml`), 'utf8'));
  const file = ['.jpg', '.jpeg', '.png'].map((e) => path.join(scenesDir, 'images', stem + e));
  let frame: DecodedImage | null = null;
  for (const f of file) frame ??= await readFile(f).then((b) => decodeImage(b, { maxPixels: config.ingest.maxFramePixels }), () => null);
  if (!frame) throw new Error(`no image for ${stem}`);
  return { stem, frame, gt, all: await detector.detect(frame, config.vision.faceScoreThreshold) };
}

/** Landmarks in the 224×224 run-time crop of `box`. */
function inCrop(frame: DecodedImage, box: Box, lm: Array<[number, number]>): Array<[number, number]> {
  const [x0, y0, w, h] = cropRect(box, frame.width, frame.height, CROP_MARGIN);
  return lm.map(([x, y]) => [((x - x0) * INPUT_SIZE) / w, ((y - y0) * INPUT_SIZE) / h]);
}

/** Least-squares similarity taking template points (output) to the face's points (input): the warp's output→input map. */
function similarity(template: Array<[number, number]>, pts: Array<[number, number]>): { affine: Affine; scale: number; angle: number } {
  const n = template.length;
  const tm = [0, 0], pm = [0, 0];
  for (let i = 0; i < n; i++) { tm[0]! += template[i]![0] / n; tm[1]! += template[i]![1] / n; pm[0]! += pts[i]![0] / n; pm[1]! += pts[i]![1] / n; }
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const tx = template[i]![0] - tm[0]!, ty = template[i]![1] - tm[1]!, px = pts[i]![0] - pm[0]!, py = pts[i]![1] - pm[1]!;
    dot += tx * px + ty * py; cross += tx * py - ty * px; norm += tx * tx + ty * ty;
  }
  const a = dot / norm, b = cross / norm;
  return { affine: [a, -b, pm[0]! - (a * tm[0]! - b * tm[1]!), b, a, pm[1]! - (b * tm[0]! + a * tm[1]!)], scale: Math.hypot(a, b), angle: (Math.atan2(b, a) * 180) / Math.PI };
}

async function mildVariant(rgb224: Buffer, key: string, v: number): Promise<Buffer> {
  const rng = mulberry32(seedFrom(`${augmentSeed}:mild:${key}:${v}`));
  const warped = warpRgb(rgb224, INPUT_SIZE, INPUT_SIZE, affineFor({ rotationDeg: uniform(rng, -5, 5), zoomX: uniform(rng, 0.95, 1.05), zoomY: uniform(rng, 0.95, 1.05), shiftX: uniform(rng, -0.05, 0.05), shiftY: uniform(rng, -0.05, 0.05), shear: 0, flip: rng() < 0.5 }, INPUT_SIZE, INPUT_SIZE));
  const a = AUGMENTATION;
  const quality = Math.round(uniform(rng, a.jpegQuality[0], a.jpegQuality[1]));
  if (rng() < a.lowResProbability) return lowResolution(warped, Math.round(uniform(rng, a.lowResSide[0], a.lowResSide[1])), quality);
  if (rng() < a.jpegProbability / (1 - a.lowResProbability)) return jpegRoundTrip(warped, quality);
  return warped;
}

const scenes = { train: [] as Scene[], val: [] as Scene[] };
for (const s of train) scenes.train.push(await loadScene(s));
for (const s of val) scenes.val.push(await loadScene(s));
await detector.close();
const kept = (s: Scene) => s.all.filter((d) => Math.min(d.box[2], d.box[3]) >= config.vision.minFaceSize);

// Template: mean landmarks of the train detections, in crop space (train scenes only).
const template: Array<[number, number]> = Array.from({ length: 5 }, () => [0, 0]);
let count = 0;
for (const s of scenes.train) for (const d of kept(s)) if (d.landmarks) { inCrop(s.frame, d.box, d.landmarks).forEach((p, i) => { template[i]![0] += p[0]; template[i]![1] += p[1]; }); count++; }
for (const p of template) { p[0] /= count; p[1] /= count; }
console.error(JSON.stringify({ mode: MODE, template: template.map((p) => p.map((v) => +v.toFixed(1))), faces: count }));
const stats = { aligned: 0, unaligned: 0, rejected: 0 };

/** A face of the experiment: its landmarks in frame pixels (none for an annotated box no detection matches). */
type Face = SceneFace & { lm?: Array<[number, number]>; copies: number };
type FaceRecord = SceneRecord & { faces: Face[] };

function recordsOf(list: Scene[], copies: number, withGt: boolean): FaceRecord[] {
  return list.map((s) => {
    const dets = kept(s);
    const { predToGt } = matchFaces(dets, s.gt, 0.4);
    const wanted: Array<Omit<Face, 'features' | 'copies'>> = dets.map((d, i) => ({ kind: 'det', box: d.box, score: d.score, gtLabel: predToGt.has(i) ? s.gt[predToGt.get(i)!]!.label : null, lm: d.landmarks }));
    if (withGt) for (const g of s.gt) if (Math.min(g.box[2], g.box[3]) >= config.vision.minFaceSize) {
      const best = s.all.map((d) => ({ d, o: iou(d.box, g.box) })).filter((x) => x.o >= 0.4).sort((p, q) => q.o - p.o)[0];
      wanted.push({ kind: 'gt', box: g.box, score: 1, gtLabel: g.label, lm: best?.d.landmarks });
    }
    return { stem: s.stem, width: s.frame.width, height: s.frame.height, gt: s.gt, faces: wanted.map((w) => ({ ...w, features: [], copies })) };
  });
}

async function embed(records: FaceRecord[], list: Scene[]): Promise<void> {
  for (const [ri, r] of records.entries()) {
    const s = list[ri]!;
    for (const f of r.faces) {
      const key = `${r.stem}:${f.kind}:${f.box.map((v) => v.toFixed(1)).join(',')}`;
      for (let v = 0; v <= f.copies; v++) {
        const ck = `${key}:${v}`;
        let feat = cache.get(ck);
        if (!feat) {
          const box = v === 0 ? f.box : jitterBox(f.box, key, v, augmentSeed);
          let rgb = runtimeInput(s.frame, box, CROP_MARGIN);
          if (ALIGN && f.lm) {
            const sim = similarity(template, inCrop(s.frame, box, f.lm));
            // A fit this far from the box's own framing is a landmark failure: keep the box crop.
            if (sim.scale < 0.6 || sim.scale > 1.6 || Math.abs(sim.angle) > 45) stats.rejected++;
            else { rgb = warpRgb(rgb, INPUT_SIZE, INPUT_SIZE, sim.affine); stats.aligned++; }
          } else stats.unaligned++;
          if (v > 0) rgb = MILD ? await mildVariant(rgb, key, v) : await augmentVariant(rgb, key, v, augmentSeed);
          feat = (await backbone.run([rgb])).features[0]!;
          cache.set(ck, feat);
        }
        f.features.push(feat);
      }
    }
  }
  await cache.save();
}

const trainRecords = recordsOf(scenes.train, COPIES, true);
const valRecords = recordsOf(scenes.val, 0, false);
await embed(trainRecords, scenes.train);
await embed(valRecords, scenes.val);
await backbone.close();
console.error(JSON.stringify({ mode: MODE, ...stats }));

const valSet = labelledSet(valRecords, { allVariants: false });
const K = 5;
const foldOf = new Map<string, number>();
shuffled([...train].sort(), mulberry32(99)).forEach((s, i) => foldOf.set(s, i % K));
const trainHead = (records: SceneRecord[]): HeadWeights =>
  trainMlp(labelledSet(records, { allVariants: true }), valSet, CLASSES.length, { ...DEFAULT_MLP_OPTIONS, hidden: 64, epochs: 12, seed: SEED }).weights;

const oof: ScoredScene[] = [];
let oofLoss = 0, oofN = 0;
for (let k = 0; k < K; k++) {
  const held = trainRecords.filter((r) => foldOf.get(r.stem) === k);
  const w = trainHead(trainRecords.filter((r) => foldOf.get(r.stem) !== k));
  const hs = labelledSet(held, { allVariants: false });
  oofLoss += weightedLoss(w, hs) * hs.x.length; oofN += hs.x.length;
  oof.push(...scoredScenes(held, w));
}
const full = trainHead(trainRecords);
const valScored = scoredScenes(valRecords, full);
const cv = chooseRule(valScored);
const co = chooseRule(oof);
console.log(JSON.stringify({
  mode: MODE, seed: SEED, valLoss: +weightedLoss(full, valSet).toFixed(4), oofLoss: +(oofLoss / oofN).toFixed(4), rankVal: noMaskRanking(valScored), rankOof: noMaskRanking(oof),
  valObjective: +cv.validation.objective.toFixed(3), valPR: [cv.validation.precision, cv.validation.recall], oofObjective: +co.validation.objective.toFixed(3), oofPR: [co.validation.precision, co.validation.recall],
  valRuleOnOof: ruleOutcome(oof, cv.rule),
  oofRuleOnVal: ruleOutcome(valScored, co.rule),
  incorrectRecall: { val: cv.validation.incorrectRecall, oof: co.validation.incorrectRecall },
}));
