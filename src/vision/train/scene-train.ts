import path from 'node:path';
import type { Logger } from 'pino';
import { loadHeadTail } from '../backbone-tail.ts';
import { Backbone, BACKBONE_NAME, backboneCacheTag, backboneModelPath, type BackboneForm, FEATURE_DIM, FEATURE_TENSOR, INPUT_SIZE, MEAN, STD } from '../backbone.ts';
import { CROP_MARGIN } from '../crop.ts';
import { createFaceDetector, type DetectorKind } from '../detector/factory.ts';
import type { FaceDetector } from '../detector/types.ts';
import { CLASSES, encodeFloat32, headProbabilities, type HeadArtifact, type HeadWeights } from '../head.ts';
import type { GtLabel } from '../evaluation/detection.ts';
import { choosingScenes, SCENE_SPLIT_FILE } from '../protocol/scene-split.ts';
import { RESIZE_METHOD } from '../resize.ts';
import { AUGMENTATION } from './augment.ts';
import { chooseRule, type Choice, type ScoredScene } from './choose.ts';
import { FeatureCache } from './feature-cache.ts';
import { balancedWeights, DEFAULT_MLP_OPTIONS, mergeLogitAverage, trainMlp, weightedLoss, type MlpOptions, type WeightedSet } from './mlp.ts';
import type { Progress } from './progress.ts';
import { sceneDetectionsFile, sceneFaces, type SceneFacesOptions, type SceneRecord } from './scene-faces.ts';
import { datasetDir, listMaskDataset, SCENES_DATASET, TRAINING_DATASETS } from './datasets.ts';
import { dedupeByContent, hashSamples } from './dedupe.ts';
import { detectTrainingFaces } from './reframe.ts';
import { loadInput224 } from './features.ts';
import { createHash } from 'node:crypto';
import { iou } from '../nms.ts';
import { syntheticSet } from './synthetic-set.ts';
import { readFileSync } from 'node:fs';

/** Every n-th unmasked photo (sorted by path) gives a synthetic face. */
export const SYNTHETIC_PHOTO_STRIDE = 6;

/**
 * `maskwatch train`: a 3-class head on detector-cropped faces of the TRAIN
 * scenes, the variant and every threshold chosen on the VAL scenes. Nothing
 * here can reach the report scenes (see src/vision/protocol/).
 */
export interface SceneTrainOptions {
  assetsDir: string;
  cacheDir: string;
  detector: DetectorKind;
  faceScoreThreshold: number;
  minFaceSize: number;
  maxPixels: number;
  intraOpThreads: number;
  /** Backbone form the head is trained on (recorded in the artifact; the head accepts only that form). */
  backboneForm: BackboneForm;
  copies: number;
  augmentSeed: number;
  variants: Array<Partial<MlpOptions> & HeadVariantData>;
  logger: Logger;
  progress: (label: string, total: number) => Progress;
}

/** Extra training data of a head variant, each at a fraction of a real scene face's weight. */
export interface HeadVariantData {
  name: string;
  /** The mask/no_mask photo sets (prajna, chandrikadeb7), face-framed. */
  seedWeight?: number;
  /** Synthetic masks painted with YuNet's landmarks (src/vision/train/synthetic-set.ts). */
  syntheticWeight?: number;
  /**
   * Train-scene detections that overlap no annotated face (IoU < 0.2, what
   * the scorer counts as a false alarm), taught as "not a violation" (class mask).
   */
  backgroundWeight?: number;
  /** Heads trained with seeds seed, seed+1, …, averaged in logit space and stored as one wider head. */
  members?: number;
}

export const CLASS_OF: Record<GtLabel, number> = { with_mask: 0, without_mask: 1, mask_weared_incorrect: 2 };

