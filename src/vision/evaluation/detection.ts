import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AnalyzeOptions, Box, FaceResult, VisionEngine } from '../types.ts';
import { iou } from '../nms.ts';

/**
 * Scene-level evaluation that mirrors /work/shared/tools/score_detections.py
 * exactly (greedy IoU ≥ 0.4 matching; GT under minSide and
 * mask_weared_incorrect are don't-care; an unmatched no_mask box overlapping
 * no GT face at IoU ≥ 0.2 is a false alarm), plus face recall per class and
 * size bucket for tuning the detector.
 */

export type GtLabel = 'with_mask' | 'without_mask' | 'mask_weared_incorrect';
export interface GtFace {
  label: GtLabel;
  box: Box;
}
export type SizeBucket = '<24' | '24-48' | '>=48';
export const SIZE_BUCKETS: SizeBucket[] = ['<24', '24-48', '>=48'];

export function sizeBucket(box: Box): SizeBucket {
  const side = Math.min(box[2], box[3]);
  return side < 24 ? '<24' : side < 48 ? '24-48' : '>=48';
}

const LABELS: GtLabel[] = ['with_mask', 'without_mask', 'mask_weared_incorrect'];

/** Pascal VOC annotation → faces. Throws on anything it cannot read, naming the field. */
export function parseVocAnnotation(xml: string): GtFace[] {
  const faces: GtFace[] = [];
  for (const m of xml.matchAll(/<object>([\s\S]*?)<\/object>/g)) {
    const body = m[1]!;
    const name = /<name>\s*([^<]+?)\s*<\/name>/.exec(body)?.[1];
    if (!name || !LABELS.includes(name as GtLabel)) throw new Error(`VOC object with unknown class "${name}"`);
    const coord = (tag: string): number => {
      const v = Number(new RegExp(`<${tag}>\\s*([^<]+?)\\s*</${tag}>`).exec(body)?.[1]);
      if (!Number.isFinite(v)) throw new Error(`VOC object without a numeric <${tag}>`);
      return v;
    };
    const [x1, y1, x2, y2] = [coord('xmin'), coord('ymin'), coord('xmax'), coord('ymax')];
    faces.push({ label: name as GtLabel, box: [x1, y1, x2 - x1, y2 - y1] });
  }
  return faces;
}

/** Greedy one-to-one matching by descending IoU (ties broken like Python's reverse tuple sort). */
export function matchFaces(preds: { box: Box }[], gt: { box: Box }[], minIoU = 0.4): { predToGt: Map<number, number>; gtToPred: Map<number, number> } {
  const pairs: [number, number, number][] = [];
  preds.forEach((p, pi) => gt.forEach((g, gi) => pairs.push([iou(p.box, g.box), pi, gi])));
  pairs.sort((a, b) => b[0] - a[0] || b[1] - a[1] || b[2] - a[2]);
  const predToGt = new Map<number, number>();
  const gtToPred = new Map<number, number>();
  for (const [v, pi, gi] of pairs) {
    if (v < minIoU) break;
    if (predToGt.has(pi) || gtToPred.has(gi)) continue;
    predToGt.set(pi, gi);
    gtToPred.set(gi, pi);
  }
  return { predToGt, gtToPred };
}

export interface ScorerCounts {
  gt_mask: number;
  gt_nomask: number;
  hit_mask: number;
  hit_nomask: number;
  viol_tp: number;
  viol_fp: number;
  viol_fn: number;
  mask_as_mask: number;
  nomask_as_nomask: number;
  pred_faces: number;
  false_faces: number;
}
export type BucketCounts = Record<GtLabel, Record<SizeBucket, { gt: number; hit: number }>>;

export function emptyCounts(): ScorerCounts {
  return { gt_mask: 0, gt_nomask: 0, hit_mask: 0, hit_nomask: 0, viol_tp: 0, viol_fp: 0, viol_fn: 0, mask_as_mask: 0, nomask_as_nomask: 0, pred_faces: 0, false_faces: 0 };
}
export function emptyBuckets(): BucketCounts {
  const b = (): Record<SizeBucket, { gt: number; hit: number }> => ({ '<24': { gt: 0, hit: 0 }, '24-48': { gt: 0, hit: 0 }, '>=48': { gt: 0, hit: 0 } });
  return { with_mask: b(), without_mask: b(), mask_weared_incorrect: b() };
}

/** A predicted face as the scorer reads it: `violation` when present, else label === no_mask (older output). */
export type PredFace = Pick<FaceResult, 'box'> & { label: string; violation?: boolean };
const isViolation = (p: PredFace): boolean => (p.violation !== undefined ? p.violation : p.label === 'no_mask');

/**
 * Adds one image's outcome to the running counts (the scorer's loop body).
 * Size-bucket recall uses its own one-to-one matching at `bucketIoU`
 * (default 0.5, the usual face-detection criterion), independent of the
 * scorer's 0.4.
 */
