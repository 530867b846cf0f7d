/**
 * Letterbox maths shared by the detectors: the frame is resized (aspect kept)
 * and placed at the top-left of the network input; the rest is padding, so a
 * box maps back to the original frame by a single division by `scale`.
 */
import { nms } from '../nms.ts';
import type { FaceDetection, RawBox } from './types.ts';

export interface LetterboxPlan {
  /** resized = original × scale */
  scale: number;
  resizedWidth: number;
  resizedHeight: number;
  /** Network input size (≥ resized size). */
  inputWidth: number;
  inputHeight: number;
}

function checkSize(width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
}

/** Fit into a fixed network input (e.g. 640×640), scaling up or down. */
export function planFixedInput(width: number, height: number, inputWidth: number, inputHeight: number): LetterboxPlan {
  checkSize(width, height);
  checkSize(inputWidth, inputHeight);
  const scale = Math.min(inputWidth / width, inputHeight / height);
  return {
    scale,
    resizedWidth: Math.max(1, Math.min(inputWidth, Math.round(width * scale))),
    resizedHeight: Math.max(1, Math.min(inputHeight, Math.round(height * scale))),
    inputWidth,
    inputHeight,
  };
}

/**
 * For a dynamic-size network: scale so the longer side lands in
 * [minLongSide, maxLongSide] (small frames are upscaled, which finds small
 * faces; frames already in range run at native size; huge ones are shrunk to
 * bound cost), then pad each side up to a multiple of `multiple` (YuNet's
 * largest stride is 32).
 */
export function planDynamicInput(
  width: number,
  height: number,
  range: { minLongSide: number; maxLongSide: number },
  multiple = 32,
): LetterboxPlan {
  checkSize(width, height);
  const { minLongSide, maxLongSide } = range;
  if (!(minLongSide > 0 && maxLongSide >= minLongSide)) {
    throw new RangeError(`need 0 < minLongSide <= maxLongSide, got ${minLongSide}, ${maxLongSide}`);
  }
  const long = Math.max(width, height);
  const scale = Math.min(maxLongSide, Math.max(minLongSide, long)) / long;
  const resizedWidth = Math.max(1, Math.round(width * scale));
  const resizedHeight = Math.max(1, Math.round(height * scale));
  return {
    scale,
    resizedWidth,
    resizedHeight,
    inputWidth: Math.ceil(resizedWidth / multiple) * multiple,
    inputHeight: Math.ceil(resizedHeight / multiple) * multiple,
  };
}

/** Maps a box from network-input pixels back to original pixels, clipped to the frame. */
export function unletterboxBox(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  scale: number,
  width: number,
  height: number,
): [number, number, number, number] {
  const ox1 = Math.min(width, Math.max(0, x1 / scale));
  const oy1 = Math.min(height, Math.max(0, y1 / scale));
  const ox2 = Math.min(width, Math.max(0, x2 / scale));
  const oy2 = Math.min(height, Math.max(0, y2 / scale));
  return [ox1, oy1, ox2 - ox1, oy2 - oy1];
}

/** Network-input boxes → detections in frame pixels: mapped back, empty ones dropped, overlaps suppressed. */
export function toFrameDetections(
  raw: readonly RawBox[],
  scale: number,
  frame: { width: number; height: number },
  source: string,
  nmsIoU: number,
): FaceDetection[] {
  const faces = raw.map((b) => {
    const f: FaceDetection = { box: unletterboxBox(b.x1, b.y1, b.x2, b.y2, scale, frame.width, frame.height), score: b.score, source };
    if (b.landmarks) f.landmarks = Array.from({ length: b.landmarks.length / 2 }, (_, k): [number, number] => [b.landmarks![2 * k]! / scale, b.landmarks![2 * k + 1]! / scale]);
    return f;
  });
  return nms(faces.filter((f) => f.box[2] > 0 && f.box[3] > 0), nmsIoU, 5000);
}
