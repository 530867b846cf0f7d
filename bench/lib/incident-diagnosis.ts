/**
 * Where violators are lost between the per-frame engine and a confirmed person,
 * for bench:incidents (validation clips only). Per ground-truth violator
 * (without_mask, ≥ MIN_SIDE px) and per frame of its clip:
 *   - detector: no detection matched the face (IoU ≥ 0.4, one-to-one);
 *   - classifier: matched, but the engine labelled it `mask` (below the head's thresholds);
 *   - gate: labelled a violation, but vetoed as a sighting (detector score / face size gate);
 *   - positive: a violating sighting.
 * Per violator, the stage that lost it (first failing stage, in pipeline order):
 * found / detector (detected in < k frames) / classifier / gate (fewer than the
 * needed violating sightings) / tracker (enough sightings, split over tracks) /
 * confirmation (one track had them, the k-of-n window or averaged threshold said no).
 */
import { matchFaces, type GtFace } from '../../src/vision/evaluation/detection.ts';
import { iou } from '../../src/vision/nms.ts';
import type { Box, FaceResult } from '../../src/vision/types.ts';
import { meetsThreshold } from '../../src/domain/people.ts';
import type { ClipFrame } from './clips.ts';
import { MIN_SIDE } from './incident-score.ts';
import { replayClip, type ReplaySettings } from './incident-replay.ts';

export type FrameCause = 'detector' | 'classifier' | 'gate' | 'positive';
export type PersonCause = 'found' | 'detector' | 'classifier' | 'gate' | 'tracker' | 'confirmation';
export const FRAME_CAUSES: readonly FrameCause[] = ['detector', 'classifier', 'gate', 'positive'];
export const PERSON_CAUSES: readonly PersonCause[] = ['found', 'detector', 'classifier', 'gate', 'tracker', 'confirmation'];

export interface Diagnosis {
  violators: number;
  frames: Record<FrameCause, number>;
  people: Record<PersonCause, number>;
  /** Consecutive detected frames of one violator whose sightings landed on different tracks. */
  trackBreaks: number;
  /** Detected violator frames whose probabilities are below the confirmation threshold (classifier flicker). */
  belowThreshold: number;
}

const shift = (b: Box, f: ClipFrame): Box => [b[0] + f.dx, b[1] + f.dy, b[2], b[3]];

export function diagnoseClips(
  clips: readonly { gt: readonly GtFace[]; frames: readonly { at: number; faces: readonly FaceResult[] }[]; clip: readonly ClipFrame[] }[],
  s: ReplaySettings,
): Diagnosis {
  const d: Diagnosis = {
    violators: 0,
    frames: { detector: 0, classifier: 0, gate: 0, positive: 0 },
    people: { found: 0, detector: 0, classifier: 0, gate: 0, tracker: 0, confirmation: 0 },
    trackBreaks: 0,
    belowThreshold: 0,
  };
  const k = s.confirmation.confirmFrames;
  for (const c of clips) {
    const replay = replayClip(c.frames, s);
    const cares = c.gt.map((g) => Math.min(g.box[2], g.box[3]) >= MIN_SIDE && g.label === 'without_mask');
    // Per frame, which detection each annotated face got.
    const matched = c.frames.map((frame, fi) => matchFaces([...frame.faces], c.gt.map((g) => ({ box: shift(g.box, c.clip[fi]!) }))).gtToPred);
    c.gt.forEach((g, gi) => {
      if (!cares[gi]) return;
      d.violators++;
      let detected = 0;
      let labelled = 0;
      let sightings = 0;
      const perTrack = new Map<string, { observed: number; positives: number }>();
      let previousTrack: string | null = null;
      c.frames.forEach((frame, fi) => {
        const pi = matched[fi]!.get(gi);
        if (pi === undefined) {
          d.frames.detector++;
          previousTrack = null;
          return;
        }
        detected++;
        const face = frame.faces[pi]!;
        if (!meetsThreshold(face.probabilities, s.threshold)) d.belowThreshold++;
        const violating = replay.violating[fi]!.get(pi) === true;
        if (face.label === 'mask') d.frames.classifier++;
        else if (!violating) d.frames.gate++;
        else d.frames.positive++;
        if (face.label !== 'mask') labelled++;
        if (violating) sightings++;
        const track = replay.tracks[fi]!.get(pi) ?? null;
        if (track) {
          const t = perTrack.get(track) ?? { observed: 0, positives: 0 };
          t.observed++;
          if (violating) t.positives++;
          perTrack.set(track, t);
          if (previousTrack && previousTrack !== track) d.trackBreaks++;
        }
        previousTrack = track;
      });
      const found = replay.people.some((p) => iou(shift(p.box, { ...c.clip[p.lastFrame]!, dx: -c.clip[p.lastFrame]!.dx, dy: -c.clip[p.lastFrame]!.dy }), g.box) >= 0.4);
      const needed = k;
      const best = Math.max(0, ...[...perTrack.values()].map((t) => t.positives));
      let cause: PersonCause;
      if (found) cause = 'found';
      else if (detected < k) cause = 'detector';
      else if (sightings < needed) cause = labelled < needed ? 'classifier' : 'gate';
      else if (best < k) cause = 'tracker';
      else cause = 'confirmation';
      d.people[cause]++;
    });
  }
  return d;
}
