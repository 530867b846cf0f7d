import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { bootstrapMany, ratioOrNull, type Estimate } from '../evaluation/bootstrap.ts';
import { emptyBuckets, emptyCounts, matchFaces, parseVocAnnotation, scoreImage, type GtLabel } from '../evaluation/detection.ts';
import type { FaceResult, VisionEngine } from '../types.ts';
import { choosingScenes, cropScene } from './scene-split.ts';
import { reportScenes } from './report-split.ts';
import { datasetDir, FACE_CROPS_DATASET, SCENES_DATASET } from '../train/datasets.ts';

/**
 * The REPORT step of the protocol (`maskwatch evaluate`): runs the real
 * engine (committed head, its validated decision rule, default policy) on
 * the val scenes (for reference) and on the report scenes (the figures the
 * README quotes), with 95 % bootstrap intervals over images, and checks the
 * targets. It chooses nothing.
 */

export const SIZE_BUCKETS = ['24-32', '32-48', '48-96', '>=96'] as const;
export type FaceSizeBucket = (typeof SIZE_BUCKETS)[number];
export function faceSizeBucket(side: number): FaceSizeBucket | null {
  if (side < 24) return null;
  return side < 32 ? '24-32' : side < 48 ? '32-48' : side < 96 ? '48-96' : '>=96';
}

const WANT: Record<GtLabel, FaceResult['label']> = { with_mask: 'mask', without_mask: 'no_mask', mask_weared_incorrect: 'mask_incorrect' };

/** Additive per-image counts (everything the figures need), so figures can be bootstrapped over images. */
type Counts = Record<string, number>;

export function imageCounts(gt: ReturnType<typeof parseVocAnnotation>, faces: Array<Pick<FaceResult, 'box' | 'label' | 'violation'>>): Counts {
  const st = emptyCounts();
  scoreImage(gt, faces, 24, st, emptyBuckets());
  const c: Counts = { ...st };
  const { gtToPred } = matchFaces(faces, gt, 0.4);
  gt.forEach((g, gi) => {
    const b = faceSizeBucket(Math.min(g.box[2], g.box[3]));
    if (!b) return;
    const pi = gtToPred.get(gi);
    const p = pi === undefined ? undefined : faces[pi];
    if (g.label === 'mask_weared_incorrect') {
      c.inc_gt = (c.inc_gt ?? 0) + 1;
      if (p) c.inc_hit = (c.inc_hit ?? 0) + 1;
      if (p?.label === 'mask_incorrect') c.inc_as_inc = (c.inc_as_inc ?? 0) + 1;
      if (p?.label === 'no_mask') c.inc_as_nomask = (c.inc_as_nomask ?? 0) + 1;
    }
    if (g.label === 'with_mask' && p) {
      c.mask_hit = (c.mask_hit ?? 0) + 1;
      if (p.label === 'mask_incorrect') c.mask_as_inc = (c.mask_as_inc ?? 0) + 1;
    }
    if (!p) return;
    // Per-size accuracy of the 3-class label on detected faces.
    const k = `${g.label}@${b}`;
    c[`n:${k}`] = (c[`n:${k}`] ?? 0) + 1;
    if (p.label === WANT[g.label]) c[`ok:${k}`] = (c[`ok:${k}`] ?? 0) + 1;
  });
  return c;
}

const g = (c: Counts, k: string) => c[k] ?? 0;