/** Head variants compared on validation (kept few: the val set is small, and a robust choice beats a tuned one). */
export const DEFAULT_VARIANTS: SceneTrainOptions['variants'] = [
  { name: 'h64', hidden: 64 },
  { name: 'h64-wd1e-3', hidden: 64, weightDecay: 1e-3 },
  // Five seeds averaged in logit space: one head of 5 × 64 hidden units, less dependent on one seed's luck.
  { name: 'h64x5', hidden: 64, members: 5 },
  { name: 'h128', hidden: 128 },
  // + the mask/no_mask photo sets (prajna, chandrikadeb7), face-framed, at a quarter of a scene face's weight.
  { name: 'h64-photos', hidden: 64, seedWeight: 0.25 },
  { name: 'h128-photos', hidden: 128, seedWeight: 0.25 },
];

/**
 * Variants that can be asked for by name (`--variants`) but are not trained
 * by default: tried in scripts/vision-experiments-val.ts and not better on
 * real validation faces (reports/error-analysis-val.md).
 */
export const EXTRA_VARIANTS: SceneTrainOptions['variants'] = [
  { name: 'h64-synthetic', hidden: 64, syntheticWeight: 1 },
  { name: 'h64-background', hidden: 64, backgroundWeight: 1 },
];

/**
 * Clean features of the two mask/no_mask photo sets, cropped to the detected
 * face with the run-time margin (no split needed: nothing is evaluated on
 * them; deduplicated by content; a third of them, to bound CPU).
 */
export async function photoSet(o: SceneTrainOptions, backbone: Backbone, cache: FeatureCache): Promise<{ x: Float32Array[]; y: number[] }> {
  const listed = (await Promise.all(TRAINING_DATASETS.map((d) => listMaskDataset(o.assetsDir, d)))).flat();
  // Every third photo (by sorted content hash): a third of the CPU, and the scene faces stay the larger share.
  const kept = dedupeByContent(await hashSamples(listed))
    .kept.sort((a, b) => a.md5.localeCompare(b.md5))
    .filter((_, i) => i % 3 === 0);
  const detector = await createFaceDetector({ assetsDir: o.assetsDir, kind: 'yunet-s', intraOpThreads: o.intraOpThreads });
  let faces: Map<string, import('../types.ts').Box | null>;
  try {
    const bar = o.progress('photo face boxes', kept.length);
    faces = await detectTrainingFaces(kept, { detector, cacheDir: o.cacheDir, progress: bar });
    bar.done();
  } finally {
    await detector.close();
  }
  const bar = o.progress('photo features', kept.length);
  const x: Float32Array[] = [];
  for (let i = 0; i < kept.length; i += 16) {
    const batch = kept.slice(i, i + 16);
    const todo = batch.filter((s) => !cache.get(`photo:${s.md5}`));
    if (todo.length) {
      const rgb = await Promise.all(todo.map((s) => loadInput224(s.path, faces.get(s.md5) ?? null)));
      const { features } = await backbone.run(rgb);
      todo.forEach((s, k) => cache.set(`photo:${s.md5}`, features[k]!));
    }
    for (const s of batch) x.push(cache.get(`photo:${s.md5}`)!);
    bar.tick(batch.length);
  }
  bar.done();
  await cache.save();
  return { x, y: kept.map((s) => s.label) };
}

/** Labelled training vectors: every variant of every face matched to an annotation. */
export function labelledSet(records: SceneRecord[], opts: { allVariants: boolean }): WeightedSet {
  const x: Float32Array[] = [];
  const y: number[] = [];
  for (const r of records) {
    for (const f of r.faces) {
      if (!f.gtLabel) continue;
      for (const v of opts.allVariants ? f.features : f.features.slice(0, 1)) {
        x.push(v);
        y.push(CLASS_OF[f.gtLabel]);
      }
    }
  }
  return { x, y, w: balancedWeights(y, CLASSES.length) };
}

