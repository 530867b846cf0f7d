/**
 * Less work per frame (pure): when a camera's frame may reuse what its previous
 * analysed frame found, instead of running the detector and the classifier again.
 *
 * Two savings, both bounded so a change can never hide for long:
 *   - unchanged frame: the frame looks like the last analysed one (thumbnail
 *     difference at most `unchangedThreshold`), so the detector is not run and
 *     the previous faces are carried over (same boxes; same probabilities where
 *     the verdict may be reused, see below, else classified again on that box);
 *   - tracked face: a face of this frame that overlaps a face of the previous
 *     frame (IoU ≥ `minIou`) whose verdict was confident keeps that verdict
 *     instead of being classified again.
 * A verdict is reused at most `reclassifyEvery − 1` frames in a row (every k-th
 * frame classifies it again), and the detector is skipped at most k − 1 frames in
 * a row (k = 1 turns both savings off). New faces (no match) and uncertain ones
 * are always classified.
 *
 * The previous state is only a cache (kept in Redis by the worker): a frame
 * without a usable one — first frame, another worker's state gone, out-of-order
 * frame — is simply analysed in full.
 */
import { iou, type Box } from './tracker.ts';
import type { ClassProbabilities } from './people.ts';

export interface ReuseSettings {
  /** Largest thumbnail difference (grey levels) of an unchanged frame; 0 = never skip detection. */
  unchangedThreshold: number;
  /** Classify a tracked face at least every k-th frame; 1 = always classify (no verdict reuse). */
  reclassifyEvery: number;
  /** A verdict is reused only when P(no mask) and P(mask incorrect) are each ≤ 1 − c or ≥ c (c = this). */
  minConfidence: number;
  /** A face continues a previous one when their boxes overlap at least this much. */
  minIou: number;
  /** A previous state older than this (capture time) is not used. */
  maxGapMs: number;
}

/**
 * Defaults (MASKWATCH_UNCHANGED_THRESHOLD, MASKWATCH_RECLASSIFY_EVERY, MASKWATCH_REUSE_MIN_CONFIDENCE),
 * chosen on the validation clips of `npm run bench:reuse` (reports/bench-reuse.md). With the fine-tuned
 * backbone's head no unchanged-frame threshold kept per-face agreement ≥ 0.98 with person precision and
 * recall within 0.01 of full analysis while saving more than reusing verdicts alone, so detection always runs.
 */
export const DEFAULT_REUSE: ReuseSettings = {
  unchangedThreshold: 0,
  reclassifyEvery: 5,
  minConfidence: 0.9,
  minIou: 0.5,
  maxGapMs: 5000,
};

/** A face as remembered for the next frame. */
export interface RememberedFace {
  box: Box;
  score: number;
  probabilities: ClassProbabilities;
  /** Consecutive frames this verdict has been reused since it was last classified (0 = classified on that frame). */
  reuseCount: number;
}

/** The camera's last analysed frame, as the next frame needs it (F: the caller's face record, with what else it must carry). */
export interface CameraAnalysisState<F extends RememberedFace = RememberedFace> {
  /** Capture time of the frame this state describes, ms since epoch. */
  capturedAt: number;
  width: number;
  height: number;
  /** Thumbnail of the last frame the detector actually ran on (null when the unchanged check is off). */
  thumbnail: Uint8Array | null;
  /** Consecutive frames whose detection was skipped as unchanged (0 = the detector ran on that frame). */
  unchangedRun: number;
  faces: F[];
}

/** The previous state may serve this frame: strictly older, and recent enough. */
export function usableState<F extends RememberedFace>(state: CameraAnalysisState<F> | null, capturedAt: number, maxGapMs: number): state is CameraAnalysisState<F> {
  if (!state) return false;
  const gap = capturedAt - state.capturedAt;
  // A state at or after this frame's time is another (later) frame's, or this frame's own from an earlier attempt.
  return gap > 0 && gap <= maxGapMs;
}

/**
 * Confident: P(no mask) and P(mask incorrect) — the probabilities an alert hangs on — are each
 * decisively near 0 or 1 (outside 1 − c … c). The head's decision thresholds lie inside that band
 * (no_mask at 0.15, mask_incorrect at 0.9 for c = 0.9), so a confident verdict is far from flipping.
 */
export function isConfident(p: ClassProbabilities, minConfidence: number): boolean {
  const decisive = (x: number) => x <= 1 - minConfidence || x >= minConfidence;
  return decisive(p.no_mask) && decisive(p.mask_incorrect);
}

/** The remembered verdict may be carried one more frame. */
export function canReuse(face: RememberedFace, s: Pick<ReuseSettings, 'reclassifyEvery' | 'minConfidence'>): boolean {
  return face.reuseCount < s.reclassifyEvery - 1 && isConfident(face.probabilities, s.minConfidence);
}

/**
 * Skip the detector for this frame: it is unchanged from the state's thumbnail
 * and the run of skipped detections stays under k − 1 (so the detector looks
 * at the camera at least every k-th frame). The previous faces are then this
 * frame's; those whose verdict may not be reused (due or uncertain) are still
 * classified, on their previous boxes.
 */
export function canSkipDetection(state: CameraAnalysisState<RememberedFace>, difference: number | null, s: ReuseSettings): boolean {
  if (s.unchangedThreshold <= 0 || difference === null || difference > s.unchangedThreshold) return false;
  // k = 1 (reuse off) allows no skipped frame at all.
  return state.unchangedRun < s.reclassifyEvery - 1;
}

/**
 * One-to-one matching of this frame's boxes to the previous faces, greedy on
 * IoU (highest first), pairs below `minIou` left out. Returns, per box, the
 * index of its previous face or null.
 */
export function matchPreviousFaces(previous: readonly { box: Box }[], boxes: readonly Box[], minIou: number): (number | null)[] {
  const pairs: { b: number; p: number; v: number }[] = [];
  boxes.forEach((box, b) =>
    previous.forEach((face, p) => {
      const v = iou(box, face.box);
      if (v >= minIou && v > 0) pairs.push({ b, p, v });
    }),
  );
  pairs.sort((x, y) => y.v - x.v || x.b - y.b || x.p - y.p);
  const out: (number | null)[] = boxes.map(() => null);
  const used = new Set<number>();
  for (const { b, p } of pairs) {
    if (out[b] !== null || used.has(p)) continue;
    out[b] = p;
    used.add(p);
  }
  return out;
}

/**
 * The previous verdicts this frame's detected faces may keep: per box, the
 * previous face's probabilities (and its reuse count) when matched, confident
 * and not due; otherwise null (classify it).
 */
export function reusableVerdicts(
  previous: readonly RememberedFace[],
  boxes: readonly Box[],
  s: Pick<ReuseSettings, 'reclassifyEvery' | 'minConfidence' | 'minIou'>,
): ({ probabilities: ClassProbabilities; reuseCount: number } | null)[] {
  if (s.reclassifyEvery <= 1) return boxes.map(() => null);
  return matchPreviousFaces(previous, boxes, s.minIou).map((p) => {
    if (p === null) return null;
    const face = previous[p]!;
    return canReuse(face, s) ? { probabilities: face.probabilities, reuseCount: face.reuseCount + 1 } : null;
  });
}
