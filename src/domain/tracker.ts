/**
 * Per-camera face tracking across frames (pure: no I/O).
 *
 * A track is the recent history of one person's no-mask face box on one camera.
 * Matching is one-to-one and greedy on cost, gated by IoU or by centroid
 * distance measured in face sizes, so a standing person keeps one track even
 * when the detector misses a few frames or the box jitters. Frames may arrive
 * out of order (several workers), so a track is compared through its
 * observation nearest in capture time, not its latest one.
 */

/** [x, y, width, height] in frame pixels (same shape as the vision Box). */
export type Box = readonly [number, number, number, number];

export interface TrackObservation {
  box: Box;
  /** Capture time, ms since epoch. */
  at: number;
}

export interface Track {
  id: string;
  observations: readonly TrackObservation[];
}

export interface Detection {
  /** Caller's identifier, e.g. the face index in the frame. */
  index: number;
  box: Box;
}

export interface TrackerOptions {
  /** A track unseen this long (before or after the frame time) is over. */
  cooldownMs: number;
  /** Boxes overlapping at least this much match regardless of distance. */
  minIou: number;
  /** Otherwise centroids must be within this many face sizes (mean side). */
  maxCentroidDistance: number;
  /** ...and the larger box side at most this many times the smaller. */
  maxSizeRatio: number;
}

export const DEFAULT_TRACKER_OPTIONS: Omit<TrackerOptions, 'cooldownMs'> = {
  minIou: 0.3,
  maxCentroidDistance: 1.0,
  maxSizeRatio: 2.0,
};

export interface TrackMatch {
  detectionIndex: number;
  trackId: string;
}

export interface MatchResult {
  matches: TrackMatch[];
  /** Detections that start a new track, in input order. */
  unmatched: number[];
}

export class TrackerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrackerInputError';
  }
}

export function validateBox(box: Box): void {
  if (box.length !== 4 || !box.every(Number.isFinite)) {
    throw new TrackerInputError(`box must be four finite numbers, got [${box.join(', ')}]`);
  }
  if (box[2] <= 0 || box[3] <= 0) {
    throw new TrackerInputError(`box width and height must be positive, got [${box.join(', ')}]`);
  }
}

export function iou(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y2 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/** Distance between box centres, in units of the two boxes' mean side. */
export function centroidDistance(a: Box, b: Box): number {
  const dx = a[0] + a[2] / 2 - (b[0] + b[2] / 2);
  const dy = a[1] + a[3] / 2 - (b[1] + b[3] / 2);
  const size = (a[2] + a[3] + b[2] + b[3]) / 4;
  return Math.hypot(dx, dy) / size;
}

function sizeRatio(a: Box, b: Box): number {
  const sa = Math.sqrt(a[2] * a[3]);
  const sb = Math.sqrt(b[2] * b[3]);
  return Math.max(sa, sb) / Math.min(sa, sb);
}

/** The observation nearest in time to `at`, or null when the track is over at `at`. */
export function referenceObservation(track: Track, at: number, cooldownMs: number): TrackObservation | null {
  let best: TrackObservation | null = null;
  for (const obs of track.observations) {
    if (!best || Math.abs(obs.at - at) < Math.abs(best.at - at)) best = obs;
  }
  if (!best || Math.abs(best.at - at) > cooldownMs) return null;
  return best;
}

/**
 * Pairs detections of one frame (captured at `at`) with live tracks.
 * Cost favours overlap, then closeness, then recency; each track and each
 * detection is used at most once.
 */
export function matchDetections(
  tracks: readonly Track[],
  detections: readonly Detection[],
  at: number,
  options: TrackerOptions,
): MatchResult {
  if (!Number.isFinite(at)) throw new TrackerInputError('frame time must be a finite number of ms');
  if (!(options.cooldownMs > 0)) throw new TrackerInputError('cooldownMs must be positive');
  const seen = new Set<number>();
  for (const d of detections) {
    validateBox(d.box);
    if (seen.has(d.index)) throw new TrackerInputError(`duplicate detection index ${d.index}`);
    seen.add(d.index);
  }

  const candidates: { cost: number; detectionIndex: number; trackId: string }[] = [];
  for (const track of tracks) {
    const ref = referenceObservation(track, at, options.cooldownMs);
    if (!ref) continue;
    for (const det of detections) {
      const overlap = iou(ref.box, det.box);
      const distance = centroidDistance(ref.box, det.box);
      const gated =
        overlap >= options.minIou ||
        (distance <= options.maxCentroidDistance && sizeRatio(ref.box, det.box) <= options.maxSizeRatio);
      if (!gated) continue;
      const staleness = Math.abs(ref.at - at) / options.cooldownMs;
      candidates.push({ cost: 1 - overlap + distance + 0.1 * staleness, detectionIndex: det.index, trackId: track.id });
    }
  }
  // Ties broken by ids so the result never depends on input order between workers.
  candidates.sort(
    (a, b) => a.cost - b.cost || a.detectionIndex - b.detectionIndex || a.trackId.localeCompare(b.trackId),
  );

  const usedTracks = new Set<string>();
  const usedDetections = new Set<number>();
  const matches: TrackMatch[] = [];
  for (const c of candidates) {
    if (usedTracks.has(c.trackId) || usedDetections.has(c.detectionIndex)) continue;
    usedTracks.add(c.trackId);
    usedDetections.add(c.detectionIndex);
    matches.push({ detectionIndex: c.detectionIndex, trackId: c.trackId });
  }
  matches.sort((a, b) => a.detectionIndex - b.detectionIndex);
  const unmatched = detections.map((d) => d.index).filter((i) => !usedDetections.has(i));
  return { matches, unmatched };
}
