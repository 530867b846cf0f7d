import type pino from 'pino';
import sharp from 'sharp';
import { decodeImage } from './image.ts';
import { cropFaces } from './crop.ts';
import { MaskClassifier } from './classifier.ts';
import { createFaceDetector, type DetectorKind } from './detector/factory.ts';
import type { FaceDetector } from './detector/types.ts';
import { renderFaceCrops, renderStoredFrame } from './render.ts';
import type { AnalyzeOptions, Box, FaceResult, FrameAnalysis, VisionEngine } from './types.ts';
import { decideFace, meanProbabilities, needsMirroredLook, needsSecondOpinion, resolveDecisionRule, secondOpinionConfirms, type FaceProbabilities, type IncorrectMaskPolicy } from './decision.ts';
import type { DecisionRule } from './head.ts';
import type { DecodedImage } from './image.ts';
import { loadSecondOpinion, type SecondOpinion, type SecondOpinionKind } from './second-opinion/factory.ts';

export interface VisionEngineOptions {
  assetsDir: string;
  faceScoreThreshold: number;
  /** Overrides the head's validated P(no mask) threshold (MASKWATCH_NO_MASK_THRESHOLD). */
  noMaskThreshold?: number;
  /** mask_incorrect faces are violations (default) or not (MASKWATCH_INCORRECT_MASK). */
  incorrectMaskPolicy?: IncorrectMaskPolicy;
  minFaceSize: number;
  maxPixels: number;
  intraOpThreads: number;
  logger?: pino.Logger;
  /** Default yunet-s (see detector/factory.ts for the measured alternatives). */
  detector?: DetectorKind;
  detectorMinLongSide?: number;
  detectorMaxLongSide?: number;
  /** Mask head JSON (default models/mask-head.json). */
  headPath?: string;
  /**
   * A face is a violation only if the detector is at least this sure it is a
   * face and its shorter side is at least violationMinFaceSize px: most false
   * violations are low-score or tiny detections of background clutter. Both
   * default to the head's values chosen on the validation scenes.
   */
  violationFaceScore?: number;
  violationMinFaceSize?: number;
  /**
   * Independent check of faces the head accuses (MASKWATCH_SECOND_OPINION):
   * a violation stands only if AIZOO's face-mask detector agrees (rule in
   * decision.ts, chosen on the choosing side). Faces not accused never reach it.
   */
  secondOpinion?: SecondOpinionKind;
  /**
   * A second look at each accused face, mirrored left to right, whose verdict could change (needsMirroredLook):
   * the verdict is taken on the mean of both looks. Default on (chosen out-of-fold, reports/second-opinion-oof.md).
   */
  mirroredLook?: boolean;
}

/** What the engine needs from a classifier (MaskClassifier in production). */
export interface FaceClassifier {
  readonly cropMargin?: number;
  /** The head's validated decision rule, if it has one. */
  readonly decision?: DecisionRule;
  predictProbabilities(crops: import('./image.ts').DecodedImage[]): Promise<FaceProbabilities[]>;
  /** Optional fast path: same numbers as predictProbabilities(cropFaces(frame, boxes, cropMargin)), without copying crops. */
  predictFaces?(frame: import('./image.ts').DecodedImage, boxes: Box[], opts?: { mirrored?: boolean }): Promise<FaceProbabilities[]>;
  close(): Promise<void>;
}

const round4 = (v: number): number => Math.round(v * 10000) / 10000;

