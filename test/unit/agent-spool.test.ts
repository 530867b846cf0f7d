import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { evictionsToAdmit, extensionForImage, parseSpoolEntryName, spoolEntryName } from '../../src/agent/spool-policy.ts';
import { openSpool } from '../../src/agent/spool.ts';
import { ffmpegArgs } from '../../src/agent/sources.ts';

const JPEG = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`frame-${n}`), Buffer.from([0xff, 0xd9])]);
const dirs: string[] = [];
async function tmp() {
  const d = await mkdtemp(path.join(os.tmpdir(), 'agent-spool-'));
  dirs.push(d);
  return d;
}
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('spool policy', () => {
  it('names sort in capture order and round-trip', () => {
    const a = spoolEntryName(new Date(999), 5, 'jpg');
    const b = spoolEntryName(new Date(1000), 0, 'jpg');
    assert.ok(a < b);
    assert.deepEqual(parseSpoolEntryName(b), { name: b, capturedAt: new Date(1000), seq: 0, ext: 'jpg' });
    assert.equal(parseSpoolEntryName('x.tmp'), null);
    assert.throws(() => spoolEntryName(new Date(Number.NaN), 0, 'jpg'), RangeError);
  });

  it('evicts just enough oldest entries to admit one more', () => {
    assert.equal(evictionsToAdmit(0, 3), 0);
    assert.equal(evictionsToAdmit(2, 3), 0);
    assert.equal(evictionsToAdmit(3, 3), 1);
    assert.equal(evictionsToAdmit(7, 3), 5);
    assert.throws(() => evictionsToAdmit(0, 0), RangeError);
  });

  it('recognises image types by magic bytes', () => {
    assert.equal(extensionForImage(JPEG(1)), 'jpg');
    assert.equal(extensionForImage(Buffer.from('89504e470d0a1a0a0000', 'hex')), 'png');
    assert.equal(extensionForImage(Buffer.from('RIFF\0\0\0\0WEBPVP8 ')), 'webp');
    assert.equal(extensionForImage(Buffer.from('hello')), null);
  });
});

describe('on-disk spool', () => {
  it('returns frames oldest first, drops the oldest when full, and survives a reopen', async () => {
    const dir = await tmp();
    const spool = await openSpool(dir, 3);
    for (let i = 0; i < 3; i++) assert.deepEqual(await spool.push(JPEG(i), new Date(1000 + i), 'jpg'), []);
    const evicted = await spool.push(JPEG(3), new Date(1003), 'jpg');
    assert.equal(evicted.length, 1);
    assert.deepEqual(evicted[0]!.capturedAt, new Date(1000));
    assert.equal(spool.size(), 3);
    assert.equal((await readdir(dir)).length, 3, 'evicted file deleted');

    const reopened = await openSpool(dir, 3);
    assert.equal(reopened.size(), 3);
    const seen: string[] = [];
    for (let head = await reopened.peek(); head; head = await reopened.peek()) {
      seen.push(head.image.toString('latin1', 4, head.image.length - 2));
      assert.equal(head.entry.capturedAt.getTime(), 1000 + Number(seen.at(-1)!.split('-')[1]));
      await reopened.remove(head.entry);
    }
    assert.deepEqual(seen, ['frame-1', 'frame-2', 'frame-3']);
    assert.deepEqual(await readdir(dir), []);
  });

  it('discards half-written temp files and trims to a smaller max on open', async () => {
    const dir = await tmp();
    const spool = await openSpool(dir, 10);
    for (let i = 0; i < 5; i++) await spool.push(JPEG(i), new Date(2000 + i), 'jpg');
    await writeFile(path.join(dir, 'crash.jpg.tmp'), 'partial');
    const smaller = await openSpool(dir, 2);
    assert.equal(smaller.size(), 2);
    assert.deepEqual((await smaller.peek())!.entry.capturedAt, new Date(2003));
    assert.equal((await readdir(dir)).length, 2);
  });

  it('keeps capture order when a late frame arrives', async () => {
    const spool = await openSpool(await tmp(), 5);
    await spool.push(JPEG(2), new Date(3002), 'jpg');
    await spool.push(JPEG(1), new Date(3001), 'jpg');
    assert.deepEqual((await spool.peek())!.entry.capturedAt, new Date(3001));
  });
});

describe('ffmpeg arguments', () => {
  it('files are read at native rate (optionally looped), RTSP over TCP, MJPEG to stdout at the wanted fps', () => {
    const file = ffmpegArgs('/v/cam.mp4', 2, { loop: true });
    assert.deepEqual(file.slice(file.indexOf('-re'), file.indexOf('-i') + 2), ['-re', '-stream_loop', '-1', '-i', '/v/cam.mp4']);
    assert.ok(file.join(' ').endsWith('-vf fps=2 -f image2pipe -vcodec mjpeg -q:v 5 pipe:1'));
    const rtsp = ffmpegArgs('rtsp://u:p@cam/stream', 0.5);
    assert.deepEqual(rtsp.slice(rtsp.indexOf('-rtsp_transport'), rtsp.indexOf('-i') + 2), ['-rtsp_transport', 'tcp', '-i', 'rtsp://u:p@cam/stream']);
    assert.ok(!rtsp.includes('-re'));
    assert.throws(() => ffmpegArgs('x.mp4', 0), RangeError);
  });
});
