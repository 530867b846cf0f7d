/**
 * Edge analysis end to end with real parts (API over HTTP, BullMQ on Redis,
 * the detection worker, SQLite / PostgreSQL, Socket.IO, the real ONNX engine
 * on a real photo): an agent's detections make the same alert as the frame
 * would; forged detections are refused; a retried detections job is recorded once.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, stat, copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Job, Queue, QueueEvents } from 'bullmq';
import sharp from 'sharp';
import pino from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { createCameraAgent } from '../../src/agent/camera-agent.ts';
import { createEdgeAnalyzer, type EdgeAnalysis } from '../../src/agent/edge-analysis.ts';
import { openSpool } from '../../src/agent/spool.ts';
import type { DetectionsRequest } from '../../src/contracts/api.ts';
import { uploadedCropPath } from '../../src/queue/handlers/detections-record.ts';
import type { DetectionWorker } from '../../src/queue/wiring/detection.ts';
import { QUEUES, type DetectionsJob } from '../../src/queue/jobs.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { AIZOO_SECOND_OPINION_RULE } from '../../src/vision/decision.ts';
import type { VisionEngine } from '../../src/vision/types.ts';
import { centroidDistance, iou, type Box } from '../../src/domain/tracker.ts';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { tempDir } from '../helpers/env.ts';
import { withTimeout } from '../helpers/wait.ts';
import { DATASETS, EventLog, loadEngine, stackDetectionWorker } from './worker-support.ts';

/** Four unmasked faces (YuNet + head: all four labelled no_mask). */
const GROUP = path.join(DATASETS, 'scenes', 'group-faces.jpg');
const MASKED = path.join(DATASETS, 'chandrikadeb7', 'with_mask', '0323.jpg');

function assertProblem(res: { status: number; headers: Headers; body: { status?: unknown; detail?: unknown } }, status: number, detail?: RegExp) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  if (detail) assert.match(String(res.body.detail), detail);
}

const byPosition = (a: { box: number[] }, b: { box: number[] }) => a.box[0]! - b.box[0]! || a.box[1]! - b.box[1]!;

