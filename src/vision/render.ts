import sharp, { type Sharp } from 'sharp';
import type { DecodedImage } from './image.ts';
import type { Box, FaceResult } from './types.ts';

const RED = '#e53935';
const GREEN = '#43a047';

function rawSharp(img: DecodedImage): Sharp {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

/** Integer rectangle of a box grown by `margin` per side, clipped to the frame (null when empty). */
export function clipRect(box: Box, width: number, height: number, margin = 0): Box | null {
  const [x, y, w, h] = box;
  const x0 = Math.max(0, Math.floor(x - w * margin));
  const y0 = Math.max(0, Math.floor(y - h * margin));
  const x1 = Math.min(width, Math.ceil(x + w * (1 + margin)));
  const y1 = Math.min(height, Math.ceil(y + h * (1 + margin)));
  return x1 > x0 && y1 > y0 ? [x0, y0, x1 - x0, y1 - y0] : null;
}

export function checkViolationIndexes(faces: FaceResult[], indexes: number[]): void {
  for (const i of indexes) {
    if (!Number.isInteger(i) || i < 0 || i >= faces.length) {
      throw new RangeError(`violation index ${i} is out of range (0..${faces.length - 1})`);
    }
  }
}

/** JPEG crops of the given faces, with some context around each (for the dispatcher). */
export async function renderFaceCrops(frame: DecodedImage, faces: FaceResult[], indexes: number[], quality = 85): Promise<Buffer[]> {
  checkViolationIndexes(faces, indexes);
  return Promise.all(
    indexes.map(async (i) => {
      const r = clipRect(faces[i]!.box, frame.width, frame.height, 0.25) ?? [0, 0, 1, 1];
      return rawSharp(frame)
        .extract({ left: r[0], top: r[1], width: r[2], height: r[3] })
        .jpeg({ quality })
        .toBuffer();
    }),
  );
}

/**
 * Edge evidence: one JPEG crop per given face (same framing as renderFaceCrops), with every OTHER face that
 * reaches into the crop blurred — the frame never leaves the site, and neither does a bystander's face.
 */
export async function renderPrivateFaceCrops(frame: DecodedImage, faces: FaceResult[], indexes: number[], quality = 85): Promise<Buffer[]> {
  checkViolationIndexes(faces, indexes);
  const crops: Buffer[] = [];
  for (const i of indexes) {
    const r = clipRect(faces[i]!.box, frame.width, frame.height, 0.25) ?? [0, 0, 1, 1];
    const others = faces
      .map((f, j) => (j === i ? null : clipRect(f.box, frame.width, frame.height, 0.1)))
      .filter((o): o is Box => o !== null && o[0] < r[0] + r[2] && o[0] + o[2] > r[0] && o[1] < r[1] + r[3] && o[1] + o[3] > r[1]);
    const source = others.length > 0 ? await blurRegions(frame, others) : frame;
    // At most 512 px a side: enough to recognise a face, and always far below the upload's 256 KiB crop limit.
    const extracted = await rawSharp(source).extract({ left: r[0], top: r[1], width: r[2], height: r[3] }).raw().toBuffer();
    crops.push(
      await sharp(extracted, { raw: { width: r[2], height: r[3], channels: 3 } })
        .resize({ width: 512, height: 512, fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality })
        .toBuffer(),
    );
  }
  return crops;
}

/** Copy of the frame with each given rectangle replaced by a heavy blur (privacy for bystanders). */
export async function blurRegions(frame: DecodedImage, rects: Box[]): Promise<DecodedImage> {
  const data = Buffer.from(frame.data);
  for (const [x, y, w, h] of rects) {
    // Sigma relative to the face size, so features are unrecognisable at any scale.
    const sigma = Math.max(2, Math.max(w, h) / 5);
    const blurred = await rawSharp(frame).extract({ left: x, top: y, width: w, height: h }).blur(sigma).raw().toBuffer();
    for (let row = 0; row < h; row++) {
      blurred.copy(data, ((y + row) * frame.width + x) * 3, row * w * 3, (row + 1) * w * 3);
    }
  }
  return { data, width: frame.width, height: frame.height };
}

/** SVG overlay: one rectangle per face, red for no_mask, green for mask. */
export function boxesSvg(width: number, height: number, faces: FaceResult[]): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 300));
  const rects = faces
    .map((f) => {
      const [x, y, w, h] = f.box.map((v) => Math.round(v * 10) / 10);
      return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${f.violation ? RED : GREEN}" stroke-width="${stroke}"/>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rects}</svg>`;
}

/** Annotated JPEG: faces that are not violations blurred, every face boxed by label. */
export async function renderAnnotatedFrame(frame: DecodedImage, faces: FaceResult[], violationIndexes: number[], quality = 80): Promise<Buffer> {
  checkViolationIndexes(faces, violationIndexes);
  const violations = new Set(violationIndexes);
  const toBlur = faces
    .map((f, i) => (violations.has(i) ? null : clipRect(f.box, frame.width, frame.height, 0.1)))
    .filter((r): r is Box => r !== null);
  const blurred = await blurRegions(frame, toBlur);
  return rawSharp(blurred)
    .composite([{ input: Buffer.from(boxesSvg(frame.width, frame.height, faces)), top: 0, left: 0 }])
    .jpeg({ quality })
    .toBuffer();
}
