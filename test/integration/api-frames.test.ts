import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { startPrivateRedis } from '../helpers/redis-server.ts';
import { QUEUES, type FrameJob } from '../../src/queue/jobs.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { defaultAssetsDir } from '../../src/config/config.ts';

const assets = process.env.MASKWATCH_ASSETS || defaultAssetsDir();
const JPEG = readFileSync(path.join(assets, 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));

function assertProblem(res: { status: number; headers: Headers; body: { status?: unknown; type?: unknown; title?: unknown; detail?: unknown } }, status: number) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  assert.ok(res.body.type && res.body.title && res.body.detail);
}

async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

async function newCamera(api: ApiInstance, adminToken: string, name = 'cam') {
  const res = await call(api.url, 'POST', '/api/v1/cameras', {
    token: adminToken,
    json: { name, latitude: 48.85, longitude: 2.35, zone: 'z1' },
  });
  assert.equal(res.status, 201);
  return res.body as { id: string; apiKey: string };
}

function postFrame(api: ApiInstance, key: string, body: Buffer, opts: { type?: string; headers?: Record<string, string>; query?: string } = {}) {
  return call(api.url, 'POST', `/api/v1/frames${opts.query ?? ''}`, {
    token: key,
    body,
    headers: { 'content-type': opts.type ?? 'image/jpeg', ...opts.headers },
  });
}

