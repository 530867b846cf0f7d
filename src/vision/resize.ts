import type { DecodedImage } from './image.ts';

/**
 * Separable triangle-filter (bilinear) resize of packed RGB in plain JS.
 * When shrinking, the filter widens with the scale factor (antialiased, as
 * PIL does), so a 600 px training photo and a 40 px CCTV face go through the
 * same maths. It exists because a sharp round trip per face crop costs
 * ~1.5 ms — a third of the classifier's budget — while this costs ~0.3 ms
 * for a typical upscaled face.
 */

/** Recorded in the head artifact: a head only works with the resize it was trained with. */
export const RESIZE_METHOD = 'triangle filter (bilinear), antialiased when shrinking, fill (stretch)';

interface AxisWeights {
  /** First source index contributing to each output index. */
  start: Int32Array;
  /** Number of contributing source indices per output index. */
  count: Int32Array;
  /** `taps` normalised weights per output index (zero-padded). */
  weights: Float32Array;
  taps: number;
}

function computeAxisWeights(srcSize: number, dstSize: number): AxisWeights {
  const scale = srcSize / dstSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // triangle support is 1, widened when shrinking
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dstSize);
  const count = new Int32Array(dstSize);
  const weights = new Float32Array(dstSize * taps);
  for (let i = 0; i < dstSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support + 0.5));
    const hi = Math.min(srcSize, Math.floor(centre + support + 0.5));
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / filterScale));
      weights[i * taps + j - lo] = w;
      sum += w;
    }
    // Weights renormalised over the pixels inside the image: edges repeat nothing.
    for (let k = 0; k < hi - lo; k++) weights[i * taps + k]! /= sum || 1;
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, taps };
}

/**
 * Weights depend only on (source size, target size), and face crops repeat
 * sizes a lot: cached, bounded so odd sizes cannot grow memory for ever.
 */
const weightCache = new Map<number, AxisWeights>();
const WEIGHT_CACHE_MAX = 1024;
function axisWeights(srcSize: number, dstSize: number): AxisWeights {
  const key = srcSize * 65536 + dstSize;
  let w = weightCache.get(key);
  if (!w) {
    if (weightCache.size >= WEIGHT_CACHE_MAX) weightCache.clear();
    w = computeAxisWeights(srcSize, dstSize);
    weightCache.set(key, w);
  }
  return w;
}

/** Scratch for the horizontal pass, grown on demand and reused (the resize is synchronous, so never shared mid-call). */
let midScratch = new Float32Array(0);
let accScratch = new Float32Array(0);

/** Where a resize writes: packed RGB bytes, or (fused with normalisation) three float planes. */
export type ResizeTarget =
  | { kind: 'rgb'; data: Uint8Array }
  | {
      kind: 'planes';
      data: Float32Array;
      /** Index of the first value of the first (R) plane in `data`. */
      offset: number;
      /** Per channel (R, G, B): float value of each 8-bit level, applied to the rounded byte. */
      levels: readonly [Float32Array, Float32Array, Float32Array];
    };

/**
 * The one resize implementation: the rectangle [x0, y0, w, h] of a packed RGB
 * frame, resized to `width`×`height`, written to `target`. Cropping and
 * resizing happen in one pass (no copy of the crop), and the planes target
 * quantises to bytes exactly as the RGB target does before mapping each byte
 * through `levels`, so both targets give bit-identical network inputs.
 */
