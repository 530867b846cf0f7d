/**
 * People (pure): when a face track is a confirmed violator, and which of its
 * sightings is the best evidence.
 *
 * A track is confirmed when at least k (`confirmFrames`) of its last n
 * (`confirmWindow`) observations are violations AND the class probabilities
 * averaged over those n observations still say "violation". One confident
 * frame among masked ones is therefore not enough, and neither is a run of
 * borderline frames. A snapshot camera (one frame per event) uses 1 of 1.
 */
import type { PersonLabel } from '../contracts/vocabulary.ts';
import type { Box } from './tracker.ts';

export type ViolationLabel = PersonLabel;

/** Per-face class probabilities; they sum to 1 when the classifier provides all three. */
export interface ClassProbabilities {
  mask: number;
  no_mask: number;
  mask_incorrect: number;
}

export interface ConfirmationSettings {
  /** k: violating observations needed among the window. */
  confirmFrames: number;
  /** n: how many of the track's latest observations are looked at. */
  confirmWindow: number;
}

/**
 * 2 of the last 3 frames: chosen by bench:incidents on the clips of every choosing still, each analysed by the
 * out-of-fold model of the refit engine (fine-tuned float backbone + head refit on train + val, mirrored look,
 * AIZOO second opinion). No setting reached precision 0.95 within the 1 s confirmation budget, so the rule's
 * fallback, the highest F1 within that budget, chose (reports/bench-incidents.md).
 */
export const DEFAULT_CONFIRMATION: ConfirmationSettings = { confirmFrames: 2, confirmWindow: 3 };
/** Beyond this the track state read per frame grows for no benefit. */
export const MAX_CONFIRM_WINDOW = 30;

/**
 * The people an incident accuses, whose verdicts its summary and card speak for: those not marked a false
 * positive, or all of them while every one is (until the alert is dismissed, it is still about them).
 */
export function accusedPeople<P extends { falsePositive: boolean }>(people: readonly P[]): readonly P[] {
  const counted = people.filter((p) => !p.falsePositive);
  return counted.length ? counted : people;
}

export class PeopleInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeopleInputError';
  }
}

/** A message saying what is wrong, or null when k and n are usable. */
export function confirmationProblem(s: Partial<ConfirmationSettings>): string | null {
  const { confirmFrames: k, confirmWindow: n } = s;
  if (k !== undefined && (!Number.isInteger(k) || k < 1)) return 'confirmFrames must be an integer ≥ 1';
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > MAX_CONFIRM_WINDOW)) {
    return `confirmWindow must be an integer between 1 and ${MAX_CONFIRM_WINDOW}`;
  }
  if (k !== undefined && n !== undefined && k > n) return 'confirmFrames must not exceed confirmWindow';
  return null;
}

export function resolveConfirmation(
  camera: { confirmFrames?: number | null; confirmWindow?: number | null },
  fallback: ConfirmationSettings = DEFAULT_CONFIRMATION,
): ConfirmationSettings {
  const n = camera.confirmWindow ?? Math.max(fallback.confirmWindow, camera.confirmFrames ?? 0);
  const k = camera.confirmFrames ?? Math.min(fallback.confirmFrames, n);
  const settings = { confirmFrames: k, confirmWindow: n };
  const problem = confirmationProblem(settings);
  if (problem) throw new PeopleInputError(problem);
  return settings;
}

