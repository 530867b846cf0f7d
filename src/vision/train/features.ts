import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decodeImage, type DecodedImage } from '../image.ts';
import { ImageInputError, type Box } from '../types.ts';
import { resizeToInput } from '../backbone.ts';
import { CROP_MARGIN, cropRect, extractRgb } from '../crop.ts';

/** Product decoder, with a lenient fallback: some dataset JPEGs carry harmless decoder warnings the strict decoder refuses. */
export async function decodeForTraining(file: string): Promise<DecodedImage> {
  const bytes = await readFile(file);
  try {
    return await decodeImage(bytes);
  } catch (err) {
    if (!(err instanceof ImageInputError) || err.code !== 'CORRUPT') throw err;
    const { data, info } = await sharp(bytes).autoOrient().toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  }
}

/**
 * A dataset file as the classifier input: cropped to `face` grown by the
 * run-time margin when given, then stretched to 224×224 like run-time crops.
 */
export async function loadInput224(file: string, face: Box | null = null): Promise<Buffer> {
  let img = await decodeForTraining(file);
  if (face) img = extractRgb(img, cropRect(face, img.width, img.height, CROP_MARGIN));
  return resizeToInput(img);
}
