import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { Backbone, backboneModelPath, resizeToInput } from '../backbone.ts';
import { classificationMetrics } from '../evaluation/classification.ts';
import type { EvaluatedSet } from '../evaluation/report.ts';
import { headWeightsFromArtifact, parseHeadArtifact, predictNoMask, type HeadArtifact, type HeadWeights } from '../head.ts';
import { datasetDir, listFaceCrops, type Sample } from './datasets.ts';
import { decodeForTraining } from './features.ts';
import { splitByGroup, splitRandom } from './group-split.ts';
import { cleanSet, trainingSet } from './pipeline.ts';
import { prepareTrainingData, splitDigest, type Framing, type PreparedData, type PreparedSample } from './prepare.ts';
import type { Progress } from './progress.ts';
import { DEFAULT_TRAIN_OPTIONS, trainHead } from './trainer.ts';

export interface EvaluationOptions {
  assetsDir: string;
  cacheDir: string;
  headPath: string;
  intraOpThreads: number;
  logger: Logger;
  progress: (label: string, total: number) => Progress;
  /**
   * Runs the detector+classifier pipeline on kaggle-scenes-dev; returns the
   * detector engineer's evaluateScenes result (injected so this module does
   * not load the engine when scenes are skipped).
   */
  scenes?: (headPath: string) => Promise<unknown>;
}

export interface EvaluationResult {
  head: { path: string; backbone: string; framing: unknown; trainedOn: string[] };
  sets: EvaluatedSet[];
  incorrectlyWorn: { n: number; predictedMask: number; predictedMaskRate: number; policy: string };
  leakage: Array<{ split: string; trainSize: number; testSize: number; seedTestAccuracy: number; kaggleBalancedAccuracy: number; kaggleAccuracy: number }>;
  scenes: unknown;
}

interface ArtifactTraining {
  split?: { seedSplitSeed?: number; digest?: string };
  augmentation?: { seed?: number; copiesPerImage?: number };
  framing?: { mode?: Framing };
}

async function embedFiles(backbone: Backbone, samples: Sample[], progress: Progress): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < samples.length; i += 32) {
    const batch = samples.slice(i, i + 32);
    // Whole crop as the face crop, exactly as `maskwatch classify` does.
    const rgb = await Promise.all(batch.map(async (s) => resizeToInput(await decodeForTraining(s.path))));
    out.push(...(await backbone.run(rgb)).features);
    progress.tick(batch.length);
  }
  return out;
}

function evaluated(id: string, title: string, labels: number[], scores: number[], note?: string): EvaluatedSet {
  return { id, title, note, labels, scores, metrics: classificationMetrics(labels, scores) };
}

function testSet(data: PreparedData, dataset: string): PreparedSample[] {
  return data.samples.filter((s) => s.dataset === dataset && s.split === 'test');
}

/**
 * Held-out evaluation of the committed head, plus the leaky-vs-group split
 * comparison on the seed set. Splits are rebuilt from the seeds recorded in
 * the head file, so "test" means the same files training never saw.
 */
