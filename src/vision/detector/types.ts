import type { Box } from '../types.ts';
import type { DecodedImage } from '../image.ts';

/** One face found by a detector, in original-image pixels. */
export interface FaceDetection {
  box: Box;
  /** Face confidence, 0–1. */
  score: number;
  /** Name of the detector (and scale) that produced it, for evaluation and logs. */
  source: string;
  /**
   * Five landmarks in frame pixels when the detector gives them (YuNet):
   * right eye, left eye, nose tip, right mouth corner, left mouth corner.
   */
  landmarks?: Array<[number, number]>;
}

export interface FaceDetector {
  readonly name: string;
  /** Faces with score ≥ scoreThreshold, after NMS, boxes clipped to the image. */
  detect(image: DecodedImage, scoreThreshold: number): Promise<FaceDetection[]>;
  close(): Promise<void>;
}

/** Candidate box in network-input pixels, corner form. */
export interface RawBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  /** Landmarks in network-input pixels, [x0, y0, x1, y1, …] (YuNet: 5 points). */
  landmarks?: number[];
}
