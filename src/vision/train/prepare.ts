import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { Backbone, backboneCacheTag, FEATURE_DIM } from '../backbone.ts';
import { RESIZE_METHOD } from '../resize.ts';
import { AUGMENTATION } from './augment.ts';
import { listMaskDataset, sampleId, TRAINING_DATASETS } from './datasets.ts';
import { dedupeByContent, hashSamples, type DedupeReport, type HashedSample } from './dedupe.ts';
import { FeatureCache } from './feature-cache.ts';
import { computeFeatures, type FeatureJob } from './features.ts';
import { groupSources, seedSourceKey, splitByGroup, type Split, type SplitFractions } from './group-split.ts';
import { progressBar, type Progress } from './progress.ts';
import { detectTrainingFaces } from './reframe.ts';
import { createFaceDetector } from '../detector/factory.ts';
import type { Box } from '../types.ts';

/**
 * `face`: crop each photo to its detected face + run-time margin; `whole`: the
 * photo as is (classic recipe); `both` (default): train on both framings —
 * run-time crops vary with detector box jitter, so framing is augmentation
 * too. Validation/test and splits use the face framing (what run time sees).
 */
export type Framing = 'face' | 'whole' | 'both';
export const REFRAME_DETECTOR = 'yunet-s' as const;

export const SPLIT_FRACTIONS: SplitFractions = { train: 0.7, val: 0.15, test: 0.15 };
/** Cosine similarity of pooled features above which two files are the same source photo (measured: see training summary). */
export const NEAR_DUPLICATE = 0.95;

export interface PrepareOptions {
  assetsDir: string;
  cacheDir: string;
  /** Split seed for the seed (prajna) groups; chandrikadeb7 uses seed + 1. */
  splitSeed: number;
  augmentSeed: number;
  intraOpThreads: number;
  framing: Framing;
  logger: Logger;
  progress: (label: string, total: number) => Progress;
}

export interface PreparedSample extends HashedSample {
  split: Split;
  group: string;
  /** Clean (variant 0) features. */
  features: Float32Array;
}

export interface PreparedData {
  samples: PreparedSample[];
  dedupe: DedupeReport;
  grouping: Record<string, { groups: number; attachedByFeature: number; minAttachSimilarity: number | null }>;
  backbone: Backbone;
  cache: FeatureCache;
  /** Second feature cache (whole photos) when framing = both. */
  wholeCache?: FeatureCache;
  /** Face box per content hash when framing = face or both. */
  faces?: Map<string, Box | null>;
  framing: { mode: Framing; detector?: string; facesFound?: number; photos?: number };
}

export function stderrProgress(label: string, total: number): Progress {
  return progressBar(process.stderr, label, total);
}

export function cacheFile(cacheDir: string, backbone: Pick<Backbone, 'sha256' | 'form'>, augmentSeed: number, framing: 'face' | 'whole'): string {
  const frame = framing === 'face' ? `face-${REFRAME_DETECTOR}` : 'whole';
  return path.join(cacheDir, `features-${backboneCacheTag(backbone)}-${frame}-resize${createHash('sha256').update(RESIZE_METHOD).digest('hex').slice(0, 8)}-aug${AUGMENTATION.version}-seed${augmentSeed}.bin`);
}

/**
 * Lists, dedupes, embeds and splits the training datasets. The caller owns
 * (and must close) the returned backbone.
 */