/** Every figure, as a function of summed counts. */
export const FIGURES: Record<string, (c: Counts) => number | null> = {
  violation_precision: (c) => ratioOrNull(g(c, 'viol_tp'), g(c, 'viol_tp') + g(c, 'viol_fp')),
  violation_recall: (c) => ratioOrNull(g(c, 'viol_tp'), g(c, 'viol_tp') + g(c, 'viol_fn')),
  face_recall_masked: (c) => ratioOrNull(g(c, 'hit_mask'), g(c, 'gt_mask')),
  face_recall_unmasked: (c) => ratioOrNull(g(c, 'hit_nomask'), g(c, 'gt_nomask')),
  incorrect_labelled_incorrect: (c) => ratioOrNull(g(c, 'inc_as_inc'), g(c, 'inc_gt')),
  incorrect_labelled_incorrect_detected: (c) => ratioOrNull(g(c, 'inc_as_inc'), g(c, 'inc_hit')),
  masked_labelled_incorrect: (c) => ratioOrNull(g(c, 'mask_as_inc'), g(c, 'mask_hit')),
  ...Object.fromEntries(
    SIZE_BUCKETS.flatMap((b) => [
      [`accuracy_mask@${b}`, (c: Counts) => ratioOrNull(g(c, `ok:with_mask@${b}`), g(c, `n:with_mask@${b}`))],
      [`accuracy_no_mask@${b}`, (c: Counts) => ratioOrNull(g(c, `ok:without_mask@${b}`), g(c, `n:without_mask@${b}`))],
      [
        `balanced_accuracy@${b}`,
        (c: Counts) => {
          const a = ratioOrNull(g(c, `ok:with_mask@${b}`), g(c, `n:with_mask@${b}`));
          const n = ratioOrNull(g(c, `ok:without_mask@${b}`), g(c, `n:without_mask@${b}`));
          return a === null || n === null ? null : (a + n) / 2;
        },
      ],
    ]),
  ),
};

export interface Target {
  name: string;
  figure: string;
  op: '>=' | '<=';
  target: number;
}

export const TARGETS: Target[] = [
  { name: 'violation precision, faces ≥ 24 px', figure: 'violation_precision', op: '>=', target: 0.92 },
  { name: 'violation recall, faces ≥ 24 px', figure: 'violation_recall', op: '>=', target: 0.9 },
  { name: 'face recall masked, ≥ 24 px', figure: 'face_recall_masked', op: '>=', target: 0.93 },
  { name: 'face recall unmasked, ≥ 24 px', figure: 'face_recall_unmasked', op: '>=', target: 0.95 },
  { name: 'ground-truth crops balanced accuracy (kaggle-face-crops-dev)', figure: 'crops_balanced_accuracy', op: '>=', target: 0.96 },
  { name: 'real incorrectly-worn faces ≥ 24 px labelled mask_incorrect', figure: 'incorrect_labelled_incorrect', op: '>=', target: 0.5 },
  { name: 'masked faces ≥ 24 px labelled mask_incorrect', figure: 'masked_labelled_incorrect', op: '<=', target: 0.03 },
];

/** kaggle-face-crops-dev crops as `classify` sees them (whole file = the face, no gates). */
export type CropClassifier = (file: string) => Promise<FaceResult['label']>;

export function cropCounts(folder: string, label: FaceResult['label']): Counts {
  const c: Counts = {};
  const add = (k: string) => (c[k] = (c[k] ?? 0) + 1);
  if (folder === 'with_mask') {
    add('crop_mask');
    if (label !== 'no_mask') add('crop_mask_ok');
  } else if (folder === 'without_mask') {
    add('crop_nomask');
    if (label === 'no_mask') add('crop_nomask_ok');
  } else {
    add('crop_inc');
    if (label === 'mask_incorrect') add('crop_inc_ok');
  }
  return c;
}

/** Crops: mask vs no_mask as the issue scores them (a masked crop is right unless called no_mask). */
export const CROP_FIGURES: Record<string, (c: Counts) => number | null> = {
  crops_mask_recall: (c) => ratioOrNull(g(c, 'crop_mask_ok'), g(c, 'crop_mask')),
  crops_no_mask_recall: (c) => ratioOrNull(g(c, 'crop_nomask_ok'), g(c, 'crop_nomask')),
  crops_balanced_accuracy: (c) => {
    const a = ratioOrNull(g(c, 'crop_mask_ok'), g(c, 'crop_mask'));
    const b = ratioOrNull(g(c, 'crop_nomask_ok'), g(c, 'crop_nomask'));
    return a === null || b === null ? null : (a + b) / 2;
  },
  crops_incorrect_labelled_incorrect: (c) => ratioOrNull(g(c, 'crop_inc_ok'), g(c, 'crop_inc')),
};

