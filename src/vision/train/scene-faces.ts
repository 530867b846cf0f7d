import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Backbone, resizeToInput } from '../backbone.ts';
import { cropRect, extractRgb } from '../crop.ts';
import type { FaceDetector } from '../detector/types.ts';
import { matchFaces, parseVocAnnotation, type GtFace, type GtLabel } from '../evaluation/detection.ts';
import { decodeImage, type DecodedImage } from '../image.ts';
import type { Box } from '../types.ts';
import { augmentVariant } from './augment.ts';
import type { FeatureCache } from './feature-cache.ts';
import type { Progress } from './progress.ts';
import { mulberry32, seedFrom, uniform } from './rng.ts';

/**
 * Faces of kaggle-scenes-dev as the engine sees them: the detector's boxes
 * (at the run-time detector threshold and minimum size), cropped with the
 * run-time margin, resized and embedded exactly as MaskClassifier does — so a
 * head trained or tuned on these records meets the same inputs at run time.
 * Training scenes also give crops of the annotated boxes (faces the detector
 * missed still teach the head) and augmented copies.
 */
export interface SceneFace {
  kind: 'det' | 'gt';
  box: Box;
  /** Detector score (1 for annotated boxes). */
  score: number;
  /** Annotated face matched to this box (scorer rule: greedy IoU ≥ 0.4), or null (background). */
  gtLabel: GtLabel | null;
  /** [clean, augmented 1..k] backbone features. */
  features: Float32Array[];
}

export interface SceneRecord {
  stem: string;
  width: number;
  height: number;
  gt: GtFace[];
  faces: SceneFace[];
}

/** Where a detector's boxes on the scenes are cached: one file per detector and score gate. */
export function sceneDetectionsFile(cacheDir: string, detectorKind: string, faceScoreThreshold: number): string {
  return path.join(cacheDir, `scene-detections-${detectorKind}-s${faceScoreThreshold}.json`);
}

export interface SceneFacesOptions {
  scenesDir: string;
  detector: FaceDetector;
  backbone: Backbone;
  cache: FeatureCache;
  /** Detection JSON cache file (boxes per scene for this detector). */
  detectionsFile: string;
  faceScoreThreshold: number;
  minFaceSize: number;
  cropMargin: number;
  maxPixels: number;
  /** Augmented copies per face (0 for choosing/reporting sides). */
  copies: number;
  /** Also crop the annotated boxes (training side only). */
  withGtCrops: boolean;
  augmentSeed: number;
  progress?: Progress;
}

type DetectionCache = Record<string, { width: number; height: number; dets: Array<{ box: Box; score: number }> }>;

async function loadDetections(file: string): Promise<DetectionCache> {
  return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as DetectionCache) : {};
}

/** A box moved and rescaled by up to ±8 % (detector jitter), seeded. */
export function jitterBox(box: Box, key: string, variant: number, seed: number): Box {
  const rng = mulberry32(seedFrom(`${seed}:jitter:${key}:${variant}`));
  const [x, y, w, h] = box;
  const s = uniform(rng, 0.92, 1.08);
  const cx = x + w / 2 + uniform(rng, -0.08, 0.08) * w;
  const cy = y + h / 2 + uniform(rng, -0.08, 0.08) * h;
  return [cx - (w * s) / 2, cy - (h * s) / 2, w * s, h * s];
}

/** The 224×224 classifier input for a box, exactly as at run time (cropFaces + resizeToInput). */
export function runtimeInput(frame: DecodedImage, box: Box, margin: number): Buffer {
  return resizeToInput(extractRgb(frame, cropRect(box, frame.width, frame.height, margin)));
}

async function findImage(scenesDir: string, stem: string): Promise<string> {
  for (const ext of ['.jpg', '.jpeg', '.png']) {
    const p = path.join(scenesDir, 'images', `${stem}${ext}`);
    if (existsSync(p)) return p;
  }
  throw new Error(`no image for scene ${stem} in ${scenesDir}/images`);
}

/** Records for the given scenes (from caches when possible). */
export async function sceneFaces(stems: string[], o: SceneFacesOptions): Promise<SceneRecord[]> {
  const dets = await loadDetections(o.detectionsFile);
  let detsDirty = false;
  const out: SceneRecord[] = [];
  for (const stem of stems) {
    const gt = parseVocAnnotation(await readFile(path.join(o.scenesDir, 'annotations', `${stem}.xml`), 'utf8'));
    let frame: DecodedImage | null = null;
    const getFrame = async () => (frame ??= await decodeImage(await readFile(await findImage(o.scenesDir, stem)), { maxPixels: o.maxPixels }));
    let d = dets[stem];
    if (!d) {
      const f = await getFrame();
      const found = await o.detector.detect(f, o.faceScoreThreshold);
      d = { width: f.width, height: f.height, dets: found.map((x) => ({ box: x.box, score: x.score })) };
      dets[stem] = d;
      detsDirty = true;
    }
    // Same filters as the engine: detector threshold, then minimum face size.
    const kept = d.dets.filter((x) => x.score >= o.faceScoreThreshold && Math.min(x.box[2], x.box[3]) >= o.minFaceSize);
    const { predToGt } = matchFaces(kept, gt, 0.4);
    const faces: SceneFace[] = [];
    const wanted: Array<{ kind: 'det' | 'gt'; box: Box; score: number; gtLabel: GtLabel | null }> = kept.map((x, i) => ({
      kind: 'det',
      box: x.box,
      score: x.score,
      gtLabel: predToGt.has(i) ? gt[predToGt.get(i)!]!.label : null,
    }));
    if (o.withGtCrops) for (const g of gt) if (Math.min(g.box[2], g.box[3]) >= o.minFaceSize) wanted.push({ kind: 'gt', box: g.box, score: 1, gtLabel: g.label });
    for (const w of wanted) {
      const key = `${stem}:${w.kind}:${w.box.map((v) => v.toFixed(1)).join(',')}`;
      const features: Float32Array[] = [];
      const variants = w.kind === 'gt' ? o.copies + 1 : 1 + o.copies;
      for (let v = 0; v < variants; v++) {
        const ck = `${key}:${v}`;
        let f = o.cache.get(ck);
        if (!f) {
          const fr = await getFrame();
          const box = v === 0 ? w.box : jitterBox(w.box, key, v, o.augmentSeed);
          let rgb = runtimeInput(fr, box, o.cropMargin);
          if (v > 0) rgb = await augmentVariant(rgb, key, v, o.augmentSeed);
          f = (await o.backbone.run([rgb])).features[0]!;
          o.cache.set(ck, f);
        }
        features.push(f);
      }
      faces.push({ ...w, features });
    }
    out.push({ stem, width: d.width, height: d.height, gt, faces });
    o.progress?.tick();
  }
  if (detsDirty) {
    await mkdir(path.dirname(o.detectionsFile), { recursive: true });
    await writeFile(o.detectionsFile, JSON.stringify(dets));
  }
  await o.cache.save();
  return out;
}