export function scoreImage(gt: GtFace[], faces: PredFace[], minSide: number, st: ScorerCounts, buckets: BucketCounts, bucketIoU = 0.5): void {
  st.pred_faces += faces.length;
  const { predToGt, gtToPred } = matchFaces(faces, gt, 0.4);
  const strict = matchFaces(faces, gt, bucketIoU).gtToPred;
  gt.forEach((g, gi) => {
    const pi = gtToPred.get(gi);
    const p = pi === undefined ? undefined : faces[pi];
    const bucket = buckets[g.label][sizeBucket(g.box)];
    bucket.gt += 1;
    if (strict.has(gi)) bucket.hit += 1;
    const care = Math.min(g.box[2], g.box[3]) >= minSide;
    if (!care || g.label === 'mask_weared_incorrect') return;
    if (g.label === 'with_mask') {
      st.gt_mask += 1;
      if (p) {
        st.hit_mask += 1;
        if (p.label === 'mask') st.mask_as_mask += 1;
        if (isViolation(p)) st.viol_fp += 1;
      }
    } else {
      st.gt_nomask += 1;
      if (p) {
        st.hit_nomask += 1;
        if (p.label === 'no_mask') st.nomask_as_nomask += 1;
        if (isViolation(p)) st.viol_tp += 1;
        else st.viol_fn += 1;
      } else st.viol_fn += 1;
    }
  });
  faces.forEach((p, pi) => {
    if (predToGt.has(pi)) return;
    st.false_faces += 1;
    if (isViolation(p) && !gt.some((g) => iou(p.box, g.box) >= 0.2)) st.viol_fp += 1;
  });
}

/** Python's round(x, 4): toFixed rounds the exact binary value like Python does (x·10⁴ would add an error). */
const round4 = (x: number): number => Number(x.toFixed(4));
const ratio = (a: number, b: number): number => (b ? round4(a / b) : 0);

/** Final figures, same names and rounding as score_detections.py. */
export function summarise(st: ScorerCounts, images: number, imagesWithoutOutput: number, minSide: number) {
  const prec = ratio(st.viol_tp, st.viol_tp + st.viol_fp);
  const rec = ratio(st.viol_tp, st.viol_tp + st.viol_fn);
  return {
    images,
    images_without_output: imagesWithoutOutput,
    min_side: minSide,
    face_recall_masked: ratio(st.hit_mask, st.gt_mask),
    face_recall_unmasked: ratio(st.hit_nomask, st.gt_nomask),
    classification_balanced_accuracy: round4((ratio(st.mask_as_mask, st.hit_mask) + ratio(st.nomask_as_nomask, st.hit_nomask)) / 2),
    violation_precision: prec,
    violation_recall: rec,
    violation_f1: ratio(2 * prec * rec, prec + rec),
    ...st,
  };
}

export function bucketRecall(b: BucketCounts) {
  const out: Record<string, Record<string, { gt: number; hit: number; recall: number }>> = {};
  for (const label of LABELS) {
    out[label] = {};
    for (const s of SIZE_BUCKETS) out[label][s] = { ...b[label][s], recall: ratio(b[label][s].hit, b[label][s].gt) };
  }
  return out;
}

export interface EvaluateScenesOptions {
  /** GT faces with a shorter side below this are don't-care (default 24, as the scorer). */
  minSide?: number;
  /** IoU for the per-size face recall (default 0.5). */
  faceRecallIoU?: number;
  /** Evaluate only the first N images (sorted by name), for quick tuning. */
  limit?: number;
  analyzeOptions?: AnalyzeOptions;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs the engine on every annotated image of a scenes folder
 * (`images/` + `annotations/*.xml`) and returns plain JSON.
 */
export async function evaluateScenes(engine: Pick<VisionEngine, 'analyzeFrame'>, scenesDir: string, opts: EvaluateScenesOptions = {}) {
  const minSide = opts.minSide ?? 24;
  const annDir = path.join(scenesDir, 'annotations');
  let stems = (await readdir(annDir)).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4)).sort();
  if (opts.limit !== undefined) stems = stems.slice(0, opts.limit);
  const images = new Map<string, string>();
  for (const f of await readdir(path.join(scenesDir, 'images'))) images.set(path.parse(f).name, f);
  const st = emptyCounts();
  const buckets = emptyBuckets();
  let withoutOutput = 0;
  let withErrors = 0;
  let done = 0;
  const started = performance.now();
  for (const stem of stems) {
    const gt = parseVocAnnotation(await readFile(path.join(annDir, `${stem}.xml`), 'utf8'));
    const file = images.get(stem);
    let faces: PredFace[] = [];
    if (file) {
      try {
        faces = (await engine.analyzeFrame(await readFile(path.join(scenesDir, 'images', file)), opts.analyzeOptions)).faces;
      } catch {
        // as the CLI's {"file","error"} line: scored with no faces, not "without output"
        withErrors += 1;
      }
    } else withoutOutput += 1;
    scoreImage(gt, faces, minSide, st, buckets, opts.faceRecallIoU ?? 0.5);
    opts.onProgress?.(++done, stems.length);
  }
  return {
    ...summarise(st, stems.length, withoutOutput, minSide),
    images_with_errors: withErrors,
    face_recall_iou: opts.faceRecallIoU ?? 0.5,
    face_recall_by_size: bucketRecall(buckets),
    ms_per_image: Math.round(((performance.now() - started) / Math.max(1, stems.length)) * 10) / 10,
  };
}
