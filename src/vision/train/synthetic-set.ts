import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Backbone } from '../backbone.ts';
import type { FaceDetector } from '../detector/types.ts';
import { matchFaces, parseVocAnnotation } from '../evaluation/detection.ts';
import { decodeImage, type DecodedImage } from '../image.ts';
import type { Box } from '../types.ts';
import { augmentVariant } from './augment.ts';
import { datasetDir, listMaskDataset, SCENES_DATASET } from './datasets.ts';
import { decodeForTraining } from './features.ts';
import type { FeatureCache } from './feature-cache.ts';
import type { Progress } from './progress.ts';
import { mulberry32, seedFrom } from './rng.ts';
import { runtimeInput } from './scene-faces.ts';
import { paintMask, type MaskPlacement } from './synthetic-mask.ts';

/**
 * Training vectors from synthetic masks (src/vision/train/synthetic-mask.ts)
 * painted on unmasked faces: YuNet's faces (with landmarks) on the TRAIN
 * scenes matched to a `without_mask` annotation, and faces of the unmasked
 * photo sets. Each face gives one `mask_incorrect` example (below the nose
 * or on the chin) and one correctly worn `mask` example, each cropped with
 * the run-time framing plus augmented copies. `scene` names the source scene
 * so cross-validation folds keep a face and its synthetic copies together.
 */
export interface SyntheticVector {
  x: Float32Array;
  /** 0 = mask (over the nose), 2 = mask_incorrect. */
  y: 0 | 2;
  scene: string | null;
}

export const SYNTHETIC_VERSION = 1;
/** Faces smaller than this give landmarks too coarse to place a mask. */
const MIN_SOURCE_SIDE = 16;

interface Source {
  key: string;
  scene: string | null;
  frame: () => Promise<DecodedImage>;
  box: Box;
  landmarks: Array<[number, number]>;
}

async function featuresFor(src: Source, o: { backbone: Backbone; cache: FeatureCache; copies: number; seed: number; margin: number }): Promise<SyntheticVector[]> {
  const out: SyntheticVector[] = [];
  const plan: Array<{ placement: MaskPlacement; y: 0 | 2 }> = [
    { placement: seedFrom(`${o.seed}:${src.key}:place`) % 3 === 0 ? 'on-chin' : 'below-nose', y: 2 },
    { placement: 'over-nose', y: 0 },
  ];
  let frame: DecodedImage | null = null;
  for (const { placement, y } of plan) {
    for (let v = 0; v <= o.copies; v++) {
      const ck = `synthetic${SYNTHETIC_VERSION}:${src.key}:${placement}:${v}`;
      let f = o.cache.get(ck);
      if (!f) {
        frame ??= await src.frame();
        const painted = paintMask(frame, src.landmarks, placement, mulberry32(seedFrom(`${o.seed}:${src.key}:${placement}`)));
        let rgb = runtimeInput(painted, src.box, o.margin);
        if (v > 0) rgb = await augmentVariant(rgb, `${src.key}:${placement}`, v, o.seed);
        f = (await o.backbone.run([rgb])).features[0]!;
        o.cache.set(ck, f);
      }
      out.push({ x: f, y, scene: src.scene });
    }
  }
  return out;
}

export async function syntheticSet(o: {
  assetsDir: string;
  trainScenes: string[];
  detector: FaceDetector;
  backbone: Backbone;
  cache: FeatureCache;
  copies: number;
  seed: number;
  margin: number;
  maxPixels: number;
  /** Every n-th unmasked photo (sorted by path) of prajna + chandrikadeb7; 0 = none. */
  photoStride: number;
  progress?: (label: string, total: number) => Progress;
}): Promise<SyntheticVector[]> {
  const sources: Source[] = [];
  const scenesDir = datasetDir(o.assetsDir, SCENES_DATASET);
  const bar = o.progress?.('synthetic: scene faces', o.trainScenes.length);
  for (const stem of o.trainScenes) {
    const gt = parseVocAnnotation(await readFile(path.join(scenesDir, 'annotations', `${stem}.xml`), 'utf8')).filter((g) => g.label === 'without_mask');
    bar?.tick();
    if (!gt.length) continue;
    const frame = await decodeImage(await readFile(path.join(scenesDir, 'images', `${stem}.jpg`)), { maxPixels: o.maxPixels });
    const dets = (await o.detector.detect(frame, 0.5)).filter((d) => d.landmarks && Math.min(d.box[2], d.box[3]) >= MIN_SOURCE_SIDE);
    const { gtToPred } = matchFaces(dets, gt, 0.4);
    for (const [, di] of gtToPred) {
      const d = dets[di]!;
      sources.push({ key: `${stem}:${d.box.map((v) => v.toFixed(1)).join(',')}`, scene: stem, frame: async () => frame, box: d.box, landmarks: d.landmarks! });
    }
  }
  bar?.done();
  if (o.photoStride > 0) {
    const photos = (await Promise.all(['prajna', 'chandrikadeb7'].map((d) => listMaskDataset(o.assetsDir, d))))
      .flat()
      .filter((s) => s.label === 1)
      .sort((a, b) => a.path.localeCompare(b.path))
      .filter((_, i) => i % o.photoStride === 0);
    const pbar = o.progress?.('synthetic: photo faces', photos.length);
    for (const p of photos) {
      pbar?.tick();
      const key = `photo:${path.basename(path.dirname(path.dirname(p.path)))}/${p.file}`;
      const frame = await decodeForTraining(p.path);
      const best = (await o.detector.detect(frame, 0.6)).filter((d) => d.landmarks).sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
      if (!best || Math.min(best.box[2], best.box[3]) < MIN_SOURCE_SIDE) continue;
      sources.push({ key, scene: null, frame: async () => frame, box: best.box, landmarks: best.landmarks! });
    }
    pbar?.done();
  }
  const fbar = o.progress?.('synthetic: features', sources.length);
  const out: SyntheticVector[] = [];
  for (const s of sources) {
    out.push(...(await featuresFor(s, o)));
    fbar?.tick();
  }
  fbar?.done();
  await o.cache.save();
  return out;
}
