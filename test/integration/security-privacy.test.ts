/**
 * Privacy (issue 6, item 4) with real parts: the retention job (handler and its
 * BullMQ job scheduler on the real Redis), the admin purge of a camera's data,
 * and blurring of faces that are not violations in the stored frame (real ONNX
 * models on a real photo).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { createRetentionHandler, startRetentionService, RETENTION_SCHEDULER_ID } from '../../src/queue/handlers/retention.ts';
import { retentionCutoff, DAY_MS } from '../../src/privacy/retention-policy.ts';
import { resolveInside } from '../../src/privacy/data-files.ts';
import { loadEngine } from './worker-support.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import type { Db } from '../../src/db/client.ts';
import { withTimeout } from '../helpers/wait.ts';

const ASSETS = process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared');
const JPEG = await readFile(path.join(ASSETS, 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));
// 1022×575 street crowd, faces of 50–70 px: unmasked (violations) and masked ones, per the real models.
const SCENE = path.join(ASSETS, 'datasets/scenes/masked-crowd-img4.jpeg');

async function makeCamera(prisma: Db, name: string) {
  return prisma.camera.create({ data: { name, latitude: 1, longitude: 1, apiKeyHash: randomUUID(), apiKeyHint: 'xxxx' } });
}

/** A violation (and its alert) captured at `at`, with face + frame files on disk. */
async function makeViolation(stack: TestStack, cameraId: string, at: Date) {
  const frameId = randomUUID();
  const face = `snapshots/${cameraId}/${frameId}-0.jpg`;
  const frame = `snapshots/${cameraId}/${frameId}-frame.jpg`;
  await mkdir(path.join(stack.dataDir, 'snapshots', cameraId), { recursive: true });
  for (const rel of [face, frame]) {
    await writeFile(path.join(stack.dataDir, rel), JPEG);
    await utimes(path.join(stack.dataDir, rel), at, at);
  }
  const alert = await stack.db.prisma.alert.create({
    data: { cameraId, trackId: frameId, firstSeenAt: at, lastSeenAt: at, violationCount: 1, noMaskProbability: 0.1, snapshotPath: face, frameSnapshotPath: frame },
  });
  const violation = await stack.db.prisma.violation.create({
    data: {
      cameraId, frameId, faceIndex: 0, capturedAt: at, receivedAt: at, boxX: 1, boxY: 2, boxW: 30, boxH: 40, faceScore: 0.9, noMaskProbability: 0.1,
      faceSnapshotPath: face, frameSnapshotPath: frame, alertId: alert.id,
    },
  });
  return { violation, alert, files: [face, frame] };
}

const exists = (stack: TestStack, rel: string) => existsSync(path.join(stack.dataDir, rel));

