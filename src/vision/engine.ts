import type pino from 'pino';
import sharp from 'sharp';
import { decodeImage } from './image.ts';
import { cropFaces } from './crop.ts';
import { MaskClassifier } from './classifier.ts';
import { createFaceDetector, type DetectorKind } from './detector/factory.ts';
import type { FaceDetector } from './detector/types.ts';
import { renderAnnotatedFrame, renderFaceCrops } from './render.ts';
import type { AnalyzeOptions, Box, FaceResult, FrameAnalysis, VisionEngine } from './types.ts';

export interface VisionEngineOptions {
  assetsDir: string;
  faceScoreThreshold: number;
  noMaskThreshold: number;
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
   * A face is labelled no_mask (a violation) only if the detector is at least
   * this sure it is a face (default 0.85) and its shorter side is at least
   * violationMinFaceSize px (default 20). Measured on kaggle-scenes-dev: most
   * false violations were low-score or tiny detections of background
   * clutter; gating them raised violation precision from 0.43 to 0.92 while
   * every face is still reported (face recall unchanged).
   */
  violationFaceScore?: number;
  violationMinFaceSize?: number;
}

export const DEFAULT_VIOLATION_FACE_SCORE = 0.85;
export const DEFAULT_VIOLATION_MIN_FACE_SIZE = 20;

/** The violation rule, pure: P(no mask) high enough on a face the detector is sure of. */
export function isViolation(
  face: { box: Box; score: number },
  pNoMask: number,
  rule: { noMaskThreshold: number; violationFaceScore: number; violationMinFaceSize: number },
): boolean {
  return pNoMask >= rule.noMaskThreshold && face.score >= rule.violationFaceScore && Math.min(face.box[2], face.box[3]) >= rule.violationMinFaceSize;
}

/** What the engine needs from a classifier (MaskClassifier in production). */
export interface FaceClassifier {
  readonly cropMargin?: number;
  predict(crops: import('./image.ts').DecodedImage[]): Promise<number[]>;
  /** Optional fast path: same numbers as predict(cropFaces(frame, boxes, cropMargin)), without copying crops. */
  predictFaces?(frame: import('./image.ts').DecodedImage, boxes: Box[]): Promise<number[]>;
  close(): Promise<void>;
}

function checkUnit(name: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${v}`);
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

/** Assembles an engine from already-loaded parts (tests and benchmarks use this directly). */
export function assembleVisionEngine(
  detector: FaceDetector,
  classifier: FaceClassifier,
  opts: Omit<VisionEngineOptions, 'assetsDir' | 'intraOpThreads'>,
): VisionEngine {
  // Every frame is new: libvips's operation cache would only hold memory (~20 MB measured).
  sharp.cache(false);
  checkUnit('faceScoreThreshold', opts.faceScoreThreshold);
  checkUnit('noMaskThreshold', opts.noMaskThreshold);
  const violationFaceScore = opts.violationFaceScore ?? DEFAULT_VIOLATION_FACE_SCORE;
  const violationMinFaceSize = opts.violationMinFaceSize ?? DEFAULT_VIOLATION_MIN_FACE_SIZE;
  checkUnit('violationFaceScore', violationFaceScore);
  const log = opts.logger;
  return {
    async analyzeFrame(image: Buffer, aopts: AnalyzeOptions = {}): Promise<FrameAnalysis> {
      const faceScoreThreshold = aopts.faceScoreThreshold ?? opts.faceScoreThreshold;
      const noMaskThreshold = aopts.noMaskThreshold ?? opts.noMaskThreshold;
      checkUnit('faceScoreThreshold', faceScoreThreshold);
      checkUnit('noMaskThreshold', noMaskThreshold);
      const t0 = performance.now();
      const frame = await decodeImage(image, { maxPixels: opts.maxPixels });
      const t1 = performance.now();
      const detections = (await detector.detect(frame, faceScoreThreshold)).filter(
        (d) => Math.min(d.box[2], d.box[3]) >= opts.minFaceSize,
      );
      const t2 = performance.now();
      const boxes: Box[] = detections.map((d) => d.box);
      const probs = !boxes.length
        ? []
        : classifier.predictFaces
          ? await classifier.predictFaces(frame, boxes)
          : await classifier.predict(await cropFaces(frame, boxes, classifier.cropMargin));
      const faces: FaceResult[] = detections.map((d, i) => {
        const p = probs[i]!;
        return {
          box: d.box.map(round1) as Box,
          score: Math.round(d.score * 10000) / 10000,
          label: isViolation(d, p, { noMaskThreshold, violationFaceScore, violationMinFaceSize }) ? 'no_mask' : 'mask',
          maskProbability: Math.round(p * 10000) / 10000,
        };
      });
      log?.debug(
        { width: frame.width, height: frame.height, faces: faces.length, decodeMs: t1 - t0, detectMs: t2 - t1, classifyMs: performance.now() - t2 },
        'frame analysed',
      );
      return { width: frame.width, height: frame.height, faces };
    },

    async renderSnapshots(image: Buffer, faces: FaceResult[], violationIndexes: number[]) {
      const frame = await decodeImage(image, { maxPixels: opts.maxPixels });
      const [faceCrops, annotatedFrame] = await Promise.all([
        renderFaceCrops(frame, faces, violationIndexes),
        renderAnnotatedFrame(frame, faces, violationIndexes),
      ]);
      return { faceCrops, annotatedFrame };
    },

    async close(): Promise<void> {
      await detector.close();
      await classifier.close();
    },
  };
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
  try {
    classifier = await MaskClassifier.load({ assetsDir: opts.assetsDir, headPath: opts.headPath, intraOpThreads: opts.intraOpThreads });
  } catch (err) {
    await detector.close();
    throw err;
  }
  opts.logger?.info({ detector: detector.name, loadMs: Math.round(performance.now() - t0) }, 'vision engine loaded');
  return assembleVisionEngine(detector, classifier, opts);
}
