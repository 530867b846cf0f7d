/**
 * Fairness between cameras (issue 13, item 6), with the DEFAULT limits over
 * real HTTP, real Redis and a real BullMQ worker:
 * - a ~40-MP frame is refused at the API from its header (413), not decoded;
 * - a flooding camera meets the per-camera rate limit (429 + Retry-After)
 *   before its backlog limit (503), and other cameras are unaffected;
 * - a camera's frames waiting behind its own first one go behind other
 *   cameras' frames, so a burst from one camera cannot stall the others.
 * The delay figure (ten 40-MP frames vs another camera's alert) is measured in
 * bench/security.ts, not here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { Worker } from 'bullmq';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { QUEUES, type FrameJob } from '../../src/queue/jobs.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const JPEG = await readFile(path.resolve(process.cwd(), '..', 'shared', 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));

describe('fairness between cameras (default limits)', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let admin: string;

  before(async () => {
    stack = await createTestStack('sqlite');
    api = await stack.startApi();
    admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
  });
  after(() => stack?.close());

  const camera = async (name: string) => {
    const res = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name, latitude: 1, longitude: 1 } });
    return { id: res.body.id as string, key: res.body.apiKey as string };
  };
  const post = (key: string, body: Buffer, type = 'image/jpeg') =>
    call(api.url, 'POST', '/api/v1/frames', { body, headers: { authorization: `Bearer ${key}`, 'content-type': type } });

  test('a 39.7-MP PNG of ~100 KB is refused at the API with 413 (header only), a 12-MP frame is not', async () => {
    const cam = await camera('huge');
    const big = await sharp({ create: { width: 7280, height: 5450, channels: 3, background: { r: 80, g: 90, b: 100 } } }).png({ compressionLevel: 9 }).toBuffer();
    assert.ok(big.length < 400_000, `${big.length} bytes`);
    const res = await post(cam.key, big, 'image/png');
    assert.equal(res.status, 413, JSON.stringify(res.body));
    assert.match(res.body.detail, /7280×5450/);
    const twelve = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: { r: 80, g: 90, b: 100 } } }).jpeg().toBuffer();
    assert.equal((await post(cam.key, twelve)).status, 202);
  });

  test('a flooding camera gets 429 + Retry-After before its backlog fills; another camera still gets 202', async () => {
    const noisy = await camera('noisy');
    const quiet = await camera('quiet');
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 120 && !limited; i++) {
      const res = await post(noisy.key, JPEG);
      statuses.push(res.status);
      if (res.status !== 202) limited = res;
    }
    assert.ok(limited, 'never refused');
    assert.equal(limited.status, 429, `first refusal: ${limited.status} after ${statuses.length - 1} frames`);
    assert.ok(statuses.length - 1 < stack.config.ingest.maxCameraBacklog, 'before the backlog limit');
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 10, `Retry-After ${retry}`);
    assert.equal((await post(quiet.key, JPEG)).status, 202);
  });

  test("a burst from one camera does not hold back another camera's frame (real BullMQ worker order)", async () => {
    const burst = await camera('burst');
    const other = await camera('other');
    for (let i = 0; i < 6; i++) assert.equal((await post(burst.key, JPEG)).status, 202);
    assert.equal((await post(other.key, JPEG)).status, 202);
    const order: string[] = [];
    const mine = new Set([burst.id, other.id]);
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    // Earlier tests' frames are in the same queue: record only this test's cameras, in processing order.
    const worker = new Worker<FrameJob>(
      QUEUES.frames,
      async (job) => {
        if (mine.has(job.data.cameraId)) order.push(job.data.cameraId === burst.id ? 'burst' : 'other');
        if (order.length === 7) done();
      },
      { connection: { url: stack.config.redisUrl }, prefix: stack.config.queuePrefix, concurrency: 1 },
    );
    try {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${order.length} of 7 frames processed in 15 s: ${order}`)), 15_000).unref());
      await Promise.race([all, timeout]);
    } finally {
      await worker.close();
    }
    // Each camera's newest waiting frame is plain LIFO (freshness); its older ones are prioritised behind
    // every other camera's: the other camera's one frame is among the first two taken, never behind the burst.
    assert.ok(order.indexOf('other') <= 1, `the other camera's frame was taken at position ${order.indexOf('other')}: ${order}`);
    assert.equal(order.filter((c) => c === 'burst').length, 6);
  });
});
