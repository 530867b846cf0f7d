/**
 * The detection worker with real parts: BullMQ on the local Redis (unique
 * prefix), SQLite and PostgreSQL (own file / schema), the real vision engine
 * on real photos, and alert events received by a Socket.IO client through the
 * production realtime server's Redis adapter.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrismaPg } from '@prisma/adapter-pg';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Db } from '../../src/db/client.ts';
import { PrismaClient as PostgresPrismaClient } from '../../src/db/generated/postgresql/client.ts';
import { createDetectionWorker, type DetectionWorker } from '../../src/queue/wiring/detection.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import { createWorkerMetrics } from '../../src/queue/handlers/metrics.ts';
import { QUEUES, type FrameJob } from '../../src/queue/jobs.ts';
import { FRAME_JOB_OPTIONS } from '../../src/queue/producer.ts';
import { createTestStack, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import type { VisionEngine } from '../../src/vision/types.ts';
import {
  MASKED_FACE,
  UNMASKED_FACE,
  UNMASKED_FACE_2,
  createCamera,
  loadEngine,
  stackDetectionWorker,
  stageFrame,
  startDispatchListener,
} from './worker-support.ts';
import { withTimeout } from '../helpers/wait.ts';

for (const provider of testProviders()) {
  describe(`detection worker (${provider})`, () => {
    let stack: TestStack;
    let engine: VisionEngine;
    let listener: Awaited<ReturnType<typeof startDispatchListener>>;
    let detection: DetectionWorker;
    let queue: Queue<FrameJob>;
    let queueEvents: QueueEvents;
    const metrics = createWorkerMetrics();

    before(async () => {
      stack = await createTestStack(provider);
      engine = await loadEngine(stack.config);
      listener = await startDispatchListener(stack.config, stack.logger);
      const connection = redisOptionsFromUrl(stack.config.redisUrl);
      const prefix = stack.config.queuePrefix;
      queue = new Queue(QUEUES.frames, { connection, prefix });
      queue.setMaxListeners(100); // 20 concurrent add() calls in one test
      queueEvents = new QueueEvents(QUEUES.frames, { connection, prefix });
      await queueEvents.waitUntilReady();
      detection = stackDetectionWorker(stack, engine, { queuePrefix: prefix, concurrency: 2, metrics });
      await detection.worker.waitUntilReady();
    });

    after(async () => {
      await detection?.close();
      await queueEvents?.close();
      await queue?.obliterate({ force: true }).catch(() => undefined);
      await queue?.close();
      await listener?.close();
      await engine?.close();
      await stack?.close();
    });

    async function analyze(job: FrameJob, jobId = job.frameId) {
      const added = await queue.add('frame.analyze', job, { ...FRAME_JOB_OPTIONS, jobId });
      return added.waitUntilFinished(queueEvents) as Promise<{ outcome: string; violations: number; createdAlertIds: string[] }>;
    }

    it('turns an unmasked face into one violation, one alert, snapshots and an alert.created event', async () => {
      const camera = await createCamera(stack.db.prisma);
      const frame = await stageFrame(stack.dataDir, camera.id, UNMASKED_FACE);
      const result = await analyze(frame);
      assert.equal(result.outcome, 'violations');
      assert.equal(result.violations, 1);

      const violations = await stack.db.prisma.violation.findMany({ where: { cameraId: camera.id } });
      assert.equal(violations.length, 1);
      const v = violations[0]!;
      assert.equal(v.frameId, frame.frameId);
      assert.equal(v.faceIndex, 0);
      assert.ok(v.noMaskProbability >= (stack.config.vision.noMaskThreshold ?? 0));
      assert.equal(v.capturedAt.toISOString(), frame.capturedAt);
      assert.equal(v.faceSnapshotPath, `snapshots/${camera.id}/${frame.frameId}-0.jpg`);
      assert.equal(v.frameSnapshotPath, `snapshots/${camera.id}/${frame.frameId}-frame.jpg`);
      for (const rel of [v.faceSnapshotPath!, v.frameSnapshotPath!]) {
        const jpeg = await import('node:fs/promises').then((fs) => fs.readFile(path.join(stack.dataDir, rel)));
        assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], `${rel} is a JPEG`);
      }
      assert.equal(existsSync(frame.file), false, 'the original frame is deleted once the evidence frame is written');

      const alert = await stack.db.prisma.alert.findUniqueOrThrow({ where: { id: v.alertId! } });
      assert.equal(alert.status, 'NEW');
      assert.equal(alert.violationCount, 1);
      assert.deepEqual(result.createdAlertIds, [alert.id]);

      const event = await listener.log.next('alert.created', (a) => a.id === alert.id);
      assert.deepEqual(event, {
        id: alert.id,
        status: 'NEW',
        cameraId: camera.id,
        camera: { name: camera.name, latitude: 40.4168, longitude: -3.7038, address: '3rd Avenue', zone: 'centre' },
        createdAt: alert.createdAt.toISOString(),
        lastSeenAt: frame.capturedAt,
        violationCount: 1,
        noMaskProbability: v.noMaskProbability,
        maskProbability: v.noMaskProbability,
        snapshotUrl: `/api/v1/snapshots/${camera.id}/${frame.frameId}-0.jpg`,
        // The stored frame is shown only through the alert's frame route (rendered for this alert).
        frameSnapshotUrl: `/api/v1/alerts/${alert.id}/frames/${frame.frameId}`,
        assignedUnitId: null,
        escalationLevel: 0,
        people: [
          {
            id: event.people[0]!.id,
            label: 'no_mask',
            box: [v.boxX, v.boxY, v.boxW, v.boxH],
            frames: 1,
            noMaskProbability: v.noMaskProbability,
            snapshotUrl: `/api/v1/snapshots/${camera.id}/${frame.frameId}-0.jpg`,
            firstSeenAt: frame.capturedAt,
            lastSeenAt: frame.capturedAt,
            maskedSince: null,
            frameSnapshotUrl: `/api/v1/alerts/${alert.id}/frames/${frame.frameId}`,
            falsePositive: false,
            falsePositiveReason: null,
          },
        ],
        resolutionOutcome: null,
        noteCount: 0,
      });
      const processed = await metrics.registry.getSingleMetricAsString('maskwatch_frames_processed_total');
      assert.match(processed, /outcome="violations"\} [1-9]/);
    });

    it('stores nothing for a masked face, deletes the frame and announces no alert', async () => {
      const masked = await createCamera(stack.db.prisma, 'masked cam');
      const frame = await stageFrame(stack.dataDir, masked.id, MASKED_FACE);
      const result = await analyze(frame);
      assert.equal(result.outcome, 'clean');
      assert.equal(existsSync(frame.file), false, 'frames without a violation are deleted (privacy)');
      assert.equal(await stack.db.prisma.violation.count({ where: { cameraId: masked.id } }), 0);
      assert.equal(await stack.db.prisma.alert.count({ where: { cameraId: masked.id } }), 0);

      // Events from one worker go through one Redis connection in order: once a later
      // alert has arrived, an alert for the masked camera would have arrived before it.
      const other = await createCamera(stack.db.prisma, 'marker cam');
      await analyze(await stageFrame(stack.dataDir, other.id, UNMASKED_FACE));
      await listener.log.next('alert.created', (a) => a.cameraId === other.id);
      assert.deepEqual(listener.log.of(masked.id), []);
    });

    it('groups 20 frames of the same person into one alert with violationCount 20', async () => {
      const camera = await createCamera(stack.db.prisma, 'standing person');
      const t0 = Date.now() - 60_000;
      const frames = await Promise.all(
        Array.from({ length: 20 }, (_, i) => stageFrame(stack.dataDir, camera.id, UNMASKED_FACE, new Date(t0 + i * 500))),
      );
      // Two workers slots: frames of the camera are processed concurrently and possibly out of order.
      const results = await Promise.all(frames.map((f) => analyze(f)));
      assert.equal(results.filter((r) => r.createdAlertIds.length > 0).length, 1);

      const alerts = await stack.db.prisma.alert.findMany({ where: { cameraId: camera.id } });
      assert.equal(alerts.length, 1);
      const alert = alerts[0]!;
      assert.equal(alert.violationCount, 20);
      assert.equal(await stack.db.prisma.violation.count({ where: { alertId: alert.id } }), 20);
      assert.equal(alert.firstSeenAt.getTime(), t0);
      assert.equal(alert.lastSeenAt.getTime(), t0 + 19 * 500);

      // Updates are throttled, but the last state always goes out.
      const last = await listener.log.next('alert.updated', (a) => a.id === alert.id && a.violationCount === 20);
      assert.equal(last.lastSeenAt, new Date(t0 + 19 * 500).toISOString());
      assert.equal(listener.log.events.filter((e) => e.name === 'alert.created' && e.alert.cameraId === camera.id).length, 1);
    });

    it('a person seen again after the cooldown gets a new alert; a second person joins the open incident', async () => {
      const camera = await createCamera(stack.db.prisma, 'cooldown cam');
      const t0 = Date.now() - 3_600_000;
      const cooldownMs = stack.config.alerts.cooldownSeconds * 1000;
      await analyze(await stageFrame(stack.dataDir, camera.id, UNMASKED_FACE, new Date(t0)));
      await analyze(await stageFrame(stack.dataDir, camera.id, UNMASKED_FACE, new Date(t0 + cooldownMs + 1000)));
      // Another person: a face of another size, elsewhere in the frame, within the cooldown.
      await analyze(await stageFrame(stack.dataDir, camera.id, UNMASKED_FACE_2, new Date(t0 + cooldownMs + 1500)));
      const alerts = await stack.db.prisma.alert.findMany({ where: { cameraId: camera.id }, orderBy: { firstSeenAt: 'asc' } });
      assert.deepEqual(
        alerts.map((a) => a.violationCount),
        [1, 2],
      );
      assert.equal(await stack.db.prisma.alertPerson.count({ where: { alertId: alerts[1]!.id } }), 2);
    });

    it('never duplicates violations when the same frame is processed twice, even at once', async () => {
      const camera = await createCamera(stack.db.prisma, 'retry cam');
      const frame = await stageFrame(stack.dataDir, camera.id, UNMASKED_FACE);
      await analyze(frame, `${frame.frameId}-a`);
      // Redelivery of the same frame (e.g. the job ran again after a crash): the file is back.
      await stageFrame(stack.dataDir, camera.id, UNMASKED_FACE, new Date(frame.capturedAt), frame.frameId);
      const again = await analyze(frame, `${frame.frameId}-b`);
      assert.equal(again.violations, 0);
      // And two deliveries running at the same time on the two worker slots.
      await stageFrame(stack.dataDir, camera.id, UNMASKED_FACE, new Date(frame.capturedAt), frame.frameId);
      await Promise.all([analyze(frame, `${frame.frameId}-c`), analyze(frame, `${frame.frameId}-d`)]);

      assert.equal(await stack.db.prisma.violation.count({ where: { frameId: frame.frameId } }), 1);
      const alerts = await stack.db.prisma.alert.findMany({ where: { cameraId: camera.id } });
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.violationCount, 1);
    });

    it('fails a frame of an unknown (deleted) camera without retry and keeps no file of it', async () => {
      const frame = await stageFrame(stack.dataDir, 'no-such-camera', UNMASKED_FACE);
      await assert.rejects(analyze(frame), /camera no-such-camera does not exist/);
      assert.equal((await queue.getJob(frame.frameId))?.attemptsMade, 1);
      assert.equal(existsSync(frame.file), false);
      assert.equal(existsSync(path.join(stack.dataDir, 'snapshots', 'no-such-camera', `${frame.frameId}-frame.jpg`)), false);
    });

    it('fails a corrupt image at once, without retries, and removes the file', async () => {
      const camera = await createCamera(stack.db.prisma, 'broken cam');
      const frame = await stageFrame(stack.dataDir, camera.id, UNMASKED_FACE);
      await writeFile(frame.file, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]));
      await assert.rejects(analyze(frame), /unusable image/);
      const job = await queue.getJob(frame.frameId);
      assert.equal(job?.attemptsMade, 1, 'an UnrecoverableError is not retried');
      assert.equal(await job?.getState(), 'failed');
      assert.equal(existsSync(frame.file), false);
    });
  });
}

describe('detection worker with the database down', () => {
  it('fails the attempt, keeps the frame and schedules a retry with backoff', async () => {
    const stack = await createTestStack('sqlite');
    const engine = await loadEngine(stack.config);
    // A client whose database is unreachable (nothing listens on port 1): every query fails.
    const down = new PostgresPrismaClient({
      adapter: new PrismaPg({ connectionString: 'postgresql://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 2000 }),
    }) as unknown as Db;
    const connection = redisOptionsFromUrl(stack.config.redisUrl);
    const queue = new Queue<FrameJob>(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
    const detection = createDetectionWorker({
      redisUrl: stack.config.redisUrl,
      queuePrefix: stack.config.queuePrefix,
      dataDir: stack.dataDir,
      prisma: down,
      engine,
      cooldownSeconds: 60,
      logger: stack.logger,
    });
    try {
      const frame = await stageFrame(stack.dataDir, 'cam-1', UNMASKED_FACE);
      const failed = new Promise<{ job: Job; err: Error }>((resolve) =>
        detection.worker.once('failed', (job, err) => resolve({ job: job!, err })),
      );
      await queue.add('frame.analyze', frame, { ...FRAME_JOB_OPTIONS, jobId: frame.frameId });
      const { job, err } = await withTimeout(failed, "the worker's failed event");
      assert.notEqual(err.name, 'UnrecoverableError');
      assert.equal(job.attemptsMade, 1);
      assert.equal(await job.getState(), 'delayed', 'waiting for its backoff before the next attempt');
      assert.equal(existsSync(frame.file), true, 'the frame is kept for the retry');
    } finally {
      await detection.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await down.$disconnect().catch(() => undefined);
      await engine.close();
      await stack.close();
    }
  });
});
