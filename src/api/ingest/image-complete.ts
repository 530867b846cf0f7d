import type { ImageType } from '../../vision/image.ts';

/**
 * Whether an image body is complete, from its last bytes or its container size
 * alone (no decoding, so it costs nothing on the ingestion hot path). A frame
 * cut short in transit, or random bytes behind a valid header, is refused at the
 * edge with 422 instead of failing later in a worker.
 *
 * - JPEG: ends with the EOI marker FF D9 (a few trailing padding bytes allowed,
 *   as some encoders append zeros or a newline).
 * - PNG: ends with the IEND chunk (plus up to the same slack).
 * - WebP: the RIFF size field matches the body length (RIFF pads to even sizes).
 */
const TRAILING_SLACK = 64;
const PNG_IEND = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

export function isCompleteImage(buf: Buffer, type: ImageType): boolean {
  if (type === 'jpeg') {
    const from = Math.max(2, buf.length - TRAILING_SLACK - 2);
    for (let i = buf.length - 2; i >= from; i--) {
      if (buf[i] === 0xff && buf[i + 1] === 0xd9) return buf.subarray(i + 2).every((b) => b === 0x00 || b === 0x0a || b === 0x0d || b === 0xff);
    }
    return false;
  }
  if (type === 'png') {
    const at = buf.lastIndexOf(PNG_IEND);
    return at >= 8 && buf.length - (at + PNG_IEND.length) <= TRAILING_SLACK;
  }
  if (buf.length < 12) return false;
  const riffSize = buf.readUInt32LE(4) + 8;
  return riffSize === buf.length || riffSize + 1 === buf.length;
}
