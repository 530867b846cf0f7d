/**
 * Less work per frame, with real parts: the real ONNX engine on real photos
 * (wrapped by a spy that records what each call asked of it), the per-camera
 * state in the local Redis, and — for the pipeline case — the detection worker
 * on BullMQ and SQLite.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { DEFAULT_REUSE, type ReuseSettings } from '../../src/domain/analysis-reuse.ts';
import { analysisStateKey, analysisWorkTotals, createAnalysisStateStore } from '../../src/queue/analysis-state.ts';
import { createAnalysisStep } from '../../src/queue/handlers/analysis-step.ts';
import { createWorkerMetrics } from '../../src/queue/handlers/metrics.ts';
import { QUEUES, type FrameJob } from '../../src/queue/jobs.ts';
import { FRAME_JOB_OPTIONS } from '../../src/queue/producer.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import type { AnalyzeOptions, VisionEngine } from '../../src/vision/types.ts';
import { createTestStack, type TestStack } from '../helpers/api.ts';
import { MASKED_FACE, UNMASKED_FACE, UNMASKED_FACE_2, createCamera, loadEngine, stackDetectionWorker, stageFrame } from './worker-support.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (ms: number) => new Date(T0 + ms);

/** The real engine, recording per call whether the detector ran and how many faces were classified. */
function spyOn(engine: VisionEngine) {
  const calls: { detector: boolean; classified: number; reused: number }[] = [];
  const spy: VisionEngine = {
    noMaskThreshold: engine.noMaskThreshold,
    renderSnapshots: (...args) => engine.renderSnapshots(...args),
    close: () => engine.close(),
    async analyzeFrame(image: Buffer, opts?: AnalyzeOptions) {
      const result = await engine.analyzeFrame(image, opts);
      const reused = result.faces.filter((f) => f.reused).length;
      calls.push({ detector: !opts?.faces, classified: result.faces.length - reused, reused });
      return result;
    },
  };
  return { spy, calls, detectorRuns: () => calls.filter((c) => c.detector).length };
}

