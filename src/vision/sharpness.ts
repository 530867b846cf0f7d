/**
 * Face-crop sharpness for best-shot selection: variance of the 4-neighbour
 * Laplacian of the grey face region, sampled on a grid of at most 64×64 points
 * so a large face costs the same as a small one. Higher = sharper.
 */
import { decodeImage, type DecodedImage } from './image.ts';
import type { Box } from './types.ts';

const GRID = 64;

export function laplacianVariance(image: DecodedImage, box: readonly [number, number, number, number]): number {
  const x0 = Math.max(0, Math.floor(box[0]));
  const y0 = Math.max(0, Math.floor(box[1]));
  const x1 = Math.min(image.width - 1, Math.ceil(box[0] + box[2]) - 1);
  const y1 = Math.min(image.height - 1, Math.ceil(box[1] + box[3]) - 1);
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  if (w < 3 || h < 3) return 0;
  const step = Math.max(1, Math.floor(Math.max(w, h) / GRID));
  const grey = (x: number, y: number): number => {
    const i = (y * image.width + x) * 3;
    return 0.299 * image.data[i]! + 0.587 * image.data[i + 1]! + 0.114 * image.data[i + 2]!;
  };
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  for (let y = y0 + step; y <= y1 - step; y += step) {
    for (let x = x0 + step; x <= x1 - step; x += step) {
      const l = grey(x - step, y) + grey(x + step, y) + grey(x, y - step) + grey(x, y + step) - 4 * grey(x, y);
      n++;
      sum += l;
      sumSq += l * l;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return Math.max(0, sumSq / n - mean * mean);
}

/** Sharpness of each box of one frame (encoded: decoded once here; or its pixels, already decoded by the caller). */
export async function faceSharpness(frame: Buffer | DecodedImage, boxes: readonly Box[], opts: { maxPixels?: number } = {}): Promise<number[]> {
  if (boxes.length === 0) return [];
  const image = Buffer.isBuffer(frame) ? await decodeImage(frame, opts) : frame;
  return boxes.map((b) => laplacianVariance(image, b));
}
