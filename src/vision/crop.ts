import type { Box } from './types.ts';
import type { DecodedImage } from './image.ts';

/**
 * Fraction of the face box added on EACH side. The Kaggle face crops the
 * classifier is evaluated on are the annotated boxes grown by ~15 % per side
 * (crop ≈ 1.3 × box, measured on single-face images); detector boxes (YuNet)
 * are tight like those annotations, so the same margin gives the same framing.
 */
export const CROP_MARGIN = 0.15;

/** Integer crop rectangle [x, y, w, h]: box grown by `margin` per side, clamped to the frame, at least 1×1. */
export function cropRect(box: Box, frameWidth: number, frameHeight: number, margin = CROP_MARGIN): Box {
  const [x, y, w, h] = box;
  if (![x, y, w, h].every(Number.isFinite)) throw new RangeError(`box has non-finite values: [${box.join(', ')}]`);
  if (w <= 0 || h <= 0) throw new RangeError(`box has no area: [${box.join(', ')}]`);
  if (frameWidth < 1 || frameHeight < 1) throw new RangeError(`frame is empty (${frameWidth}×${frameHeight})`);
  const x0 = Math.max(0, Math.min(frameWidth - 1, Math.floor(x - w * margin)));
  const y0 = Math.max(0, Math.min(frameHeight - 1, Math.floor(y - h * margin)));
  const x1 = Math.max(x0 + 1, Math.min(frameWidth, Math.ceil(x + w * (1 + margin))));
  const y1 = Math.max(y0 + 1, Math.min(frameHeight, Math.ceil(y + h * (1 + margin))));
  return [x0, y0, x1 - x0, y1 - y0];
}

/** Copies a rectangle out of a packed RGB frame (no re-encode, no sharp round trip). */
export function extractRgb(frame: DecodedImage, rect: Box): DecodedImage {
  const [x0, y0, w, h] = rect;
  if (frame.data.length !== frame.width * frame.height * 3) {
    throw new RangeError(`frame buffer has ${frame.data.length} bytes, expected ${frame.width}×${frame.height}×3`);
  }
  const data = Buffer.alloc(w * h * 3);
  for (let row = 0; row < h; row++) {
    const src = ((y0 + row) * frame.width + x0) * 3;
    frame.data.copy(data, row * w * 3, src, src + w * 3);
  }
  return { data, width: w, height: h };
}

/** Face crops framed the way the mask classifier was trained and evaluated. */
export async function cropFaces(frame: DecodedImage, boxes: Box[], margin = CROP_MARGIN): Promise<DecodedImage[]> {
  return boxes.map((box) => extractRgb(frame, cropRect(box, frame.width, frame.height, margin)));
}