/** Detections of the train scenes that overlap no annotated face (IoU < 0.2): every variant's features. */
export function backgroundVectors(records: SceneRecord[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (const r of records) for (const f of r.faces) if (f.kind === 'det' && !f.gtLabel && !r.gt.some((g) => iou(g.box, f.box) >= 0.2)) out.push(...f.features);
  return out;
}

/** One weighted set from parts, class-balanced, each part's samples at its weight. */
export function combine(parts: Array<{ x: Float32Array[]; y: number[]; weight: number }>): WeightedSet {
  const x = parts.flatMap((p) => p.x);
  const y = parts.flatMap((p) => p.y);
  const factor = parts.flatMap((p) => p.x.map(() => p.weight));
  return { x, y, w: balancedWeights(y, CLASSES.length, (i) => factor[i]!) };
}

export function scoredScenes(records: SceneRecord[], weights: HeadWeights): ScoredScene[] {
  return records.map((r) => ({
    stem: r.stem,
    gt: r.gt,
    dets: r.faces.filter((f) => f.kind === 'det').map((f) => ({ box: f.box, score: f.score, p: headProbabilities(weights, f.features[0]!) })),
  }));
}

export function manifestDigest(file = SCENE_SPLIT_FILE): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export interface SceneTrainResult {
  artifact: HeadArtifact;
  choice: Choice;
  variants: Array<{ name: string; valLoss: number; bestEpoch: number }>;
}

export async function trainOnScenes(o: SceneTrainOptions): Promise<SceneTrainResult> {
  const { train, val } = choosingScenes();
  const detector = await createFaceDetector({ assetsDir: o.assetsDir, kind: o.detector, intraOpThreads: o.intraOpThreads });
  let backbone: Backbone | null = null;
  try {
    backbone = await Backbone.load({ modelPath: await backboneModelPath(o.assetsDir), intraOpThreads: o.intraOpThreads, form: o.backboneForm });
    const cache = await FeatureCache.open(sceneCacheFile(o, backbone), FEATURE_DIM);
    const common = sceneFacesBase(o, detector, backbone, cache);
    const tbar = o.progress('train scenes', train.length);
    const trainRecords = await sceneFaces(train, { ...common, copies: o.copies, withGtCrops: true, progress: tbar });
    tbar.done();
    const vbar = o.progress('val scenes', val.length);
    const valRecords = await sceneFaces(val, { ...common, copies: 0, withGtCrops: false, progress: vbar });
    vbar.done();
    const trainSet = labelledSet(trainRecords, { allVariants: true });
    const valSet = labelledSet(valRecords, { allVariants: false });
    o.logger.info({ train: trainSet.x.length, val: valSet.x.length, trainScenes: train.length, valScenes: val.length }, 'scene faces ready');

    const photos = o.variants.some((v) => v.seedWeight) ? await photoSet(o, backbone, cache) : null;
    const synthetic = o.variants.some((v) => v.syntheticWeight)
      ? await syntheticSet({ assetsDir: o.assetsDir, trainScenes: train, detector, backbone, cache, copies: o.copies, seed: o.augmentSeed, margin: CROP_MARGIN, maxPixels: o.maxPixels, photoStride: SYNTHETIC_PHOTO_STRIDE, progress: o.progress })
      : [];
    const background = backgroundVectors(trainRecords);
    // Variant choice: lowest balanced validation cross-entropy (val scenes' detected faces).
    const results: Array<{ name: string; valLoss: number; bestEpoch: number; weights: HeadWeights; options: MlpOptions; members: number; history: unknown; data: HeadVariantData }> = [];
    for (const v of o.variants) {
      const { name: _name, seedWeight, syntheticWeight, backgroundWeight, members = 1, ...mlp } = v;
      const options: MlpOptions = { ...DEFAULT_MLP_OPTIONS, ...mlp };
      const parts: Array<{ x: Float32Array[]; y: number[]; weight: number }> = [{ ...trainSet, weight: 1 }];
      if (seedWeight && photos) parts.push({ ...photos, weight: seedWeight });
      if (syntheticWeight) parts.push({ x: synthetic.map((s) => s.x), y: synthetic.map((s) => s.y), weight: syntheticWeight });
      if (backgroundWeight) parts.push({ x: background, y: background.map(() => 0), weight: backgroundWeight });
      const set = combine(parts);
      const bar = o.progress(`train ${v.name}`, options.epochs * members);
      const runs = Array.from({ length: members }, (_, m) => trainMlp(set, valSet, CLASSES.length, { ...options, seed: options.seed + m }, () => bar.tick()));
      bar.done();
      const weights = members > 1 ? mergeLogitAverage(runs.map((r) => r.weights)) : runs[0]!.weights;
      const valLoss = weightedLoss(weights, valSet);
      const bestEpoch = runs[0]!.bestEpoch;
      o.logger.info({ variant: v.name, valLoss, bestEpochs: runs.map((r) => r.bestEpoch) }, 'variant trained');
      results.push({ name: v.name, valLoss, bestEpoch, weights, options, members, history: runs.map((r) => r.history), data: v });
    }
    const chosen = results.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    const choice = chooseRule(scoredScenes(valRecords, chosen.weights));
    o.logger.info({ variant: chosen.name, rule: choice.rule, validation: choice.validation }, 'chosen on validation');
    const artifact: HeadArtifact = {
      format: 'maskwatch-mask-head/2',
      classes: CLASSES,
      output: 'softmax over classes [mask, no_mask, mask_incorrect]; noMaskProbability = output[1]',
      backbone: { name: BACKBONE_NAME, sha256: backbone.sha256, form: backbone.form, featureTensor: FEATURE_TENSOR, featureDim: FEATURE_DIM, pooling: 'mean over 7x7' },
      input: { size: INPUT_SIZE, resize: RESIZE_METHOD, colour: 'RGB', scale: 1 / 255, mean: MEAN, std: STD },
      cropMargin: CROP_MARGIN,
      architecture: { hidden: chosen.weights.hiddenDim, activation: 'relu', dropout: chosen.options.dropout, output: 'softmax' },
      weights: { w1: encodeFloat32(chosen.weights.w1), b1: encodeFloat32(chosen.weights.b1), w2: encodeFloat32(chosen.weights.w2), b2: encodeFloat32(chosen.weights.b2) },
      decision: choice.rule,
      training: {
        data:
          'kaggle-scenes-dev TRAIN scenes: detector crops (run-time framing) matched to annotations + annotated-box crops, each with augmented copies' +
          (chosen.data.seedWeight ? `; plus prajna + chandrikadeb7 photos (mask / no_mask), face-framed, deduplicated, every third photo by content hash, weight ${chosen.data.seedWeight}` : '') +
          (chosen.data.syntheticWeight
            ? `; plus synthetic masks painted with YuNet's landmarks on unmasked faces (train-scene faces + every ${SYNTHETIC_PHOTO_STRIDE}th unmasked photo): below the nose / on the chin = mask_incorrect, over the nose = mask, weight ${chosen.data.syntheticWeight}`
            : '') +
          (chosen.data.backgroundWeight ? `; plus train-scene detections overlapping no annotated face (IoU < 0.2) as class mask (not a violation), weight ${chosen.data.backgroundWeight}` : ''),
        detector: o.detector,
        detectorThreshold: o.faceScoreThreshold,
        minFaceSize: o.minFaceSize,
        sceneSplit: { file: path.relative(path.dirname(SCENE_SPLIT_FILE), SCENE_SPLIT_FILE), sha256: manifestDigest(), trainScenes: train.length, valScenes: val.length },
        counts: { trainVectors: trainSet.x.length, valFaces: valSet.x.length, trainByClass: CLASSES.map((_, c) => trainSet.y.filter((y) => y === c).length) },
        augmentation: { ...AUGMENTATION, boxJitter: 0.08, copiesPerFace: o.copies, seed: o.augmentSeed },
        hyperParameters: { ...chosen.options, ...(chosen.members > 1 ? { members: chosen.members, ensemble: 'members with seeds seed..seed+members-1, averaged in logit space, stored as one head of members × hidden units' } : {}), optimizer: 'adam', loss: 'class-balanced cross-entropy', selection: 'epoch with lowest validation loss' },
        variants: results.map((r) => ({ name: r.name, valLoss: r.valLoss, bestEpoch: r.bestEpoch, hidden: r.options.hidden, weightDecay: r.options.weightDecay, ...(r.members > 1 ? { members: r.members } : {}) })),
        chosenVariant: chosen.name,
        variantRule: 'lowest class-balanced cross-entropy on the validation scenes',
        decisionRule: choice.how,
        framework: 'plain JS (src/vision/train/mlp.ts), features by onnxruntime-node',
      },
      metrics: { validation: choice.validation },
    };
    return { artifact, choice, variants: results.map(({ name, valLoss, bestEpoch }) => ({ name, valLoss, bestEpoch })) };
  } finally {
    await detector.close();
    await backbone?.close();
  }
}

/**
 * Re-runs only the choice on the VAL scenes for an already trained head
 * (same weights, same cached val faces): used when the chooser changes, so
 * the decision in the file is what the current chooser gives.
 */
export async function rechoose(o: SceneTrainOptions, artifact: HeadArtifact, headPath: string): Promise<HeadArtifact> {
  // A refit learned on the val scenes: choosing on them would be in-sample. Its rule was chosen out-of-fold.
  if (artifact.training.refit) throw new Error(`${headPath} was refit on the val scenes; its rule is chosen out-of-fold by scripts/tail-finetune/refit.ts, not by --rechoose`);
  const { headBackboneForm, headWeightsFromArtifact } = await import('../head.ts');
  const weights = headWeightsFromArtifact(artifact);
  const { val } = choosingScenes();
  const detector = await createFaceDetector({ assetsDir: o.assetsDir, kind: o.detector, intraOpThreads: o.intraOpThreads });
  const tail = await loadHeadTail(artifact, headPath);
  const backbone = await Backbone.load({ modelPath: await backboneModelPath(o.assetsDir), intraOpThreads: o.intraOpThreads, form: headBackboneForm(artifact), tail });
  try {
    const cache = await FeatureCache.open(sceneCacheFile(o, backbone), FEATURE_DIM);
    const valRecords = await sceneFaces(val, { ...sceneFacesBase(o, detector, backbone, cache), copies: 0, withGtCrops: false });
    const choice = chooseRule(scoredScenes(valRecords, weights));
    o.logger.info({ rule: choice.rule, validation: choice.validation }, 're-chosen on validation');
    return { ...artifact, decision: choice.rule, training: { ...artifact.training, decisionRule: choice.how }, metrics: { ...artifact.metrics, validation: choice.validation } };
  } finally {
    await detector.close();
    await backbone.close();
  }
}

/** What every pass over the scenes shares: the run-time detector gates and framing, and the caches. */
function sceneFacesBase(o: SceneTrainOptions, detector: FaceDetector, backbone: Backbone, cache: FeatureCache): Omit<SceneFacesOptions, 'copies' | 'withGtCrops' | 'progress'> {
  return {
    scenesDir: datasetDir(o.assetsDir, SCENES_DATASET),
    detector,
    backbone,
    cache,
    detectionsFile: sceneDetectionsFile(o.cacheDir, o.detector, o.faceScoreThreshold),
    faceScoreThreshold: o.faceScoreThreshold,
    minFaceSize: o.minFaceSize,
    cropMargin: CROP_MARGIN,
    maxPixels: o.maxPixels,
    augmentSeed: o.augmentSeed,
  };
}

export function sceneCacheFile(o: Pick<SceneTrainOptions, 'cacheDir' | 'augmentSeed'>, b: Pick<Backbone, 'sha256' | 'form' | 'tailSha256'>): string {
  return path.join(o.cacheDir, `scene-features-${backboneCacheTag(b)}-${createHash('sha256').update(RESIZE_METHOD).digest('hex').slice(0, 8)}-m${CROP_MARGIN}-aug${AUGMENTATION.version}-seed${o.augmentSeed}.bin`);
}
