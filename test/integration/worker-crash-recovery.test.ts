/**
 * `maskwatch worker` as a real child process: killed with SIGKILL mid-job, the
 * job is recovered by a restarted worker and completes once, with no duplicate
 * violation; on SIGTERM the worker finishes its in-flight job before exiting.
 *
 * "Mid-job" is made deterministic without sleeps: the test holds the camera's
 * grouping lock, so the worker's job (already analysed, snapshots written) waits
 * inside the handler until the test lets go.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { cameraLockKey } from '../../src/queue/handlers/camera-lock.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import { QUEUES, type FrameJob } from '../../src/queue/jobs.ts';
import { FRAME_JOB_OPTIONS } from '../../src/queue/producer.ts';
import { createTestStack, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { UNMASKED_FACE, createCamera, stageFrame } from './worker-support.ts';
import { withTimeout } from '../helpers/wait.ts';

const BIN = path.resolve('bin', 'maskwatch.js');

/** A worker child process whose JSON log lines can be awaited. */
function spawnWorker(stack: TestStack) {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'worker', '--concurrency', '1'], {
    env: {
      ...process.env,
      DATABASE_URL: stack.config.databaseUrl,
      REDIS_URL: stack.config.redisUrl,
      MASKWATCH_QUEUE_PREFIX: stack.config.queuePrefix,
      MASKWATCH_DATA_DIR: stack.dataDir,
      MASKWATCH_ASSETS: stack.config.assetsDir,
      // Short lock so a killed worker's job is seen as stalled within seconds.
      MASKWATCH_WORKER_LOCK_MS: '2000',
      MASKWATCH_WORKER_STALLED_INTERVAL_MS: '1000',
      // One still per event: a snapshot camera (1 of 1).
      MASKWATCH_CONFIRM_FRAMES: '1',
      MASKWATCH_CONFIRM_WINDOW: '1',
      // Recovery of a killed job takes longer than the freshness bound (two model loads + the stalled
      // check): never skip the frame as stale here (worker-freshness.test.ts covers that).
      MASKWATCH_MAX_FRAME_AGE_S: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const onLine = (line: string) => {
    lines.push(line);
    if (process.env.TEST_WORKER_OUTPUT) process.stderr.write(`[worker ${child.pid}] ${line}\n`);
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(line)) w.resolve();
      else waiters.push(w);
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    exited,
    output: () => lines.join('\n'),
    waitForLog(pattern: RegExp): Promise<void> {
      if (lines.some((l) => pattern.test(l))) return Promise.resolve();
      return Promise.race([
        withTimeout(new Promise<void>((resolve) => waiters.push({ pattern, resolve })), `worker log line ${pattern}`),
        exited.then(() => {
          throw new Error(`worker exited before logging ${pattern}:\n${lines.join('\n')}`);
        }),
      ]);
    },
  };
}

for (const provider of testProviders()) {
  describe(`maskwatch worker process (${provider})`, () => {
    let stack: TestStack;
    let queue: Queue<FrameJob>;
    let queueEvents: QueueEvents;
    let redis: Redis;
    const children: ChildProcess[] = [];

    before(async () => {
      stack = await createTestStack(provider);
      const connection = redisOptionsFromUrl(stack.config.redisUrl);
      queue = new Queue(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
      queueEvents = new QueueEvents(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
      await queueEvents.waitUntilReady();
      redis = new Redis(connection);
    });

    after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await queueEvents?.close();
      await queue?.obliterate({ force: true }).catch(() => undefined);
      await queue?.close();
      await redis?.quit();
      await stack?.close();
    });

    async function activeJob(job: FrameJob) {
      const active = new Promise<void>((resolve) => {
        const onActive = ({ jobId }: { jobId: string }) => {
          if (jobId !== job.frameId) return;
          queueEvents.off('active', onActive);
          resolve();
        };
        queueEvents.on('active', onActive);
      });
      const added = await queue.add('frame.analyze', job, { ...FRAME_JOB_OPTIONS, jobId: job.frameId });
      return { added, active };
    }

    it('recovers a job whose worker was SIGKILLed mid-job: it completes once, no duplicates', async () => {
      const camera = await createCamera(stack.db.prisma);
      const frame = await stageFrame(stack.dataDir, camera.id, UNMASKED_FACE);
      const lock = cameraLockKey(stack.config.queuePrefix, camera.id);
      assert.equal(await redis.set(lock, 'held-by-test', 'PX', 60_000, 'NX'), 'OK');

      const first = spawnWorker(stack);
      children.push(first.child);
      const { added, active } = await activeJob(frame);
      await withTimeout(active, `job ${frame.frameId} to become active`);
      first.child.kill('SIGKILL');
      const [, signal] = await withTimeout(first.exited, 'the first worker to exit');
      assert.equal(signal, 'SIGKILL');
      assert.equal(await stack.db.prisma.violation.count({ where: { frameId: frame.frameId } }), 0);

      await redis.del(lock);
      const second = spawnWorker(stack);
      children.push(second.child);
      const result = (await added.waitUntilFinished(queueEvents)) as { violations: number };
      assert.equal(result.violations, 1);

      const job = await queue.getJob(frame.frameId);
      assert.equal(await job?.getState(), 'completed');
      assert.equal(job?.attemptsMade, 1, 'the completed attempt is the only one that finished');
      assert.equal(await stack.db.prisma.violation.count({ where: { frameId: frame.frameId } }), 1);
      const alerts = await stack.db.prisma.alert.findMany({ where: { cameraId: camera.id } });
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.violationCount, 1);
      assert.match(second.output(), /stalled job moved back to waiting|frame analysed/);

      second.child.kill('SIGTERM');
      const [code] = await withTimeout(second.exited, 'the second worker to exit');
      assert.equal(code, 0, second.output());
    });

    it('on SIGTERM finishes the in-flight job, then exits 0', async () => {
      const camera = await createCamera(stack.db.prisma, 'shutdown cam');
      const frame = await stageFrame(stack.dataDir, camera.id, UNMASKED_FACE);
      const lock = cameraLockKey(stack.config.queuePrefix, camera.id);
      assert.equal(await redis.set(lock, 'held-by-test', 'PX', 60_000, 'NX'), 'OK');

      const worker = spawnWorker(stack);
      children.push(worker.child);
      const { added, active } = await activeJob(frame);
      await withTimeout(active, `job ${frame.frameId} to become active`);
      worker.child.kill('SIGTERM');
      await worker.waitForLog(/waiting for in-flight jobs/);
      await redis.del(lock);

      const [code] = await withTimeout(worker.exited, 'the worker to exit after SIGTERM');
      assert.equal(code, 0, worker.output());
      assert.equal(await (await queue.getJob(frame.frameId))?.getState(), 'completed');
      assert.equal(((await added.waitUntilFinished(queueEvents)) as { violations: number }).violations, 1);
      assert.equal(await stack.db.prisma.violation.count({ where: { frameId: frame.frameId } }), 1);
    });
  });
}
