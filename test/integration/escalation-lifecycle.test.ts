/**
 * Escalation with real parts (issue 4, item 1): BullMQ delayed jobs on the local
 * Redis (a unique prefix per stack), SQLite and PostgreSQL, the real detection
 * worker and vision engine, the API's dispatch / acknowledge routes, and
 * dispatcher Socket.IO clients. Deadlines are 1 s through the same environment
 * variables as production; the tests wait on events, jobs and rows, never on time.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { io as connectClient, type Socket } from 'socket.io-client';
import { escalationJobId } from '../../src/domain/escalation.ts';
import type { DetectionWorker } from '../../src/queue/wiring/detection.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import { createEscalationScheduler, createEscalationWorker, resumeEscalationTimers, type EscalateResult } from '../../src/queue/handlers/escalation.ts';
import { QUEUES } from '../../src/queue/jobs.ts';
import { assertHandlers, MissingHandlerError } from '../../src/queue/worker.ts';
import type { ServerToClientEvents } from '../../src/realtime/events.ts';
import { createAlertPublisher } from '../../src/realtime/publisher.ts';
import { createAnnouncer, socketChannel } from '../../src/services/announcer.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import type { VisionEngine } from '../../src/vision/types.ts';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { EventLog, UNMASKED_FACE, loadEngine, stackDetectionWorker } from './worker-support.ts';
import { socketConnected } from '../helpers/wait.ts';

const FAST = { MASKWATCH_ESCALATE_DISPATCH_S: '1', MASKWATCH_ESCALATE_ACK_S: '1', MASKWATCH_ESCALATE_MAX_LEVEL: '2' };

async function listen(url: string, token: string): Promise<{ socket: Socket<ServerToClientEvents>; log: EventLog }> {
  const socket: Socket<ServerToClientEvents> = connectClient(url, { transports: ['websocket'], auth: { token }, reconnection: false });
  const log = new EventLog(socket);
  await socketConnected(socket);
  return { socket, log };
}

/** The alerts queue of a stack and its events, to wait for particular escalation jobs. */
async function alertsQueue(stack: TestStack) {
  const connection = redisOptionsFromUrl(stack.config.redisUrl);
  const queue = new Queue(QUEUES.alerts, { connection, prefix: stack.config.queuePrefix });
  const events = new QueueEvents(QUEUES.alerts, { connection, prefix: stack.config.queuePrefix });
  await events.waitUntilReady();
  return {
    queue,
    /** Waits until the job has finished (it may already have) and returns its result. */
    async finished(jobId: string): Promise<EscalateResult> {
      const job = (await queue.getJob(jobId)) as Job | undefined;
      assert.ok(job, `escalation job ${jobId} exists`);
      return (await job.waitUntilFinished(events)) as EscalateResult;
    },
    async close() {
      await events.close();
      await queue.close();
    },
  };
}

async function escalationAudit(stack: TestStack, alertId: string) {
  const rows = await stack.db.prisma.auditEvent.findMany({
    where: { subjectType: 'Alert', subjectId: alertId, action: 'alert.escalated' },
    orderBy: [{ at: 'asc' }, { id: 'asc' }],
  });
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details ?? '{}') as Record<string, unknown> }));
}

describe('alerts queue worker', () => {
  it('refuses to start without the alert.escalate handler, and the frames worker does not need it', () => {
    assert.throws(
      () => assertHandlers({}, QUEUES.alerts),
      (err: unknown) => err instanceof MissingHandlerError && err.jobNames.join() === 'alert.escalate',
    );
    assert.doesNotThrow(() => assertHandlers({ 'frame.analyze': async () => undefined, 'detections.record': async () => undefined }, QUEUES.frames));
  });
});

