/**
 * Short synthetic "video" clips from still scenes, for bench:incidents: every
 * frame is the still shifted by a few pixels, with brightness and sensor-noise
 * changes and a fresh JPEG re-compression — what a fixed CCTV camera sends of
 * a scene where people stand still. Deterministic for a given seed.
 */
import sharp from 'sharp';
import { mulberry32 } from '../../src/vision/train/rng.ts';

export interface ClipOptions {
  frames: number;
  fps: number;
  /** Largest shift, px, in each direction. */
  maxShift: number;
  seed: number;
  /** Fixed brightness factor instead of a random one in 0.85–1.15 (static-scene case). */
  brightness?: number;
  /** Content drifts this many px per frame to the right, on top of the jitter (moving case). */
  panPerFrame?: number;
}

export const DEFAULT_CLIP: ClipOptions = { frames: 8, fps: 2, maxShift: 4, seed: 1 };

export interface ClipFrame {
  index: number;
  /** Offset from the first frame's capture time, ms. */
  offsetMs: number;
  /** Content moved by (dx, dy): a point (x, y) of the still is at (x + dx, y + dy) in this frame. */
  dx: number;
  dy: number;
  brightness: number;
  noiseSigma: number;
  jpegQuality: number;
  jpeg: Buffer;
}

/** mulberry32, as training uses: reproducible augmentation. */
export const seededRandom = mulberry32;

/** A stable 32-bit seed from a name (FNV-1a), so each still gets its own clip. */
export function seedFor(name: string, base: number): number {
  let h = 0x811c9dc5 ^ base;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export async function makeClip(still: Buffer, opts: ClipOptions = DEFAULT_CLIP): Promise<ClipFrame[]> {
  const rand = seededRandom(opts.seed);
  const { data, info } = await sharp(still).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const frames: ClipFrame[] = [];
  for (let index = 0; index < opts.frames; index++) {
    // The first frame is the still itself (shift 0) so annotations apply unchanged to it.
    // The random draws stay in the same order whatever the options, so default clips never change.
    const dx = (index === 0 ? 0 : Math.round((rand() * 2 - 1) * opts.maxShift) || 0) + index * (opts.panPerFrame ?? 0);
    const dy = index === 0 ? 0 : Math.round((rand() * 2 - 1) * opts.maxShift) || 0;
    const drawn = 0.85 + rand() * 0.3;
    const brightness = opts.brightness ?? drawn;
    const noiseSigma = 1 + rand() * 5;
    const jpegQuality = Math.round(60 + rand() * 30);
    const out = Buffer.alloc(width * height * channels);
    for (let y = 0; y < height; y++) {
      // Edge pixels repeat where the shift uncovers the border.
      const sy = Math.min(height - 1, Math.max(0, y - dy));
      for (let x = 0; x < width; x++) {
        const sx = Math.min(width - 1, Math.max(0, x - dx));
        const src = (sy * width + sx) * channels;
        const dst = (y * width + x) * channels;
        for (let c = 0; c < channels; c++) {
          const v = data[src + c]! * brightness + gaussian(rand) * noiseSigma;
          out[dst + c] = Math.min(255, Math.max(0, Math.round(v)));
        }
      }
    }
    const jpeg = await sharp(out, { raw: { width, height, channels } }).jpeg({ quality: jpegQuality }).toBuffer();
    frames.push({ index, offsetMs: Math.round((index * 1000) / opts.fps), dx, dy, brightness, noiseSigma, jpegQuality, jpeg });
  }
  return frames;
}
