/**
 * Files that hold faces (issue 13, item 7), with the real API, a real
 * detection worker (ONNX models on a real photo) and real Redis:
 * - the database, frames and snapshots are owner-only (files 0600, folders
 *   0700), whatever the process umask;
 * - a forged job in Redis cannot make a worker read or delete a file outside
 *   the frame it names (the path must be frames/<cameraId>/<frameId>.<ext>).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { QUEUES, type FrameJob } from '../../src/queue/jobs.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import type { DetectionWorker } from '../../src/queue/wiring/detection.ts';
import { loadEngine, stackDetectionWorker, UNMASKED_FACE } from './worker-support.ts';

const mode = (p: string) => statSync(p).mode & 0o777;

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('data files: owner-only, and jobs confined to their frame', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let worker: DetectionWorker | undefined;
  let queue: Queue<FrameJob>;
  let key: string;
  let cameraId: string;
  let annotated: string;

  before(async () => {
    stack = await createTestStack('sqlite');
    api = await stack.startApi();
    const admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
    const cam = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'files', latitude: 1, longitude: 1 } });
    key = cam.body.apiKey;
    cameraId = cam.body.id;
    queue = new Queue(QUEUES.frames, { connection: { url: stack.config.redisUrl }, prefix: stack.config.queuePrefix });
  });
  after(async () => {
    await worker?.close();
    await queue?.close();
    await stack?.close();
  });

  test('database, data dir, frames and snapshots: files 0600, folders 0700', async () => {
    const image = await readFile(UNMASKED_FACE);
    const res = await call(api.url, 'POST', '/api/v1/frames', { body: image, headers: { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const frameFile = path.join(stack.dataDir, 'frames', cameraId, `${res.body.frameId}.jpg`);
    assert.equal(mode(frameFile), 0o600, 'frame file');
    assert.equal(mode(path.dirname(frameFile)), 0o700, 'frames/<camera>');
    assert.equal(mode(path.join(stack.dataDir, 'frames')), 0o700, 'frames/');
    assert.equal(mode(stack.dataDir), 0o700, 'data dir');
    const dbFile = stack.config.databaseUrl.replace(/^file:/, '');
    assert.equal(mode(dbFile), 0o600, 'database file');
    for (const extra of ['-wal', '-shm']) if (existsSync(dbFile + extra)) assert.equal(mode(dbFile + extra), 0o600, `database ${extra}`);

    worker = stackDetectionWorker(stack, await loadEngine(stack.config, stack.logger));
    const alert = await waitFor('an alert with its snapshots', () =>
      stack.db.prisma.alert.findFirst({ where: { cameraId, frameSnapshotPath: { not: null }, snapshotPath: { not: null } } }),
    );
    annotated = path.join(stack.dataDir, alert.frameSnapshotPath!);
    const crop = path.join(stack.dataDir, alert.snapshotPath!);
    assert.equal(mode(annotated), 0o600, 'annotated frame');
    assert.equal(mode(crop), 0o600, 'face crop');
    assert.equal(mode(path.dirname(crop)), 0o700, 'snapshots/<camera>');
    assert.equal(mode(path.join(stack.dataDir, 'snapshots')), 0o700, 'snapshots/');
  });

  test('a forged job naming another file is refused without retry; the file survives', async () => {
    assert.ok(annotated && existsSync(annotated), 'the previous test left an annotated frame');
    const frameId = randomUUID();
    const forged: FrameJob = {
      frameId,
      cameraId,
      // Inside the data dir, but not this job's frame: the worker deletes its frame after analysis.
      path: path.relative(stack.dataDir, annotated).split(path.sep).join('/'),
      capturedAt: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
    };
    await queue.add('frame.analyze', forged, { jobId: frameId, attempts: 3 });
    const state = await waitFor('the forged job to finish', async () => {
      const s = await queue.getJobState(frameId);
      return s === 'failed' || s === 'completed' ? s : null;
    });
    assert.equal(state, 'failed');
    const job = await queue.getJob(frameId);
    assert.equal(job?.attemptsMade, 1, 'not retried (unrecoverable)');
    assert.match(job?.failedReason ?? '', /frame path is not/);
    assert.ok(existsSync(annotated), 'the annotated frame was not deleted');
  });
});
