import sharp, { type Sharp } from 'sharp';
import { gaussianBlur } from './blur.ts';
import { decodeImage, type DecodedImage } from './image.ts';
import type { Box, FaceResult } from './types.ts';

const RED = '#e53935';
const NEUTRAL = '#9e9e9e';

/** Margin (per side) of the blurred rectangle around a face box: hair and ears are identifying too. */
export const BLUR_MARGIN = 0.1;
/** Margin (per side) of a face crop: some context around the face for the dispatcher. */
export const FACE_CROP_MARGIN = 0.25;

function rawSharp(img: DecodedImage): Sharp {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

/** Integer rectangle of a box grown by `margin` per side, clipped to the frame (null when empty). */
export function clipRect(box: Readonly<Box>, width: number, height: number, margin = 0): Box | null {
  const [x, y, w, h] = box;
  const x0 = Math.max(0, Math.floor(x - w * margin));
  const y0 = Math.max(0, Math.floor(y - h * margin));
  const x1 = Math.min(width, Math.ceil(x + w * (1 + margin)));
  const y1 = Math.min(height, Math.ceil(y + h * (1 + margin)));
  return x1 > x0 && y1 > y0 ? [x0, y0, x1 - x0, y1 - y0] : null;
}

/** Overlap of two integer rectangles (null when they do not overlap). */
export function intersectRect(a: Box, b: Box): Box | null {
  const x0 = Math.max(a[0], b[0]);
  const y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  return x1 > x0 && y1 > y0 ? [x0, y0, x1 - x0, y1 - y0] : null;
}

export function checkViolationIndexes(faces: FaceResult[], indexes: number[]): void {
  for (const i of indexes) {
    if (!Number.isInteger(i) || i < 0 || i >= faces.length) {
      throw new RangeError(`violation index ${i} is out of range (0..${faces.length - 1})`);
    }
  }
}

/** Sigma relative to the face size, so features are unrecognisable at any scale. */
function blurSigma(rect: Box): number {
  return Math.max(2, Math.max(rect[2], rect[3]) / 5);
}

/** A region to blur: `rect` in image pixels, `sigma` from the size of the whole face it belongs to. */
interface BlurRegion {
  rect: Box;
  sigma: number;
}

/** Copies a rectangle out of a packed RGB image. */
function extractRect(img: DecodedImage, [x0, y0, w, h]: Box): DecodedImage {
  const data = Buffer.alloc(w * h * 3);
  for (let row = 0; row < h; row++) {
    const src = ((y0 + row) * img.width + x0) * 3;
    img.data.copy(data, row * w * 3, src, src + w * 3);
  }
  return { data, width: w, height: h };
}

async function blurInPlace(img: DecodedImage, regions: BlurRegion[]): Promise<DecodedImage> {
  const data = Buffer.from(img.data);
  for (const { rect, sigma } of regions) {
    const [x, y, w, h] = rect;
    // Only the region is blurred (not the whole frame per face): a crowd costs little more than one face.
    const blurred = (await gaussianBlur(extractRect({ data, width: img.width, height: img.height }, rect), sigma)).data;
    for (let row = 0; row < h; row++) {
      blurred.copy(data, ((y + row) * img.width + x) * 3, row * w * 3, (row + 1) * w * 3);
    }
  }
  return { data, width: img.width, height: img.height };
}

/**
 * Puts back, in `blurred`, the original pixels of the sharp faces' own boxes that only another face's margin
 * (BLUR_MARGIN: its hair and ears) covered: in a crowd those margins reach into the face beside them, and blurred
 * half of it. Where two faces' boxes themselves overlap, the blur stays: another person's face is never shown to
 * keep ours whole. Boxes are integer rectangles in the image's pixels.
 */
function keepFacesSharp(original: DecodedImage, blurred: DecodedImage, sharpBoxes: readonly Box[], otherBoxes: readonly Box[]): void {
  const { width } = original;
  for (const [sx, sy, sw, sh] of sharpBoxes) {
    for (let y = sy; y < sy + sh; y++) {
      // The spans of this row that other faces' boxes cover stay blurred; the rest of the row of our box is ours.
      const covered = otherBoxes
        .filter(([, oy, , oh]) => y >= oy && y < oy + oh)
        .map(([ox, , ow]) => [Math.max(sx, ox), Math.min(sx + sw, ox + ow)] as const)
        .filter(([a, b]) => b > a)
        .sort((p, q) => p[0] - q[0]);
      const keep = (from: number, to: number) => original.data.copy(blurred.data, (y * width + from) * 3, (y * width + from) * 3, (y * width + to) * 3);
      let x = sx;
      for (const [a, b] of covered) {
        if (a > x) keep(x, a);
        x = Math.max(x, b);
      }
      if (x < sx + sw) keep(x, sx + sw);
    }
  }
}

/** Every other face blurred (box grown by BLUR_MARGIN), then the sharp faces' own boxes put back where only margins covered them. */
async function blurOthers(frame: DecodedImage, sharpFaces: readonly Readonly<Box>[], otherFaces: readonly Readonly<Box>[]): Promise<DecodedImage> {
  const rects = (boxes: readonly Readonly<Box>[], margin = 0) => boxes.map((b) => clipRect(b, frame.width, frame.height, margin)).filter((r): r is Box => r !== null);
  const blurred = await blurRegions(frame, rects(otherFaces, BLUR_MARGIN));
  keepFacesSharp(frame, blurred, rects(sharpFaces), rects(otherFaces));
  return blurred;
}

/**
 * Edge evidence: one JPEG crop per given face (same framing as renderFaceCrops), with every OTHER face that
 * reaches into the crop blurred — the frame never leaves the site, and neither does a bystander's face.
 */
export async function renderPrivateFaceCrops(frame: DecodedImage, faces: FaceResult[], indexes: number[], quality = 85): Promise<Buffer[]> {
  checkViolationIndexes(faces, indexes);
  const crops: Buffer[] = [];
  for (const i of indexes) {
    const r = clipRect(faces[i]!.box, frame.width, frame.height, FACE_CROP_MARGIN) ?? [0, 0, 1, 1];
    const others = faces.filter((f, j) => {
      const g = j === i ? null : clipRect(f.box, frame.width, frame.height, BLUR_MARGIN);
      return g !== null && intersectRect(g, r) !== null;
    });
    const source = others.length > 0 ? await blurOthers(frame, [faces[i]!.box], others.map((f) => f.box)) : frame;
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
  return blurInPlace(frame, rects.map((rect) => ({ rect, sigma: blurSigma(rect) })));
}

/**
 * JPEG crops of the given faces, with some context around each (for the dispatcher). Every OTHER
 * face of the frame (bystanders and other violators alike) that reaches into a crop is blurred
 * there first, as in the stored frame (its box grown by BLUR_MARGIN): a crop shows one person.
 */
export async function renderFaceCrops(frame: DecodedImage, faces: FaceResult[], indexes: number[], quality = 85): Promise<Buffer[]> {
  checkViolationIndexes(faces, indexes);
  const grown = faces.map((f) => clipRect(f.box, frame.width, frame.height, BLUR_MARGIN));
  return Promise.all(
    indexes.map(async (i) => {
      const r = clipRect(faces[i]!.box, frame.width, frame.height, FACE_CROP_MARGIN) ?? [0, 0, 1, 1];
      const others: BlurRegion[] = [];
      grown.forEach((g, j) => {
        const part = j !== i && g ? intersectRect(g, r) : null;
        if (part) others.push({ rect: [part[0] - r[0], part[1] - r[1], part[2], part[3]], sigma: blurSigma(g!) });
      });
      const original = extractRect(frame, r);
      const crop = await blurInPlace(original, others);
      // In crop coordinates: this face's own box, and the parts of the others' boxes inside the crop.
      const inCrop = (b: Box): Box => [b[0] - r[0], b[1] - r[1], b[2], b[3]];
      const own = clipRect(faces[i]!.box, frame.width, frame.height);
      const otherBoxes = faces.flatMap((f, j) => {
        const o = j === i ? null : clipRect(f.box, frame.width, frame.height);
        const part = o && intersectRect(o, r);
        return part ? [inCrop(part)] : [];
      });
      if (own) keepFacesSharp(original, crop, [inCrop(own)], otherBoxes);
      return rawSharp(crop).jpeg({ quality }).toBuffer();
    }),
  );
}

/**
 * The frame as stored for evidence: faces that are not violations blurred, NO overlay. It is never
 * served as it is: each alert's view is rendered from it on request (renderAlertFrame), with every
 * face that is not one of that alert's people blurred too.
 */
export async function renderStoredFrame(frame: DecodedImage, faces: FaceResult[], violationIndexes: number[], quality = 90): Promise<Buffer> {
  checkViolationIndexes(faces, violationIndexes);
  const violations = new Set(violationIndexes);
  const boxes = (violating: boolean) => faces.filter((_, i) => violations.has(i) === violating).map((f) => f.box);
  return rawSharp(await blurOthers(frame, boxes(true), boxes(false))).jpeg({ quality }).toBuffer();
}

/** SVG overlay: the alert's people boxed in red (thicker), every other (blurred) face in neutral grey. */
export function boxesSvg(width: number, height: number, people: readonly Readonly<Box>[], others: readonly Readonly<Box>[]): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 300));
  const rect = (box: Readonly<Box>, colour: string, w: number) => {
    const [x, y, bw, bh] = box.map((v) => Math.round(v * 10) / 10);
    return `<rect x="${x}" y="${y}" width="${bw}" height="${bh}" fill="none" stroke="${colour}" stroke-width="${w}"/>`;
  };
  const rects = [...others.map((b) => rect(b, NEUTRAL, Math.max(1, Math.round(stroke / 2)))), ...people.map((b) => rect(b, RED, stroke))].join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rects}</svg>`;
}

export interface AlertFramePlan {
  /** Faces of this alert's people: left as stored (sharp), boxed in red. */
  people: readonly Readonly<Box>[];
  /** Every other face of the frame: blurred (box grown by BLUR_MARGIN), boxed in grey. */
  others: readonly Readonly<Box>[];
}

/**
 * One alert's view of a stored frame: every face that is not one of the alert's people is blurred
 * (again, for those the stored frame already blurred), then the boxes are drawn. Where faces overlap
 * the blur wins: another person's face is never shown to keep ours whole (only their margin yields).
 */
export async function renderAlertFrame(stored: Buffer, plan: AlertFramePlan, opts: { maxPixels?: number; quality?: number } = {}): Promise<Buffer> {
  const frame = await decodeImage(stored, { maxPixels: opts.maxPixels });
  const blurred = await blurOthers(frame, plan.people, plan.others);
  return rawSharp(blurred)
    .composite([{ input: Buffer.from(boxesSvg(frame.width, frame.height, plan.people, plan.others)), top: 0, left: 0 }])
    .jpeg({ quality: opts.quality ?? 80 })
    .toBuffer();
}
