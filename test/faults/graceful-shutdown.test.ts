/**
 * Fault e: SIGTERM. A worker finishes its in-flight job before exiting 0;
 * a camera agent stopped while the server is away keeps its unsent frames in
 * the on-disk spool, and the next agent run delivers them.
 * (The API's graceful SIGTERM is covered in api-restart.test.ts.)
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { cameraLockKey } from '../../src/queue/handlers/camera-lock.ts';
import { LOCK_HELD_MS, acceptedFrameIds, login, postFrame, registerCamera, startAgent, startApi, startWorker, waitFor } from './processes.ts';
import { createFaultEnv, UNMASKED, UNMASKED_FILE, type FaultEnv } from './support.ts';

describe('fault: graceful shutdown on SIGTERM', () => {
  let env: FaultEnv;
  after(() => env?.cleanup.run());

  it('a worker finishes its in-flight job, then exits 0', async () => {
    env = await createFaultEnv({ label: 'sigterm' });
    const [api, worker] = await Promise.all([startApi(env.sys), startWorker(env.sys)]);
    env.cleanup.proc(api);
    env.cleanup.proc(worker);
    const camera = await registerCamera(api.url, await login(api.url), 'sigterm cam');
    // Holding the camera's grouping lock keeps the job in flight (analysed, not yet stored).
    const redis = new Redis(env.sys.redisUrl);
    env.cleanup.add(() => redis.quit());
    const lock = cameraLockKey(env.sys.queuePrefix, camera.id);
    assert.equal(await redis.set(lock, 'held-by-test', 'PX', LOCK_HELD_MS, 'NX'), 'OK');
    const { frameId } = await postFrame(api.url, camera.apiKey, UNMASKED);
    await waitFor('the job in flight', async () => (await env.queue().getJobState(frameId!)) === 'active');

    worker.kill('SIGTERM');
    await worker.waitForLog('shutting down: waiting for in-flight jobs');
    assert.ok(worker.running, 'still running while its job is in flight');
    await redis.del(lock);
    const { code } = await worker.exited;
    assert.equal(code, 0, worker.output());
    const msgs = worker.logs().map((l) => l.msg);
    assert.ok(msgs.indexOf('frame analysed') > msgs.indexOf('shutting down: waiting for in-flight jobs'), 'job finished after the signal');
    assert.equal(await env.queue().getJobState(frameId!), 'completed');
    assert.equal((await env.violationsByFrame([frameId!])).get(frameId!), 1);
  });

  it('an agent stopped while the server is away keeps its frames; the next run delivers them', async () => {
    let api = await startApi(env.sys);
    env.cleanup.add(() => api.stop(10_000));
    const camera = await registerCamera(api.url, await login(api.url), 'spool cam');
    const worker = env.cleanup.proc(await startWorker(env.sys));
    assert.equal((await api.stop()).code, 0);

    const frames = path.join(env.dir, 'camera-frames');
    await mkdir(frames);
    await copyFile(UNMASKED_FILE, path.join(frames, 'frame.jpg'));
    const spoolDir = path.join(env.dir, 'agent-spool');
    const first = env.cleanup.proc(startAgent({ server: api.url, key: camera.apiKey, source: frames, fps: 5, loop: true, spoolDir }));
    await waitFor('3 frames spooled', async () => (await readdir(spoolDir).catch(() => [])).filter((n) => n.endsWith('.jpg')).length >= 3);
    assert.equal((await first.stop()).code, 0, first.output());
    const spooled = (await readdir(spoolDir)).filter((n) => n.endsWith('.jpg')).length;
    assert.ok(spooled >= 3);
    assert.equal(acceptedFrameIds(first).length, 0);

    api = await startApi(env.sys, { port: api.port });
    // One more frame from the folder (no --loop): the agent sends spool + frame, then exits by itself.
    const second = env.cleanup.proc(startAgent({ server: api.url, key: camera.apiKey, source: frames, fps: 5, spoolDir }));
    const { code } = await second.exited;
    assert.equal(code, 0, second.output());
    const accepted = acceptedFrameIds(second);
    assert.equal(accepted.length, spooled + 1, second.output());
    assert.deepEqual(await readdir(spoolDir), []);
    await env.waitCompleted(accepted);
    const counts = await env.violationsByFrame(accepted);
    for (const id of accepted) assert.equal(counts.get(id), 1);
    assert.equal((await worker.stop()).code, 0);
  });
});
