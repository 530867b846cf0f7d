/**
 * Fault d: PostgreSQL goes down (immediate stop = crash) while a worker is
 * about to store a frame's violations, and comes back. The worker's attempt
 * fails, BullMQ retries it with backoff, and every frame ends with exactly
 * one violation. The cluster is a throw-away one of this test (initdb in a
 * temp dir, own port); the shared PostgreSQL on 5432 is never touched.
 *
 * "About to store" is made deterministic without sleeps: the test holds the
 * camera's grouping lock, so the job waits inside the handler after analysis.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { cameraLockKey } from '../../src/queue/handlers/camera-lock.ts';
import { LOCK_HELD_MS, login, postFrame, registerCamera, startApi, startOwnPostgres, startWorker, waitFor } from './processes.ts';
import { createFaultEnv, UNMASKED, type FaultEnv } from './support.ts';

describe('fault: PostgreSQL briefly down', () => {
  let env: FaultEnv;
  after(() => env?.cleanup.run());

  it('workers retry; no loss, no duplicates', async () => {
    const pg = await startOwnPostgres();
    env = await createFaultEnv({ label: 'pgdown', databaseUrl: pg.url });
    env.cleanup.add(() => pg.close());
    const [api, worker] = await Promise.all([startApi(env.sys), startWorker(env.sys)]);
    env.cleanup.proc(api);
    env.cleanup.proc(worker);
    const camera = await registerCamera(api.url, await login(api.url), 'pg cam');

    const redis = new Redis(env.sys.redisUrl);
    env.cleanup.add(() => redis.quit());
    const lock = cameraLockKey(env.sys.queuePrefix, camera.id);
    assert.equal(await redis.set(lock, 'held-by-test', 'PX', LOCK_HELD_MS, 'NX'), 'OK');

    const frameIds: string[] = [];
    const start = Date.now() - 30_000;
    for (let i = 0; i < 5; i++) {
      const res = await postFrame(api.url, camera.apiKey, UNMASKED, new Date(start + i * 500));
      assert.equal(res.status, 202);
      frameIds.push(res.frameId!);
    }
    await waitFor('a job in flight', async () => ((await env.queue().getJobCounts('active')).active ?? 0) >= 1);

    await pg.crash();
    await redis.del(lock);
    await worker.waitForLog('job failed, will retry');
    await pg.start();

    await env.waitCompleted(frameIds);
    const counts = await env.violationsByFrame(frameIds);
    for (const id of frameIds) assert.equal(counts.get(id), 1, `frame ${id}: exactly one violation`);
    const { prisma } = await env.db();
    const alerts = await prisma.alert.findMany({ where: { cameraId: camera.id } });
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.violationCount, frameIds.length);
    assert.equal((await worker.stop()).code, 0, worker.output());
  });
});