describe('analysis reuse (real engine, real Redis)', () => {
  let stack: TestStack;
  let engine: VisionEngine;
  let redis: Redis;
  /** The same photo as UNMASKED_FACE after a camera's noise: brighter, re-compressed. */
  let sameScene: Buffer;
  let sameSceneDarker: Buffer;
  let original: Buffer;
  let otherScene: Buffer;
  let shifted: Buffer;

  before(async () => {
    stack = await createTestStack('sqlite');
    engine = await loadEngine(stack.config);
    redis = new Redis(stack.config.redisUrl);
    original = await sharp(UNMASKED_FACE).jpeg({ quality: 90 }).toBuffer();
    sameScene = await sharp(UNMASKED_FACE).linear(1.08, 4).jpeg({ quality: 70 }).toBuffer();
    sameSceneDarker = await sharp(UNMASKED_FACE).linear(0.9, -3).jpeg({ quality: 80 }).toBuffer();
    otherScene = await sharp(UNMASKED_FACE_2).jpeg({ quality: 90 }).toBuffer();
    // The scene moved by a sixth of its width: the face is found again, a little further on.
    const meta = await sharp(UNMASKED_FACE).metadata();
    const dx = Math.round(meta.width! / 6);
    shifted = await sharp(UNMASKED_FACE).extend({ left: dx, background: '#808080' }).extract({ left: 0, top: 0, width: meta.width!, height: meta.height! }).jpeg({ quality: 90 }).toBuffer();
  });

  after(async () => {
    await redis?.quit();
    await engine?.close();
    await stack?.close();
  });

  const settings = (over: Partial<ReuseSettings> = {}): ReuseSettings => ({ ...DEFAULT_REUSE, unchangedThreshold: 8, reclassifyEvery: 3, minConfidence: 0.9, ...over });

  function step(over: Partial<ReuseSettings> = {}, opts: { redisClient?: Redis } = {}) {
    const { spy, calls, detectorRuns } = spyOn(engine);
    const metrics = createWorkerMetrics();
    const analyze = createAnalysisStep({
      engine: spy,
      settings: settings(over),
      store: createAnalysisStateStore(opts.redisClient ?? redis, { prefix: stack.config.queuePrefix, ttlMs: 5000 }),
      metrics,
      logger: stack.logger,
    });
    return { analyze, calls, detectorRuns, metrics };
  }

  it('an unchanged frame does not run the detector and keeps the same faces; a moved scene is analysed', async () => {
    const { analyze, calls, detectorRuns, metrics } = step();
    const cameraId = 'cam-unchanged';
    const first = await analyze({ cameraId, captured: at(0) }, original);
    assert.equal(first.unchanged, false);
    assert.equal(first.analysis.faces.length, 1, 'the photo has one face');
    assert.equal(first.analysis.faces[0]!.reused, false);

    const second = await analyze({ cameraId, captured: at(500) }, sameScene);
    assert.equal(second.unchanged, true, `difference ${second.difference} should be within the threshold`);
    assert.equal(detectorRuns(), 1, 'the detector ran on the first frame only');
    assert.deepEqual(
      second.analysis.faces.map((f) => [f.box, f.probabilities, f.label, f.violation, f.reused]),
      first.analysis.faces.map((f) => [f.box, f.probabilities, f.label, f.violation, true]),
    );

    const third = await analyze({ cameraId, captured: at(1000) }, otherScene);
    assert.equal(third.unchanged, false, `another scene (difference ${third.difference}) is analysed`);
    assert.equal(detectorRuns(), 2);
    assert.equal(third.analysis.faces.every((f) => !f.reused), true, 'a face elsewhere is a new face: classified');
    assert.equal(calls.at(-1)!.classified, third.analysis.faces.length);

    const text = await metrics.registry.metrics();
    assert.match(text, /maskwatch_frames_unchanged_total 1\b/);
    assert.match(text, /maskwatch_faces_reused_total\{reason="unchanged_frame"\} 1\b/);
  });

  it('reuses a verdict only for a matched confident face, and classifies it again every k-th frame', async () => {
    // No unchanged-frame skip here: the detector runs on every frame, the classifier only when due.
    const { analyze, detectorRuns } = step({ unchangedThreshold: 0, reclassifyEvery: 3 });
    const cameraId = 'cam-tracks';
    const frames = [original, sameScene, sameSceneDarker, sameScene, original];
    const reused: boolean[] = [];
    for (const [i, image] of frames.entries()) {
      const r = await analyze({ cameraId, captured: at(i * 500) }, image);
      assert.equal(r.analysis.faces.length, 1);
      reused.push(r.analysis.faces[0]!.reused!);
    }
    assert.equal(detectorRuns(), frames.length);
    assert.deepEqual(reused, [false, true, true, false, true], 'classified, reused twice (k − 1), classified again, …');

    // Moved by a sixth of the frame: the face no longer overlaps its previous box → classified.
    const moved = await analyze({ cameraId, captured: at(frames.length * 500) }, shifted);
    assert.equal(moved.analysis.faces.length, 1);
    assert.equal(moved.analysis.faces[0]!.reused, false);
  });

  it('classifies an uncertain face on every frame', async () => {
    const probe = await engine.analyzeFrame(original);
    const p = probe.faces[0]!.probabilities;
    // Confident = P(no mask) and P(mask incorrect) both beyond the bar: the face's weaker one sets its confidence.
    const margin = Math.min(Math.max(p.no_mask, 1 - p.no_mask), Math.max(p.mask_incorrect, 1 - p.mask_incorrect));
    assert.ok(margin < 1, 'the face has no probability of exactly 0 or 1');
    // A confidence bar just above this face's: it is uncertain by definition (same image: same probabilities).
    const { analyze } = step({ unchangedThreshold: 0, minConfidence: Math.min(1, margin + 1e-6) });
    for (const [i, image] of [original, original, original].entries()) {
      const r = await analyze({ cameraId: 'cam-uncertain', captured: at(i * 500) }, image);
      assert.equal(r.analysis.faces[0]!.reused, false, `frame ${i}`);
    }
  });

  it('a cache miss — state gone, another worker without it, or a state newer than the frame — analyses in full', async () => {
    const cameraId = 'cam-miss';
    const a = step();
    await a.analyze({ cameraId, captured: at(0) }, original);
    // Another worker process (own Redis connection, own engine calls) continues from the shared state.
    const otherConnection = new Redis(stack.config.redisUrl);
    try {
      const b = step({}, { redisClient: otherConnection });
      const continued = await b.analyze({ cameraId, captured: at(500) }, sameScene);
      assert.equal(continued.unchanged, true, 'the state written by one worker serves the next frame on another');
      assert.equal(b.detectorRuns(), 0);
    } finally {
      await otherConnection.quit();
    }

    await redis.del(analysisStateKey(stack.config.queuePrefix, cameraId));
    const afterLoss = await a.analyze({ cameraId, captured: at(1000) }, sameScene);
    assert.equal(afterLoss.unchanged, false);
    assert.equal(afterLoss.reused, 0);
    assert.equal(a.calls.at(-1)!.detector, true);

    // A frame older than the stored state (out of order, several workers): full analysis, and the newer state stays.
    const late = await a.analyze({ cameraId, captured: at(800) }, sameScene);
    assert.equal(late.unchanged, false);
    assert.equal(late.reused, 0);
    const kept = await createAnalysisStateStore(redis, { prefix: stack.config.queuePrefix, ttlMs: 5000 }).load(cameraId);
    assert.equal(kept?.capturedAt, T0 + 1000, 'an older frame never replaces a newer state');
  });

  it('threshold 0 never skips detection; k = 1 reuses nothing', async () => {
    const noSkip = step({ unchangedThreshold: 0 });
    for (const [i, image] of [original, sameScene, original].entries()) {
      const r = await noSkip.analyze({ cameraId: 'cam-t0', captured: at(i * 500) }, image);
      assert.equal(r.unchanged, false);
    }
    assert.equal(noSkip.detectorRuns(), 3);

    const off = step({ reclassifyEvery: 1 });
    for (const [i, image] of [original, sameScene, original].entries()) {
      const r = await off.analyze({ cameraId: 'cam-k1', captured: at(i * 500) }, image);
      assert.equal(r.unchanged, false);
      assert.equal(r.reused, 0);
    }
    assert.equal(off.detectorRuns(), 3);
  });

  it('through the worker: the unchanged frame skips the detector and still records the same person (2 of 2 confirmed)', async () => {
    const { spy, detectorRuns } = spyOn(engine);
    const metrics = createWorkerMetrics();
    const connection = redisOptionsFromUrl(stack.config.redisUrl);
    const prefix = stack.config.queuePrefix;
    const queue = new Queue<FrameJob>(QUEUES.frames, { connection, prefix });
    const queueEvents = new QueueEvents(QUEUES.frames, { connection, prefix });
    await queueEvents.waitUntilReady();
    const worker = stackDetectionWorker(stack, spy, { reuse: settings(), metrics });
    try {
      await worker.worker.waitUntilReady();
      const camera = await createCamera(stack.db.prisma, 'reuse camera');
      await stack.db.prisma.camera.update({ where: { id: camera.id }, data: { confirmFrames: 2, confirmWindow: 2 } });
      const file = path.join(stack.dataDir, 'same-scene.jpg');
      await writeFile(file, sameScene);
      const results = [];
      for (const [i, source] of [UNMASKED_FACE, file].entries()) {
        const frame = await stageFrame(stack.dataDir, camera.id, source, new Date(Date.now() - 2000 + i * 500));
        const job = await queue.add('frame.analyze', frame, { ...FRAME_JOB_OPTIONS, jobId: frame.frameId });
        results.push((await job.waitUntilFinished(queueEvents, 60_000)) as { outcome: string; createdAlertIds: string[] });
      }
      assert.equal(detectorRuns(), 1, 'the second, unchanged frame did not run the detector');
      assert.deepEqual(results.map((r) => r.outcome), ['violations', 'violations']);
      const sightings = await stack.db.prisma.trackSighting.findMany({ where: { cameraId: camera.id }, orderBy: { capturedAt: 'asc' } });
      assert.equal(sightings.length, 2);
      assert.equal(sightings[0]!.trackKey, sightings[1]!.trackKey, 'one person, one track');
      assert.deepEqual(
        sightings.map((s) => [s.boxX, s.boxY, s.boxW, s.boxH]),
        [0, 1].map(() => [sightings[0]!.boxX, sightings[0]!.boxY, sightings[0]!.boxW, sightings[0]!.boxH]),
      );
      assert.equal(results[1]!.createdAlertIds.length, 1, 'confirmed 2 of 2 on the unchanged frame: the alert opens');
      const people = await stack.db.prisma.alertPerson.findMany({ where: { alertId: results[1]!.createdAlertIds[0]! } });
      assert.equal(people.length, 1);
      const text = await metrics.registry.metrics();
      assert.match(text, /maskwatch_frames_unchanged_total 1\b/);
      assert.match(text, /maskwatch_faces_classified_total 1\b/);
      const totals = await analysisWorkTotals(redis, prefix);
      assert.ok(totals.framesUnchanged >= 1 && totals.facesReused >= 1, `Redis totals for the API's /metrics: ${JSON.stringify(totals)}`);
      // The API's /metrics shows the work of all workers.
      const api = await stack.startApi();
      const apiText = await (await fetch(`${api.url}/metrics`)).text();
      assert.match(apiText, new RegExp(`maskwatch_analysis_work\\{kind="frames_unchanged"\\} ${totals.framesUnchanged}\\b`));
      assert.match(apiText, new RegExp(`maskwatch_analysis_work\\{kind="faces_reused"\\} ${totals.facesReused}\\b`));
    } finally {
      await worker.close();
      await queueEvents.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  });

  it('a masked face is reused as masked (the verdict, not just "a face", is carried over)', async () => {
    const { analyze } = step();
    const masked = await sharp(MASKED_FACE).jpeg({ quality: 90 }).toBuffer();
    const maskedAgain = await sharp(MASKED_FACE).linear(1.05, 2).jpeg({ quality: 75 }).toBuffer();
    const a = await analyze({ cameraId: 'cam-masked', captured: at(0) }, masked);
    const b = await analyze({ cameraId: 'cam-masked', captured: at(500) }, maskedAgain);
    assert.ok(a.analysis.faces.length >= 1);
    assert.deepEqual(b.analysis.faces.map((f) => [f.label, f.violation]), a.analysis.faces.map((f) => [f.label, f.violation]));
  });
});
