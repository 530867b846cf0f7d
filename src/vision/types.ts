import type { DecodedImage } from './image.ts';

/** Box in original-image pixels: [x, y, width, height]. */
export type Box = [number, number, number, number];

export type MaskLabel = 'mask' | 'no_mask' | 'mask_incorrect';

export interface FaceResult {
  box: Box;
  /** Face detector confidence, 0–1. */
  score: number;
  /** The classifier's verdict (class thresholds chosen on validation). */
  label: MaskLabel;
  /** Whether this face is an alert: label no_mask (or mask_incorrect under MASKWATCH_INCORRECT_MASK=violation) on a confident, large-enough face. */
  violation: boolean;
  /** P(no mask), 0–1. */
  noMaskProbability: number;
  /** @deprecated Same value as noMaskProbability (P(no mask)); kept for one release. */
  maskProbability: number;
  probabilities: Record<MaskLabel, number>;
  /**
   * True when these probabilities were not computed on this frame but carried
   * over from the face's previous frame (AnalyzeOptions.knownVerdicts, or an
   * unchanged frame whose detection was skipped); absent or false = classified here.
   */
  reused?: boolean;
  /**
   * The second opinion's reading of a face the head accused of no mask (MASKWATCH_SECOND_OPINION):
   * its P(no mask) for the matching face, or null when it found none. Absent = not reviewed.
   */
  secondOpinion?: { noMaskProbability: number | null };
}

/** A detected face before classification (box rounded as in FaceResult). */
export interface DetectedFace {
  box: Box;
  score: number;
}

export interface FrameAnalysis {
  width: number;
  height: number;
  faces: FaceResult[];
}

export interface AnalyzeOptions {
  /** Detector score threshold (default from the engine's config). */
  faceScoreThreshold?: number;
  /** P(no mask) at or above which a face is labelled no_mask (default: the head's validated threshold). */
  noMaskThreshold?: number;
  /**
   * Verdicts the caller already knows for some detected faces (e.g. from the
   * face's track, see domain/analysis-reuse.ts): called once with this frame's
   * detections, returns per face its class probabilities or null. Faces with
   * one are not classified (they come back with `reused: true`, labelled by the
   * same decision rule); only the rest go through the classifier.
   */
  knownVerdicts?: (faces: readonly DetectedFace[]) => readonly (Record<MaskLabel, number> | null | undefined)[];
  /**
   * The faces of this frame when the caller already knows them (an unchanged frame: the previous frame's
   * boxes): the detector is not run, only the classifier (for faces without a known verdict).
   */
  faces?: readonly DetectedFace[];
}

/**
 * The only thing the rest of MaskWatch knows about vision: a decoded, oriented
 * frame in, faces out. Workers hold one engine per process.
 */
export interface VisionEngine {
  /** The P(no mask) threshold in effect (the head's validated one unless overridden). */
  readonly noMaskThreshold?: number;
  /**
   * `image`: the encoded frame, or its pixels when the caller already decoded them (vision/image.ts
   * decodeImage, pixel limit checked there): a worker decodes a frame once for analysis and evidence.
   */
  analyzeFrame(image: Buffer | DecodedImage, opts?: AnalyzeOptions): Promise<FrameAnalysis>;
  /**
   * Encodes the JPEGs a violating frame leaves: one crop per requested face (every other face in
   * it blurred), and the frame to store (faces that are not violations blurred, no overlay; each
   * alert's view of it is rendered on request by render.ts renderAlertFrame).
   */
  renderSnapshots(
    image: Buffer | DecodedImage,
    faces: FaceResult[],
    violationIndexes: number[],
  ): Promise<{ faceCrops: Buffer[]; storedFrame: Buffer }>;
  close(): Promise<void>;
}

/** Thrown for input that is not a usable image (the caller answers 4xx / prints an error line). */
export class ImageInputError extends Error {
  constructor(
    message: string,
    readonly code: 'UNSUPPORTED_FORMAT' | 'CORRUPT' | 'TOO_LARGE' | 'EMPTY',
  ) {
    super(message);
    this.name = 'ImageInputError';
  }
}
