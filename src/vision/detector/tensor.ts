import sharp from 'sharp';
import type { DecodedImage } from '../image.ts';
import type { LetterboxPlan } from './letterbox.ts';

export interface Normalisation {
  /** Channel order the network expects. */
  order: 'rgb' | 'bgr';
  /** value = (pixel − mean) × multiplier */
  mean: number;
  multiplier: number;
}

/** Resizes a packed RGB frame (sharp, bilinear-ish; a no-op when the size already matches). */
export async function resizeRgb(image: DecodedImage, width: number, height: number): Promise<Buffer> {
  if (width === image.width && height === image.height) return image.data;
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
}

/**
 * Builds the float32 NCHW input of a letterboxed frame; padding pixels are the
 * normalised value of `mean` (i.e. 0), which is what both YuNet (zero border)
 * and UltraFace (grey 127) were fed upstream.
 */
export async function letterboxTensor(
  image: DecodedImage,
  plan: LetterboxPlan,
  norm: Normalisation,
  /** Reused body of exactly 3 × inputWidth × inputHeight floats (any content); a new one when absent. */
  reuse?: Float32Array,
): Promise<Float32Array> {
  const resized = await resizeRgb(image, plan.resizedWidth, plan.resizedHeight);
  const { inputWidth: W, inputHeight: H, resizedWidth: w, resizedHeight: h } = plan;
  if (reuse && reuse.length !== 3 * W * H) throw new RangeError(`reused tensor body holds ${reuse.length} floats, need ${3 * W * H}`);
  const out = reuse ?? new Float32Array(3 * W * H);
  const plane = W * H;
  // planes in network order; c0 is the RGB channel that goes first
  const c0 = norm.order === 'bgr' ? 2 : 0;
  const c2 = 2 - c0;
  const p0 = out.subarray(0, plane);
  const p1 = out.subarray(plane, 2 * plane);
  const p2 = out.subarray(2 * plane);
  // 256-entry lookup instead of per-pixel arithmetic: ~40 % less CPU on a 640×480 frame.
  // Padding is 0 (the normalised mean): a new Float32Array starts zeroed, a reused one is cleared here.
  if (reuse) {
    for (const p of [p0, p1, p2]) {
      if (w < W) for (let y = 0; y < h; y++) p.fill(0, y * W + w, (y + 1) * W);
      p.fill(0, h * W);
    }
  }
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = (v - norm.mean) * norm.multiplier;
  for (let y = 0; y < h; y++) {
    let i = y * w * 3;
    for (let o = y * W, end = o + w; o < end; o++, i += 3) {
      p0[o] = lut[resized[i + c0]!]!;
      p1[o] = lut[resized[i + 1]!]!;
      p2[o] = lut[resized[i + c2]!]!;
    }
  }
  return out;
}
