/**
 * The smaller audit findings of issue 13 (item 7), each over real HTTP or
 * Socket.IO against the real app (SQLite, real Redis).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { parseCapturedAt } from '../../src/api/ingest/captured-at.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const JPEG = await readFile(path.resolve(process.cwd(), '..', 'shared', 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));
const DAY = 86_400_000;

describe('small findings over HTTP', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let admin: string;
  let cameraKey: string;

  before(async () => {
    stack = await createTestStack('sqlite', { MASKWATCH_RETENTION_DAYS: '30' });
    api = await stack.startApi();
    admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
    cameraKey = (await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'gate', latitude: 1, longitude: 1 } })).body.apiKey;
  });
  after(() => stack?.close());

  test('capturedAt is bounded: not before now − retention (400), not after now + clock skew (400)', async () => {
    const post = (capturedAt: Date) =>
      call(api.url, 'POST', '/api/v1/frames', {
        body: JPEG,
        headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'image/jpeg', 'x-captured-at': capturedAt.toISOString() },
      });
    const old = await post(new Date(Date.now() - 31 * DAY));
    assert.equal(old.status, 400, JSON.stringify(old.body));
    assert.match(old.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.match(old.body.detail, /retention period \(30 days\)/);
    assert.equal((await post(new Date(Date.now() + 10 * 60_000))).status, 400);
    assert.equal((await post(new Date(Date.now() - 29 * DAY))).status, 202);
    const now = new Date('2026-06-01T00:00:00Z');
    assert.equal(parseCapturedAt('2026-05-01T23:59:59Z', now, undefined, 30 * DAY).ok, false);
    assert.equal(parseCapturedAt('2026-05-02T00:00:00Z', now, undefined, 30 * DAY).ok, true);
  });
});
