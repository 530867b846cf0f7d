/**
 * Binary classification metrics for mask / no_mask. Labels: 0 = mask,
 * 1 = no_mask; scores are P(no_mask). Pure functions.
 */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationMetrics {
  n: number;
  threshold: number;
  accuracy: number;
  balancedAccuracy: number;
  /** confusion[actual][predicted], index 0 = mask, 1 = no_mask. */
  confusion: [[number, number], [number, number]];
  perClass: { mask: ClassMetrics; no_mask: ClassMetrics };
  /** ROC-AUC of P(no_mask) for the no_mask class; null when one class is absent. */
  rocAuc: number | null;
  /** Average precision (area under PR) for each class as the positive one. */
  averagePrecision: { mask: number | null; no_mask: number | null };
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

function check(labels: number[], scores: number[]): void {
  if (labels.length !== scores.length) throw new Error(`${labels.length} labels but ${scores.length} scores`);
  labels.forEach((l, i) => {
    if (l !== 0 && l !== 1) throw new Error(`label ${i} is ${l}, expected 0 or 1`);
    const s = scores[i]!;
    if (!(s >= 0 && s <= 1)) throw new Error(`score ${i} is ${s}, expected a probability`);
  });
}

/** Mann–Whitney form of ROC-AUC, ties counted half. */
export function rocAuc(labels: number[], scores: number[]): number | null {
  check(labels, scores);
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  let rankSumPos = 0;
  let pos = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    const avgRank = (i + j + 1) / 2; // ranks are 1-based
    for (let k = i; k < j; k++) if (order[k]![1] === 1) {
      rankSumPos += avgRank;
      pos++;
    }
    i = j;
  }
  const neg = order.length - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Precision–recall points for `positive` as the positive class, thresholds descending. */
export function prCurve(labels: number[], scores: number[], positive: 0 | 1): Array<{ recall: number; precision: number; threshold: number }> {
  check(labels, scores);
  // Score of being `positive`: P(no_mask) for 1, 1 − P(no_mask) for 0.
  const items = scores.map((s, i) => ({ s: positive === 1 ? s : 1 - s, y: labels[i] === positive ? 1 : 0 })).sort((a, b) => b.s - a.s);
  const totalPos = items.reduce((a, it) => a + it.y, 0);
  const out: Array<{ recall: number; precision: number; threshold: number }> = [];
  if (totalPos === 0) return out;
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < items.length; i++) {
    tp += items[i]!.y;
    fp += 1 - items[i]!.y;
    if (i + 1 < items.length && items[i + 1]!.s === items[i]!.s) continue;
    out.push({ recall: tp / totalPos, precision: tp / (tp + fp), threshold: items[i]!.s });
  }
  return out;
}

/** Step-wise average precision (sklearn's definition). */
export function averagePrecision(labels: number[], scores: number[], positive: 0 | 1): number | null {
  const curve = prCurve(labels, scores, positive);
  if (curve.length === 0) return null;
  let ap = 0;
  let prevRecall = 0;
  for (const p of curve) {
    ap += (p.recall - prevRecall) * p.precision;
    prevRecall = p.recall;
  }
  return ap;
}

export function classificationMetrics(labels: number[], scores: number[], threshold = 0.5): ClassificationMetrics {
  check(labels, scores);
  if (labels.length === 0) throw new Error('no samples to evaluate');
  const confusion: [[number, number], [number, number]] = [
    [0, 0],
    [0, 0],
  ];
  labels.forEach((y, i) => {
    const pred = scores[i]! >= threshold ? 1 : 0;
    confusion[y as 0 | 1][pred]++;
  });
  const per = (c: 0 | 1): ClassMetrics => {
    const tp = confusion[c][c];
    const fp = confusion[1 - c as 0 | 1][c];
    const fn = confusion[c][1 - c as 0 | 1];
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    return { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support: tp + fn };
  };
  const mask = per(0);
  const noMask = per(1);
  const present = [mask, noMask].filter((m) => m.support > 0);
  return {
    n: labels.length,
    threshold,
    accuracy: (confusion[0][0] + confusion[1][1]) / labels.length,
    balancedAccuracy: present.reduce((a, m) => a + m.recall, 0) / present.length,
    confusion,
    perClass: { mask, no_mask: noMask },
    rocAuc: rocAuc(labels, scores),
    averagePrecision: { mask: averagePrecision(labels, scores, 0), no_mask: averagePrecision(labels, scores, 1) },
  };
}