function checkUnit(name: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${v}`);
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

/** Assembles an engine from already-loaded parts (tests and benchmarks use this directly). */
export function assembleVisionEngine(
  detector: FaceDetector,
  classifier: FaceClassifier,
  opts: Omit<VisionEngineOptions, 'assetsDir' | 'intraOpThreads' | 'secondOpinion'>,
  secondOpinion?: SecondOpinion,
): VisionEngine {
  // Every frame is new: libvips's operation cache would only hold memory (~20 MB measured).
  sharp.cache(false);
  checkUnit('faceScoreThreshold', opts.faceScoreThreshold);
  const rule: DecisionRule = resolveDecisionRule(classifier.decision, opts);
  checkUnit('noMaskThreshold', rule.noMaskThreshold);
  checkUnit('violationFaceScore', rule.violationFaceScore);
  const policy = opts.incorrectMaskPolicy ?? 'violation';
  const log = opts.logger;
  // Classifiers without the fast path (test doubles) cannot look at a mirrored crop.
  const mirroredLook = (opts.mirroredLook ?? true) && Boolean(classifier.predictFaces);
  return {
    noMaskThreshold: rule.noMaskThreshold,
    async analyzeFrame(image, aopts: AnalyzeOptions = {}): Promise<FrameAnalysis> {
      const faceScoreThreshold = aopts.faceScoreThreshold ?? opts.faceScoreThreshold;
      const noMaskThreshold = aopts.noMaskThreshold ?? rule.noMaskThreshold;
      checkUnit('faceScoreThreshold', faceScoreThreshold);
      checkUnit('noMaskThreshold', noMaskThreshold);
      const frameRule = { ...rule, noMaskThreshold };
      const t0 = performance.now();
      const frame = Buffer.isBuffer(image) ? await decodeImage(image, { maxPixels: opts.maxPixels }) : image;
      const t1 = performance.now();
      const detections = aopts.faces
        ? aopts.faces.map((f) => ({ box: [...f.box] as Box, score: f.score }))
        : (await detector.detect(frame, faceScoreThreshold)).filter((d) => Math.min(d.box[2], d.box[3]) >= opts.minFaceSize);
      const t2 = performance.now();
      const detected = detections.map((d) => ({ box: d.box.map(round1) as Box, score: round4(d.score) }));
      const known = aopts.knownVerdicts?.(detected) ?? [];
      // Only faces without a known verdict are classified (one batch, crops from the decoded frame).
      const todo = detections.flatMap((_, i) => (known[i] ? [] : [i]));
      const boxes: Box[] = todo.map((i) => detections[i]!.box);
      const classified = !boxes.length
        ? []
        : classifier.predictFaces
          ? await classifier.predictFaces(frame, boxes)
          : await classifier.predictProbabilities(await cropFaces(frame, boxes, classifier.cropMargin));
      const probs: FaceProbabilities[] = detections.map((_, i) => known[i] ?? classified[todo.indexOf(i)]!);
      // Carried-over verdicts already had their second look on the frame they came from.
      const look = mirroredLook ? todo.filter((i) => needsMirroredLook(decideFace(detections[i]!, probs[i]!, frameRule, policy), probs[i]!, frameRule)) : [];
      if (look.length) {
        const mirrored = await classifier.predictFaces!(frame, look.map((i) => detections[i]!.box), { mirrored: true });
        look.forEach((i, k) => (probs[i] = meanProbabilities(probs[i]!, mirrored[k]!)));
      }
      const faces: FaceResult[] = detections.map((d, i) => {
        const p = probs[i]!;
        const { label, violation } = decideFace(d, p, frameRule, policy);
        const noMaskProbability = round4(p.no_mask);
        return {
          box: detected[i]!.box,
          score: detected[i]!.score,
          label,
          violation,
          noMaskProbability,
          maskProbability: noMaskProbability,
          probabilities: { mask: round4(p.mask), no_mask: noMaskProbability, mask_incorrect: round4(p.mask_incorrect) },
          reused: Boolean(known[i]),
        };
      });
      const reviewed = secondOpinion ? await reviewAccused(secondOpinion, frame, faces) : 0;
      log?.debug(
        { reviewed, mirroredLooks: look.length, width: frame.width, height: frame.height, faces: faces.length, detected: !aopts.faces, classified: todo.length, decodeMs: t1 - t0, detectMs: t2 - t1, classifyMs: performance.now() - t2 },
        'frame analysed',
      );
      return { width: frame.width, height: frame.height, faces };
    },

    async renderSnapshots(image, faces: FaceResult[], violationIndexes: number[]) {
      const frame = Buffer.isBuffer(image) ? await decodeImage(image, { maxPixels: opts.maxPixels }) : image;
      const [faceCrops, storedFrame] = await Promise.all([
        renderFaceCrops(frame, faces, violationIndexes),
        renderStoredFrame(frame, faces, violationIndexes),
      ]);
      return { faceCrops, storedFrame };
    },

    async close(): Promise<void> {
      await detector.close();
      await classifier.close();
      await secondOpinion?.close();
    },
  };
}

/** Asks the second opinion about each face accused of no mask (in place); returns how many were asked. */
async function reviewAccused(secondOpinion: SecondOpinion, frame: DecodedImage, faces: FaceResult[]): Promise<number> {
  let n = 0;
  for (const f of faces) {
    if (!needsSecondOpinion(f)) continue;
    n += 1;
    const verdict = await secondOpinion.review(frame, f.box);
    // Kept so an edge agent can send it and the API applies the same rule (ingest-detections.ts).
    f.secondOpinion = { noMaskProbability: verdict.noMask };
    if (secondOpinionConfirms(verdict, secondOpinion.rule)) continue;
    // Vetoed: relabelled mask too, since tracks count no_mask labels as sightings (domain/people.ts).
    // The probabilities stay the head's.
    f.violation = false;
    f.label = 'mask';
  }
  return n;
}

/** Loads the face detector and mask classifier (verified assets) and returns the engine. */
export async function createVisionEngine(opts: VisionEngineOptions): Promise<VisionEngine> {
  const t0 = performance.now();
  const detector = await createFaceDetector({
    assetsDir: opts.assetsDir,
    kind: opts.detector,
    intraOpThreads: opts.intraOpThreads,
    minLongSide: opts.detectorMinLongSide,
    maxLongSide: opts.detectorMaxLongSide,
  });
  let classifier: MaskClassifier;
  let secondOpinion: SecondOpinion | undefined;
  try {
    classifier = await MaskClassifier.load({ assetsDir: opts.assetsDir, headPath: opts.headPath, intraOpThreads: opts.intraOpThreads });
    try {
      secondOpinion = await loadSecondOpinion({ assetsDir: opts.assetsDir, kind: opts.secondOpinion, intraOpThreads: opts.intraOpThreads });
    } catch (err) {
      await classifier.close();
      throw err;
    }
  } catch (err) {
    await detector.close();
    throw err;
  }
  opts.logger?.info({ detector: detector.name, secondOpinion: secondOpinion?.name ?? 'off', loadMs: Math.round(performance.now() - t0) }, 'vision engine loaded');
  return assembleVisionEngine(detector, classifier, opts, secondOpinion);
}
