import type { Box } from './types.ts';

/** Intersection over union of two [x, y, w, h] boxes; 0 when either is empty. */
export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression: keeps the highest-scoring box, drops every
 * box overlapping a kept one by more than `iouThreshold`. Returns the kept
 * items, best first. Generic so detections can carry extra fields.
 */
export function nms<T extends { box: Box; score: number }>(items: readonly T[], iouThreshold: number, topK = Infinity): T[] {
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw new RangeError(`iouThreshold must be in [0, 1], got ${iouThreshold}`);
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const item of sorted) {
    if (kept.length >= topK) break;
    if (kept.every((k) => iou(k.box, item.box) <= iouThreshold)) kept.push(item);
  }
  return kept;
}
