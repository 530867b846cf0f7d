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
    // Zero weights at either end are dropped: adding pixel × 0 (pixels are finite and ≥ 0)
    // leaves every sum bit-identical, and enlarging then reads 2 taps instead of 3.
    let first = 0;
    let n = hi - lo;
    while (n > 1 && weights[i * taps + first] === 0) {
      first++;
      n--;
    }
    while (n > 1 && weights[i * taps + first + n - 1] === 0) n--;
    if (first > 0) weights.copyWithin(i * taps, i * taps + first, i * taps + first + n);
    start[i] = lo + first;
    count[i] = n;
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
  const mid = midScratch;
  const hStart = h.start;
  const hCount = h.count;
  const hWeights = h.weights;
  const hTaps = h.taps;
  // Per output column: its 3 first taps as source byte offsets and weights (missing taps
  // repeat the last pixel with weight 0, which adds exactly nothing), or null past 3 taps.
  let maxTaps = 0;
  for (let x = 0; x < width; x++) maxTaps = Math.max(maxTaps, hCount[x]!);
  const upTo2 = maxTaps <= 2;
  const upTo3 = maxTaps <= 3;
  for (let y = 0; y < sh; y++) {
    const row = ((y0 + y) * fw + x0) * 3;
    const out = y * stride;
    if (upTo2) {
      for (let x = 0, o = out; x < width; x++, o += 3) {
        const base = x * hTaps;
        const s0 = row + hStart[x]! * 3;
        const two = hCount[x]! > 1;
        const s1 = two ? s0 + 3 : s0;
        const w0 = hWeights[base]!;
        const w1 = two ? hWeights[base + 1]! : 0;
        mid[o] = src[s0]! * w0 + src[s1]! * w1;
        mid[o + 1] = src[s0 + 1]! * w0 + src[s1 + 1]! * w1;
        mid[o + 2] = src[s0 + 2]! * w0 + src[s1 + 2]! * w1;
      }
      continue;
    }
    if (upTo3) {
      for (let x = 0, o = out; x < width; x++, o += 3) {
        const base = x * hTaps;
        const n = hCount[x]!;
        const s0 = row + hStart[x]! * 3;
        const s1 = n > 1 ? s0 + 3 : s0;
        const s2 = n > 2 ? s0 + 6 : s1;
        const w0 = hWeights[base]!;
        const w1 = n > 1 ? hWeights[base + 1]! : 0;
        const w2 = n > 2 ? hWeights[base + 2]! : 0;
        mid[o] = src[s0]! * w0 + src[s1]! * w1 + src[s2]! * w2;
        mid[o + 1] = src[s0 + 1]! * w0 + src[s1 + 1]! * w1 + src[s2 + 1]! * w2;
        mid[o + 2] = src[s0 + 2]! * w0 + src[s1 + 2]! * w1 + src[s2 + 2]! * w2;
      }
      continue;
    }
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
  // Vertical pass, fused with rounding to bytes (and, for planes, the byte → float map).
  // Each sum is accumulated in float32 exactly as `acc[i] += mid * w` on a
  // Float32Array would (Math.fround after every step), but in registers.
  const plane = width * height;
  const vStart = v.start;
  const vCount = v.count;
  const vWeights = v.weights;
  const planes = target.kind === 'planes' ? target : null;
  const bytes = target.kind === 'rgb' ? target.data : null;
  const lr = planes?.levels[0];
  const lg = planes?.levels[1];
  const lb = planes?.levels[2];
  const fround = Math.fround;
  const outOffset = planes ? planes.offset : 0;
  const out = planes ? planes.data : bytes!;
  // Destination index step per channel: planes are width×height apart, packed bytes are adjacent.
  const cStep = planes ? plane : 1;
  const xStep = planes ? 1 : 3;
  for (let y = 0; y < height; y++) {
    const n = vCount[y]!;
    const wBase = y * v.taps;
    const r0 = vStart[y]! * stride;
    let o = planes ? outOffset + y * width : y * stride;
    if (n <= 2) {
      // Enlarging: 1 or 2 taps (a missing second tap re-reads the row with weight 0).
      const w0 = vWeights[wBase]!;
      const w1 = n > 1 ? vWeights[wBase + 1]! : 0;
      const r1 = r0 + (n > 1 ? stride : 0);
      for (let i = 0; i < stride; i += 3, o += xStep) {
        const a0 = fround(fround(mid[r0 + i]! * w0) + mid[r1 + i]! * w1);
        const a1 = fround(fround(mid[r0 + i + 1]! * w0) + mid[r1 + i + 1]! * w1);
        const a2 = fround(fround(mid[r0 + i + 2]! * w0) + mid[r1 + i + 2]! * w1);
        const q0 = a0 <= 0 ? 0 : a0 >= 255 ? 255 : (a0 + 0.5) | 0;
        const q1 = a1 <= 0 ? 0 : a1 >= 255 ? 255 : (a1 + 0.5) | 0;
        const q2 = a2 <= 0 ? 0 : a2 >= 255 ? 255 : (a2 + 0.5) | 0;
        if (planes) {
          out[o] = lr![q0]!;
          out[o + cStep] = lg![q1]!;
          out[o + 2 * cStep] = lb![q2]!;
        } else {
          out[o] = q0;
          out[o + 1] = q1;
          out[o + 2] = q2;
        }
      }
    } else if (n <= 3) {
      // Up to 3 taps (every enlargement, mild shrinking): missing taps re-read the last row
      // with weight 0, which adds exactly nothing.
      const w0 = vWeights[wBase]!;
      const w1 = n > 1 ? vWeights[wBase + 1]! : 0;
      const w2 = n > 2 ? vWeights[wBase + 2]! : 0;
      const r1 = r0 + (n > 1 ? stride : 0);
      const r2 = r0 + (n > 2 ? 2 * stride : n > 1 ? stride : 0);
      for (let i = 0; i < stride; i += 3, o += xStep) {
        const a0 = fround(fround(fround(mid[r0 + i]! * w0) + mid[r1 + i]! * w1) + mid[r2 + i]! * w2);
        const a1 = fround(fround(fround(mid[r0 + i + 1]! * w0) + mid[r1 + i + 1]! * w1) + mid[r2 + i + 1]! * w2);
        const a2 = fround(fround(fround(mid[r0 + i + 2]! * w0) + mid[r1 + i + 2]! * w1) + mid[r2 + i + 2]! * w2);
        // Uint8 stores wrap rather than clamp, and float error can step just past 0 or 255.
        const q0 = a0 <= 0 ? 0 : a0 >= 255 ? 255 : (a0 + 0.5) | 0;
        const q1 = a1 <= 0 ? 0 : a1 >= 255 ? 255 : (a1 + 0.5) | 0;
        const q2 = a2 <= 0 ? 0 : a2 >= 255 ? 255 : (a2 + 0.5) | 0;
        if (planes) {
          out[o] = lr![q0]!;
          out[o + cStep] = lg![q1]!;
          out[o + 2 * cStep] = lb![q2]!;
        } else {
          out[o] = q0;
          out[o + 1] = q1;
          out[o + 2] = q2;
        }
      }
    } else {
      for (let i = 0; i < stride; i += 3, o += xStep) {
        for (let c = 0; c < 3; c++) {
          let a = fround(mid[r0 + i + c]! * vWeights[wBase]!);
          for (let k = 1; k < n; k++) a = fround(a + mid[r0 + k * stride + i + c]! * vWeights[wBase + k]!);
          const q = a <= 0 ? 0 : a >= 255 ? 255 : (a + 0.5) | 0;
          out[o + c * cStep] = planes ? planes.levels[c]![q]! : q;
        }
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
