/**
 * Incidents end to end with real parts (API, BullMQ, detection worker with the
 * real ONNX engine, SQLite / PostgreSQL, Socket.IO through Redis): a crowd is
 * ONE alert with N people, a clip is one alert, people confirmed later join the
 * open alert (alert.updated), and one person can be marked a false positive
 * without closing the incident.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Job, Queue, QueueEvents } from 'bullmq';
import sharp from 'sharp';
import { io as connect, type Socket } from 'socket.io-client';
import type { DetectionWorker } from '../../src/queue/wiring/detection.ts';
import { QUEUES } from '../../src/queue/jobs.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { iou } from '../../src/vision/nms.ts';
import type { VisionEngine } from '../../src/vision/types.ts';
import { makeClip } from '../../bench/lib/clips.ts';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { DATASETS, EventLog, loadEngine, stackDetectionWorker } from './worker-support.ts';

/** Four unmasked faces (YuNet + head: all four labelled no_mask); the left half holds two of them. */
const GROUP = path.join(DATASETS, 'scenes', 'group-faces.jpg');

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not arrive within ${ms} ms`)), ms);
    }),
  ]);
}

for (const provider of testProviders()) {
  describe(`incidents (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let engine: VisionEngine;
    let detection: DetectionWorker;
    let socket: Socket<ServerToClientEvents>;
    let log: EventLog;
    let queue: Queue;
    let queueEvents: QueueEvents;
    let admin: string;
    let dispatcher: string;
    let officer: string;
    let group: Buffer;
    let leftHalf: Buffer;
    let crowd: number;

    before(async () => {
      // The deployment default is set to 2 of 3 here (a window wider than k); snapshot cameras say 1 of 1 themselves.
      stack = await createTestStack(provider, { MASKWATCH_CONFIRM_FRAMES: '2', MASKWATCH_CONFIRM_WINDOW: '3' });
      api = await stack.startApi();
      admin = (await loginAs(api, { username: 'admin', role: 'ADMIN' })).token;
      dispatcher = (await loginAs(api, { username: 'dispatcher', role: 'DISPATCHER' })).token;
      await stack.db.prisma.patrolUnit.create({ data: { callSign: 'P-7' } });
      officer = (await loginAs(api, { username: 'officer', role: 'OFFICER', unitCallSign: 'P-7' })).token;
      engine = await loadEngine(stack.config);
      detection = stackDetectionWorker(stack, engine, { concurrency: 1, updateIntervalMs: 50 });
      socket = connect(api.url, { auth: { token: dispatcher }, transports: ['websocket'], reconnection: false });
      log = new EventLog(socket);
      await within(
        new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        }),
        10_000,
        'socket connection',
      );
      const connection = redisOptionsFromUrl(stack.config.redisUrl);
      queue = new Queue(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
      queueEvents = new QueueEvents(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
      await queueEvents.waitUntilReady();
      group = await readFile(GROUP);
      const meta = await sharp(group).metadata();
      const half = Math.floor(meta.width! / 2);
      leftHalf = await sharp(group)
        .composite([{ input: { create: { width: meta.width! - half, height: meta.height!, channels: 3, background: '#000' } }, left: half, top: 0 }])
        .jpeg({ quality: 92 })
        .toBuffer();
      // How many violators the engine (the mask head in models/) sees in the crowd: the people the
      // incident must list. The head labels one of the four faces `mask`.
      crowd = (await engine.analyzeFrame(group)).faces.filter((f) => f.violation).length;
      assert.ok(crowd >= 3, `the crowd frame has at least 3 violators, the engine saw ${crowd}`);
    });

    after(async () => {
      socket?.close();
      await queueEvents?.close();
      await queue?.close();
      await detection?.close();
      await engine?.close();
      await stack?.close();
    });

    async function newCamera(name: string, confirm?: { confirmFrames: number; confirmWindow: number }) {
      const res = await call(api.url, 'POST', '/api/v1/cameras', {
        token: admin,
        json: { name, latitude: 48.85, longitude: 2.35, address: '1 Rue de Rivoli', ...confirm },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; apiKey: string; confirmFrames: number | null; confirmWindow: number | null };
    }

    /** Posts a frame and waits until the worker has finished it. */
    async function postAndProcess(apiKey: string, image: Buffer, capturedAt: Date) {
      const res = await call(api.url, 'POST', '/api/v1/frames', {
        token: apiKey,
        body: image,
        headers: { 'content-type': 'image/jpeg', 'x-captured-at': capturedAt.toISOString() },
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const job = await Job.fromId(queue, res.body.frameId as string);
      if (job) await job.waitUntilFinished(queueEvents, 60_000);
    }

    async function alertsOf(cameraId: string): Promise<AlertEvent[]> {
      const res = await call(api.url, 'GET', `/api/v1/alerts?cameraId=${cameraId}`, { token: dispatcher });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.items;
    }

    it('a crowd frame from a snapshot camera (1 of 1) is ONE alert with N people', async () => {
      const camera = await newCamera('Crowd cam', { confirmFrames: 1, confirmWindow: 1 });
      assert.deepEqual([camera.confirmFrames, camera.confirmWindow], [1, 1]);
      await postAndProcess(camera.apiKey, group, new Date());
      const created = await within(log.next('alert.created', (a) => a.cameraId === camera.id), 30_000, 'alert.created of the crowd');
      assert.equal(created.people.length, crowd);
      // The created alert's summary comes from the people and violations its own transaction wrote.
      assert.equal(created.violationCount, crowd, 'one violation per person of a 1-of-1 frame');
      assert.equal(created.noMaskProbability, Math.max(...created.people.map((p) => p.noMaskProbability)));
      const alerts = await alertsOf(camera.id);
      assert.equal(alerts.length, 1, 'one alert for the crowd');
      const detail = await call(api.url, 'GET', `/api/v1/alerts/${alerts[0]!.id}`, { token: dispatcher });
      assert.equal(detail.status, 200);
      const people = (detail.body as AlertEvent).people;
      assert.equal(people.length, crowd);
      for (const p of people) {
        assert.equal(p.label, 'no_mask');
        assert.equal(p.frames, 1);
        // P(no mask) (not the sum with P(mask incorrect)), which confirmed this no_mask person.
        assert.ok(p.noMaskProbability >= stack.config.alerts.confirmThreshold.noMask);
        assert.ok(p.box[2] > 0 && p.box[3] > 0 && p.box[0] + p.box[2] <= 512 + 1, `box in frame pixels: ${p.box}`);
        assert.equal(p.firstSeenAt, p.lastSeenAt);
        assert.ok(p.snapshotUrl);
      }
      assert.equal(new Set(people.map((p) => p.snapshotUrl)).size, crowd, 'each person has their own best shot');
      for (let i = 0; i < people.length; i++) {
        for (let j = i + 1; j < people.length; j++) assert.ok(iou(people[i]!.box, people[j]!.box) < 0.3, 'no person twice');
      }
      const snapshot = await fetch(`${api.url}${people[0]!.snapshotUrl}`, { headers: { authorization: `Bearer ${dispatcher}` } });
      assert.equal(snapshot.status, 200);
      assert.equal(snapshot.headers.get('content-type'), 'image/jpeg');
    });

    it('a clip at 2 fps confirms people in 2 of 3 frames and becomes one alert', async () => {
      const camera = await newCamera('Clip cam');
      assert.deepEqual([camera.confirmFrames, camera.confirmWindow], [null, null], 'the deployment default (2 of 3) applies');
      const clip = await makeClip(group, { frames: 4, fps: 2, maxShift: 3, seed: 42 });
      const t0 = Date.now() - 10_000;
      await postAndProcess(camera.apiKey, clip[0]!.jpeg, new Date(t0));
      assert.deepEqual(await alertsOf(camera.id), [], 'one frame is not enough to confirm anybody');
      for (const f of clip.slice(1)) await postAndProcess(camera.apiKey, f.jpeg, new Date(t0 + f.offsetMs));
      const alerts = await alertsOf(camera.id);
      assert.equal(alerts.length, 1, 'the clip is one incident');
      const people = alerts[0]!.people;
      assert.ok(people.length >= 3 && people.length <= 4, `3–4 people, got ${people.length}`);
      for (const p of people) assert.ok(p.frames >= 2, `confirmed people have ≥ 2 frames, got ${p.frames}`);
      assert.equal(alerts[0]!.violationCount, people.reduce((n, p) => n + p.frames, 0), 'every violating frame of every person counted once');
      for (let i = 0; i < people.length; i++) {
        for (let j = i + 1; j < people.length; j++) assert.ok(iou(people[i]!.box, people[j]!.box) < 0.3, 'no person twice');
      }
      assert.equal(log.of(camera.id).filter((e) => e.name === 'alert.created').length, 1);
    });

    it('people confirmed later at the same camera join the open alert (alert.updated)', async () => {
      const camera = await newCamera('Join cam', { confirmFrames: 1, confirmWindow: 1 });
      const t0 = Date.now() - 5_000;
      await postAndProcess(camera.apiKey, leftHalf, new Date(t0));
      const created = await within(log.next('alert.created', (a) => a.cameraId === camera.id), 30_000, 'alert.created (two people)');
      assert.equal(created.people.length, 2);
      await postAndProcess(camera.apiKey, group, new Date(t0 + 1000));
      const updated = await within(
        log.next('alert.updated', (a) => a.id === created.id && a.people.length === crowd),
        30_000,
        'alert.updated with the whole crowd',
      );
      assert.equal(updated.status, 'NEW');
      const keep = created.people.map((p) => p.id).sort();
      assert.deepEqual(
        updated.people.filter((p) => keep.includes(p.id)).map((p) => p.id).sort(),
        keep,
        'the first two are the same people (tracked), not new ones',
      );
      for (const p of updated.people.filter((x) => keep.includes(x.id))) assert.equal(p.lastSeenAt, new Date(t0 + 1000).toISOString());
      assert.equal((await alertsOf(camera.id)).length, 1);
    });

    it('marks one person a false positive with a reason; the incident stays open', async () => {
      const camera = await newCamera('Review cam', { confirmFrames: 1, confirmWindow: 1 });
      await postAndProcess(camera.apiKey, group, new Date());
      const alert = await within(log.next('alert.created', (a) => a.cameraId === camera.id), 30_000, 'alert.created to review');
      const person = alert.people[0]!;
      const url = `/api/v1/alerts/${alert.id}/people/${person.id}/false-positive`;

      assert.equal((await call(api.url, 'POST', url, { token: officer, json: { reason: 'poster' } })).status, 403);
      const noReason = await call(api.url, 'POST', url, { token: dispatcher, json: { reason: '  ' } });
      assert.equal(noReason.status, 400);
      assert.match(noReason.headers.get('content-type') ?? '', /problem\+json|json/);
      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${alert.id}/people/nobody/false-positive`, { token: dispatcher, json: { reason: 'x' } })).status, 404);

      const res = await call(api.url, 'POST', url, { token: dispatcher, json: { reason: 'a face on a poster' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const after = res.body as AlertEvent;
      assert.equal(after.status, 'NEW', 'the incident is not dismissed');
      const marked = after.people.find((p) => p.id === person.id)!;
      assert.equal(marked.falsePositive, true);
      assert.equal(marked.falsePositiveReason, 'a face on a poster');
      assert.equal(after.people.filter((p) => p.falsePositive).length, 1);
      await within(log.next('alert.updated', (a) => a.id === alert.id && a.people.some((p) => p.falsePositive)), 30_000, 'alert.updated after the review');
      assert.equal((await call(api.url, 'POST', url, { token: dispatcher, json: { reason: 'again' } })).status, 409);

      const timeline = await call(api.url, 'GET', `/api/v1/alerts/${alert.id}/timeline`, { token: dispatcher });
      const mark = (timeline.body.items as { action: string; username: string | null; note: string | null }[]).find((e) => e.action === 'alert.person_false_positive');
      assert.deepEqual(mark && { username: mark.username, note: mark.note }, { username: 'dispatcher', note: 'a face on a poster' }, 'the timeline says who marked the person, and why');

      const stats = await call(api.url, 'GET', '/api/v1/stats?groupBy=camera', { token: dispatcher });
      assert.equal(stats.status, 200, JSON.stringify(stats.body));
      const row = (stats.body.falsePositives as { cameraId: string; people: number; falsePositives: number; rate: number }[]).find((r) => r.cameraId === camera.id)!;
      assert.deepEqual([row.people, row.falsePositives, row.rate], [crowd, 1, 1 / crowd]);
    });

    it("an edit of the camera's address reaches its open alerts live (officers navigate by it); other edits do not", async () => {
      const camera = await newCamera('Renamed cam', { confirmFrames: 1, confirmWindow: 1 });
      await postAndProcess(camera.apiKey, group, new Date());
      const alert = await within(log.next('alert.created', (a) => a.cameraId === camera.id), 30_000, 'alert.created before the edit');
      const edit = await call(api.url, 'PATCH', `/api/v1/cameras/${camera.id}`, { token: admin, json: { name: 'Renamed cam (Metro)', address: 'Calle Mayor 1, Madrid' } });
      assert.equal(edit.status, 200, JSON.stringify(edit.body));
      const updated = await within(log.next('alert.updated', (a) => a.id === alert.id && a.camera.address === 'Calle Mayor 1, Madrid'), 30_000, 'alert.updated after the camera edit');
      assert.equal(updated.camera.name, 'Renamed cam (Metro)');
      assert.equal(updated.status, alert.status);
      // A confirmation change shows nowhere on the alert: nothing is announced, so the zone edit after it is the only next event.
      const updates = () => log.events.filter((e) => e.name === 'alert.updated' && e.alert.id === alert.id).length;
      const before = updates();
      assert.equal((await call(api.url, 'PATCH', `/api/v1/cameras/${camera.id}`, { token: admin, json: { confirmFrames: 2, confirmWindow: 2 } })).status, 200);
      assert.equal((await call(api.url, 'PATCH', `/api/v1/cameras/${camera.id}`, { token: admin, json: { zone: 'Sol' } })).status, 200);
      await within(log.next('alert.updated', (a) => a.id === alert.id && a.camera.zone === 'Sol'), 30_000, 'alert.updated after the zone edit');
      assert.equal(updates(), before + 1);
    });

    it('validates confirmFrames / confirmWindow on camera creation', async () => {
      const bad = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'x', latitude: 1, longitude: 1, confirmFrames: 4, confirmWindow: 3 } });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body), /confirmFrames must not exceed confirmWindow/);
      const zero = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'x', latitude: 1, longitude: 1, confirmWindow: 0 } });
      assert.equal(zero.status, 400);
    });
  });
}