describe('privacy: retention, purge, blurring', () => {
  let stack: TestStack;

  before(async () => {
    stack = await createTestStack('sqlite');
  });
  after(() => stack?.close());

  test('retention cutoff and safe paths (pure)', () => {
    const now = new Date('2026-06-30T12:00:00Z');
    assert.equal(retentionCutoff(now, 30).toISOString(), '2026-05-31T12:00:00.000Z');
    assert.throws(() => retentionCutoff(now, 0), RangeError);
    assert.equal(resolveInside('/data', '../etc/passwd'), null);
    assert.equal(resolveInside('/data', '/etc/passwd'), null);
    assert.equal(resolveInside('/data', 'snapshots/a/b.jpg'), '/data/snapshots/a/b.jpg');
  });

  test('the retention job deletes images older than the limit, keeps anonymised rows, leaves newer data alone', async () => {
    const prisma = stack.db.prisma;
    const cam = await makeCamera(prisma, 'retention');
    const now = new Date();
    const old = await makeViolation(stack, cam.id, new Date(now.getTime() - 45 * DAY_MS));
    const recent = await makeViolation(stack, cam.id, new Date(now.getTime() - 2 * DAY_MS));
    // Crash leftovers no row points to: an old frame and an old snapshot go, a fresh frame stays.
    const orphanOld = `frames/${cam.id}/${randomUUID()}.jpg`;
    const orphanSnap = `snapshots/${cam.id}/${randomUUID()}-frame.jpg`;
    const orphanNew = `frames/${cam.id}/${randomUUID()}.jpg`;
    await mkdir(path.join(stack.dataDir, 'frames', cam.id), { recursive: true });
    for (const rel of [orphanOld, orphanSnap, orphanNew]) await writeFile(path.join(stack.dataDir, rel), JPEG);
    const longAgo = new Date(now.getTime() - 40 * DAY_MS);
    await utimes(path.join(stack.dataDir, orphanOld), longAgo, longAgo);
    await utimes(path.join(stack.dataDir, orphanSnap), longAgo, longAgo);

    const handle = createRetentionHandler({ prisma, dataDir: stack.dataDir, retentionDays: 30, logger: stack.logger });
    const report = await handle();

    assert.equal(report.violationsAnonymised, 1);
    assert.ok(report.filesDeleted >= 2);
    assert.equal(report.orphanFilesDeleted, 2);
    for (const rel of old.files) assert.equal(exists(stack, rel), false, `${rel} should be deleted`);
    for (const rel of recent.files) assert.equal(exists(stack, rel), true, `${rel} should be kept`);
    assert.equal(exists(stack, orphanOld), false);
    assert.equal(exists(stack, orphanSnap), false);
    assert.equal(exists(stack, orphanNew), true);

    // The old rows stay for statistics, without images; the recent ones are untouched.
    const oldRow = await prisma.violation.findUniqueOrThrow({ where: { id: old.violation.id } });
    assert.equal(oldRow.faceSnapshotPath, null);
    assert.equal(oldRow.frameSnapshotPath, null);
    assert.equal(oldRow.noMaskProbability, 0.1);
    const oldAlert = await prisma.alert.findUniqueOrThrow({ where: { id: old.alert.id } });
    assert.equal(oldAlert.snapshotPath, null);
    assert.equal(oldAlert.frameSnapshotPath, null);
    const recentRow = await prisma.violation.findUniqueOrThrow({ where: { id: recent.violation.id } });
    assert.equal(recentRow.faceSnapshotPath, recent.files[0]);
    assert.equal((await prisma.alert.findUniqueOrThrow({ where: { id: recent.alert.id } })).snapshotPath, recent.files[0]);
    assert.equal(await prisma.violation.count({ where: { cameraId: cam.id } }), 2);

    const audit = await prisma.auditEvent.findFirst({ where: { action: 'retention.enforce' } });
    assert.ok(audit, 'retention run is audited');
    assert.equal(JSON.parse(audit.details!).violationsAnonymised, 1);

    // Idempotent: a second run finds nothing to do.
    const again = await handle();
    assert.equal(again.violationsAnonymised + again.filesDeleted + again.orphanFilesDeleted, 0);
  });

  test('the retention job is a BullMQ job scheduler: one schedule however many workers, and its job runs', async () => {
    const prisma = stack.db.prisma;
    const cam = await makeCamera(prisma, 'scheduled');
    const old = await makeViolation(stack, cam.id, new Date(Date.now() - 40 * DAY_MS));
    const opts = {
      connection: redisOptionsFromUrl(stack.config.redisUrl),
      prefix: stack.config.queuePrefix,
      prisma,
      dataDir: stack.dataDir,
      retentionDays: 30,
      intervalMinutes: 60,
      logger: stack.logger,
    };
    // A second instance only keeps the schedule (as a second worker process would upsert it).
    const a = await startRetentionService({ ...opts, runWorker: false });
    const b = await startRetentionService({ ...opts, runWorker: false });
    try {
      assert.equal(await a.queue.getJobSchedulersCount(), 1);
      const [scheduler] = await a.queue.getJobSchedulers();
      assert.equal(scheduler!.key, RETENTION_SCHEDULER_ID);
      assert.equal(scheduler!.every, 60 * 60_000);
      // The scheduler queued its first run right away; a worker picks it up.
      const c = await startRetentionService(opts);
      try {
        const completed = new Promise<unknown>((resolve, reject) => {
          c.worker!.once('completed', (_job, result) => resolve(result));
          c.worker!.once('failed', (_job, err) => reject(err));
        });
        const result = (await withTimeout(completed, 'the retention job to complete')) as { violationsAnonymised: number };
        assert.ok(result.violationsAnonymised >= 1);
        assert.equal((await prisma.violation.findUniqueOrThrow({ where: { id: old.violation.id } })).faceSnapshotPath, null);
        for (const rel of old.files) assert.equal(exists(stack, rel), false);
      } finally {
        await c.close();
      }
    } finally {
      await a.queue.obliterate({ force: true });
      await a.close();
      await b.close();
    }
  });

  test("POST /cameras/:id/purge erases one camera's violations, alerts and files, audited; other cameras untouched", async () => {
    const api = await stack.startApi();
    const admin = await loginAs(api, { username: 'purger', role: 'ADMIN' });
    const prisma = stack.db.prisma;
    const target = await makeCamera(prisma, 'to purge');
    const other = await makeCamera(prisma, 'keep');
    const v1 = await makeViolation(stack, target.id, new Date());
    const v2 = await makeViolation(stack, target.id, new Date());
    const kept = await makeViolation(stack, other.id, new Date());
    await mkdir(path.join(stack.dataDir, 'frames', target.id), { recursive: true });
    await writeFile(path.join(stack.dataDir, 'frames', target.id, 'pending.jpg'), JPEG);

    const res = await call(api.url, 'POST', `/api/v1/cameras/${target.id}/purge`, { token: admin.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { cameraId: target.id, violationsDeleted: 2, alertsDeleted: 2 });
    assert.equal(await prisma.violation.count({ where: { cameraId: target.id } }), 0);
    assert.equal(await prisma.alert.count({ where: { cameraId: target.id } }), 0);
    for (const rel of [...v1.files, ...v2.files]) assert.equal(exists(stack, rel), false);
    assert.equal(existsSync(path.join(stack.dataDir, 'frames', target.id)), false);
    // The camera itself and every other camera's data stay.
    assert.ok(await prisma.camera.findUnique({ where: { id: target.id } }));
    assert.equal(await prisma.violation.count({ where: { cameraId: other.id } }), 1);
    for (const rel of kept.files) assert.equal(exists(stack, rel), true);

    const audit = await prisma.auditEvent.findFirst({ where: { action: 'camera.purge', subjectId: target.id } });
    assert.ok(audit);
    assert.equal(audit.actorId, admin.userId);
    assert.deepEqual(JSON.parse(audit.details!), { name: 'to purge', violationsDeleted: 2, alertsDeleted: 2 });

    assert.equal((await call(api.url, 'POST', `/api/v1/cameras/${randomUUID()}/purge`, { token: admin.token })).status, 404);
    const dispatcher = await loginAs(api, { username: 'dispatch-p', role: 'DISPATCHER' });
    assert.equal((await call(api.url, 'POST', `/api/v1/cameras/${other.id}/purge`, { token: dispatcher.token })).status, 403);
    assert.equal(await prisma.violation.count({ where: { cameraId: other.id } }), 1);
  });

  test('stored frames blur faces that are not violations and keep violation faces sharp (real models)', async (t) => {
    const engine = await loadEngine(stack.config, stack.logger);
    try {
      const image = await readFile(SCENE);
      const analysis = await engine.analyzeFrame(image);
      const violations = analysis.faces.flatMap((f, i) => (f.label === 'no_mask' ? [i] : []));
      const others = analysis.faces.flatMap((f, i) => (f.label !== 'no_mask' ? [i] : []));
      assert.ok(violations.length >= 1 && others.length >= 1, `need both kinds of faces: ${JSON.stringify(analysis.faces.map((f) => f.label))}`);
      // Exactly what the worker writes to snapshots/<camera>/<frame>-frame.jpg (each alert's view of it is
      // blurred further on request: security-evidence.test.ts).
      const { storedFrame } = await engine.renderSnapshots(image, analysis.faces, violations);
      const original = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const annotated = await sharp(storedFrame).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.equal(annotated.info.width, original.info.width);

      /** Mean absolute difference between horizontal neighbours inside the box (inner 60 %, clear of the drawn outline). */
      const detail = (px: Buffer, width: number, box: number[]) => {
        const [bx, by, bw, bh] = box.map(Math.round) as [number, number, number, number];
        const x0 = Math.max(0, bx + Math.round(bw * 0.2));
        const x1 = Math.min(width - 1, bx + Math.round(bw * 0.8));
        const y0 = Math.max(0, by + Math.round(bh * 0.2));
        const y1 = Math.min(original.info.height - 1, by + Math.round(bh * 0.8));
        let sum = 0;
        let n = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1 - 1; x++) {
            for (let c = 0; c < 3; c++) sum += Math.abs(px[(y * width + x) * 3 + c]! - px[(y * width + x + 1) * 3 + c]!);
            n += 3;
          }
        }
        return sum / n;
      };
      for (const i of others) {
        const box = analysis.faces[i]!.box;
        const before = detail(original.data, original.info.width, box);
        const afterBlur = detail(annotated.data, annotated.info.width, box);
        t.diagnostic(`non-violation face ${i}: detail ${before.toFixed(1)} → ${afterBlur.toFixed(1)}`);
        assert.ok(afterBlur < before * 0.35, `face ${i} (masked, not a violation): detail ${before.toFixed(2)} → ${afterBlur.toFixed(2)}, not blurred`);
      }
      for (const i of violations) {
        const box = analysis.faces[i]!.box;
        const before = detail(original.data, original.info.width, box);
        const afterRender = detail(annotated.data, annotated.info.width, box);
        t.diagnostic(`violation face ${i}: detail ${before.toFixed(1)} → ${afterRender.toFixed(1)}`);
        assert.ok(afterRender > before * 0.6, `face ${i} (violation) lost its detail: ${before.toFixed(2)} → ${afterRender.toFixed(2)}`);
      }
    } finally {
      await engine.close();
    }
  });
});
