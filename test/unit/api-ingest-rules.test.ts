import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { parseCapturedAt } from '../../src/api/ingest/captured-at.ts';
import { readImageDimensions } from '../../src/api/ingest/image-dimensions.ts';
import { createKeyThrottle } from '../../src/api/ingest/throttle.ts';
import { decodeCursor, encodeCursor, CursorError } from '../../src/api/queries/cursor.ts';
import { snapshotFile } from '../../src/api/routes/snapshots.ts';
import { snapshotUrl } from '../../src/services/alert-view.ts';
import { defaultAssetsDir } from '../../src/config/config.ts';

const now = new Date('2026-11-28T10:00:00.000Z');

test('capturedAt: absent → now; ISO with zone → that time', () => {
  assert.deepEqual(parseCapturedAt(undefined, now), { ok: true, value: now });
  const r = parseCapturedAt('2026-11-28T09:59:30.250+01:00', now);
  assert.ok(r.ok && r.value.toISOString() === '2026-11-28T08:59:30.250Z');
});

test('capturedAt: garbage, zoneless, impossible or > 5 min in the future → refused with a reason', () => {
  for (const raw of ['yesterday', '2026-11-28', '2026-11-28T10:00:00', '2026-02-31T25:00:00Z', '1e12']) {
    const r = parseCapturedAt(raw, now);
    assert.equal(r.ok, false, raw);
  }
  assert.equal(parseCapturedAt('2026-11-28T10:04:59Z', now).ok, true);
  const future = parseCapturedAt('2026-11-28T10:05:01Z', now);
  assert.ok(!future.ok && /future/.test(future.reason));
});

test('image dimensions from headers match sharp for JPEG, PNG, WebP (lossy and lossless)', async () => {
  const assets = process.env.MASKWATCH_ASSETS || defaultAssetsDir();
  const jpeg = readFileSync(path.join(assets, 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));
  const meta = await sharp(jpeg).metadata();
  assert.deepEqual(readImageDimensions(jpeg, 'jpeg'), { width: meta.width, height: meta.height });
  const img = sharp({ create: { width: 333, height: 217, channels: 3, background: '#123456' } });
  assert.deepEqual(readImageDimensions(await img.clone().png().toBuffer(), 'png'), { width: 333, height: 217 });
  assert.deepEqual(readImageDimensions(await img.clone().webp().toBuffer(), 'webp'), { width: 333, height: 217 });
  assert.deepEqual(readImageDimensions(await img.clone().webp({ lossless: true }).toBuffer(), 'webp'), { width: 333, height: 217 });
  assert.deepEqual(readImageDimensions(await img.clone().jpeg({ progressive: true }).toBuffer(), 'jpeg'), { width: 333, height: 217 });
  const alpha = await sharp({ create: { width: 40, height: 30, channels: 4, background: '#12345680' } }).webp().toBuffer();
  assert.deepEqual(readImageDimensions(alpha, 'webp'), { width: 40, height: 30 }); // VP8X container
});

test('image dimensions: truncated or corrupt headers → null', () => {
  assert.equal(readImageDimensions(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00]), 'jpeg'), null);
  assert.equal(readImageDimensions(Buffer.from('\x89PNG\r\n\x1a\n'), 'png'), null);
  assert.equal(readImageDimensions(Buffer.from('RIFF\0\0\0\0WEBPVP8 '), 'webp'), null);
});

test('throttle: one yes per key per interval; reset allows the next', () => {
  let t = 0;
  const th = createKeyThrottle(10_000, () => t);
  assert.equal(th.shouldRun('a'), true);
  assert.equal(th.shouldRun('a'), false);
  assert.equal(th.shouldRun('b'), true);
  t = 9_999;
  assert.equal(th.shouldRun('a'), false);
  t = 10_000;
  assert.equal(th.shouldRun('a'), true);
  th.reset('a');
  assert.equal(th.shouldRun('a'), true);
});

test("cursor round-trips; malformed cursors and another list's are refused", () => {
  const key = { at: new Date('2026-01-02T03:04:05.678Z'), id: 'abc' };
  assert.deepEqual(decodeCursor('alerts', encodeCursor('alerts', key)), key);
  assert.throws(() => decodeCursor('alerts', encodeCursor('violations', key)), /this cursor pages violations, not alerts/);
  const bad = ['', 'not-base64-json', Buffer.from('["x","y"]').toString('base64url'), Buffer.from('["alerts","y","z"]').toString('base64url'), Buffer.from('{}').toString('base64url')];
  for (const cursor of bad) assert.throws(() => decodeCursor('alerts', cursor), CursorError, cursor);
});

test('snapshot paths: plain relative image paths only; traversal impossible', () => {
  const root = '/data/snapshots';
  assert.equal(snapshotFile(root, 'cam-1/abc-3.jpg'), '/data/snapshots/cam-1/abc-3.jpg');
  for (const bad of ['../maskwatch.db', 'cam/../../x.jpg', '..', '.hidden.jpg', 'cam/.x.jpg', '/etc/passwd.jpg', 'a\\..\\b.jpg', 'cam/x.db', 'cam//x.jpg', '', 'a/%2e%2e/x.jpg']) {
    assert.equal(snapshotFile(root, bad), null, bad);
  }
  assert.equal(snapshotUrl('snapshots/cam-1/a b.jpg'), '/api/v1/snapshots/cam-1/a%20b.jpg');
  assert.equal(snapshotUrl(null), null);
});
