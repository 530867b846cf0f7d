import sharp from 'sharp';
import { ImageInputError } from './types.ts';

/** 8-bit sRGB, 3 channels (RGB), row-major, EXIF orientation applied, alpha flattened on white. */
export interface DecodedImage {
  data: Buffer;
  width: number;
  height: number;
}

export type ImageType = 'jpeg' | 'png' | 'webp';

/** Same default as config.ingest.maxFramePixels; callers normally pass the configured value. */
export const DEFAULT_MAX_PIXELS = 16_000_000;

/** Identifies the container from its magic bytes; null for anything we do not accept. */
export function sniffImageType(buf: Buffer): ImageType | null {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (
    buf.length >= 8 &&
    buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47 &&
    buf[4] === 0x0d && buf[5] === 0x0a && buf[6] === 0x1a && buf[7] === 0x0a
  ) {
    return 'png';
  }
  if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') {
    return 'webp';
  }
  return null;
}

/** Names common formats we refuse, so the error says what was received. */
function describeUnsupported(buf: Buffer): string {
  const head = buf.toString('latin1', 0, Math.min(buf.length, 256)).trimStart();
  if (head.startsWith('GIF87a') || head.startsWith('GIF89a')) return 'GIF';
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'SVG';
  if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) return 'BMP';
  if (head.startsWith('II*\0') || head.startsWith('MM\0*')) return 'TIFF';
  if (buf.length >= 12 && buf.toString('latin1', 4, 8) === 'ftyp') return 'HEIF/AVIF/MP4';
  return 'not an image';
}

/**
 * Decodes JPEG / PNG / WebP into packed 8-bit RGB. Every failure is an
 * ImageInputError (never a crash), and the pixel limit is checked from the
 * header before any pixel is decoded, so a decompression bomb costs nothing.
 */
export async function decodeImage(input: Buffer, opts: { maxPixels?: number } = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Buffer.isBuffer(input) || input.length === 0) {
    throw new ImageInputError('empty input', 'EMPTY');
  }
  const type = sniffImageType(input);
  if (!type) {
    throw new ImageInputError(`unsupported image format (${describeUnsupported(input)}); expected JPEG, PNG or WebP`, 'UNSUPPORTED_FORMAT');
  }
  try {
    // One libvips pass. sharp checks limitInputPixels from the header before
    // decoding any pixel, so a decompression bomb still costs nothing; the
    // header is read separately only when this fails, to say why.
    // failOn 'warning' rejects truncated files too (libvips otherwise fills the rest with grey).
    const { data, info } = await sharp(input, { failOn: 'warning', limitInputPixels: maxPixels })
      .autoOrient()
      // White, not black: dark borders would look like hair/faces less often than white ones.
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoder produced ${info.channels} channels`);
    return { data, width: info.width, height: info.height };
  } catch (decodeError) {
    let width: number | undefined;
    let height: number | undefined;
    try {
      const meta = await sharp(input, { limitInputPixels: false }).metadata();
      width = meta.width;
      height = meta.height;
    } catch (err) {
      throw new ImageInputError(`corrupt ${type} header: ${(err as Error).message}`, 'CORRUPT');
    }
    if (!width || !height) throw new ImageInputError(`corrupt ${type}: no dimensions in header`, 'CORRUPT');
    if (width * height > maxPixels) {
      throw new ImageInputError(`image is ${width}x${height} = ${width * height} pixels, above the limit of ${maxPixels}`, 'TOO_LARGE');
    }
    throw new ImageInputError(`corrupt ${type}: ${(decodeError as Error).message}`, 'CORRUPT');
  }
}
