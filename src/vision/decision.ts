import type { DecisionRule, HeadClass } from './head.ts';
import type { Box } from './types.ts';

/** For heads without a validated decision (format 1): the previous hand-set rule, mask_incorrect never predicted. */
export const FALLBACK_DECISION: DecisionRule = { noMaskThreshold: 0.5, incorrectThreshold: 1.01, violationFaceScore: 0.85, violationMinFaceSize: 20 };

/** Deployment overrides of a head's rule (MASKWATCH_NO_MASK_THRESHOLD; engine options). */
export interface DecisionOverrides {
  noMaskThreshold?: number;
  violationFaceScore?: number;
  violationMinFaceSize?: number;
}

/**
 * The rule in effect: the head's validated one (or the fallback) with the deployment's overrides.
 * One function, so the engine (central and edge) and the API's check of edge detections agree.
 */
export function resolveDecisionRule(head: DecisionRule | undefined, overrides: DecisionOverrides = {}): DecisionRule {
  const base = head ?? FALLBACK_DECISION;
  return {
    ...base,
    noMaskThreshold: overrides.noMaskThreshold ?? base.noMaskThreshold,
    violationFaceScore: overrides.violationFaceScore ?? base.violationFaceScore,
    violationMinFaceSize: overrides.violationMinFaceSize ?? base.violationMinFaceSize,
  };
}

/** What a face labelled mask_incorrect means for alerts (MASKWATCH_INCORRECT_MASK). */
export type IncorrectMaskPolicy = 'violation' | 'ignore';
export const INCORRECT_MASK_POLICIES: readonly IncorrectMaskPolicy[] = ['violation', 'ignore'];

export type FaceProbabilities = Record<HeadClass, number>;

/** Label from probabilities: no_mask first (it is the alert), then mask_incorrect, else mask. */
export function labelOf(p: FaceProbabilities, rule: Pick<DecisionRule, 'noMaskThreshold' | 'incorrectThreshold'>): HeadClass {
  if (p.no_mask >= rule.noMaskThreshold) return 'no_mask';
  if (p.mask_incorrect >= rule.incorrectThreshold) return 'mask_incorrect';
  return 'mask';
}

/**
 * The violation rule, pure: a no_mask face (or a mask_incorrect one when the
 * policy says so) that the detector is sure of (score gate) and that is large
 * enough to judge (size gate). Gates and thresholds come from the validation
 * split (models/mask-head.json `decision`).
 */
export function decideFace(
  face: { box: Box; score: number },
  p: FaceProbabilities,
  rule: DecisionRule,
  policy: IncorrectMaskPolicy,
): { label: HeadClass; violation: boolean } {
  const label = labelOf(p, rule);
  const gated = face.score >= rule.violationFaceScore && Math.min(face.box[2], face.box[3]) >= rule.violationMinFaceSize;
  const violating = label === 'no_mask' || (label === 'mask_incorrect' && policy === 'violation');
  return { label, violation: gated && violating };
}

/**
 * Whether the engine's second, mirrored look at a face could change its verdict. The verdict is then
 * taken on the mean of the two looks' probabilities, so only accused faces are looked at again, and a
 * no_mask face with P(no mask) ≥ 2 × the threshold stays no_mask whatever the mirror says: skipping it
 * keeps the cost off clear violators. It only ever removes or retypes accusations (it never adds one).
 */
export function needsMirroredLook(face: { violation: boolean; label: HeadClass }, p: FaceProbabilities, rule: Pick<DecisionRule, 'noMaskThreshold'>): boolean {
  return face.violation && (face.label === 'mask_incorrect' || p.no_mask < 2 * rule.noMaskThreshold);
}

export const meanProbabilities = (a: FaceProbabilities, b: FaceProbabilities): FaceProbabilities => ({
  mask: (a.mask + b.mask) / 2,
  no_mask: (a.no_mask + b.no_mask) / 2,
  mask_incorrect: (a.mask_incorrect + b.mask_incorrect) / 2,
});

export function parseIncorrectMaskPolicy(raw: string): IncorrectMaskPolicy {
  if (!(INCORRECT_MASK_POLICIES as readonly string[]).includes(raw)) {
    throw new Error(`MASKWATCH_INCORRECT_MASK must be "violation" or "ignore", got "${raw}"`);
  }
  return raw as IncorrectMaskPolicy;
}

/**
 * Rule of the optional second opinion on accused faces (MASKWATCH_SECOND_OPINION):
 * an independent face-mask detector looks at a square region `regionScale` ×
 * the face around it; its box overlapping the face best (IoU ≥ minIoU) gives
 * P(no mask). The violation stands if that is ≥ noMaskThreshold, or if no box
 * was found and `noFace` is 'keep'. Chosen on the choosing side only
 * (scripts/second-opinion-val.ts).
 */
export interface SecondOpinionRule {
  regionScale: number;
  minIoU: number;
  noMaskThreshold: number;
  noFace: 'keep' | 'veto';
}

/** The second opinion's reading of one accused face: P(no mask) of the matched box, or null when none matched. */
export type SecondOpinionVerdict = { noMask: number | null };

/**
 * Which violations the second opinion reviews: those labelled no_mask only. AIZOO has no
 * incorrect-mask class; it calls most real masks-below-the-nose "mask" (measured on the
 * choosing side), so reviewing mask_incorrect alerts would silently drop them.
 */
export function needsSecondOpinion(face: { violation: boolean; label: HeadClass }): boolean {
  return face.violation && face.label === 'no_mask';
}

export function secondOpinionConfirms(v: SecondOpinionVerdict, rule: Pick<SecondOpinionRule, 'noMaskThreshold' | 'noFace'>): boolean {
  return v.noMask === null ? rule.noFace === 'keep' : v.noMask >= rule.noMaskThreshold;
}

/** Second opinions the engine knows (MASKWATCH_SECOND_OPINION); 'off' = the head alone decides. */
export type SecondOpinionKind = 'aizoo' | 'off';
export const SECOND_OPINION_KINDS: readonly SecondOpinionKind[] = ['aizoo', 'off'];
/**
 * On by default: with the committed (refit) head and its mirrored look, it removed 3 of the 8 out-of-fold
 * false violations of the 298 choosing scenes and 1 of 75 true ones, by the rule declared before
 * measuring (reports/second-opinion-oof.md).
 */
export const DEFAULT_SECOND_OPINION: SecondOpinionKind = 'aizoo';
/**
 * AIZOO's rule, chosen out-of-fold on all 298 choosing scenes for the refit head, mirrored look on, by
 * `scripts/second-opinion-val.ts --oof-heads` (reports/second-opinion-oof.md).
 */
export const AIZOO_SECOND_OPINION_RULE: SecondOpinionRule = { regionScale: 3, minIoU: 0.2, noMaskThreshold: 0.6, noFace: 'keep' };
