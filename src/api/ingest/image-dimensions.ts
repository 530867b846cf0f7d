import type { ImageType } from '../../vision/image.ts';

/**
 * Width and height read from the image header alone (no decoding), so the
 * ingestion hot path can refuse oversized frames for the cost of a few byte
 * reads. null when the header is truncated or malformed.
 */
export function readImageDimensions(buf: Buffer, type: ImageType): { width: number; height: number } | null {
  try {
    if (type === 'png') {
      // Signature (8) + IHDR length (4) + "IHDR" (4), then width, height (big-endian u32).
      if (buf.length < 24 || buf.toString('latin1', 12, 16) !== 'IHDR') return null;
      return positive(buf.readUInt32BE(16), buf.readUInt32BE(20));
    }
    if (type === 'webp') return webp(buf);
    return jpeg(buf);
  } catch {
    return null; // a read past the end: truncated header
  }
}

function positive(width: number, height: number) {
  return width > 0 && height > 0 ? { width, height } : null;
}

function jpeg(buf: Buffer) {
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return null;
    const marker = buf[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    // Standalone markers carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const length = buf.readUInt16BE(i + 2);
    // SOF0..SOF15 hold the frame size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return positive(buf.readUInt16BE(i + 7), buf.readUInt16BE(i + 5));
    }
    if (marker === 0xda || length < 2) return null; // scan data before any frame header
    i += 2 + length;
  }
  return null;
}

function webp(buf: Buffer) {
  const chunk = buf.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') {
    // Key frame start code 9d 01 2a, then 14-bit width / height.
    if (buf[23] !== 0x9d || buf[24] !== 0x01 || buf[25] !== 0x2a) return null;
    return positive(buf.readUInt16LE(26) & 0x3fff, buf.readUInt16LE(28) & 0x3fff);
  }
  if (chunk === 'VP8L') {
    if (buf[20] !== 0x2f) return null;
    const bits = buf.readUInt32LE(21);
    return positive((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8X') {
    return positive(buf.readUIntLE(24, 3) + 1, buf.readUIntLE(27, 3) + 1);
  }
  return null;
}