for (const provider of testProviders()) {
  describe(`edge analysis: POST /api/v1/detections (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let engine: VisionEngine;
    let detection: DetectionWorker;
    let socket: Socket<ServerToClientEvents>;
    let log: EventLog;
    let queue: Queue;
    let queueEvents: QueueEvents;
    // Edge detections have a queue of their own (QUEUES.detections).
    let detQueue: Queue;
    let detEvents: QueueEvents;
    let admin: string;
    let dispatcher: string;
    let group: Buffer;
    let analysed: EdgeAnalysis;

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi();
      admin = (await loginAs(api, { username: 'admin', role: 'ADMIN' })).token;
      dispatcher = (await loginAs(api, { username: 'dispatcher', role: 'DISPATCHER' })).token;
      engine = await loadEngine(stack.config);
      detection = stackDetectionWorker(stack, engine, { concurrency: 1, updateIntervalMs: 50 });
      socket = connect(api.url, { auth: { token: dispatcher }, transports: ['websocket'], reconnection: false });
      log = new EventLog(socket);
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        }),
        'socket connection',
      );
      const connection = redisOptionsFromUrl(stack.config.redisUrl);
      queue = new Queue(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
      queueEvents = new QueueEvents(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
      detQueue = new Queue(QUEUES.detections, { connection, prefix: stack.config.queuePrefix });
      detEvents = new QueueEvents(QUEUES.detections, { connection, prefix: stack.config.queuePrefix });
      await Promise.all([queueEvents.waitUntilReady(), detEvents.waitUntilReady()]);
      group = await readFile(GROUP);
      analysed = await createEdgeAnalyzer(engine)(group, new Date());
    });

    after(async () => {
      socket?.close();
      await queueEvents?.close();
      await queue?.close();
      await detEvents?.close();
      await detQueue?.close();
      await detection?.close();
      await engine?.close();
      await stack?.close();
    });

    async function newCamera(name: string) {
      const res = await call(api.url, 'POST', '/api/v1/cameras', {
        token: admin,
        json: { name, latitude: 48.85, longitude: 2.35, address: '1 Rue de Rivoli', confirmFrames: 1, confirmWindow: 1 },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; apiKey: string };
    }

    const postDetections = (key: string, body: unknown, headers: Record<string, string> = {}) =>
      call(api.url, 'POST', '/api/v1/detections', { token: key, json: body, headers });

    /** A frame's job (frames queue) or detections job (detections queue), once finished. */
    async function finished(frameId: string) {
      const frame = await Job.fromId(queue, frameId);
      const job = frame ?? (await Job.fromId(detQueue, frameId));
      assert.ok(job, `job ${frameId} exists`);
      return job.waitUntilFinished(frame ? queueEvents : detEvents, 60_000);
    }

    async function alertDetail(cameraId: string): Promise<AlertEvent> {
      const list = await call(api.url, 'GET', `/api/v1/alerts?cameraId=${cameraId}`, { token: dispatcher });
      assert.equal(list.status, 200);
      assert.equal(list.body.items.length, 1, `one alert at camera ${cameraId}`);
      const detail = await call(api.url, 'GET', `/api/v1/alerts/${list.body.items[0].id}`, { token: dispatcher });
      assert.equal(detail.status, 200);
      return detail.body;
    }

    it("an edge agent's detections produce the same alert as the frame would", async () => {
      const central = await newCamera('Central cam');
      const edge = await newCamera('Edge cam');
      const capturedAt = new Date(Date.now() - 2000);

      // Camera A: the frame itself.
      const frameRes = await call(api.url, 'POST', '/api/v1/frames', {
        token: central.apiKey,
        body: group,
        headers: { 'content-type': 'image/jpeg', 'x-captured-at': capturedAt.toISOString() },
      });
      assert.equal(frameRes.status, 202);
      await finished(frameRes.body.frameId);

      // Camera B: the agent's code path (engine on site → detections → spool/upload rules), never the frame.
      const spoolDir = await tempDir('maskwatch-edge-spool');
      const accepted: string[] = [];
      const seen: string[] = [];
      const agent = createCameraAgent({
        server: api.url,
        apiKey: edge.apiKey,
        spool: await openSpool(spoolDir.dir, 10),
        logger: pino({ level: 'silent' }),
        statsIntervalMs: 0,
        analyze: createEdgeAnalyzer(engine),
        fetch: async (url, init) => {
          seen.push(new URL(String(url)).pathname);
          return fetch(url, init);
        },
        onAccepted: (info) => accepted.push(info.frameId),
      });
      await agent.offer({ image: group, capturedAt });
      await agent.stop();
      await spoolDir.cleanup();
      assert.deepEqual(seen, ['/api/v1/detections'], 'the agent posted detections, not the frame');
      assert.equal(accepted.length, 1);
      await finished(accepted[0]!);

      await Promise.all([
        withTimeout(log.next('alert.created', (x) => x.cameraId === central.id), 'alert.created of the frame'),
        withTimeout(log.next('alert.created', (x) => x.cameraId === edge.id), 'alert.created of the detections'),
      ]);
      const a = await alertDetail(central.id);
      const b = await alertDetail(edge.id);
      assert.ok(a.people.length >= 3, `the group photo shows several unmasked people, got ${a.people.length}`);
      assert.equal(b.people.length, a.people.length, 'same number of people');
      const pa = [...a.people].sort(byPosition);
      const pb = [...b.people].sort(byPosition);
      pa.forEach((p, i) => {
        const q = pb[i]!;
        assert.equal(q.label, p.label, 'same label');
        p.box.forEach((v, k) => assert.ok(Math.abs(v - q.box[k]!) <= 1, `box within 1 px: ${p.box} vs ${q.box}`));
      });
      assert.ok(a.frameSnapshotUrl, 'the central alert has its annotated frame');

      // Edge evidence: face crops (0600 files under the data dir), no frame.
      const detail = b;
      assert.equal(detail.frameSnapshotUrl, null, 'frames never leave the site');
      assert.ok(detail.snapshotUrl);
      for (const p of detail.people) {
        assert.equal(p.frameSnapshotUrl, null);
        assert.ok(p.snapshotUrl, 'each person has a face crop');
        const res = await fetch(`${api.url}${p.snapshotUrl}`, { headers: { authorization: `Bearer ${dispatcher}` } });
        assert.equal(res.status, 200);
        const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
        assert.equal(meta.format, 'jpeg');
      }
      const dir = path.join(stack.dataDir, 'snapshots', edge.id);
      const files = await readdir(dir);
      assert.equal(files.length, analysed.violations, `one crop per violating face and no frame: ${files}`);
      assert.ok(files.every((f) => !f.endsWith('-frame.jpg')));
      for (const f of files) assert.equal((await stat(path.join(dir, f))).mode & 0o777, 0o600, `${f} is owner-only`);
      // The uploaded crops waiting for the job are gone once it is recorded.
      assert.deepEqual((await readdir(path.join(stack.dataDir, 'frames', edge.id)).catch(() => [])).length, 0);
      // The track and the exports cope with the null frame.
      const track = await call(api.url, 'GET', `/api/v1/alerts/${detail.id}/people/${detail.people[0]!.id}/track`, { token: dispatcher });
      assert.ok(track.status === 200 || track.status === 404, `track: ${track.status}`);
      const exported = await call(api.url, 'GET', `/api/v1/violations.csv?cameraId=${edge.id}`, { token: dispatcher });
      assert.equal(exported.status, 200, `export: ${exported.status}`);
    });

    it('forged or bad detections are refused with problem+json 4xx; nothing is stored', async () => {
      const cam = await newCamera('Forgery target');
      const valid = (): DetectionsRequest => structuredClone({ ...analysed.body, capturedAt: new Date().toISOString(), frameId: randomUUID() });
      const violating = valid().faces.findIndex((f) => f.crop !== undefined);
      assert.ok(violating >= 0);
      assert.equal(typeof valid().faces[violating]!.secondOpinion?.noMaskProbability, 'number', "the agent sends its second opinion's reading of an accused face");

      // Key checks first: none, unknown, disabled.
      assertProblem(await call(api.url, 'POST', '/api/v1/detections', { json: valid() }), 401);
      assertProblem(await postDetections('mwc_not-a-key', valid()), 401);
      const disabled = await newCamera('Disabled cam');
      assert.equal((await call(api.url, 'PATCH', `/api/v1/cameras/${disabled.id}`, { token: admin, json: { enabled: false } })).status, 200);
      assertProblem(await postDetections(disabled.apiKey, valid()), 401);

      const cases: [string, (b: DetectionsRequest) => void, number, RegExp?][] = [
        ['box outside the frame', (b) => (b.faces[0]!.box = [b.width - 5, 10, 40, 40]), 422, /outside/],
        ['negative box origin', (b) => (b.faces[0]!.box = [-20, 10, 40, 40]), 422, /outside/],
        ['zero-width box', (b) => (b.faces[0]!.box = [10, 10, 0, 40]), 422, /positive/],
        ['probabilities not summing to 1', (b) => (b.faces[0]!.probabilities = { mask: 0.5, no_mask: 0.5, mask_incorrect: 0.5 }), 422, /sum/],
        ['probability above 1', (b) => (b.faces[0]!.probabilities = { mask: -0.5, no_mask: 1.5, mask_incorrect: 0 }), 400],
        ['65 faces', (b) => (b.faces = Array.from({ length: 65 }, () => ({ ...b.faces[0]! }))), 400],
        ['a violation without its crop', (b) => delete b.faces[violating]!.crop, 422, /crop is required/],
        [
          'a crop for a face that is no violation',
          (b) => {
            const f = b.faces[violating]!;
            f.probabilities = { mask: 0.98, no_mask: 0.01, mask_incorrect: 0.01 };
            delete f.secondOpinion;
          },
          422,
          /not a violation/,
        ],
        [
          'a second opinion on a face the rule does not accuse',
          (b) => {
            const f = b.faces[violating]!;
            f.probabilities = { mask: 0.98, no_mask: 0.01, mask_incorrect: 0.01 };
            delete f.crop;
          },
          422,
          /secondOpinion/,
        ],
        ['a second opinion above 1', (b) => (b.faces[violating]!.secondOpinion = { noMaskProbability: 1.5 }), 400],
        // Vetoed by the deployed rule (AIZOO's P(no mask) below its threshold): no violation, so no crop either.
        ['a crop for a face the second opinion vetoed', (b) => (b.faces[violating]!.secondOpinion = { noMaskProbability: 0.05 }), 422, /not a violation/],
        [
          'a crop for a face the second opinion doubts',
          (b) => (b.faces[violating]!.secondOpinion = { noMaskProbability: AIZOO_SECOND_OPINION_RULE.noMaskThreshold - 0.01 }),
          422,
          /not a violation/,
        ],
        ['a crop that is not an image', (b) => (b.faces[violating]!.crop = Buffer.from('hello, not a jpeg').toString('base64')), 422, /not a JPEG/],
        [
          'a crop that is a truncated JPEG',
          (b) => (b.faces[violating]!.crop = Buffer.from(b.faces[violating]!.crop!, 'base64').subarray(0, 300).toString('base64')),
          422,
          /decodable/,
        ],
        ['a crop that is not base64', (b) => (b.faces[violating]!.crop = '!!!!' + b.faces[violating]!.crop!.slice(4)), 422, /base64/],
        ['frame beyond the pixel limit', (b) => ((b.width = 20_000), (b.height = 20_000)), 413, /pixels/],
        ['capturedAt in the future', (b) => (b.capturedAt = new Date(Date.now() + 3_600_000).toISOString()), 400],
        ['capturedAt without a zone', (b) => (b.capturedAt = '2026-01-01T10:00:00'), 400],
        ['capturedAt older than retention', (b) => (b.capturedAt = new Date(Date.now() - 400 * 86_400_000).toISOString()), 400],
        ['unknown fields', (b) => Object.assign(b, { verdict: 'no violation' }), 400],
      ];
      for (const [what, forge, status, detail] of cases) {
        const body = valid();
        forge(body);
        const res = await postDetections(cam.apiKey, body);
        assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
        assertProblem(res, status, detail);
      }
      // A crop over 256 KiB (random bytes behind a JPEG header: incompressible).
      const big = valid();
      big.faces[violating]!.crop = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(300 * 1024, 7)]).toString('base64');
      assertProblem(await postDetections(cam.apiKey, big), 400); // past the schema's base64 length bound
      const justOver = valid();
      justOver.faces[violating]!.crop = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(256 * 1024 - 1, 7)]).toString('base64');
      assertProblem(await postDetections(cam.apiKey, justOver), 413, /bytes/);
      // Body over the bound: refused from Content-Length, readable (413) like frames.
      const huge = await call(api.url, 'POST', '/api/v1/detections', {
        token: cam.apiKey,
        body: Buffer.alloc(stack.config.ingest.maxFrameBytes + 1, 0x20),
        headers: { 'content-type': 'application/json' },
      });
      assertProblem(huge, 413);
      // Wrong content type: 415 before the body is read.
      assertProblem(await call(api.url, 'POST', '/api/v1/detections', { token: cam.apiKey, body: 'x', headers: { 'content-type': 'text/plain' } }), 415);

      assert.equal(existsSync(path.join(stack.dataDir, 'frames', cam.id)) ? (await readdir(path.join(stack.dataDir, 'frames', cam.id))).length : 0, 0);
      assert.equal(await api.producer.backlog.size(cam.id), 0, 'no backlog slot left taken');
      // And the untouched body is accepted.
      const ok = await postDetections(cam.apiKey, valid());
      assert.equal(ok.status, 202, JSON.stringify(ok.body));
      assert.equal(ok.body.violations, analysed.violations);
      await finished(ok.body.frameId);
      // A face the agent's second opinion vetoed arrives without its crop and is no violation.
      const vetoed = valid();
      vetoed.faces[violating]!.secondOpinion = { noMaskProbability: 0.05 };
      delete vetoed.faces[violating]!.crop;
      const res = await postDetections(cam.apiKey, vetoed);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.violations, analysed.violations - 1);
      await finished(res.body.frameId);
    });

    it('masked faces only: queued only while a track of the camera may be live; the same agent frameId twice is one frame', async () => {
      const windowMs = stack.config.alerts.cooldownSeconds * 1000;
      const cam = await newCamera('Masked cam');
      const masked = await createEdgeAnalyzer(engine)(await readFile(MASKED), new Date());
      assert.ok(masked.faces >= 1);
      assert.equal(masked.violations, 0);
      assert.ok(masked.body.faces.every((f) => f.crop === undefined));
      const maskedAt = (at: number) => ({ ...masked.body, frameId: randomUUID(), capturedAt: new Date(at).toISOString() });
      const noJob = async (frameId: string, why: string) => {
        assert.equal(await Job.fromId(detQueue, frameId), undefined, why);
        assert.equal(await api.producer.backlog.size(cam.id), 0, `${why}: no backlog slot taken`);
      };

      // No track at this camera (tracks start only at a violation): accepted, nothing to queue.
      const alone = await postDetections(cam.apiKey, maskedAt(Date.now()));
      assert.equal(alone.status, 202, JSON.stringify(alone.body));
      await noJob(alone.body.frameId, 'masked faces at a camera without a track');

      // A violation (captured three windows ago) may start a track: masked faces captured within the window
      // after it may continue that track, so they are queued; a retried upload keeps its frame id.
      const violationAt = Date.now() - 3 * windowMs;
      const violation = await postDetections(cam.apiKey, { ...analysed.body, frameId: randomUUID(), capturedAt: new Date(violationAt).toISOString() });
      assert.equal(violation.status, 202, JSON.stringify(violation.body));
      await finished(violation.body.frameId);
      const within = maskedAt(violationAt + 1000);
      const first = await postDetections(cam.apiKey, within);
      assert.equal(first.status, 202);
      const again = await postDetections(cam.apiKey, within);
      assert.equal(again.status, 202);
      assert.equal(again.body.frameId, first.body.frameId, 'a retried upload keeps its frame id');
      await finished(first.body.frameId);
      // A late retry, after its job ran: the same answer, and no backlog slot left taken.
      const late = await postDetections(cam.apiKey, within);
      assert.equal(late.status, 202);
      assert.equal(late.body.frameId, first.body.frameId);
      assert.equal(await api.producer.backlog.size(cam.id), 0, 'a late retry leaves no backlog slot taken');
      // That masked upload extended the camera's window; past it, masked faces are accepted without a job again.
      const past = await postDetections(cam.apiKey, maskedAt(violationAt + 1000 + windowMs + 1000));
      assert.equal(past.status, 202);
      await noJob(past.body.frameId, 'masked faces captured after the window');

      // A frame upload may start a track too (its faces are not known before analysis).
      const frame = await call(api.url, 'POST', '/api/v1/frames', {
        token: cam.apiKey,
        body: await readFile(MASKED),
        headers: { 'content-type': 'image/jpeg', 'x-captured-at': new Date(violationAt + 2 * windowMs).toISOString() },
      });
      assert.equal(frame.status, 202);
      await finished(frame.body.frameId);
      const afterFrame = await postDetections(cam.apiKey, maskedAt(violationAt + 2 * windowMs + 1000));
      assert.equal(afterFrame.status, 202);
      assert.ok(await Job.fromId(detQueue, afterFrame.body.frameId), 'masked faces after a frame upload are queued');
      await finished(afterFrame.body.frameId);

      // Nobody in view: accepted, and nothing to queue (tracks end by time, not by empty frames).
      const empty = await postDetections(cam.apiKey, { capturedAt: new Date().toISOString(), width: 640, height: 480, faces: [] });
      assert.equal(empty.status, 202, JSON.stringify(empty.body));
      await noJob(empty.body.frameId, 'nobody in view');
    });

    it("masked faces in the window: those on a violator's track are stored as its sightings, the others cost no transaction", async () => {
      const cam = await newCamera('Passers-by cam');
      const version = async () => (await stack.db.prisma.camera.findUniqueOrThrow({ where: { id: cam.id } })).groupingVersion;
      const t0 = Date.now() - 60_000;
      const violation = await postDetections(cam.apiKey, { ...analysed.body, frameId: randomUUID(), capturedAt: new Date(t0).toISOString() });
      assert.equal(violation.status, 202, JSON.stringify(violation.body));
      await finished(violation.body.frameId);
      const afterViolation = await version();
      const tracks = await stack.db.prisma.trackSighting.count({ where: { frameId: violation.body.frameId } });
      assert.ok(tracks >= 3, `the violators' tracks (${tracks})`);

      // The same people a second later, now masked: each violator's face continues its track (one transaction).
      const maskedProbabilities = { mask: 0.97, no_mask: 0.02, mask_incorrect: 0.01 };
      const onTrack = {
        ...analysed.body,
        frameId: randomUUID(),
        capturedAt: new Date(t0 + 1000).toISOString(),
        faces: analysed.body.faces.map(({ crop: _crop, secondOpinion: _second, ...f }) => ({ ...f, probabilities: maskedProbabilities })),
      };
      const a = await postDetections(cam.apiKey, onTrack);
      assert.equal(a.status, 202, JSON.stringify(a.body));
      await finished(a.body.frameId);
      const stored = await stack.db.prisma.trackSighting.findMany({ where: { frameId: a.body.frameId } });
      assert.equal(stored.length, tracks, "each violator's masked face continues its track");
      assert.ok(stored.every((r) => !r.violating && r.trackKey.startsWith(`${violation.body.frameId}:`)), 'stored as non-violating sightings of the tracks');
      assert.equal(await version(), afterViolation + 1, 'recorded in one transaction holding the camera lock');

      // Someone masked far from every track (a corner the violators never stood in): queued (a track may be
      // live) but read once and dropped, without the transaction.
      const side = 24;
      const { width, height } = analysed.body;
      const faceBoxes = analysed.body.faces.map(({ box: [x, y, w, h] }): Box => [x!, y!, w!, h!]);
      const apart = (box: Box) => faceBoxes.every((f) => iou(f, box) === 0 && centroidDistance(f, box) > 2);
      const corner = ([[0, 0], [width - side, 0], [0, height - side], [width - side, height - side]] as const)
        .map(([x, y]): Box => [x, y, side, side])
        .find(apart);
      assert.ok(corner, 'a corner away from every face');
      const elsewhere = { ...onTrack, frameId: randomUUID(), capturedAt: new Date(t0 + 2000).toISOString(), faces: [{ ...onTrack.faces[0]!, box: corner }] };
      const b = await postDetections(cam.apiKey, elsewhere);
      assert.equal(b.status, 202, JSON.stringify(b.body));
      assert.ok(await Job.fromId(detQueue, b.body.frameId), 'queued: a track of the camera may be live');
      const result = (await finished(b.body.frameId)) as { outcome: string; faces: number };
      assert.deepEqual({ outcome: result.outcome, faces: result.faces }, { outcome: 'clean', faces: 1 });
      assert.equal(await stack.db.prisma.trackSighting.count({ where: { frameId: b.body.frameId } }), 0, 'nothing stored');
      assert.equal(await version(), afterViolation + 1, 'no transaction: the camera lock was not taken');
    });

    it('a retried detections job is idempotent (after the transaction, and with its inputs still there)', async () => {
      const cam = await newCamera('Retry cam');
      const body = { ...analysed.body, frameId: randomUUID(), capturedAt: new Date().toISOString() };
      const res = await postDetections(cam.apiKey, body);
      assert.equal(res.status, 202);
      const frameId: string = res.body.frameId;
      const job = (await Job.fromId(detQueue, frameId)) as Job<DetectionsJob>;
      const data = job.data;
      // Keep copies of the uploaded crops, to replay an attempt that died after the transaction but before cleanup.
      const violating = data.faces.flatMap((f, i) => (f.violation ? [i] : []));
      const saved = path.join(stack.dataDir, 'saved-crops');
      await mkdir(saved, { recursive: true });
      for (const i of violating) await copyFile(path.join(stack.dataDir, uploadedCropPath(cam.id, frameId, i)), path.join(saved, `${i}.jpg`));
      await job.waitUntilFinished(detEvents, 60_000);
      const created = await withTimeout(log.next('alert.created', (x) => x.cameraId === cam.id), 'alert.created of the retry camera');

      const counts = async () => ({
        alerts: await stack.db.prisma.alert.count({ where: { cameraId: cam.id } }),
        violations: await stack.db.prisma.violation.count({ where: { cameraId: cam.id } }),
        sightings: await stack.db.prisma.trackSighting.count({ where: { frameId } }),
        people: await stack.db.prisma.alertPerson.count({ where: { alertId: created.id } }),
      });
      const before = await counts();
      assert.equal(before.alerts, 1);
      assert.ok(before.people >= 3 && before.sightings >= before.people, JSON.stringify(before));

      // Retry 1: the inputs are gone (the attempt finished its transaction and cleanup) → re-announce only.
      await job.remove();
      const again = await detQueue.add('detections.record', data, { jobId: frameId });
      const r1 = (await again.waitUntilFinished(detEvents, 60_000)) as { outcome: string };
      assert.equal(r1.outcome, 'already_processed');
      assert.deepEqual(await counts(), before);

      // Retry 2: the inputs are back (the attempt died between the transaction and cleanup) → frameRecorded skips it.
      await again.remove();
      for (const i of violating) await copyFile(path.join(saved, `${i}.jpg`), path.join(stack.dataDir, uploadedCropPath(cam.id, frameId, i)));
      const third = await detQueue.add('detections.record', data, { jobId: frameId });
      await third.waitUntilFinished(detEvents, 60_000);
      assert.deepEqual(await counts(), before, 'no duplicate sightings, violations, people or alerts');
      assert.equal(log.of(cam.id).filter((e) => e.name === 'alert.created' && e.alert.id !== created.id).length, 0, 'no second alert');
      for (const i of violating) assert.ok(!existsSync(path.join(stack.dataDir, uploadedCropPath(cam.id, frameId, i))), 'inputs cleaned up');
    });
  });
}
