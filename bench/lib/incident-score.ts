/**
 * Person-level scoring of incidents against Pascal VOC annotations, for
 * bench:incidents. Mirrors shared/tools/score_detections.py: greedy IoU ≥ 0.4
 * one-to-one matching; ground-truth faces under MIN_SIDE px are don't-care; an
 * unmatched prediction overlapping some ground-truth face at IoU ≥ 0.2 is
 * neither a hit nor a false alarm. A ground-truth "violator" is without_mask
 * (and mask_weared_incorrect when `incorrectIsViolation`; otherwise those are
 * don't-care, as in the project's scorer).
 */
import { matchFaces, type GtFace } from '../../src/vision/evaluation/detection.ts';
import { iou } from '../../src/vision/nms.ts';
import type { Box } from '../../src/vision/types.ts';

export const MIN_SIDE = 24;

export interface PredictedPerson {
  alertId: string;
  /** In the still's coordinates. */
  box: Box;
}

export interface ClipScore {
  tp: number;
  fp: number;
  /** Violators (≥ MIN_SIDE) in the annotation. */
  positives: number;
  /** Violators found by a person. */
  found: number;
  /** Extra people on an already-found violator (in another alert, or twice in one). */
  duplicates: number;
  alerts: number;
}

export function scoreClip(gt: readonly GtFace[], people: readonly PredictedPerson[], opts: { incorrectIsViolation?: boolean } = {}): ClipScore {
  const violator = (g: GtFace) => g.label === 'without_mask' || (opts.incorrectIsViolation === true && g.label === 'mask_weared_incorrect');
  const cares = (g: GtFace) => Math.min(g.box[2], g.box[3]) >= MIN_SIDE && (violator(g) || g.label === 'with_mask');
  const { predToGt } = matchFaces(people.map((p) => ({ box: p.box })), gt.map((g) => ({ box: g.box })));
  let tp = 0;
  let fp = 0;
  people.forEach((p, i) => {
    const gi = predToGt.get(i);
    if (gi === undefined) {
      if (!gt.some((g) => iou(g.box, p.box) >= 0.2)) fp++;
      return;
    }
    const g = gt[gi]!;
    if (!cares(g)) return;
    if (violator(g)) tp++;
    else fp++;
  });
  const positives = gt.filter((g) => violator(g) && cares(g));
  let found = 0;
  let duplicates = 0;
  for (const g of positives) {
    const hits = people.filter((p) => iou(p.box, g.box) >= 0.4).length;
    if (hits > 0) found++;
    if (hits > 1) duplicates += hits - 1;
  }
  return { tp, fp, positives: positives.length, found, duplicates, alerts: new Set(people.map((p) => p.alertId)).size };
}

export function sumScores(scores: readonly ClipScore[]): ClipScore {
  const t: ClipScore = { tp: 0, fp: 0, positives: 0, found: 0, duplicates: 0, alerts: 0 };
  for (const s of scores) for (const k of Object.keys(t) as (keyof ClipScore)[]) t[k] += s[k];
  return t;
}

export function precisionRecall(t: ClipScore): { precision: number; recall: number; f1: number } {
  const precision = t.tp + t.fp > 0 ? t.tp / (t.tp + t.fp) : 1;
  const recall = t.positives > 0 ? t.found / t.positives : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** 95 % percentile-bootstrap intervals of precision and recall, resampling clips. */
export function bootstrap(scores: readonly ClipScore[], rand: () => number, rounds = 2000) {
  const p: number[] = [];
  const r: number[] = [];
  for (let b = 0; b < rounds; b++) {
    const sample = Array.from({ length: scores.length }, () => scores[Math.floor(rand() * scores.length)]!);
    const pr = precisionRecall(sumScores(sample));
    p.push(pr.precision);
    r.push(pr.recall);
  }
  const ci = (xs: number[]) => {
    xs.sort((a, b) => a - b);
    return [xs[Math.floor(0.025 * (xs.length - 1))]!, xs[Math.ceil(0.975 * (xs.length - 1))]!] as [number, number];
  };
  return { precision: ci(p), recall: ci(r) };
}

export function percentileOf(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
