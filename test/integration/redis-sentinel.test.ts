/**
 * Redis Sentinel through configuration alone: a real redis-server primary and a
 * real sentinel (redis-server --sentinel) of the test's own; REDIS_URL =
 * redis+sentinel://…/mymaster. The start-up check, the frame producer (API side)
 * and a BullMQ worker (worker side) all find the primary through the sentinel.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Redis } from 'ioredis';
import { createQueueWorker } from '../../src/queue/worker.ts';
import { createFrameProducer } from '../../src/queue/producer.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import type { FrameJob } from '../../src/queue/jobs.ts';
import { checkRedis, RedisUnavailableError } from '../../src/system/redis-check.ts';
import { freePort, spawnProc, type Proc } from '../faults/processes.ts';
import { uniquePrefix } from '../helpers/env.ts';

describe('Redis Sentinel (redis+sentinel:// REDIS_URL)', () => {
  let dir: string;
  const procs: Proc[] = [];
  let sentinelUrl: string;
  let primaryPort: number;
  let sentinelPort: number;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mw-sentinel-'));
    primaryPort = await freePort();
    const primary = spawnProc('redis-primary', 'redis-server', ['--port', String(primaryPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { PATH: process.env.PATH });
    procs.push(primary);
    await primary.waitForLine(/Ready to accept connections/, 30_000);
    sentinelPort = await freePort();
    const conf = path.join(dir, 'sentinel.conf');
    // Sentinel rewrites its config file, so it must be a writable file of its own.
    await writeFile(conf, [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor mymaster 127.0.0.1 ${primaryPort} 1`, ''].join('\n'));
    const sentinel = spawnProc('redis-sentinel', 'redis-server', [conf, '--sentinel'], { PATH: process.env.PATH });
    procs.push(sentinel);
    await sentinel.waitForLine(/\+monitor master mymaster/, 30_000);
    sentinelUrl = `redis+sentinel://127.0.0.1:${sentinelPort}/mymaster`;
  });

  after(async () => {
    for (const p of procs.reverse()) {
      p.kill('SIGKILL');
      await p.exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The check's error within `ms`, or a failure naming the hang (ioredis retries sentinels forever unless told not to). */
  async function checkFails(url: string, ms = 8000): Promise<RedisUnavailableError> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      checkRedis(url).then(() => new Error(`checkRedis(${url}) passed`), (err: unknown) => err),
      new Promise<Error>((resolve) => (timer = setTimeout(() => resolve(new Error(`checkRedis(${url}) still running after ${ms} ms`)), ms))),
    ]).finally(() => clearTimeout(timer));
    if (!(outcome instanceof RedisUnavailableError)) throw outcome;
    return outcome;
  }

  it('the start-up check fails in seconds, not forever, when no sentinel answers or none knows the primary', async () => {
    const closed = await freePort();
    const unreachable = await checkFails(`redis+sentinel://:pw@127.0.0.1:${closed},127.0.0.1:${closed}/mymaster?sentinelPassword=spw`);
    assert.match(unreachable.message, /^Redis is not reachable at redis\+sentinel:\/\/:\*\*\*@127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/mymaster\?sentinelPassword=\*\*\* \(no sentinel answered/);
    assert.doesNotMatch(unreachable.message, /pw/, 'neither password is printed');
    const wrongName = await checkFails(`redis+sentinel://127.0.0.1:${sentinelPort}/not-the-primary`);
    assert.match(wrongName.message, /no sentinel knows a primary named "not-the-primary"/);
  });

  it('the start-up check, the producer and a worker reach the primary through the sentinel', async () => {
    await checkRedis(sentinelUrl);

    const logger = pino({ level: 'silent' });
    const prefix = uniquePrefix('sentinel');
    const producer = createFrameProducer({ redisUrl: sentinelUrl, prefix, logger });
    const received: FrameJob[] = [];
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const worker = createQueueWorker({
      connection: { ...redisOptionsFromUrl(sentinelUrl), maxRetriesPerRequest: null },
      prefix,
      logger,
      handlers: {
        'frame.analyze': async (job) => {
          received.push(job.data);
          resolveDone();
          return { ok: true };
        },
      },
    });
    try {
      await worker.waitUntilReady();
      const started = Date.now();
      while (producer.redis.status !== 'ready') {
        if (Date.now() - started > 10_000) throw new Error(`producer never connected through the sentinel (status ${producer.redis.status})`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const job: FrameJob = { frameId: 'f1', cameraId: 'c1', path: 'frames/c1/f1.jpg', capturedAt: new Date().toISOString(), receivedAt: new Date().toISOString() };
      await producer.enqueue(job);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        done,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the worker did not receive the job through the sentinel within 10 s')), 10_000))),
      ]).finally(() => clearTimeout(timer));
      assert.deepEqual(received, [job]);

      // The job really lives on the primary the sentinel named.
      const direct = new Redis({ port: primaryPort, host: '127.0.0.1' });
      try {
        assert.ok((await direct.keys(`${prefix}:frames:*`)).length > 0, 'queue keys on the primary');
      } finally {
        direct.disconnect();
      }
    } finally {
      await worker.close();
      await producer.close();
    }
  });
});
