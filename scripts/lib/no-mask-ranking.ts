import { matchFaces } from '../../src/vision/evaluation/detection.ts';
import { iou } from '../../src/vision/nms.ts';
import type { DecisionRule } from '../../src/vision/head.ts';
import { sceneCounts, type ScoredScene } from '../../src/vision/train/choose.ts';

/**
 * How well P(no mask) ranks unmasked faces ≥ 24 px above masked faces and non-faces (IoU < 0.2 with every
 * annotation), among detections past the usual gates (score ≥ 0.8, ≥ 20 px): AUC, and how many of those
 * others rank at or above the unmasked face that gives recall 0.8 / 0.9 / 0.95.
 */
export function noMaskRanking(scenes: ScoredScene[]) {
  const pos: number[] = [];
  const neg: number[] = [];
  for (const s of scenes) {
    const { predToGt } = matchFaces(s.dets, s.gt, 0.4);
    s.dets.forEach((d, di) => {
      if (d.score < 0.8 || Math.min(d.box[2], d.box[3]) < 20) return;
      const gi = predToGt.get(di);
      if (gi !== undefined) {
        const g = s.gt[gi]!;
        if (Math.min(g.box[2], g.box[3]) < 24) return;
        if (g.label === 'without_mask') pos.push(d.p.no_mask);
        else if (g.label === 'with_mask') neg.push(d.p.no_mask);
      } else if (!s.gt.some((g) => iou(g.box, d.box) >= 0.2)) neg.push(d.p.no_mask);
    });
  }
  let a = 0;
  for (const p of pos) for (const n of neg) a += p > n ? 1 : p === n ? 0.5 : 0;
  const sorted = [...pos].sort((x, y) => x - y);
  const fpAt = (recall: number) => neg.filter((n) => n >= sorted[Math.floor((1 - recall) * sorted.length)]!).length;
  return { pos: pos.length, neg: neg.length, auc: +(a / (pos.length * neg.length)).toFixed(4), fpAt80: fpAt(0.8), fpAt90: fpAt(0.9), fpAt95: fpAt(0.95) };
}

/** Violation precision and recall of `rule` over `scenes` (head alone, mask_incorrect not counted), pooled. */
export function ruleOutcome(scenes: ScoredScene[], rule: DecisionRule) {
  let tp = 0, fp = 0, fn = 0;
  for (const s of scenes) {
    const c = sceneCounts(s, rule, 'ignore');
    tp += c.viol_tp;
    fp += c.viol_fp;
    fn += c.viol_fn;
  }
  return { P: +(tp / Math.max(1, tp + fp)).toFixed(3), R: +(tp / Math.max(1, tp + fn)).toFixed(3), tp, fp, fn };
}