for (const provider of testProviders()) {
  describe(`frame ingestion (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let admin: string;
    let queue: Queue<FrameJob>;

    before(async () => {
      stack = await createTestStack(provider, { MASKWATCH_MAX_FRAME_BYTES: String(2 * 1024 * 1024) });
      api = await stack.startApi();
      admin = (await loginAs(api, { username: 'admin', role: 'ADMIN' })).token;
      queue = new Queue(QUEUES.frames, { connection: { host: '127.0.0.1', port: 6379 }, prefix: stack.config.queuePrefix });
    });
    after(async () => {
      await queue.obliterate({ force: true });
      await queue.close();
      await stack.close();
    });

    test('a valid JPEG → 202 {frameId}, the job in Redis with jobId = frameId, the file on disk', async () => {
      const cam = await newCamera(api, admin);
      const capturedAt = new Date(Date.now() - 1500).toISOString();
      const res = await postFrame(api, cam.apiKey, JPEG, { headers: { 'x-captured-at': capturedAt } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const { frameId } = res.body;
      assert.match(frameId, /^[0-9a-f-]{36}$/);
      const job = await queue.getJob(frameId);
      assert.ok(job, 'job exists');
      assert.equal(job.id, frameId);
      assert.equal(job.name, 'frame.analyze');
      assert.equal(job.data.cameraId, cam.id);
      assert.equal(job.data.capturedAt, capturedAt);
      assert.equal(job.data.path, `frames/${cam.id}/${frameId}.jpg`);
      assert.ok(job.opts.attempts! > 1);
      const onDisk = readFileSync(path.join(stack.dataDir, job.data.path));
      assert.ok(onDisk.equals(JPEG));
      assert.equal(await api.producer.backlog.size(cam.id), 1);
      // capturedAt as query parameter works too.
      const q = await postFrame(api, cam.apiKey, JPEG, { query: `?capturedAt=${encodeURIComponent(capturedAt)}` });
      assert.equal(q.status, 202);
      assert.equal((await queue.getJob(q.body.frameId))!.data.capturedAt, capturedAt);
    });

    test('PNG and WebP frames are accepted and stored with their extension', async () => {
      const cam = await newCamera(api, admin);
      const png = await sharp(JPEG).png().toBuffer();
      const webp = await sharp(JPEG).webp().toBuffer();
      const a = await postFrame(api, cam.apiKey, png, { type: 'image/png' });
      const b = await postFrame(api, cam.apiKey, webp, { type: 'image/webp' });
      assert.equal(a.status, 202);
      assert.equal(b.status, 202);
      assert.ok(existsSync(path.join(stack.dataDir, `frames/${cam.id}/${a.body.frameId}.png`)));
      assert.ok(existsSync(path.join(stack.dataDir, `frames/${cam.id}/${b.body.frameId}.webp`)));
    });

    test('non-image → 415 (by magic bytes, whatever the Content-Type); unknown Content-Type → 415', async () => {
      const cam = await newCamera(api, admin);
      assertProblem(await postFrame(api, cam.apiKey, Buffer.from('GIF89a............')), 415);
      assertProblem(await postFrame(api, cam.apiKey, Buffer.from('{"not":"an image"}'), { type: 'application/json' }), 415);
      assertProblem(await postFrame(api, cam.apiKey, Buffer.from('hello'), { type: 'text/plain' }), 415);
      assert.deepEqual(await filesUnder(path.join(stack.dataDir, 'frames', cam.id)), []);
    });

    test('oversized body → 413; too many pixels → 413; truncated header → 422', async () => {
      const cam = await newCamera(api, admin);
      const huge = Buffer.concat([JPEG, Buffer.alloc(2 * 1024 * 1024)]);
      assertProblem(await postFrame(api, cam.apiKey, huge), 413);
      const big = await sharp({ create: { width: 6000, height: 4000, channels: 3, background: '#808080' } }).jpeg({ quality: 10 }).toBuffer();
      const small = await stack.startApi({ config: { ingest: { ...stack.config.ingest, maxFramePixels: 1_000_000 } } });
      assertProblem(await postFrame(small, cam.apiKey, big), 413);
      assertProblem(await postFrame(api, cam.apiKey, JPEG.subarray(0, 20)), 422);
      assert.deepEqual(await filesUnder(path.join(stack.dataDir, 'frames', cam.id)), []);
    });

    test('capturedAt garbage or far in the future → 400', async () => {
      const cam = await newCamera(api, admin);
      assertProblem(await postFrame(api, cam.apiKey, JPEG, { headers: { 'x-captured-at': 'yesterday' } }), 400);
      assertProblem(await postFrame(api, cam.apiKey, JPEG, { query: '?capturedAt=2024-13-45T99:00:00Z' }), 400);
      const future = new Date(Date.now() + 10 * 60_000).toISOString();
      assertProblem(await postFrame(api, cam.apiKey, JPEG, { headers: { 'x-captured-at': future } }), 400);
    });

    test('backlog over the per-camera limit → 503 + Retry-After, refused frame leaves no file', async () => {
      const limited = await stack.startApi({ config: { ingest: { ...stack.config.ingest, maxCameraBacklog: 2 } } });
      const cam = await newCamera(api, admin);
      assert.equal((await postFrame(limited, cam.apiKey, JPEG)).status, 202);
      assert.equal((await postFrame(limited, cam.apiKey, JPEG)).status, 202);
      const refused = await postFrame(limited, cam.apiKey, JPEG);
      assertProblem(refused, 503);
      assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
      assert.equal((await filesUnder(path.join(stack.dataDir, 'frames', cam.id))).length, 2);
      // Another camera is not affected; the worker releasing one frame frees a slot.
      const other = await newCamera(api, admin, 'other');
      assert.equal((await postFrame(limited, other.apiKey, JPEG)).status, 202);
      const [first] = await queue.getJobs(['waiting']);
      const mine = (await queue.getJobs(['waiting'])).find((j) => j.data.cameraId === cam.id)!;
      assert.ok(first && mine);
      await limited.producer.backlog.release(cam.id, mine.data.frameId);
      assert.equal((await postFrame(limited, cam.apiKey, JPEG)).status, 202);
    });

    test('lastFrameAt is updated (throttled, not per frame)', async () => {
      const cam = await newCamera(api, admin);
      assert.equal((await postFrame(api, cam.apiKey, JPEG)).status, 202);
      // Written in batches about once a second (api/ingest/last-frame.ts); read it back until it lands.
      let camera: { lastFrameAt?: string | null } = {};
      const deadline = Date.now() + 10_000;
      while (!camera.lastFrameAt && Date.now() < deadline) {
        camera = (await call(api.url, 'GET', `/api/v1/cameras/${cam.id}`, { token: admin })).body;
        if (!camera.lastFrameAt) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(camera.lastFrameAt, 'lastFrameAt set within 10 s (batches are written every second)');
    });
  });
}

describe('frame ingestion with Redis down', () => {
  test('Redis stopped → 503 + Retry-After, no file left behind, no job; back → accepted again', async () => {
    const redis = await startPrivateRedis();
    let revived: Awaited<ReturnType<typeof startPrivateRedis>> | undefined;
    const stack = await createTestStack('sqlite', { REDIS_URL: redis.url });
    try {
      const api = await stack.startApi();
      const admin = (await loginAs(api, { username: 'admin', role: 'ADMIN' })).token;
      const cam = await newCamera(api, admin);
      assert.equal((await postFrame(api, cam.apiKey, JPEG)).status, 202, 'works while Redis is up');
      await redis.stop();
      const res = await postFrame(api, cam.apiKey, JPEG);
      assertProblem(res, 503);
      assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
      assert.equal((await filesUnder(path.join(stack.dataDir, 'frames', cam.id))).length, 1, 'only the frame accepted before');
      const ready = await call(api.url, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      // Says what is wrong, without the driver's words ("Stream isn't writeable and enableOfflineQueue…") in a public body.
      assert.equal(ready.body.checks.redis, 'failed: unreachable');

      // Redis back (empty, as after a restart without persistence): ingestion resumes by itself.
      revived = await startPrivateRedis(redis.port);
      let status = 0;
      for (let attempt = 0; attempt < 100 && status !== 202; attempt++) {
        status = (await postFrame(api, cam.apiKey, JPEG)).status;
        if (status !== 202) await new Promise((r) => setTimeout(r, 100)); // reconnect back-off is up to 2 s
      }
      assert.equal(status, 202);
    } finally {
      await stack.close();
      await redis.stop();
      await revived?.stop();
    }
  });

  test('Redis too slow (writes paused) → 503 after the short timeout; nothing left once it catches up', async () => {
    const redis = await startPrivateRedis();
    const stack = await createTestStack('sqlite', { REDIS_URL: redis.url });
    const { Redis } = await import('ioredis');
    const control = new Redis(redis.url);
    try {
      const api = await stack.startApi();
      const admin = (await loginAs(api, { username: 'admin', role: 'ADMIN' })).token;
      const cam = await newCamera(api, admin);
      assert.equal((await postFrame(api, cam.apiKey, JPEG)).status, 202, 'fills the key cache');
      await control.call('CLIENT', 'PAUSE', '4000', 'WRITE');
      const res = await postFrame(api, cam.apiKey, JPEG);
      assertProblem(res, 503);
      await control.call('CLIENT', 'UNPAUSE');
      // The late reservation ran, then the cancel sent after it: the backlog holds only the first frame.
      const checker = new Queue(QUEUES.frames, { connection: { url: redis.url }, prefix: stack.config.queuePrefix });
      assert.equal(await api.producer.backlog.size(cam.id), 1);
      assert.equal(await checker.count(), 1);
      await checker.close();
      assert.equal((await filesUnder(path.join(stack.dataDir, 'frames', cam.id))).length, 1);
    } finally {
      control.disconnect();
      await stack.close();
      await redis.stop();
    }
  });

  test('Redis never reachable → 503 at once (the request does not hang)', async () => {
    const redis = await startPrivateRedis();
    const stack = await createTestStack('sqlite', { REDIS_URL: redis.url });
    try {
      const api = await stack.startApi();
      const admin = (await loginAs(api, { username: 'admin', role: 'ADMIN' })).token;
      const cam = await newCamera(api, admin);
      await redis.stop();
      const results = await Promise.all([1, 2, 3].map(() => postFrame(api, cam.apiKey, JPEG)));
      for (const r of results) assertProblem(r, 503);
      assert.deepEqual(await filesUnder(path.join(stack.dataDir, 'frames')), []);
    } finally {
      await stack.close();
      await redis.stop();
    }
  });
});
