// Head training configs compared on the CHOOSING side only (train + val scenes of
// models/scene-split.json; the report scenes are never read): augmented copies per
// training face × head variant. Each config is judged by its validation loss (the full
// head on the val scenes) and its out-of-fold loss (the train scenes cut into 5 folds
// by scene, a head trained on 4 folds scoring the 5th), plus the ranking of P(no mask)
// among detections and the decision rule's transfer between the two sides.
//   COPIES=6 VARIANTS=h64,h64-wd1e-3,h64x5 npx tsx scripts/head-oof-val.ts > /tmp/oof6.jsonl
// Rule (declared before the copies-6 ensemble finished): lowest mean of val and OOF loss.
import path from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { Backbone, backboneModelPath, FEATURE_DIM } from '../src/vision/backbone.ts';
import { CROP_MARGIN } from '../src/vision/crop.ts';
import { createFaceDetector } from '../src/vision/detector/factory.ts';
import { CLASSES, type HeadWeights } from '../src/vision/head.ts';
import { choosingScenes } from '../src/vision/protocol/scene-split.ts';
import { chooseRule, type ScoredScene } from '../src/vision/train/choose.ts';
import { FeatureCache } from '../src/vision/train/feature-cache.ts';
import { DEFAULT_MLP_OPTIONS, mergeLogitAverage, trainMlp, weightedLoss } from '../src/vision/train/mlp.ts';
import { mulberry32, shuffled } from '../src/vision/train/rng.ts';
import { DEFAULT_VARIANTS, EXTRA_VARIANTS, labelledSet, sceneCacheFile, scoredScenes } from '../src/vision/train/scene-train.ts';
import { sceneDetectionsFile, sceneFaces } from '../src/vision/train/scene-faces.ts';
import { datasetDir, SCENES_DATASET } from '../src/vision/train/datasets.ts';
import { noMaskRanking, ruleOutcome } from './lib/no-mask-ranking.ts';

const COPIES = Number(process.env.COPIES ?? 2);
const VARIANTS = (process.env.VARIANTS ?? 'h64,h64-wd1e-3,h64x5').split(',');
const config = loadConfig();
const assetsDir = config.assetsDir;
const cacheDir = path.resolve('.cache');
const augmentSeed = 11;
const detector = await createFaceDetector({ assetsDir, kind: 'yunet-s', intraOpThreads: 1 });
const backbone = await Backbone.load({ modelPath: await backboneModelPath(assetsDir), intraOpThreads: 1, form: 'float' });
const cache = await FeatureCache.open(sceneCacheFile({ cacheDir, augmentSeed }, backbone), FEATURE_DIM);
const { train, val } = choosingScenes();
const common = { scenesDir: datasetDir(assetsDir, SCENES_DATASET), detector, backbone, cache, detectionsFile: sceneDetectionsFile(cacheDir, 'yunet-s', config.vision.faceScoreThreshold), faceScoreThreshold: config.vision.faceScoreThreshold, minFaceSize: config.vision.minFaceSize, cropMargin: CROP_MARGIN, maxPixels: config.ingest.maxFramePixels, augmentSeed };
const trainRecords = await sceneFaces(train, { ...common, copies: COPIES, withGtCrops: true });
const valRecords = await sceneFaces(val, { ...common, copies: 0, withGtCrops: false });
await detector.close();
await backbone.close();
const valSet = labelledSet(valRecords, { allVariants: false });
const K = 5;
const foldOf = new Map<string, number>();
shuffled([...train].sort(), mulberry32(99)).forEach((s, i) => foldOf.set(s, i % K));

/** A variant of `maskwatch train` by name (scene-face data only), trained as train does it, 12 epochs. */
function trainVariant(name: string, records: typeof trainRecords): HeadWeights {
  const variant = [...DEFAULT_VARIANTS, ...EXTRA_VARIANTS].find((v) => v.name === name);
  if (!variant) throw new Error(`unknown variant ${name}`);
  const { name: _name, seedWeight, syntheticWeight, backgroundWeight, members = 1, ...mlp } = variant;
  if (seedWeight || syntheticWeight || backgroundWeight) throw new Error(`${name} needs extra data; only scene-face variants are compared here`);
  const options = { ...DEFAULT_MLP_OPTIONS, ...mlp, epochs: 12 };
  const set = labelledSet(records, { allVariants: true });
  const runs = Array.from({ length: members }, (_, m) => trainMlp(set, valSet, CLASSES.length, { ...options, seed: options.seed + m }).weights);
  return members > 1 ? mergeLogitAverage(runs) : runs[0]!;
}
for (const name of VARIANTS) {
  const oof: ScoredScene[] = [];
  let oofLoss = 0, oofN = 0;
  for (let k = 0; k < K; k++) {
    const held = trainRecords.filter((r) => foldOf.get(r.stem) === k);
    const w = trainVariant(name, trainRecords.filter((r) => foldOf.get(r.stem) !== k));
    const hs = labelledSet(held, { allVariants: false });
    oofLoss += weightedLoss(w, hs) * hs.x.length; oofN += hs.x.length;
    oof.push(...scoredScenes(held, w));
  }
  const full = trainVariant(name, trainRecords);
  const valScored = scoredScenes(valRecords, full);
  const cv = chooseRule(valScored);
  const co = chooseRule(oof);
  const pooled = chooseRule([...oof, ...valScored]);
  console.log(JSON.stringify({ copies: COPIES, name, valLoss: +weightedLoss(full, valSet).toFixed(4), oofLoss: +(oofLoss / oofN).toFixed(4), aucVal: noMaskRanking(valScored), aucOof: noMaskRanking(oof),
    valObjective: +cv.validation.objective.toFixed(3), valPR: [cv.validation.precision, cv.validation.recall], oofObjective: +co.validation.objective.toFixed(3),
    valRuleOnOof: ruleOutcome(oof, cv.rule),
    oofRuleOnVal: ruleOutcome(valScored, co.rule),
    pooledObjective: +pooled.validation.objective.toFixed(3), pooledPR: [pooled.validation.precision, pooled.validation.recall], rules: { val: cv.rule, oof: co.rule, pooled: pooled.rule }, incorrect: { val: cv.validation.incorrectRecall, pooled: pooled.validation.incorrectRecall } }));
}
