/**
 * "Has the scene changed?" — cheaply, before any detector runs.
 *
 * A frame is reduced to a tiny greyscale thumbnail (32×32 by default, through
 * sharp's shrink-on-load, a few ms even for a large JPEG) and compared with the
 * thumbnail of the camera's last analysed frame. Each thumbnail pixel averages
 * hundreds of source pixels, so sensor noise and JPEG re-compression vanish;
 * the comparison first maps one thumbnail onto the other's mean and contrast,
 * so a global brightness or gain change (auto-exposure, a cloud) is not a
 * change either. What remains is a local change: someone moved, came or went.
 */
import sharp from 'sharp';
import { DEFAULT_MAX_PIXELS } from './image.ts';

export const THUMBNAIL_SIDE = 32;

/** Greyscale thumbnail, side × side bytes, row-major (aspect ratio not kept: only its own camera compares with it). */
export async function frameThumbnail(image: Buffer, opts: { side?: number; maxPixels?: number } = {}): Promise<Uint8Array> {
  const side = opts.side ?? THUMBNAIL_SIDE;
  const { data } = await sharp(image, { limitInputPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS })
    .resize(side, side, { fit: 'fill' })
    .greyscale()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (data.length !== side * side) throw new Error(`thumbnail has ${data.length} bytes, expected ${side * side}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function meanStd(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / a.length) };
}

/** Contrast changes beyond this are a real change (lights switched, lens covered), not exposure drift. */
const MAX_GAIN = 2;

/**
 * How different two thumbnails of one camera are, in grey levels (0–255) of the
 * reference `a`: `b` is first mapped onto `a`'s mean and contrast (global
 * brightness / gain removed), then the per-pixel absolute differences are
 * taken and the `rank`-th largest returned (3rd by default: one or two odd
 * pixels — a flicker, a noisy block — do not count as a change, a person
 * moving changes several thumbnail pixels at once).
 */
export function thumbnailDifference(a: ArrayLike<number>, b: ArrayLike<number>, rank = 3): number {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`thumbnails differ in size (${a.length} vs ${b.length})`);
  const sa = meanStd(a);
  const sb = meanStd(b);
  // A flat thumbnail (lens covered, night) has no contrast to match: compare offsets only.
  let gain = sb.std > 1 && sa.std > 1 ? sa.std / sb.std : 1;
  if (gain > MAX_GAIN || gain < 1 / MAX_GAIN) gain = 1;
  const top: number[] = []; // the `rank` largest differences, descending
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - sa.mean - (b[i]! - sb.mean) * gain);
    if (top.length < rank || d > top[top.length - 1]!) {
      let j = Math.min(top.length, rank - 1);
      top[j] = d;
      while (j > 0 && top[j - 1]! < d) {
        top[j] = top[j - 1]!;
        top[j - 1] = d;
        j--;
      }
    }
  }
  return top[Math.min(rank, top.length) - 1]!;
}
