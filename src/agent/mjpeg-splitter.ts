/**
 * Splits a byte stream of concatenated JPEG images (ffmpeg `-f image2pipe
 * -vcodec mjpeg`) into whole images. It walks the JPEG marker segments rather
 * than searching for the first FF D9, so an EXIF thumbnail (a JPEG inside an
 * APPn segment) does not cut a frame short; inside entropy-coded data FF is
 * always followed by 00 or a restart marker, so the first other marker there
 * is the real end. Pure: push() chunks in, get finished frames out.
 */
export class MjpegFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MjpegFormatError';
  }
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

/** Markers without a length field: SOI, EOI, TEM, RST0–7. */
function standalone(marker: number): boolean {
  return marker === SOI || marker === EOI || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

export interface MjpegSplitterOptions {
  /** A frame growing past this many bytes is an error (protects memory from a garbage stream). */
  maxFrameBytes?: number;
}

export class MjpegSplitter {
  private buffer: Buffer = Buffer.alloc(0);
  /** Where scanning resumes inside `buffer`, so bytes are not re-scanned on every push. */
  private pos = 0;
  /** true while inside entropy-coded data (after SOS). */
  private inScan = false;
  private started = false;
  private readonly maxFrameBytes: number;
  /** Bytes skipped before a frame's SOI (noise between frames). */
  skippedBytes = 0;

  constructor(opts: MjpegSplitterOptions = {}) {
    this.maxFrameBytes = opts.maxFrameBytes ?? 32 * 1024 * 1024;
  }

  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      const frame = this.next();
      if (!frame) break;
      frames.push(frame);
    }
    if (this.started && this.buffer.length > this.maxFrameBytes) {
      throw new MjpegFormatError(`JPEG frame exceeds ${this.maxFrameBytes} bytes without an end marker`);
    }
    return frames;
  }

  /** Bytes held for an unfinished frame. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  private next(): Buffer | null {
    const buf = this.buffer;
    if (!this.started) {
      const soi = findSoi(buf, 0);
      if (soi < 0) {
        // Keep a trailing FF: it may be the first half of the next SOI.
        const keep = buf.length > 0 && buf[buf.length - 1] === 0xff ? 1 : 0;
        this.skippedBytes += buf.length - keep;
        this.buffer = buf.subarray(buf.length - keep);
        return null;
      }
      this.skippedBytes += soi;
      this.buffer = buf.subarray(soi);
      this.started = true;
      this.inScan = false;
      this.pos = 2;
      return this.next();
    }
    let i = this.pos;
    for (;;) {
      if (this.inScan) {
        // Entropy-coded data: find FF followed by a marker that is not 00 / RSTn / fill FF.
        const ff = buf.indexOf(0xff, i);
        if (ff < 0 || ff + 1 >= buf.length) {
          this.pos = ff < 0 ? buf.length : ff;
          return null;
        }
        const m = buf[ff + 1]!;
        if (m === 0x00 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) {
          i = m === 0xff ? ff + 1 : ff + 2;
          continue;
        }
        this.inScan = false;
        i = ff;
        continue;
      }
      // Between segments: expect FF <marker>.
      if (i + 1 >= buf.length) {
        this.pos = i;
        return null;
      }
      if (buf[i] !== 0xff) throw new MjpegFormatError(`expected a JPEG marker at byte ${i}, found 0x${buf[i]!.toString(16)}`);
      const marker = buf[i + 1]!;
      if (marker === 0xff) {
        i += 1; // fill byte
        continue;
      }
      if (marker === EOI) {
        const end = i + 2;
        const frame = Buffer.from(buf.subarray(0, end));
        this.buffer = buf.subarray(end);
        this.started = false;
        this.pos = 0;
        return frame;
      }
      if (standalone(marker)) {
        i += 2;
        continue;
      }
      if (i + 3 >= buf.length) {
        this.pos = i;
        return null;
      }
      const length = buf.readUInt16BE(i + 2);
      if (length < 2) throw new MjpegFormatError(`JPEG segment 0x${marker.toString(16)} has invalid length ${length}`);
      if (i + 2 + length > buf.length) {
        this.pos = i;
        return null;
      }
      i += 2 + length;
      if (marker === SOS) this.inScan = true;
    }
  }
}

function findSoi(buf: Buffer, from: number): number {
  let i = buf.indexOf(0xff, from);
  while (i >= 0 && i + 1 < buf.length) {
    if (buf[i + 1] === SOI) return i;
    i = buf.indexOf(0xff, i + 1);
  }
  return -1;
}