export async function prepareTrainingData(o: PrepareOptions, backbone: Backbone): Promise<PreparedData> {
  const listed = (await Promise.all(TRAINING_DATASETS.map((d) => listMaskDataset(o.assetsDir, d)))).flat();
  const bar = o.progress('hashing', listed.length);
  const hashed = await hashSamples(listed, () => bar.tick());
  bar.done();
  const { kept, report } = dedupeByContent(hashed);
  o.logger.info({ ...report, removed: report.removed.length }, 'deduplicated training data');

  let faces: Map<string, Box | null> | undefined;
  const framing: PreparedData['framing'] = { mode: o.framing };
  if (o.framing !== 'whole') {
    const detector = await createFaceDetector({ assetsDir: o.assetsDir, kind: REFRAME_DETECTOR, intraOpThreads: o.intraOpThreads });
    try {
      const dbar = o.progress(`face boxes (${detector.name})`, kept.length);
      faces = await detectTrainingFaces(kept, { detector, cacheDir: o.cacheDir, progress: dbar });
      dbar.done();
    } finally {
      await detector.close();
    }
    framing.detector = REFRAME_DETECTOR;
    framing.photos = kept.length;
    framing.facesFound = [...faces.values()].filter((b) => b !== null).length;
    o.logger.info(framing, 're-framed training photos to detected faces');
  }
  const cache = await FeatureCache.open(cacheFile(o.cacheDir, backbone, o.augmentSeed, o.framing === 'whole' ? 'whole' : 'face'), FEATURE_DIM);
  const wholeCache = o.framing === 'both' ? await FeatureCache.open(cacheFile(o.cacheDir, backbone, o.augmentSeed, 'whole'), FEATURE_DIM) : undefined;
  const jobs: FeatureJob[] = kept.map((sample) => ({ sample, variant: 0 }));
  const fbar = o.progress('features (clean)', jobs.length);
  const features = await computeFeatures(jobs, { backbone, cache, augmentSeed: o.augmentSeed, progress: fbar, faces });
  fbar.done();

  // Face crops of pasted-mask photos look alike; whole photos (clothes, background) tell them apart: group on both views.
  let wholeFeatures: Float32Array[] | undefined;
  if (o.framing !== 'whole') {
    const whole = wholeCache ?? (await FeatureCache.open(cacheFile(o.cacheDir, backbone, o.augmentSeed, 'whole'), FEATURE_DIM));
    const wbar = o.progress('features (clean, whole photos)', jobs.length);
    wholeFeatures = await computeFeatures(jobs, { backbone, cache: whole, augmentSeed: o.augmentSeed, progress: wbar });
    wbar.done();
  }
  const samples: PreparedSample[] = [];
  const grouping: PreparedData['grouping'] = {};
  for (const [di, dataset] of TRAINING_DATASETS.entries()) {
    const idx = kept.map((s, i) => (s.dataset === dataset ? i : -1)).filter((i) => i >= 0);
    // Seed set: source photo from the file name; elsewhere every file is its own source unless near-duplicate.
    const keys = idx.map((i) => (dataset === 'prajna' ? seedSourceKey(kept[i]!.file) : `file:${kept[i]!.file}`));
    const views = [idx.map((i) => features[i]!)];
    if (wholeFeatures) views.push(idx.map((i) => wholeFeatures[i]!));
    const g = groupSources({ keys, views, nearDuplicate: NEAR_DUPLICATE });
    const split = splitByGroup(g.group, SPLIT_FRACTIONS, o.splitSeed + di);
    const sims = g.attached.map((a) => a.similarity);
    grouping[dataset] = { groups: g.groups, attachedByFeature: g.attached.length, minAttachSimilarity: sims.length ? Math.min(...sims) : null };
    idx.forEach((i, k) => samples.push({ ...kept[i]!, split: split[k]!, group: `${dataset}#${g.group[k]}`, features: features[i]! }));
  }
  o.logger.info({ grouping }, 'grouped and split');
  return { samples, dedupe: report, grouping, backbone, cache, wholeCache, faces, framing };
}

/** Fingerprint of who is on which side, stored in the head file so evaluation can prove it uses the training split. */
export function splitDigest(samples: PreparedSample[]): string {
  const lines = samples.map((s) => `${s.split} ${s.md5}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

export function countBy(samples: PreparedSample[]): Record<string, Record<Split, { mask: number; no_mask: number }>> {
  const out: Record<string, Record<Split, { mask: number; no_mask: number }>> = {};
  for (const s of samples) {
    out[s.dataset] ??= { train: { mask: 0, no_mask: 0 }, val: { mask: 0, no_mask: 0 }, test: { mask: 0, no_mask: 0 } };
    out[s.dataset]![s.split][s.label === 1 ? 'no_mask' : 'mask']++;
  }
  return out;
}

export { sampleId };
