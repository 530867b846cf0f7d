/**
 * Fault b: Redis (its own server, AOF with appendfsync always) crashes during
 * ingestion and comes back. Meanwhile the API answers 503 + Retry-After, the
 * camera agent spools and retries; afterwards every frame the agent was told
 * 202 for is processed exactly once.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { acceptedFrameIds, login, postFrame, registerCamera, startAgent, startApi, startOwnRedis, startWorker, waitFor } from './processes.ts';
import { createFaultEnv, UNMASKED, UNMASKED_FILE, type FaultEnv } from './support.ts';

describe('fault: Redis restarted during ingestion', () => {
  let env: FaultEnv;
  after(() => env?.cleanup.run());

  it('API answers 503 meanwhile, the agent retries, no 202-acknowledged frame is lost', async () => {
    const redis = await startOwnRedis();
    env = await createFaultEnv({ label: 'redis', redisUrl: redis.url });
    env.cleanup.add(() => redis.close());
    const [api, worker] = await Promise.all([startApi(env.sys), startWorker(env.sys, { concurrency: 1 })]);
    env.cleanup.proc(api);
    env.cleanup.proc(worker);
    const camera = await registerCamera(api.url, await login(api.url), 'redis cam');

    const frames = path.join(env.dir, 'camera-frames');
    await mkdir(frames);
    for (let i = 0; i < 3; i++) await copyFile(UNMASKED_FILE, path.join(frames, `frame-${i}.jpg`));
    const spoolDir = path.join(env.dir, 'spool');
    const agent = env.cleanup.proc(startAgent({ server: api.url, key: camera.apiKey, source: frames, fps: 4, loop: true, spoolDir }));
    await waitFor('3 frames accepted before the crash', () => acceptedFrameIds(agent).length >= 3);

    await redis.crash();
    const refused = await postFrame(api.url, camera.apiKey, UNMASKED);
    assert.equal(refused.status, 503, 'Redis down → 503');
    assert.ok(Number(refused.retryAfter) > 0, 'with Retry-After');
    await agent.waitForLog('server cannot take frames: spooling and retrying');
    await waitFor('frames waiting in the agent spool', async () => (await readdir(spoolDir)).length >= 2);
    const readyz = await fetch(`${api.url}/readyz`);
    assert.equal(readyz.status, 503, 'not ready while Redis is down');

    await redis.restart();
    const mark = agent.lines.length;
    await agent.waitForLine((l) => agent.lines.indexOf(l) >= mark && l.includes('"spool drained"'));
    const afterRestart = acceptedFrameIds(agent).length;
    await waitFor('a live frame accepted after the restart', () => acceptedFrameIds(agent).length > afterRestart);
    const { code } = await agent.stop();
    assert.equal(code, 0, agent.output());

    const accepted = acceptedFrameIds(agent);
    assert.equal(new Set(accepted).size, accepted.length, 'each frame accepted once');
    const stats = agent.logs().find((l) => l.msg === 'agent stopped')!;
    assert.ok((stats.spooled as number) >= 2 && (stats.retried as number) >= 2, JSON.stringify(stats));
    assert.equal(stats.dropped, 0);
    assert.equal(stats.sent, accepted.length);

    await env.waitCompleted(accepted);
    const counts = await env.violationsByFrame(accepted);
    for (const id of accepted) assert.equal(counts.get(id), 1, `frame ${id}: one violation`);
    const { prisma } = await env.db();
    assert.equal(await prisma.violation.count({ where: { cameraId: camera.id } }), accepted.length, 'nothing beyond the accepted frames');
  });
});
