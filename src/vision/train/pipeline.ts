import type { Logger } from 'pino';
import { Backbone, BACKBONE_NAME, FEATURE_DIM, FEATURE_TENSOR, INPUT_SIZE, MEAN, STD } from '../backbone.ts';
import { CROP_MARGIN } from '../crop.ts';
import { RESIZE_METHOD } from '../resize.ts';
import { CLASSES, encodeFloat32, type HeadArtifact, type HeadWeights } from '../head.ts';
import { AUGMENTATION } from './augment.ts';
import type { Label } from './datasets.ts';
import { computeFeatures, type FeatureJob } from './features.ts';
import { countBy, splitDigest, NEAR_DUPLICATE, SPLIT_FRACTIONS, type PreparedData, type PreparedSample, type PrepareOptions } from './prepare.ts';
import { DEFAULT_TRAIN_OPTIONS, trainHead, type Dataset, type EpochStats, type TrainOptions } from './trainer.ts';

export interface TrainRun {
  weights: HeadWeights;
  history: EpochStats[];
  bestEpoch: number;
}

/** Train features: clean + `copies` augmented variants of each training sample. */
export async function trainingSet(
  samples: PreparedSample[],
  copies: number,
  data: Pick<PreparedData, 'backbone' | 'cache' | 'faces' | 'wholeCache'>,
  o: Pick<PrepareOptions, 'augmentSeed' | 'progress'>,
): Promise<Dataset> {
  const jobs: FeatureJob[] = [];
  for (const s of samples) for (let v = 0; v <= copies; v++) jobs.push({ sample: s, variant: v });
  const y = jobs.map((j) => j.sample.label as Label);
  const bar = o.progress(`features (${copies} augmented copies)`, jobs.length);
  const x = await computeFeatures(jobs, { backbone: data.backbone, cache: data.cache, augmentSeed: o.augmentSeed, progress: bar, faces: data.faces });
  bar.done();
  if (!data.wholeCache) return { x, y };
  const wbar = o.progress(`features (whole photos, ${copies} augmented copies)`, jobs.length);
  const xw = await computeFeatures(jobs, { backbone: data.backbone, cache: data.wholeCache, augmentSeed: o.augmentSeed, progress: wbar });
  wbar.done();
  return { x: [...x, ...xw], y: [...y, ...y] };
}

export function cleanSet(samples: PreparedSample[]): Dataset {
  return { x: samples.map((s) => s.features), y: samples.map((s) => s.label) };
}

export interface TrainPipelineOptions extends PrepareOptions {
  copies: number;
  train: TrainOptions;
}

export async function trainOnPrepared(data: PreparedData, o: TrainPipelineOptions, logger: Logger): Promise<TrainRun> {
  const train = await trainingSet(data.samples.filter((s) => s.split === 'train'), o.copies, data, o);
  const val = cleanSet(data.samples.filter((s) => s.split === 'val'));
  logger.info({ train: train.x.length, val: val.x.length }, 'training head');
  const bar = o.progress('epochs', o.train.epochs);
  const run = await trainHead(train, val, o.train, (s) => {
    bar.tick();
    logger.debug(s, 'epoch');
  });
  bar.done();
  return run;
}

export function buildArtifact(
  run: TrainRun,
  data: PreparedData,
  o: TrainPipelineOptions,
  metrics: Record<string, unknown>,
): HeadArtifact {
  return {
    format: 'maskwatch-mask-head/1',
    classes: CLASSES,
    output: 'softmax over classes; maskProbability = P(no_mask) = output[1]',
    backbone: { name: BACKBONE_NAME, sha256: data.backbone.sha256, featureTensor: FEATURE_TENSOR, featureDim: FEATURE_DIM, pooling: 'mean over 7x7' },
    input: { size: INPUT_SIZE, resize: RESIZE_METHOD, colour: 'RGB', scale: 1 / 255, mean: MEAN, std: STD },
    cropMargin: CROP_MARGIN,
    architecture: { hidden: o.train.hidden, activation: 'relu', dropout: o.train.dropout, output: 'softmax' },
    weights: { w1: encodeFloat32(run.weights.w1), b1: encodeFloat32(run.weights.b1), w2: encodeFloat32(run.weights.w2), b2: encodeFloat32(run.weights.b2) },
    training: {
      datasets: ['prajna', 'chandrikadeb7'],
      framing: data.framing,
      counts: countBy(data.samples),
      dedupe: { ...data.dedupe, removed: data.dedupe.removed },
      grouping: data.grouping,
      split: { digest: splitDigest(data.samples), fractions: SPLIT_FRACTIONS, seedSplitSeed: o.splitSeed, chandrikadeb7SplitSeed: o.splitSeed + 1, nearDuplicateCosine: NEAR_DUPLICATE, rule: 'prajna: by source photo (N.jpg, N-with-mask.jpg, prajna/praN, augmented_image_N attached to the most similar photo, near-duplicates); chandrikadeb7: near-duplicate groups, seeded' },
      augmentation: { ...AUGMENTATION, copiesPerImage: o.copies, seed: o.augmentSeed },
      hyperParameters: { ...o.train, optimizer: 'adam', decay: o.train.learningRate / o.train.epochs, loss: 'binary cross-entropy on 2-way softmax', classWeights: o.train.balanceClasses ? 'balanced' : 'none', selection: 'epoch with lowest validation loss' },
      bestEpoch: run.bestEpoch,
      history: run.history,
      framework: 'tfjs 4 (wasm backend), features by onnxruntime-node',
    },
    metrics,
  };
}

export { DEFAULT_TRAIN_OPTIONS, Backbone };
