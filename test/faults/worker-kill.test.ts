/**
 * Fault a: a worker process is killed with SIGKILL in the middle of a batch.
 * Every frame the API accepted must yield its violations exactly once: one
 * row per unmasked frame, none per masked frame, one alert per person.
 *
 * "Middle of a batch" without sleeps: the test holds camera B's grouping lock,
 * so B's jobs stay in flight (analysed, not stored) on the worker while A's
 * frames complete; the worker is killed once A has progressed and B is active.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { cameraLockKey } from '../../src/queue/handlers/camera-lock.ts';
import { LOCK_HELD_MS, login, postFrame, registerCamera, startApi, startWorker, waitFor } from './processes.ts';
import { createFaultEnv, MASKED, UNMASKED, type FaultEnv } from './support.ts';

describe('fault: worker killed mid-batch', () => {
  let env: FaultEnv;
  after(() => env?.cleanup.run());

  it('every accepted frame yields its violations exactly once', async () => {
    env = await createFaultEnv({ label: 'wkill' });
    const [api, first] = await Promise.all([startApi(env.sys), startWorker(env.sys, { concurrency: 2, label: 'worker-1' })]);
    env.cleanup.proc(api);
    env.cleanup.proc(first);
    const token = await login(api.url);
    const cams = [await registerCamera(api.url, token, 'wkill A'), await registerCamera(api.url, token, 'wkill B')];
    const redis = new Redis(env.sys.redisUrl);
    env.cleanup.add(() => redis.quit());
    const lockB = cameraLockKey(env.sys.queuePrefix, cams[1]!.id);
    assert.equal(await redis.set(lockB, 'held-by-test', 'PX', LOCK_HELD_MS, 'NX'), 'OK');

    const frames: { frameId: string; camera: number; unmasked: boolean }[] = [];
    const start = Date.now() - 60_000;
    for (let i = 0; i < 6; i++) {
      for (const camera of [0, 1]) {
        const unmasked = i % 3 !== 2;
        const res = await postFrame(api.url, cams[camera]!.apiKey, unmasked ? UNMASKED : MASKED, new Date(start + i * 500));
        assert.equal(res.status, 202);
        frames.push({ frameId: res.frameId!, camera, unmasked });
      }
    }
    const ofB = frames.filter((f) => f.camera === 1).map((f) => f.frameId);
    await first.waitForLine(() => first.logs().filter((r) => r.msg === 'frame analysed').length >= 2);
    await waitFor('a frame of camera B in flight', async () => (await Promise.all(ofB.map((id) => env.queue().getJobState(id)))).includes('active'));
    first.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    const states = await Promise.all(frames.map((f) => env.queue().getJobState(f.frameId)));
    assert.ok(states.includes('active'), 'a job was in flight on the killed worker');
    assert.ok(states.some((s) => s === 'waiting' || s === 'prioritized'), 'jobs were still waiting');

    await redis.del(lockB);
    const second = env.cleanup.proc(await startWorker(env.sys, { concurrency: 2, label: 'worker-2' }));
    await env.waitCompleted(frames.map((f) => f.frameId));

    const counts = await env.violationsByFrame(frames.map((f) => f.frameId));
    for (const f of frames) assert.equal(counts.get(f.frameId), f.unmasked ? 1 : 0, `frame ${f.frameId} (${f.unmasked ? 'unmasked' : 'masked'})`);
    const { prisma } = await env.db();
    for (const cam of cams) {
      const expected = frames.filter((f) => f.camera === cams.indexOf(cam) && f.unmasked).length;
      const alerts = await prisma.alert.findMany({ where: { cameraId: cam.id } });
      assert.equal(alerts.length, 1, 'one person → one alert');
      assert.equal(alerts[0]!.violationCount, expected);
      assert.equal(await prisma.violation.count({ where: { cameraId: cam.id } }), expected);
    }
    assert.match(second.output(1000), /stalled job moved back to waiting/);
    assert.equal((await second.stop()).code, 0, second.output());
  });
});