for (const provider of testProviders()) {
  describe(`escalation of an alert nobody dispatches, from a real frame (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let engine: VisionEngine;
    let detection: DetectionWorker;
    let socket: Socket | undefined;
    let log: EventLog;
    let admin: string;
    let dispatcher: string;

    before(async () => {
      stack = await createTestStack(provider, FAST);
      api = await stack.startApi();
      admin = (await loginAs(api, { username: 'admin', role: 'ADMIN' })).token;
      dispatcher = (await loginAs(api, { username: 'dispatcher', role: 'DISPATCHER' })).token;
      ({ socket, log } = await listen(api.url, dispatcher));
      engine = await loadEngine(stack.config);
      detection = stackDetectionWorker(stack, engine, { escalation: stack.config.alerts.escalation });
    });

    after(async () => {
      socket?.close();
      await detection?.close();
      await engine?.close();
      await stack?.close();
    });

    it('is escalated to level 1 and re-announced, then level 2, then stops at the cap; each step audited as SYSTEM', async (t) => {
      const cam = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'Plaza', latitude: 48.85, longitude: 2.35 } });
      assert.equal(cam.status, 201, JSON.stringify(cam.body));
      const frame = await call(api.url, 'POST', '/api/v1/frames', {
        token: cam.body.apiKey,
        body: await readFile(UNMASKED_FACE),
        headers: { 'content-type': 'image/jpeg' },
      });
      assert.equal(frame.status, 202, JSON.stringify(frame.body));

      const created = await log.next('alert.created', (a) => a.cameraId === cam.body.id);
      assert.equal(created.escalationLevel, 0);
      const level1 = await log.next('alert.updated', (a) => a.id === created.id && a.escalationLevel === 1);
      const lateMs = Date.now() - (Date.parse(created.createdAt) + 1000);
      t.diagnostic(`deadline → level-1 alert.updated at the dispatcher: ${lateMs} ms (figure, not asserted)`);
      assert.equal(level1.status, 'NEW');
      await log.next('alert.updated', (a) => a.id === created.id && a.escalationLevel === 2);

      const audit = await escalationAudit(stack, created.id);
      assert.equal(audit.length, 2);
      assert.deepEqual(
        audit.map((a) => [a.actorType, a.details.level, a.details.reason, a.details.status]),
        [
          ['SYSTEM', 1, 'not_dispatched', 'NEW'],
          ['SYSTEM', 2, 'not_dispatched', 'NEW'],
        ],
      );
      const stored = await stack.db.prisma.alert.findUniqueOrThrow({ where: { id: created.id } });
      assert.equal(stored.escalationLevel, 2);
      assert.equal(stored.status, 'NEW');
      assert.deepEqual(stored.escalatedAt, audit[1]!.at);

      // The job that reached level 2 found the cap and scheduled nothing further.
      const q = await alertsQueue(stack);
      try {
        const second = escalationJobId({ alertId: created.id, expectStatus: 'NEW', level: 1, since: audit[0]!.at });
        assert.deepEqual(await q.finished(second), { action: 'escalate', reason: 'not_dispatched', level: 2 });
        const third = escalationJobId({ alertId: created.id, expectStatus: 'NEW', level: 2, since: audit[1]!.at });
        assert.equal(await q.queue.getJob(third), undefined);
      } finally {
        await q.close();
      }

      // The dispatcher's timeline shows why.
      const timeline = await call(api.url, 'GET', `/api/v1/alerts/${created.id}/timeline`, { token: dispatcher });
      assert.equal(timeline.status, 200);
      const notes = timeline.body.items.filter((i: { action: string }) => i.action === 'alert.escalated').map((i: { note: string }) => i.note);
      assert.equal(notes.length, 2);
      notes.forEach((note: string, i: number) => assert.match(note, new RegExp(`^Escalated to level ${i + 1}: not dispatched \\d+ s after it was raised \\(limit 1 s\\)$`)));
    });
  });

  describe(`acknowledgement deadline of dispatched alerts (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let socket: Socket | undefined;
    let log: EventLog;
    let dispatcher: string;
    let officer: string;
    let unitId: string;
    let cameraId: string;

    before(async () => {
      stack = await createTestStack(provider, FAST);
      api = await stack.startApi();
      const { prisma } = stack.db;
      unitId = (await prisma.patrolUnit.create({ data: { callSign: 'P-7', latitude: 48.85, longitude: 2.35 } })).id;
      cameraId = (
        await prisma.camera.create({
          data: { name: 'Market', latitude: 48.86, longitude: 2.34, apiKeyHash: randomUUID(), apiKeyHint: 'abcd' },
        })
      ).id;
      dispatcher = (await loginAs(api, { username: 'dispatcher', role: 'DISPATCHER' })).token;
      officer = (await loginAs(api, { username: 'officer', role: 'OFFICER', unitCallSign: 'P-7' })).token;
      ({ socket, log } = await listen(api.url, dispatcher));
    });

    after(async () => {
      socket?.close();
      await stack?.close();
    });

    async function newAlert(): Promise<string> {
      const at = new Date();
      const alert = await stack.db.prisma.alert.create({
        data: { cameraId, trackId: randomUUID(), firstSeenAt: at, lastSeenAt: at, noMaskProbability: 0.9, violationCount: 1 },
      });
      return alert.id;
    }

    async function act(alertId: string, action: string, token: string, json: Record<string, string> = {}) {
      const res = await call(api.url, 'POST', `/api/v1/alerts/${alertId}/${action}`, { token, json });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    }

    it('a dispatched alert nobody acknowledges is escalated; a dispatched-and-acknowledged one is not', async () => {
      const ignored = await newAlert();
      const handled = await newAlert();
      await act(ignored, 'dispatch', dispatcher, { unitId });
      await act(handled, 'dispatch', dispatcher, { unitId });
      await act(handled, 'acknowledge', officer);

      // The API scheduled both timers (deterministic ids from the stored dispatch time).
      const q = await alertsQueue(stack);
      const { prisma } = stack.db;
      const jobOf = async (id: string) => {
        const a = await prisma.alert.findUniqueOrThrow({ where: { id } });
        return escalationJobId({ alertId: id, expectStatus: 'DISPATCHED', level: 0, since: a.dispatchedAt! });
      };
      const ignoredJob = await jobOf(ignored);
      const handledJob = await jobOf(handled);
      assert.ok(await q.queue.getJob(ignoredJob), 'ack timer of the ignored alert');
      assert.ok(await q.queue.getJob(handledJob), 'ack timer of the handled alert');

      // Only now does a worker consume the timers, so the acknowledgement surely came first.
      const redis = new Redis(redisOptionsFromUrl(stack.config.redisUrl));
      const connection = redisOptionsFromUrl(stack.config.redisUrl);
      const scheduler = createEscalationScheduler({ connection, prefix: stack.config.queuePrefix, policy: stack.config.alerts.escalation, logger: stack.logger });
      const worker = createEscalationWorker({
        connection,
        prefix: stack.config.queuePrefix,
        prisma,
        announcer: createAnnouncer({ channels: [socketChannel(createAlertPublisher({ redis, queuePrefix: stack.config.queuePrefix, logger: stack.logger }))], logger: stack.logger }),
        scheduler,
        logger: stack.logger,
      });
      try {
        assert.deepEqual(await q.finished(handledJob), { action: 'skip', reason: 'status_changed' });
        assert.deepEqual(await q.finished(ignoredJob), { action: 'escalate', reason: 'not_acknowledged', level: 1 });
        const event = await log.next('alert.updated', (a) => a.id === ignored && a.escalationLevel === 1);
        assert.equal(event.status, 'DISPATCHED');
        assert.equal(event.assignedUnitId, unitId);

        const [i, h] = await Promise.all([ignored, handled].map((id) => prisma.alert.findUniqueOrThrow({ where: { id } })));
        assert.equal(i!.escalationLevel, 1);
        assert.ok(i!.escalatedAt);
        assert.equal(h!.escalationLevel, 0);
        assert.equal(h!.escalatedAt, null);
        assert.equal(h!.status, 'ACKNOWLEDGED');
        assert.deepEqual((await escalationAudit(stack, handled)).length, 0);
        const [audit] = await escalationAudit(stack, ignored);
        assert.deepEqual([audit?.actorType, audit?.details.reason, audit?.details.unitId], ['SYSTEM', 'not_acknowledged', unitId]);
        assert.equal(log.events.some((e) => e.alert.id === handled && e.alert.escalationLevel > 0), false);

        // Acknowledged after its escalation: the level-1 timer finds the status moved on.
        await act(ignored, 'acknowledge', officer);
        const next = escalationJobId({ alertId: ignored, expectStatus: 'DISPATCHED', level: 1, since: i!.escalatedAt! });
        assert.deepEqual(await q.finished(next), { action: 'skip', reason: 'status_changed' });
        assert.equal((await prisma.alert.findUniqueOrThrow({ where: { id: ignored } })).escalationLevel, 1);
      } finally {
        await worker.close();
        await scheduler.close();
        await q.close();
        await redis.quit();
      }
    });

    it('re-planning the same state adds no second timer (deterministic job ids)', async () => {
      const id = await newAlert();
      const connection = redisOptionsFromUrl(stack.config.redisUrl);
      // A long deadline so the job stays delayed while we look at it.
      const scheduler = createEscalationScheduler({
        connection,
        prefix: stack.config.queuePrefix,
        policy: { dispatchSeconds: 3600, ackSeconds: 3600, maxLevel: 1 },
        logger: stack.logger,
      });
      const q = await alertsQueue(stack);
      try {
        const alert = await stack.db.prisma.alert.findUniqueOrThrow({ where: { id } });
        const first = await scheduler.watch(alert);
        const again = await scheduler.watchEvent({ id, status: 'NEW', escalationLevel: 0, createdAt: alert.createdAt.toISOString() }, alert.createdAt);
        assert.ok(first && again);
        assert.equal(escalationJobId(first), escalationJobId(again));
        const delayed = (await q.queue.getDelayed()).filter((j) => j.data.alertId === id);
        assert.equal(delayed.length, 1);
        assert.equal(delayed[0]!.id, escalationJobId(first));
        assert.deepEqual(delayed[0]!.data, { alertId: id, expectStatus: 'NEW', level: 0 });
      } finally {
        await scheduler.close();
        await q.close();
      }
    });

    it('a worker start restores missing timers of open alerts, once, and none for handled or capped ones', async () => {
      const { prisma } = stack.db;
      // Stand-alone rows, as if their timers had been lost: no job exists for any of them.
      const orphanNew = await newAlert();
      const orphanDispatched = await newAlert();
      const dispatchedAt = new Date();
      await prisma.alert.update({ where: { id: orphanDispatched }, data: { status: 'DISPATCHED', assignedUnitId: unitId, dispatchedAt } });
      const resolved = await newAlert();
      await prisma.alert.update({ where: { id: resolved }, data: { status: 'RESOLVED', resolvedAt: new Date() } });
      const capped = await newAlert();
      await prisma.alert.update({ where: { id: capped }, data: { escalationLevel: 1, escalatedAt: new Date() } });

      const connection = redisOptionsFromUrl(stack.config.redisUrl);
      const scheduler = createEscalationScheduler({
        connection,
        prefix: stack.config.queuePrefix,
        policy: { dispatchSeconds: 3600, ackSeconds: 3600, maxLevel: 1 },
        logger: stack.logger,
      });
      const q = await alertsQueue(stack);
      try {
        await resumeEscalationTimers(prisma, scheduler, stack.logger, 2); // small batches: pages through
        await resumeEscalationTimers(prisma, scheduler, stack.logger, 2); // a second worker starting
        const delayed = await q.queue.getDelayed();
        const of = (id: string) => delayed.filter((j) => j.data.alertId === id);
        const created = await prisma.alert.findUniqueOrThrow({ where: { id: orphanNew } });
        assert.deepEqual(of(orphanNew).map((j) => j.id), [escalationJobId({ alertId: orphanNew, expectStatus: 'NEW', level: 0, since: created.createdAt })]);
        assert.deepEqual(of(orphanDispatched).map((j) => j.id), [escalationJobId({ alertId: orphanDispatched, expectStatus: 'DISPATCHED', level: 0, since: dispatchedAt })]);
        assert.deepEqual(of(resolved), []);
        assert.deepEqual(of(capped), []);
      } finally {
        await scheduler.close();
        await q.close();
      }
    });
  });
}