export function resizeRgbRect(
  frame: DecodedImage,
  rect: readonly [number, number, number, number],
  width: number,
  height: number,
  target: ResizeTarget,
): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`resize target must be positive integers, got ${width}×${height}`);
  }
  const { data: src, width: fw, height: fh } = frame;
  if (src.length !== fw * fh * 3) throw new RangeError(`expected ${fw}×${fh}×3 = ${fw * fh * 3} bytes, got ${src.length}`);
  const [x0, y0, sw, sh] = rect;
  if (!(Number.isInteger(x0) && Number.isInteger(y0) && Number.isInteger(sw) && Number.isInteger(sh) && x0 >= 0 && y0 >= 0 && sw > 0 && sh > 0 && x0 + sw <= fw && y0 + sh <= fh)) {
    throw new RangeError(`crop [${rect.join(', ')}] is not inside the ${fw}×${fh} frame`);
  }
  const stride = width * 3;
  if (target.kind === 'rgb' && target.data.length < height * stride) throw new RangeError(`target holds ${target.data.length} bytes, need ${height * stride}`);
  if (target.kind === 'planes' && target.data.length < target.offset + height * width * 3) {
    throw new RangeError(`target holds ${target.data.length} floats, need ${target.offset + height * width * 3}`);
  }
  const h = axisWeights(sw, width);
  const v = axisWeights(sh, height);
  // Horizontal pass into floats (sh × width), then vertical pass to bytes.
  if (midScratch.length < sh * stride) midScratch = new Float32Array(sh * stride);
  if (accScratch.length < stride) accScratch = new Float32Array(stride);
  const mid = midScratch;
  const hStart = h.start;
  const hCount = h.count;
  const hWeights = h.weights;
  const hTaps = h.taps;
  for (let y = 0; y < sh; y++) {
    const row = ((y0 + y) * fw + x0) * 3;
    const out = y * stride;
    for (let x = 0; x < width; x++) {
      const base = x * hTaps;
      let s = row + hStart[x]! * 3;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0, n = hCount[x]!; k < n; k++, s += 3) {
        const w = hWeights[base + k]!;
        r += src[s]! * w;
        g += src[s + 1]! * w;
        b += src[s + 2]! * w;
      }
      const o = out + x * 3;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
    }
  }
  const acc = accScratch;
  const plane = width * height;
  for (let y = 0; y < height; y++) {
    // Whole rows at a time: sequential reads the JIT turns into tight loops.
    acc.fill(0, 0, stride);
    for (let k = 0, n = v.count[y]!; k < n; k++) {
      const w = v.weights[y * v.taps + k]!;
      const s = (v.start[y]! + k) * stride;
      for (let i = 0; i < stride; i++) acc[i]! += mid[s + i]! * w;
    }
    // Uint8 stores wrap rather than clamp, and float error can step just past 0 or 255.
    if (target.kind === 'rgb') {
      const dst = target.data;
      const out = y * stride;
      for (let i = 0; i < stride; i++) {
        const a = acc[i]!;
        dst[out + i] = a <= 0 ? 0 : a >= 255 ? 255 : (a + 0.5) | 0;
      }
    } else {
      const dst = target.data;
      const [lr, lg, lb] = target.levels;
      let o = target.offset + y * width;
      for (let i = 0; i < stride; i += 3, o++) {
        const r = acc[i]!;
        const g = acc[i + 1]!;
        const b = acc[i + 2]!;
        dst[o] = lr[r <= 0 ? 0 : r >= 255 ? 255 : (r + 0.5) | 0]!;
        dst[o + plane] = lg[g <= 0 ? 0 : g >= 255 ? 255 : (g + 0.5) | 0]!;
        dst[o + 2 * plane] = lb[b <= 0 ? 0 : b >= 255 ? 255 : (b + 0.5) | 0]!;
      }
    }
  }
}

/** Resizes packed RGB to `width`×`height` (stretched, aspect ratio not kept). */
export function resizeRgb(img: DecodedImage, width: number, height: number): Buffer {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`resize target must be positive integers, got ${width}×${height}`);
  }
  const { data: src, width: sw, height: sh } = img;
  if (src.length !== sw * sh * 3) throw new RangeError(`expected ${sw}×${sh}×3 = ${sw * sh * 3} bytes, got ${src.length}`);
  if (sw === width && sh === height) return src;
  const dst = Buffer.allocUnsafe(width * height * 3);
  resizeRgbRect(img, [0, 0, sw, sh], width, height, { kind: 'rgb', data: dst });
  return dst;
}
