import sharp from 'sharp';
import { INPUT_SIZE, resizeToInput } from '../backbone.ts';
import { resizeRgb } from '../resize.ts';
import { mulberry32, seedFrom, uniform, type Rng } from './rng.ts';

/** The seed recipe's ImageDataGenerator settings, plus the CCTV low-resolution step. */
export const AUGMENTATION = {
  rotationDeg: 20,
  zoom: 0.15,
  shift: 0.2,
  /** Shear as a factor (Keras reads shear_range as degrees, which is ~no-op; we apply it as tan(shear)). */
  shear: 0.15,
  horizontalFlip: true,
  /** Probability of the low-resolution step; the face is downscaled to lowResSide px and back up. */
  lowResProbability: 0.6,
  lowResSide: [16, 48] as [number, number],
  jpegQuality: [30, 90] as [number, number],
  /** Otherwise, probability of a plain JPEG re-compression. */
  jpegProbability: 0.3,
  /** Bump when any step changes: it names the feature cache. */
  version: 3,
} as const;

/** 2×3 affine map from OUTPUT pixel to INPUT pixel coordinates. */
export type Affine = [number, number, number, number, number, number];

export interface AffineParams {
  rotationDeg: number;
  zoomX: number;
  zoomY: number;
  shiftX: number;
  shiftY: number;
  shear: number;
  flip: boolean;
}

export function sampleAffine(rng: Rng): AffineParams {
  const a = AUGMENTATION;
  return {
    rotationDeg: uniform(rng, -a.rotationDeg, a.rotationDeg),
    zoomX: uniform(rng, 1 - a.zoom, 1 + a.zoom),
    zoomY: uniform(rng, 1 - a.zoom, 1 + a.zoom),
    shiftX: uniform(rng, -a.shift, a.shift),
    shiftY: uniform(rng, -a.shift, a.shift),
    shear: uniform(rng, -a.shear, a.shear),
    flip: a.horizontalFlip && rng() < 0.5,
  };
}

/**
 * Inverse map for a transform about the image centre: for each output pixel,
 * where to sample the input. Zoom > 1 samples a larger area (zooms out), as
 * in Keras.
 */
export function affineFor(p: AffineParams, width: number, height: number): Affine {
  const t = (p.rotationDeg * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  // M = R · Sh · Z  (output→input, centred)
  const r = [cos, -sin, sin, cos];
  const sh = [1, p.shear, 0, 1];
  const z = [p.zoomX, 0, 0, p.zoomY];
  const mul = (a: number[], b: number[]) => [
    a[0]! * b[0]! + a[1]! * b[2]!,
    a[0]! * b[1]! + a[1]! * b[3]!,
    a[2]! * b[0]! + a[3]! * b[2]!,
    a[2]! * b[1]! + a[3]! * b[3]!,
  ];
  const m = mul(mul(r, sh), z);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const sx = p.shiftX * width;
  const sy = p.shiftY * height;
  const f = p.flip ? -1 : 1;
  // in = M · (flip(out) − c) + c + shift
  return [m[0]! * f, m[1]!, cx + sx - m[0]! * f * cx - m[1]! * cy, m[2]! * f, m[3]!, cy + sy - m[2]! * f * cx - m[3]! * cy];
}

/** Bilinear warp of packed RGB with nearest-edge fill (Keras fill_mode="nearest"). */
export function warpRgb(src: Buffer, width: number, height: number, a: Affine): Buffer {
  if (src.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} bytes, got ${src.length}`);
  const out = Buffer.alloc(src.length);
  const maxX = width - 1;
  const maxY = height - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let u = a[0] * x + a[1] * y + a[2];
      let v = a[3] * x + a[4] * y + a[5];
      u = u < 0 ? 0 : u > maxX ? maxX : u;
      v = v < 0 ? 0 : v > maxY ? maxY : v;
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const x1 = x0 < maxX ? x0 + 1 : x0;
      const y1 = y0 < maxY ? y0 + 1 : y0;
      const fx = u - x0;
      const fy = v - y0;
      const i00 = (y0 * width + x0) * 3;
      const i01 = (y0 * width + x1) * 3;
      const i10 = (y1 * width + x0) * 3;
      const i11 = (y1 * width + x1) * 3;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = src[i00 + c]! + (src[i01 + c]! - src[i00 + c]!) * fx;
        const bottom = src[i10 + c]! + (src[i11 + c]! - src[i10 + c]!) * fx;
        out[o + c] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return out;
}

const raw = { width: INPUT_SIZE, height: INPUT_SIZE, channels: 3 as const };

/**
 * Degrades a 224×224 crop the way a small CCTV face arrives: downscaled to
 * `side` px, JPEG-compressed at that size, then upscaled with the same resize
 * the classifier uses at run time.
 */
export async function lowResolution(rgb224: Buffer, side: number, quality: number): Promise<Buffer> {
  const small = resizeRgb({ data: rgb224, width: INPUT_SIZE, height: INPUT_SIZE }, side, side);
  const decoded = await sharp(await sharp(small, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality }).toBuffer())
    .removeAlpha()
    .raw()
    .toBuffer();
  return resizeToInput({ data: decoded, width: side, height: side });
}

export async function jpegRoundTrip(rgb224: Buffer, quality: number): Promise<Buffer> {
  const jpeg = await sharp(rgb224, { raw }).jpeg({ quality }).toBuffer();
  return sharp(jpeg).removeAlpha().raw().toBuffer();
}

/**
 * Augmented copy number `variant` (≥ 1) of a 224×224 crop. Seeded by the
 * image's content hash and the variant, so a copy is the same whatever order
 * images are processed in (and the feature cache stays valid).
 */
export async function augmentVariant(rgb224: Buffer, contentHash: string, variant: number, seed: number): Promise<Buffer> {
  const rng = mulberry32(seedFrom(`${seed}:${contentHash}:${variant}`));
  const a = AUGMENTATION;
  const warped = warpRgb(rgb224, INPUT_SIZE, INPUT_SIZE, affineFor(sampleAffine(rng), INPUT_SIZE, INPUT_SIZE));
  const quality = Math.round(uniform(rng, a.jpegQuality[0], a.jpegQuality[1]));
  if (rng() < a.lowResProbability) {
    const side = Math.round(uniform(rng, a.lowResSide[0], a.lowResSide[1]));
    return lowResolution(warped, side, quality);
  }
  if (rng() < a.jpegProbability / (1 - a.lowResProbability)) return jpegRoundTrip(warped, quality);
  return warped;
}
