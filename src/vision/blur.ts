/**
 * Gaussian blur of a small packed-RGB image (a face region), the privacy blur of render.ts.
 *
 * libvips (sharp .blur) builds and compiles a convolution for every call: ~2.5 CPU-ms even for a
 * 24 px face, which made blurring a crowd's bystanders most of a stored frame's cost. The same
 * kernel in JS — libvips gaussblur's, a Gaussian cut where it falls below 0.2 of its centre
 * (min_ampl), edges extended — costs in proportion to pixels × kernel taps: below a few ms of
 * that work (typical faces) it runs here, larger regions still go to libvips. Both give the same
 * pixels to within one grey level (test/unit/vision-blur.test.ts).
 */
import sharp from 'sharp';
import type { DecodedImage } from './image.ts';

/** libvips gaussblur's default: the kernel ends where the Gaussian falls below 0.2 of its peak. */
const MIN_AMPLITUDE = 0.2;
/** pixels × taps above which libvips is cheaper than the JS kernel (~12 ns per pixel-tap vs ~2.5 ms a call, measured). */
export const JS_BLUR_MAX_WORK = 200_000;

/** Normalised kernel weights, centre at index `radius`. */
export function gaussianKernel(sigma: number): Float32Array {
  if (!(sigma > 0)) throw new RangeError(`sigma must be positive, got ${sigma}`);
  const radius = Math.max(1, Math.floor(sigma * Math.sqrt(2 * Math.log(1 / MIN_AMPLITUDE))));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  return k;
}

/** The separable blur in JS: rows into a float buffer, then columns, rounding once at the end. */
export function gaussianBlurJs(img: DecodedImage, sigma: number): DecodedImage {
  const { data: src, width, height } = img;
  const k = gaussianKernel(sigma);
  const radius = (k.length - 1) / 2;
  const tmp = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let i = -radius; i <= radius; i++) {
        const xx = x + i < 0 ? 0 : x + i >= width ? width - 1 : x + i;
        const w = k[i + radius]!;
        const o = (row + xx) * 3;
        r += src[o]! * w;
        g += src[o + 1]! * w;
        b += src[o + 2]! * w;
      }
      const o = (row + x) * 3;
      tmp[o] = r;
      tmp[o + 1] = g;
      tmp[o + 2] = b;
    }
  }
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let i = -radius; i <= radius; i++) {
        const yy = y + i < 0 ? 0 : y + i >= height ? height - 1 : y + i;
        const w = k[i + radius]!;
        const o = (yy * width + x) * 3;
        r += tmp[o]! * w;
        g += tmp[o + 1]! * w;
        b += tmp[o + 2]! * w;
      }
      const o = (y * width + x) * 3;
      out[o] = Math.round(r);
      out[o + 1] = Math.round(g);
      out[o + 2] = Math.round(b);
    }
  }
  return { data: out, width, height };
}

/** The same blur by libvips. */
export async function gaussianBlurVips(img: DecodedImage, sigma: number): Promise<DecodedImage> {
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).blur(sigma).raw().toBuffer();
  return { data, width: img.width, height: img.height };
}

/** Blurs with whichever costs less for this region's size and sigma. */
export async function gaussianBlur(img: DecodedImage, sigma: number): Promise<DecodedImage> {
  const taps = gaussianKernel(sigma).length;
  return img.width * img.height * taps <= JS_BLUR_MAX_WORK ? gaussianBlurJs(img, sigma) : gaussianBlurVips(img, sigma);
}
