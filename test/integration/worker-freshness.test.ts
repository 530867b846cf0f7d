/**
 * Freshness over backlog (issue 14): with the real worker, real Redis and the
 * real vision engine, a frame that waited longer than the bound is skipped —
 * its job completes without analysis, it is counted in the worker's metrics
 * and per camera (the API's /metrics) — while a fresh one is analysed; and a
 * camera's newest queued frame is taken first. The clock is injected.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Queue, type Job } from 'bullmq';
import { createWorkerMetrics } from '../../src/queue/handlers/metrics.ts';
import type { DetectionWorker } from '../../src/queue/wiring/detection.ts';
import { createStaleFrameCounter } from '../../src/queue/freshness.ts';
import { QUEUES, type FrameJob } from '../../src/queue/jobs.ts';
import { FRAME_JOB_OPTIONS } from '../../src/queue/producer.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import type { FrameAnalyzeResult } from '../../src/queue/handlers/frame-analyze.ts';
import type { VisionEngine } from '../../src/vision/types.ts';
import { createTestStack, type TestStack } from '../helpers/api.ts';
import { Redis } from 'ioredis';
import { createCamera, loadEngine, stackDetectionWorker, stageFrame, UNMASKED_FACE } from './worker-support.ts';

const NOW = Date.parse('2030-01-01T12:00:00.000Z');
const MAX_AGE_MS = 10_000;

/** Resolves with the job's result once the worker completed it (rejects on failure or after timeoutMs). */
function completion(detection: DetectionWorker, jobId: string, timeoutMs = 60_000): Promise<FrameAnalyzeResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`job ${jobId} did not complete within ${timeoutMs} ms`)), timeoutMs);
    const onCompleted = (job: Job<FrameJob>, result: FrameAnalyzeResult) => {
      if (job.id !== jobId) return;
      cleanup();
      resolve(result);
    };
    const onFailed = (job: Job<FrameJob> | undefined, err: Error) => {
      if (job?.id !== jobId) return;
      cleanup();
      reject(new Error(`job ${jobId} failed: ${err.message}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      detection.worker.off('completed', onCompleted);
      detection.worker.off('failed', onFailed);
    };
    detection.worker.on('completed', onCompleted);
    detection.worker.on('failed', onFailed);
  });
}

describe('detection worker: freshness over backlog', () => {
  let stack: TestStack;
  let engine: VisionEngine;
  let queue: Queue<FrameJob>;
  let redis: Redis;
  const detections: DetectionWorker[] = [];

  before(async () => {
    stack = await createTestStack('sqlite');
    engine = await loadEngine(stack.config);
    queue = new Queue(QUEUES.frames, { connection: redisOptionsFromUrl(stack.config.redisUrl), prefix: stack.config.queuePrefix });
    redis = new Redis(stack.config.redisUrl);
  });

  after(async () => {
    for (const d of detections) await d.close();
    await queue?.close();
    redis?.disconnect();
    await engine?.close();
    await stack?.close();
  });

  const enqueue = async (cameraId: string, receivedAt: number, capturedAt = receivedAt - 200) => {
    const frame = await stageFrame(stack.dataDir, cameraId, UNMASKED_FACE, new Date(capturedAt));
    const job = { ...frame, receivedAt: new Date(receivedAt).toISOString() };
    await queue.add('frame.analyze', job, { ...FRAME_JOB_OPTIONS, jobId: job.frameId });
    return job;
  };

  it('skips a frame that waited longer than the bound, counts it, and still analyses a fresh one', async () => {
    const metrics = createWorkerMetrics();
    const detection = stackDetectionWorker(stack, engine, { metrics, maxFrameAgeMs: MAX_AGE_MS, now: () => NOW, autorun: false });
    detections.push(detection);
    const camera = await createCamera(stack.db.prisma, 'freshness cam');
    const stale = await enqueue(camera.id, NOW - MAX_AGE_MS - 1);
    // Received just now but captured long ago (delivered late from an agent's spool): stale as well.
    const replayed = await enqueue(camera.id, NOW - 100, NOW - MAX_AGE_MS - 5000);
    const fresh = await enqueue(camera.id, NOW - MAX_AGE_MS + 1000);
    const done = [completion(detection, stale.frameId), completion(detection, fresh.frameId), completion(detection, replayed.frameId)];
    void detection.worker.run();
    const [staleResult, freshResult, replayedResult] = await Promise.all(done);
    assert.equal(replayedResult!.outcome, 'stale');

    assert.equal(staleResult!.outcome, 'stale');
    assert.equal(await stack.db.prisma.violation.count({ where: { frameId: stale.frameId } }), 0, 'a stale frame is not analysed');
    assert.equal(existsSync(stale.file), false, 'the stale frame file is deleted');
    assert.equal(freshResult!.outcome, 'violations');
    assert.equal(await stack.db.prisma.violation.count({ where: { frameId: fresh.frameId } }), 1);

    assert.equal((await metrics.framesStale.get()).values[0]?.value, 2);
    const byOutcome = new Map((await metrics.framesProcessed.get()).values.map((v) => [v.labels.outcome, v.value]));
    assert.equal(byOutcome.get('stale'), 2);
    assert.equal(byOutcome.get('violations'), 1);
    assert.deepEqual(await createStaleFrameCounter(redis, stack.config.queuePrefix).perCamera(), { [camera.id]: 2 });

    // The API's /metrics shows the per-camera count.
    const api = await stack.startApi();
    const text = await (await fetch(`${api.url}/metrics`)).text();
    assert.match(text, new RegExp(`maskwatch_camera_frames_stale_skipped\\{camera="${camera.id}"\\} 2\\b`));
    await detection.close();
  });

  it('takes the newest queued frame first', async () => {
    const detection = stackDetectionWorker(stack, engine, { maxFrameAgeMs: MAX_AGE_MS, now: () => NOW, autorun: false, concurrency: 1 });
    detections.push(detection);
    const camera = await createCamera(stack.db.prisma, 'lifo cam');
    const jobs = [];
    for (let i = 0; i < 3; i++) jobs.push(await enqueue(camera.id, NOW - 3000 + i * 500));
    const order: string[] = [];
    detection.worker.on('completed', (job: Job<FrameJob>) => order.push(job.id!));
    const done = Promise.all(jobs.map((j) => completion(detection, j.frameId)));
    void detection.worker.run();
    await done;
    assert.deepEqual(order, jobs.map((j) => j.frameId).reverse(), 'newest first');
    await detection.close();
  });
});