export async function runEvaluation(o: EvaluationOptions): Promise<EvaluationResult> {
  const artifact: HeadArtifact = parseHeadArtifact(await readFile(o.headPath, 'utf8'), o.headPath);
  const weights = headWeightsFromArtifact(artifact);
  const t = artifact.training as ArtifactTraining;
  const splitSeed = t.split?.seedSplitSeed;
  const augmentSeed = t.augmentation?.seed;
  const copies = t.augmentation?.copiesPerImage ?? 0;
  const framing = t.framing?.mode ?? 'whole';
  if (splitSeed === undefined || augmentSeed === undefined) throw new Error(`${o.headPath} does not record its split/augmentation seeds; retrain it`);
  const backbone = await Backbone.load({ modelPath: await backboneModelPath(o.assetsDir), intraOpThreads: o.intraOpThreads });
  try {
    if (backbone.sha256 !== artifact.backbone.sha256) throw new Error('the head was trained on another backbone file');
    const data = await prepareTrainingData(
      { assetsDir: o.assetsDir, cacheDir: o.cacheDir, splitSeed, augmentSeed, intraOpThreads: o.intraOpThreads, framing, logger: o.logger, progress: o.progress },
      backbone,
    );
    if (t.split?.digest && t.split.digest !== splitDigest(data.samples)) {
      throw new Error(`the train/val/test split rebuilt now differs from the one ${o.headPath} was trained with (data or split code changed): retrain before evaluating`);
    }
    const score = (w: HeadWeights, samples: PreparedSample[]) => predictNoMask(w, samples.map((s) => s.features));
    const seedTest = testSet(data, 'prajna');
    const chTest = testSet(data, 'chandrikadeb7');
    const sets: EvaluatedSet[] = [
      evaluated('seed-group-test', 'Seed set (prajna), group-split test', seedTest.map((s) => s.label), score(weights, seedTest),
        'Split by source photo: a photo, its pasted-mask copy and its augmented variants are all on one side.'),
      evaluated('chandrikadeb7-test', 'chandrikadeb7 (real masks), test split', chTest.map((s) => s.label), score(weights, chTest)),
    ];

    const crops = await listFaceCrops(o.assetsDir);
    const bar = o.progress('kaggle face crops', crops.main.length + crops.incorrect.length);
    const cropFeatures = await embedFiles(backbone, [...crops.main, ...crops.incorrect], bar);
    bar.done();
    const mainScores = predictNoMask(weights, cropFeatures.slice(0, crops.main.length));
    const kaggleLabels = crops.main.map((s) => s.label);
    sets.push(
      evaluated('kaggle-face-crops-dev', 'kaggle-face-crops-dev (real CCTV-like crops, never trained on)', kaggleLabels, mainScores,
        `Crops from ${path.relative(o.assetsDir, datasetDir(o.assetsDir, 'kaggle-face-crops-dev'))}: with_mask vs without_mask; mask_weared_incorrect reported separately below.`),
    );
    const incorrectScores = predictNoMask(weights, cropFeatures.slice(crops.main.length));
    const predictedMask = incorrectScores.filter((p) => p < 0.5).length;

    // Leakage demo: the classic recipe on the seed set alone, random split vs group split.
    const seedAll = data.samples.filter((s) => s.dataset === 'prajna');
    const leakage: EvaluationResult['leakage'] = [];
    const comparisons: Array<{ split: string; sides: Array<'train' | 'val' | 'test'> }> = [
      { split: 'random 80/20 (classic recipe, leaky)', sides: splitRandom(seedAll.length, { train: 0.8, val: 0, test: 0.2 }, splitSeed) },
      {
        split: 'by source photo 80/20',
        sides: splitByGroup(seedAll.map((s) => Number(s.group.split('#')[1])), { train: 0.8, val: 0, test: 0.2 }, splitSeed),
      },
    ];
    for (const c of comparisons) {
      const trainSamples = seedAll.filter((_, i) => c.sides[i] === 'train');
      const testSamples = seedAll.filter((_, i) => c.sides[i] === 'test');
      const train = await trainingSet(trainSamples, copies, data, { augmentSeed, progress: o.progress });
      const run = await trainHead(train, null, { ...DEFAULT_TRAIN_OPTIONS });
      const test = cleanSet(testSamples);
      const seedM = classificationMetrics(test.y, predictNoMask(run.weights, test.x));
      const kagM = classificationMetrics(kaggleLabels, predictNoMask(run.weights, cropFeatures.slice(0, crops.main.length)));
      leakage.push({
        split: c.split,
        trainSize: trainSamples.length,
        testSize: testSamples.length,
        seedTestAccuracy: seedM.accuracy,
        kaggleAccuracy: kagM.accuracy,
        kaggleBalancedAccuracy: kagM.balancedAccuracy,
      });
      o.logger.info(leakage[leakage.length - 1], 'seed-only head');
      if (c.split.startsWith('random')) {
        sets.push(
          evaluated('seed-random-test', 'Seed set, RANDOM split (leaky, classic recipe), head trained on the seed set only', test.y, predictNoMask(run.weights, test.x),
            'Near-identical images (a photo and its pasted-mask or augmented copy) fall on both sides: this number overstates real accuracy.'),
        );
      }
    }

    const scenes = o.scenes ? await o.scenes(o.headPath) : null;
    return {
      head: { path: o.headPath, backbone: `${artifact.backbone.name} sha256 ${artifact.backbone.sha256}`, framing: (artifact.training as { framing?: unknown }).framing, trainedOn: ['prajna train split', 'chandrikadeb7 train split'] },
      sets,
      incorrectlyWorn: {
        n: incorrectScores.length,
        predictedMask,
        predictedMaskRate: incorrectScores.length ? predictedMask / incorrectScores.length : 0,
        policy: 'mask_weared_incorrect counts as "mask" (not a violation): the person wears a mask, the alert targets bare faces. Not part of the main figures.',
      },
      leakage,
      scenes,
    };
  } finally {
    await backbone.close();
  }
}
