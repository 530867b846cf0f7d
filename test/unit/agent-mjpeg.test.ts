import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { MjpegFormatError, MjpegSplitter } from '../../src/agent/mjpeg-splitter.ts';

const DATASETS = path.join(process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared'), 'datasets');
const JPEGS = [
  path.join(DATASETS, 'prajna', 'without_mask', '10.jpg'),
  path.join(DATASETS, 'chandrikadeb7', 'with_mask', '0323.jpg'),
  path.join(DATASETS, 'prajna', 'without_mask', '0.jpg'),
].map((f) => readFileSync(f));

/** Feeds `stream` in chunks of the given sizes (cycled) and collects frames. */
function split(stream: Buffer, sizes: number[]): Buffer[] {
  const s = new MjpegSplitter();
  const out: Buffer[] = [];
  let i = 0;
  let k = 0;
  while (i < stream.length) {
    const n = sizes[k++ % sizes.length]!;
    out.push(...s.push(stream.subarray(i, i + n)));
    i += n;
  }
  return out;
}

/** A JPEG with another whole JPEG (a thumbnail) inside an APP1 segment, as EXIF does. */
function withEmbeddedThumbnail(outer: Buffer, thumb: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from('Exif\0\0'), thumb]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([outer.subarray(0, 2), header, payload, outer.subarray(2)]);
}

describe('MjpegSplitter', () => {
  it('returns each JPEG of a concatenated stream whole, whatever the chunking', () => {
    const stream = Buffer.concat(JPEGS);
    for (const sizes of [[stream.length], [1], [2, 3, 5, 7], [4096], [65536, 13]]) {
      const frames = split(stream, sizes);
      assert.equal(frames.length, JPEGS.length, `chunks ${sizes}`);
      frames.forEach((f, i) => assert.ok(f.equals(JPEGS[i]!), `frame ${i} differs (chunks ${sizes})`));
    }
  });

  it('returns frames that decode, and holds back an unfinished one', async () => {
    const s = new MjpegSplitter();
    const first = s.push(Buffer.concat([JPEGS[0]!, JPEGS[1]!.subarray(0, 1000)]));
    assert.equal(first.length, 1);
    assert.equal(s.pendingBytes, 1000);
    const meta = await sharp(first[0]!).metadata();
    assert.equal(meta.format, 'jpeg');
    const rest = s.push(JPEGS[1]!.subarray(1000));
    assert.equal(rest.length, 1);
    assert.ok(rest[0]!.equals(JPEGS[1]!));
    assert.equal(s.pendingBytes, 0);
  });

  it('is not cut short by a thumbnail JPEG embedded in an APP1 segment', async () => {
    const thumb = await sharp(JPEGS[0]!).resize(32, 32).jpeg().toBuffer();
    const tricky = withEmbeddedThumbnail(JPEGS[1]!, thumb);
    const frames = split(Buffer.concat([tricky, JPEGS[2]!]), [777]);
    assert.equal(frames.length, 2);
    assert.ok(frames[0]!.equals(tricky));
    assert.ok(frames[1]!.equals(JPEGS[2]!));
  });

  it('skips garbage before a frame and counts it', () => {
    const s = new MjpegSplitter();
    const frames = s.push(Buffer.concat([Buffer.from('noise\xff\x00'), JPEGS[0]!]));
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.equals(JPEGS[0]!));
    assert.ok(s.skippedBytes >= 5);
  });

  it('rejects a corrupt segment structure and a runaway frame', () => {
    const bad = Buffer.from([0xff, 0xd8, 0x12, 0x34, 0x00]);
    assert.throws(() => new MjpegSplitter().push(bad), MjpegFormatError);
    const s = new MjpegSplitter({ maxFrameBytes: 500 });
    assert.throws(() => s.push(JPEGS[0]!.subarray(0, 2000)), MjpegFormatError);
  });
});
