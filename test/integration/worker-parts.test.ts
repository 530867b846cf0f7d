/** The worker's Redis-backed parts on the local Redis, each test with its own prefix. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue, QueueEvents, UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { createCameraLock, cameraLockKey, LockTimeoutError } from '../../src/queue/handlers/camera-lock.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import { parseFrameJob } from '../../src/queue/handlers/frame-analyze.ts';
import { alertFrameUrl, snapshotUrl, toAlertEvent } from '../../src/services/alert-view.ts';
import { createUpdateThrottle } from '../../src/queue/handlers/update-throttle.ts';
import { QUEUES, type JobName } from '../../src/queue/jobs.ts';
import { createQueueWorker, MissingHandlerError, type JobHandlers } from '../../src/queue/worker.ts';
import { REDIS_URL, testLogger, uniquePrefix } from '../helpers/env.ts';
import { withTimeout } from '../helpers/wait.ts';

const connection = redisOptionsFromUrl(REDIS_URL);
const logger = testLogger();

describe('queue worker factory', () => {
  it('refuses to start when a job name has no handler', () => {
    assert.throws(
      () => createQueueWorker({ connection, prefix: uniquePrefix(), handlers: {} as JobHandlers, logger }),
      (err: unknown) => err instanceof MissingHandlerError && err.jobNames.includes('frame.analyze'),
    );
  });

  it('fails a job with an unknown name at once and reports the final failure', async () => {
    const prefix = uniquePrefix('worker');
    const queue = new Queue(QUEUES.frames, { connection, prefix });
    const events = new QueueEvents(QUEUES.frames, { connection, prefix });
    await events.waitUntilReady();
    const finalFailures: string[] = [];
    let finalFailureSeen!: () => void;
    const reported = new Promise<void>((resolve) => (finalFailureSeen = resolve));
    const worker = createQueueWorker({
      connection,
      prefix,
      logger,
      handlers: { 'frame.analyze': async () => 'never' },
      onFinalFailure(job: Job) {
        finalFailures.push(job.id!);
        finalFailureSeen();
      },
    });
    try {
      const job = await queue.add('frame.rotate' as JobName, {} as never, { jobId: 'j1', attempts: 3 });
      await assert.rejects(job.waitUntilFinished(events), /unknown job name "frame.rotate"/);
      await withTimeout(reported, 'onFinalFailure for job j1');
      assert.deepEqual(finalFailures, ['j1']);
      assert.equal((await queue.getJob('j1'))?.attemptsMade, 1);
    } finally {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});

describe('camera lock and alert update throttle', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis(connection);
  });
  after(async () => {
    await redis.quit();
  });

  it('serialises critical sections of one camera and lets other cameras through', async () => {
    const prefix = uniquePrefix('lock');
    const lock = createCameraLock(redis, { prefix });
    const trace: string[] = [];
    const section = (cam: string, tag: string) =>
      lock.withLock(cam, async () => {
        trace.push(`${tag}:in`);
        await redis.ping(); // a real round-trip inside the section
        trace.push(`${tag}:out`);
      });
    await Promise.all([section('c1', 'a'), section('c1', 'b'), section('c1', 'c'), section('c2', 'x')]);
    const c1 = trace.filter((t) => !t.startsWith('x'));
    for (let i = 0; i < c1.length; i += 2) {
      assert.equal(c1[i]!.split(':')[0], c1[i + 1]!.split(':')[0], `sections of c1 interleaved: ${trace.join(' ')}`);
    }
    assert.equal(await redis.exists(cameraLockKey(prefix, 'c1')), 0, 'released');
  });

  it("queues one process's sections of a camera in arrival order; a failing one lets the next through; two processes still exclude each other", async () => {
    const prefix = uniquePrefix('lock');
    const lock = createCameraLock(redis, { prefix });
    const other = createCameraLock(redis, { prefix }); // a second worker process
    const trace: string[] = [];
    const section = (l: typeof lock, tag: string, fail = false) =>
      l.withLock('c1', async () => {
        trace.push(`${tag}:in`);
        await redis.ping();
        trace.push(`${tag}:out`);
        if (fail) throw new Error(`${tag} failed`);
        return tag;
      });
    const results = await Promise.allSettled([section(lock, 'a'), section(lock, 'b', true), section(lock, 'c'), section(other, 'x')]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    for (let i = 0; i < trace.length; i += 2) {
      assert.equal(trace[i]!.split(':')[0], trace[i + 1]!.split(':')[0], `sections interleaved: ${trace.join(' ')}`);
    }
    const mine = trace.filter((t) => t.endsWith(':in') && !t.startsWith('x')).map((t) => t.split(':')[0]);
    assert.deepEqual(mine, ['a', 'b', 'c'], 'arrival order within the process');
    assert.equal(await redis.exists(cameraLockKey(prefix, 'c1')), 0, 'released');
  });

  it('gives up with LockTimeoutError while another holder keeps the camera', async () => {
    const prefix = uniquePrefix('lock');
    await redis.set(cameraLockKey(prefix, 'c1'), 'someone-else', 'PX', 10_000);
    const lock = createCameraLock(redis, { prefix, waitMs: 50 });
    await assert.rejects(lock.withLock('c1', async () => 'ran'), LockTimeoutError);
    assert.equal(await redis.get(cameraLockKey(prefix, 'c1')), 'someone-else', 'a foreign lock is never released');
    await redis.del(cameraLockKey(prefix, 'c1'));
  });

  it('emits one alert.updated per interval, plus one trailing emit with the final state', async () => {
    const prefix = uniquePrefix('throttle');
    const emitted: string[] = [];
    const make = () =>
      createUpdateThrottle({ redis, prefix, intervalMs: 60_000, logger, emit: async (id) => void emitted.push(id) });
    const processA = make();
    const processB = make(); // a second worker process sharing the Redis state
    await processA.changed('alert-1');
    await processA.changed('alert-1');
    await processB.changed('alert-1');
    await processA.changed('alert-2');
    assert.deepEqual(emitted, ['alert-1', 'alert-2'], 'first change of each alert goes out at once');
    await processB.flush(); // B scheduled nothing: A holds the trailing emit of alert-1
    assert.deepEqual(emitted, ['alert-1', 'alert-2']);
    await processA.flush();
    assert.deepEqual(emitted, ['alert-1', 'alert-2', 'alert-1'], 'the trailing emit carries the last change');
  });

  it('opens the interval on announcement, so the next change waits for the trailing emit', async () => {
    const prefix = uniquePrefix('throttle');
    const emitted: string[] = [];
    const throttle = createUpdateThrottle({ redis, prefix, intervalMs: 60_000, logger, emit: async (id) => void emitted.push(id) });
    await throttle.announced('alert-9');
    await throttle.changed('alert-9');
    assert.deepEqual(emitted, []);
    await throttle.flush();
    assert.deepEqual(emitted, ['alert-9']);
  });
});

describe('frame job validation and alert event mapping', () => {
  const job = {
    frameId: 'f-1',
    cameraId: 'c-1',
    path: 'frames/c-1/f-1.jpg',
    capturedAt: '2026-01-01T12:00:00.000Z',
    receivedAt: '2026-01-01T12:00:00.100Z',
  };

  it('accepts a well-formed job and resolves its file inside the data dir', () => {
    const parsed = parseFrameJob(job, '/data');
    assert.equal(parsed.file, '/data/frames/c-1/f-1.jpg');
    assert.equal(parsed.captured.toISOString(), job.capturedAt);
  });

  it('rejects, without retry, payloads that could escape the data dir or are malformed', () => {
    const bad: [unknown, RegExp][] = [
      [{ ...job, path: '../etc/passwd' }, /frame path is not/],
      [{ ...job, path: 'frames/c-1/../../maskwatch.db' }, /frame path is not/],
      [{ ...job, path: 'snapshots/c-1/f-1-frame.jpg' }, /frame path is not/],
      [{ ...job, path: '/etc/passwd' }, /frame path is not/],
      [{ ...job, cameraId: '../x' }, /cameraId/],
      [{ ...job, frameId: '' }, /frameId/],
      [{ ...job, capturedAt: 'yesterday' }, /capturedAt/],
      [null, /not an object/],
    ];
    for (const [payload, message] of bad) {
      assert.throws(() => parseFrameJob(payload, '/data'), (err: unknown) => err instanceof UnrecoverableError && message.test(err.message));
    }
  });

  it('maps snapshot paths under the data dir to URLs the API serves; a stored frame only through its alert', () => {
    assert.equal(snapshotUrl('snapshots/c-1/f-1-0.jpg'), '/api/v1/snapshots/c-1/f-1-0.jpg');
    assert.equal(snapshotUrl(null), null);
    assert.equal(alertFrameUrl('a-1', 'snapshots/c-1/f-1-frame.jpg'), '/api/v1/alerts/a-1/frames/f-1');
    assert.equal(alertFrameUrl(null, 'snapshots/c-1/f-1-frame.jpg'), null);
    assert.equal(alertFrameUrl('a-1', null), null);
    assert.equal(alertFrameUrl('a-1', 'snapshots/c-1/f-1-0.jpg'), null, 'a crop is not a frame');
    assert.equal(alertFrameUrl('a-1', '../c-1/f-1-frame.jpg'), null);
  });

  it('turns a stored alert into exactly the AlertEvent payload', () => {
    const at = new Date('2026-01-01T12:00:00Z');
    const event = toAlertEvent({
      id: 'a-1',
      cameraId: 'c-1',
      people: [],
      camera: { name: 'Gate', latitude: 1.5, longitude: 2.5, address: null, zone: 'north' },
      status: 'DISPATCHED',
      trackId: 'f-1:0',
      firstSeenAt: at,
      lastSeenAt: new Date(at.getTime() + 5000),
      violationCount: 3,
      noMaskProbability: 0.97,
      snapshotPath: 'snapshots/c-1/f-1-0.jpg',
      frameSnapshotPath: 'snapshots/c-1/f-1-frame.jpg',
      assignedUnitId: 'u-7',
      dispatchedAt: at,
      acknowledgedAt: null,
      enRouteAt: null,
      onSceneAt: null,
      resolvedAt: null,
      dismissedAt: null,
      dismissReason: null,
      resolutionNote: null,
      resolutionOutcome: null,
      escalationLevel: 1,
      escalatedAt: null,
      noteCount: 2,
      createdAt: at,
      updatedAt: at,
    });
    assert.deepEqual(event, {
      id: 'a-1',
      status: 'DISPATCHED',
      cameraId: 'c-1',
      camera: { name: 'Gate', latitude: 1.5, longitude: 2.5, address: null, zone: 'north' },
      createdAt: '2026-01-01T12:00:00.000Z',
      lastSeenAt: '2026-01-01T12:00:05.000Z',
      violationCount: 3,
      noMaskProbability: 0.97,
      maskProbability: 0.97,
      snapshotUrl: '/api/v1/snapshots/c-1/f-1-0.jpg',
      frameSnapshotUrl: '/api/v1/alerts/a-1/frames/f-1',
      assignedUnitId: 'u-7',
      escalationLevel: 1,
      people: [],
      resolutionOutcome: null,
      noteCount: 2,
    });
  });
});