function clamp01(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/**
 * The three class probabilities of a face. Missing entries count as 0; a face
 * from a two-class classifier (only P(no mask)) gets mask = 1 − P(no mask).
 */
export function toProbabilities(face: {
  probabilities?: Partial<ClassProbabilities> | null;
  noMaskProbability?: number;
  /** @deprecated old name of noMaskProbability */
  maskProbability?: number;
}): ClassProbabilities {
  const p = face.probabilities;
  if (p && typeof p === 'object') {
    return { mask: clamp01(p.mask), no_mask: clamp01(p.no_mask), mask_incorrect: clamp01(p.mask_incorrect) };
  }
  const noMask = clamp01(face.noMaskProbability ?? face.maskProbability);
  return { mask: 1 - noMask, no_mask: noMask, mask_incorrect: 0 };
}

/** P(not wearing a mask properly): the probability a person is a violator. */
export function violationProbability(p: ClassProbabilities): number {
  return Math.min(1, p.no_mask + p.mask_incorrect);
}

export function violationLabel(p: ClassProbabilities): ViolationLabel {
  return p.mask_incorrect > p.no_mask ? 'mask_incorrect' : 'no_mask';
}

export interface TrackSample {
  /** Capture time, ms. */
  at: number;
  probabilities: ClassProbabilities;
  /**
   * Whether this observation is a violation: the vision engine's verdict (its policy, incl. the
   * detector gates and MASKWATCH_INCORRECT_MASK) when given; default: violationProbability ≥ threshold.
   */
  violating?: boolean;
}

/**
 * Gates a face must pass to count as a violating sighting of a track. The engine's single-frame
 * verdict (`face.violation`) also requires a confident, large face (models/mask-head.json
 * violationFaceScore / violationMinFaceSize) because one frame alone decides a snapshot alert; on a
 * track, k of n frames and the averaged probabilities supply that evidence, so the sighting gate is
 * softer (chosen on the validation clips of bench:incidents).
 */
export interface SightingGate {
  /** Detector confidence, 0–1. */
  minFaceScore: number;
  /** Shorter box side, px. */
  minFaceSide: number;
}

/** The mask head's own violation gates (models/mask-head.json), which the choosing clips chose over softer ones. */
export const DEFAULT_SIGHTING_GATE: SightingGate = { minFaceScore: 0.85, minFaceSide: 20 };

/**
 * What a track's averaged probabilities must show (MASKWATCH_CONFIRM_NO_MASK / _INCORRECT; above 1 = that
 * class alone never confirms). Chosen on the choosing clips of bench:incidents with the deployed engine
 * (out-of-fold): averaged P(no mask) ≥ 0.15 or averaged P(mask incorrect) ≥ 0.85 (reports/bench-incidents.md).
 * The low no-mask bar leaves the work to k of n: two violating sightings of the same track among its last three.
 */
export const DEFAULT_CONFIRMATION_THRESHOLD: { noMask: number; incorrect: number } = { noMask: 0.15, incorrect: 0.85 };

/**
 * Whether a face the engine analysed is a violating sighting for tracks: the engine's verdict, or a
 * `no_mask` face that passes the (softer) sighting gate. A `mask_incorrect` face counts only through
 * the engine's verdict, which alone knows MASKWATCH_INCORRECT_MASK.
 */
export function sightingAllowed(
  face: { box: Box | readonly number[]; score: number; label: string; violation: boolean },
  gate: SightingGate = DEFAULT_SIGHTING_GATE,
): boolean {
  if (face.violation) return true;
  return face.label === 'no_mask' && face.score >= gate.minFaceScore && Math.min(face.box[2]!, face.box[3]!) >= gate.minFaceSide;
}

/**
 * What (averaged) probabilities must show to count as a violation: either one number compared with
 * P(no mask) + P(mask incorrect), or per-class thresholds applied the way the mask head labels a face
 * (no_mask when P(no mask) ≥ noMask, else mask_incorrect when P(mask incorrect) ≥ incorrect).
 */
export type ViolationThreshold = number | { noMask: number; incorrect: number };

export function meetsThreshold(p: ClassProbabilities, threshold: ViolationThreshold): boolean {
  if (typeof threshold === 'number') return violationProbability(p) >= threshold;
  return p.no_mask >= threshold.noMask || p.mask_incorrect >= threshold.incorrect;
}

function thresholdProblem(t: ViolationThreshold): string | null {
  const ok = (x: number, max: number) => x > 0 && x <= max;
  if (typeof t === 'number') return ok(t, 1) ? null : 'threshold must be in (0, 1]';
  // Above 1 switches a class off (e.g. incorrect: 1.01 never confirms on mask_incorrect alone).
  return ok(t.noMask, 1.01) && ok(t.incorrect, 1.01) ? null : 'thresholds must be in (0, 1.01]';
}

/** An observation's verdict: the engine's verdict when given, else the probability threshold. */
export function isViolatingSample(s: Pick<TrackSample, 'probabilities' | 'violating'>, threshold: ViolationThreshold): boolean {
  return s.violating ?? meetsThreshold(s.probabilities, threshold);
}


export interface Confirmation {
  confirmed: boolean;
  /** Violating observations among the window. */
  positives: number;
  /** Observations in the window (≤ n). */
  observed: number;
  averaged: ClassProbabilities;
  /** Averaged P(no mask) + P(mask incorrect) over the window. */
  violationProbability: number;
  /** Averaged P(no mask) over the window (the API's noMaskProbability of a person). */
  noMaskProbability: number;
  label: ViolationLabel;
  /**
   * When the track was first seen masked after its last violating sighting (ms), while the window no longer
   * confirms it: the person has put a mask on. Null while it still does (one masked frame among violating ones
   * is the classifier's flicker, not a mask) and when the latest sighting violates.
   */
  maskedSince: number | null;
}

/**
 * Confirmation of a track as of time `at`: looks at the track's last n samples
 * captured at or before `at` (frames may arrive out of order, so the decision
 * for a frame never depends on frames captured after it).
 */
export function confirmTrack(
  samples: readonly TrackSample[],
  at: number,
  settings: ConfirmationSettings,
  threshold: ViolationThreshold,
): Confirmation {
  const problem = confirmationProblem(settings) ?? thresholdProblem(threshold);
  if (problem) throw new PeopleInputError(problem);
  const newestFirst = samples.filter((s) => s.at <= at).sort((a, b) => b.at - a.at);
  const window = newestFirst.slice(0, settings.confirmWindow);
  const sum: ClassProbabilities = { mask: 0, no_mask: 0, mask_incorrect: 0 };
  let positives = 0;
  for (const s of window) {
    sum.mask += s.probabilities.mask;
    sum.no_mask += s.probabilities.no_mask;
    sum.mask_incorrect += s.probabilities.mask_incorrect;
    if (isViolatingSample(s, threshold)) positives++;
  }
  const n = Math.max(1, window.length);
  const averaged = { mask: sum.mask / n, no_mask: sum.no_mask / n, mask_incorrect: sum.mask_incorrect / n };
  const violation = violationProbability(averaged);
  // k frames that are each a violation: one frame alone (a flicker) never confirms a track of several.
  const enough = positives >= settings.confirmFrames;
  // A window of one frame (a snapshot camera, 1 of 1) is the engine's validated single-frame verdict
  // alone, as before tracks existed; the averaged threshold was chosen for tracks of several frames.
  const confirmed = enough && (settings.confirmWindow === 1 || meetsThreshold(averaged, threshold));
  // The masked sightings since the last violating one (of all the track's, a 1-of-1 window holds only the latest).
  const lastViolating = newestFirst.findIndex((s) => isViolatingSample(s, threshold));
  const sinceViolating = lastViolating === -1 ? newestFirst : newestFirst.slice(0, lastViolating);
  return {
    confirmed,
    positives,
    observed: window.length,
    averaged,
    violationProbability: violation,
    noMaskProbability: averaged.no_mask,
    label: violationLabel(averaged),
    maskedSince: !confirmed && sinceViolating.length > 0 ? sinceViolating.at(-1)!.at : null,
  };
}

/** A violating sighting that has a face crop: a candidate for the person's evidence. */
export interface ShotCandidate {
  at: number;
  box: Box;
  /** Face detector confidence, 0–1. */
  faceScore: number;
  /** Variance of the Laplacian of the normalised grey crop (see vision/sharpness.ts); null if unknown. */
  sharpness: number | null;
  /** P(no mask) + P(mask incorrect) of the sighting. */
  violationProbability: number;
  snapshotPath: string;
}

/** Faces this wide show a face fully to a human; larger adds little. */
const FULL_SIZE_PX = 112;
/** Laplacian variance at which a crop counts as "half sharp". */
const HALF_SHARP = 60;

/**
 * How good a crop is as evidence, 0–1: large (up to a full-detail size),
 * sharp, a confident detection, and a confident violation.
 */
export function shotQuality(c: Omit<ShotCandidate, 'snapshotPath' | 'at'>): number {
  const side = Math.sqrt(Math.max(0, c.box[2]) * Math.max(0, c.box[3]));
  const size = Math.min(1, side / FULL_SIZE_PX);
  const sharp = c.sharpness === null ? 0.5 : c.sharpness / (c.sharpness + HALF_SHARP);
  return size * sharp * clamp01(c.faceScore) * clamp01(c.violationProbability);
}

/** The best shot of a track; ties go to the earlier sighting so the choice is stable. */
export function bestShot<T extends ShotCandidate>(candidates: readonly T[]): T | null {
  let best: T | null = null;
  let bestQuality = -1;
  for (const c of candidates) {
    const q = shotQuality(c);
    if (
      q > bestQuality ||
      (q === bestQuality && best && (c.at < best.at || (c.at === best.at && c.snapshotPath < best.snapshotPath)))
    ) {
      best = c;
      bestQuality = q;
    }
  }
  return best;
}
