import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { Backbone, resizeToInput } from '../backbone.ts';
import { CROP_MARGIN, cropRect, extractRgb } from '../crop.ts';
import { decodeImage, type DecodedImage } from '../image.ts';
import { ImageInputError, type Box } from '../types.ts';
import { augmentVariant } from './augment.ts';
import type { HashedSample } from './dedupe.ts';
import type { FeatureCache } from './feature-cache.ts';
import type { Progress } from './progress.ts';

/** Variant 0 is the clean image; 1..k are augmented copies. */
export type Variant = number;

/** Product decoder, with a lenient fallback: some dataset JPEGs carry harmless decoder warnings the strict decoder refuses. */
export async function decodeForTraining(file: string): Promise<DecodedImage> {
  const bytes = await readFile(file);
  try {
    return await decodeImage(bytes);
  } catch (err) {
    if (!(err instanceof ImageInputError) || err.code !== 'CORRUPT') throw err;
    const { data, info } = await sharp(bytes).autoOrient().toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  }
}

/**
 * A dataset file as the classifier input: cropped to `face` grown by the
 * run-time margin when given, then stretched to 224×224 like run-time crops.
 */
export async function loadInput224(file: string, face: Box | null = null): Promise<Buffer> {
  let img = await decodeForTraining(file);
  if (face) img = extractRgb(img, cropRect(face, img.width, img.height, CROP_MARGIN));
  return resizeToInput(img);
}

export interface FeatureJob {
  sample: HashedSample;
  variant: Variant;
}

export function cacheKey(md5: string, variant: Variant): string {
  return `${md5}:${variant}`;
}

/**
 * Features for every (sample, variant), from the cache or computed in
 * batches with ORT. Returns vectors in job order.
 */
export async function computeFeatures(
  jobs: FeatureJob[],
  deps: {
    backbone: Backbone;
    cache: FeatureCache;
    augmentSeed: number;
    progress: Progress;
    batch?: number;
    /** Face box per content hash for re-framing (absent or null: whole photo). */
    faces?: Map<string, Box | null>;
  },
): Promise<Float32Array[]> {
  const { backbone, cache, augmentSeed, progress } = deps;
  const batchSize = deps.batch ?? 32;
  const missing = jobs.filter((j) => !cache.get(cacheKey(j.sample.md5, j.variant)));
  progress.tick(jobs.length - missing.length);
  // Group by sample so each file is decoded once for all its variants.
  const bySample = new Map<string, FeatureJob[]>();
  for (const j of missing) {
    const list = bySample.get(j.sample.md5);
    if (list) list.push(j);
    else bySample.set(j.sample.md5, [j]);
  }
  let pending: Array<{ key: string; rgb: Buffer }> = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const { features } = await backbone.run(pending.map((p) => p.rgb));
    pending.forEach((p, i) => cache.set(p.key, features[i]!));
    progress.tick(pending.length);
    pending = [];
  };
  let sinceSave = 0;
  for (const group of bySample.values()) {
    const first = group[0]!.sample;
    const base = await loadInput224(first.path, deps.faces?.get(first.md5) ?? null);
    for (const j of group) {
      const rgb = j.variant === 0 ? base : await augmentVariant(base, j.sample.md5, j.variant, augmentSeed);
      pending.push({ key: cacheKey(j.sample.md5, j.variant), rgb });
      if (pending.length >= batchSize) {
        await flush();
        // Save now and then so an interrupted run keeps most of its work.
        if ((sinceSave += batchSize) >= 4000) {
          await cache.save();
          sinceSave = 0;
        }
      }
    }
  }
  await flush();
  await cache.save();
  return jobs.map((j) => cache.get(cacheKey(j.sample.md5, j.variant))!);
}