export interface SideReport {
  side: 'val' | 'report';
  scenes: number;
  figures: Record<string, Estimate>;
  totals: Counts;
}

export interface ProtocolReport {
  sides: SideReport[];
  targets: Array<Target & { value: number | null; lo: number | null; hi: number | null; met: boolean }>;
}

async function sideReport(
  side: 'val' | 'report',
  stems: string[],
  o: { scenesDir: string; cropsDir: string; engine: Pick<VisionEngine, 'analyzeFrame'>; classifyCrop: CropClassifier; onProgress?: (label: string, done: number, total: number) => void },
): Promise<SideReport> {
  const perImage = new Map<string, Counts>();
  const images = new Map<string, string>();
  for (const f of await readdir(path.join(o.scenesDir, 'images'))) images.set(path.parse(f).name, f);
  let done = 0;
  for (const stem of stems) {
    const gt = parseVocAnnotation(await readFile(path.join(o.scenesDir, 'annotations', `${stem}.xml`), 'utf8'));
    const file = images.get(stem);
    const faces = file ? (await o.engine.analyzeFrame(await readFile(path.join(o.scenesDir, 'images', file)))).faces : [];
    perImage.set(stem, imageCounts(gt, faces));
    o.onProgress?.(`${side} scenes`, ++done, stems.length);
  }
  // Ground-truth crops of the same scenes (their file names name the scene).
  const wanted = new Set(stems);
  const crops: Array<{ folder: string; file: string }> = [];
  for (const folder of ['with_mask', 'without_mask', 'mask_weared_incorrect']) {
    for (const file of (await readdir(path.join(o.cropsDir, folder))).sort()) if (wanted.has(cropScene(file))) crops.push({ folder, file });
  }
  done = 0;
  for (const c of crops) {
    const label = await o.classifyCrop(path.join(o.cropsDir, c.folder, c.file));
    const counts = perImage.get(cropScene(c.file))!;
    for (const [k, v] of Object.entries(cropCounts(c.folder, label))) counts[k] = (counts[k] ?? 0) + v;
    o.onProgress?.(`${side} crops`, ++done, crops.length);
  }
  const units = [...perImage.values()];
  const figures = bootstrapMany(units, { ...FIGURES, ...CROP_FIGURES }, { resamples: 2000, seed: 1 });
  const totals: Counts = {};
  for (const u of units) for (const [k, v] of Object.entries(u)) totals[k] = (totals[k] ?? 0) + v;
  return { side, scenes: stems.length, figures, totals };
}

export async function runProtocolReport(o: {
  assetsDir: string;
  engine: Pick<VisionEngine, 'analyzeFrame'>;
  classifyCrop: CropClassifier;
  logger?: Logger;
  onProgress?: (label: string, done: number, total: number) => void;
}): Promise<ProtocolReport> {
  const scenesDir = datasetDir(o.assetsDir, SCENES_DATASET);
  const cropsDir = datasetDir(o.assetsDir, FACE_CROPS_DATASET);
  const deps = { scenesDir, cropsDir, engine: o.engine, classifyCrop: o.classifyCrop, onProgress: o.onProgress };
  const val = await sideReport('val', choosingScenes().val, deps);
  const report = await sideReport('report', reportScenes(), deps);
  const targets = TARGETS.map((t) => {
    const e = report.figures[t.figure]!;
    const met = e.value !== null && (t.op === '>=' ? e.value >= t.target : e.value <= t.target);
    return { ...t, ...e, met };
  });
  return { sides: [val, report], targets };
}
