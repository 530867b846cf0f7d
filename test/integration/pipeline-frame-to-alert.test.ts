/**
 * The backbone end to end with real parts: a camera POSTs frames to API
 * instance A, the detection worker (real engine) processes them from BullMQ,
 * and a dispatcher's Socket.IO client connected to API instance B receives the
 * alert through the Redis adapter; the snapshot URL in the event is served by the API.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { io as connect, type Socket } from 'socket.io-client';
import type { DetectionWorker } from '../../src/queue/wiring/detection.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import { QUEUES } from '../../src/queue/jobs.ts';
import type { ServerToClientEvents } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import type { VisionEngine } from '../../src/vision/types.ts';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { EventLog, MASKED_FACE, UNMASKED_FACE, loadEngine, stackDetectionWorker } from './worker-support.ts';
import { socketConnected } from '../helpers/wait.ts';

for (const provider of testProviders()) {
  describe(`frame → worker → alert on another API instance (${provider})`, () => {
    let stack: TestStack;
    let apiA: ApiInstance;
    let apiB: ApiInstance;
    let engine: VisionEngine;
    let detection: DetectionWorker;
    let socket: Socket<ServerToClientEvents>;
    let log: EventLog;
    let dispatcherToken: string;
    let adminToken: string;

    before(async () => {
      stack = await createTestStack(provider);
      apiA = await stack.startApi();
      apiB = await stack.startApi();
      adminToken = (await loginAs(apiA, { username: 'admin', role: 'ADMIN' })).token;
      dispatcherToken = (await loginAs(apiB, { username: 'dispatcher', role: 'DISPATCHER' })).token;
      engine = await loadEngine(stack.config);
      detection = stackDetectionWorker(stack, engine, { concurrency: 2 });
      socket = connect(apiB.url, { auth: { token: dispatcherToken }, transports: ['websocket'], reconnection: false });
      log = new EventLog(socket);
      await socketConnected(socket);
    });

    after(async () => {
      socket?.close();
      await detection?.close();
      await engine?.close();
      await stack?.close();
    });

    async function newCamera(name: string) {
      const res = await call(apiA.url, 'POST', '/api/v1/cameras', {
        token: adminToken,
        json: { name, latitude: 48.85, longitude: 2.35, zone: 'z1' },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; apiKey: string };
    }

    async function postFrame(apiKey: string, image: Buffer, capturedAt: Date) {
      const res = await call(apiA.url, 'POST', '/api/v1/frames', {
        token: apiKey,
        body: image,
        headers: { 'content-type': 'image/jpeg', 'x-captured-at': capturedAt.toISOString() },
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return res.body.frameId as string;
    }

    it('an unmasked face posted to A reaches a dispatcher on B as alert.created, with a served snapshot', async () => {
      const camera = await newCamera('Gate 1');
      const frameId = await postFrame(camera.apiKey, await readFile(UNMASKED_FACE), new Date());
      const event = await log.next('alert.created', (a) => a.cameraId === camera.id);
      assert.equal(event.camera.name, 'Gate 1');
      assert.equal(event.violationCount, 1);
      assert.equal(event.snapshotUrl, `/api/v1/snapshots/${camera.id}/${frameId}-0.jpg`);

      const violations = await stack.db.prisma.violation.findMany({ where: { cameraId: camera.id } });
      assert.deepEqual(violations.map((v) => [v.frameId, v.alertId]), [[frameId, event.id]]);

      const res = await fetch(`${apiB.url}${event.snapshotUrl}`, { headers: { authorization: `Bearer ${dispatcherToken}` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      assert.equal(await apiA.producer.backlog.size(camera.id), 0, 'the worker released the backlog slot');
    });

    it('20 frames of the same person posted through the API make one alert with violationCount 20; a masked face none', async () => {
      const masked = await newCamera('Masked gate');
      const maskedFrameId = await postFrame(masked.apiKey, await readFile(MASKED_FACE), new Date());
      const camera = await newCamera('Bus stop');
      const image = await readFile(UNMASKED_FACE);
      const t0 = Date.now() - 30_000;
      for (let i = 0; i < 20; i++) await postFrame(camera.apiKey, image, new Date(t0 + i * 500));
      const created = await log.next('alert.created', (a) => a.cameraId === camera.id);
      const final = await log.next('alert.updated', (a) => a.id === created.id && a.violationCount === 20);
      assert.equal(final.lastSeenAt, new Date(t0 + 19 * 500).toISOString());
      assert.equal(await stack.db.prisma.alert.count({ where: { cameraId: camera.id } }), 1);
      assert.equal(await stack.db.prisma.violation.count({ where: { cameraId: camera.id } }), 20);
      // Once the masked frame's job is finished, any event for it would have been published already.
      const connection = redisOptionsFromUrl(stack.config.redisUrl);
      const queue = new Queue(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
      const events = new QueueEvents(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
      try {
        await events.waitUntilReady();
        const job = await queue.getJob(maskedFrameId);
        assert.ok(job, 'the masked frame was enqueued under its frame id');
        assert.equal(((await job.waitUntilFinished(events)) as { outcome: string }).outcome, 'clean');
      } finally {
        await events.close();
        await queue.close();
      }
      assert.deepEqual(log.of(masked.id), []);
      assert.equal(await stack.db.prisma.violation.count({ where: { cameraId: masked.id } }), 0);
    });
  });
}
