/**
 * Scale-out topology of docker-compose.yml, proven with plain processes:
 * 2 API instances + 2 worker processes sharing one Redis (unique prefix) and
 * the local PostgreSQL (unique schema). Both APIs migrate at start at once;
 * both workers take jobs; each frame is processed once; each alert is emitted
 * once and reaches dashboard sockets on both APIs.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { cameraLockKey } from '../../src/queue/handlers/camera-lock.ts';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import { login, postFrame, registerCamera, startApi, startWorker, waitFor, type Proc } from '../faults/processes.ts';
import { createFaultEnv, UNMASKED, type FaultEnv } from '../faults/support.ts';
import { socketConnected } from '../helpers/wait.ts';

describe('scale-out: 2 APIs + 2 workers on one Redis and PostgreSQL', () => {
  let env: FaultEnv;
  const sockets: Socket<ServerToClientEvents>[] = [];
  after(async () => {
    for (const s of sockets) s.close();
    await env?.cleanup.run();
  });

  it('each frame processed once, each alert emitted once and received on both APIs', async () => {
    env = await createFaultEnv({ provider: 'postgresql', label: 'scaleout' });
    const [api1, api2, w1, w2] = await Promise.all([
      startApi(env.sys, { label: 'api-1' }),
      startApi(env.sys, { label: 'api-2' }),
      startWorker(env.sys, { label: 'worker-1' }),
      startWorker(env.sys, { label: 'worker-2' }),
    ]);
    for (const p of [api1, api2, w1, w2]) env.cleanup.proc(p);
    const token = await login(api1.url);
    // Either API sees both workers (on other hosts in production): what an operator alerts on at 0.
    const workersMetric = async (url: string) => /^maskwatch_queue_workers (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1];
    await waitFor('both workers counted in /metrics', async () => (await workersMetric(api2.url)) === '2');
    const created: AlertEvent[][] = [[], []];
    for (const [i, api] of [api1, api2].entries()) {
      const socket: Socket<ServerToClientEvents> = io(api.url, { auth: { token }, transports: ['websocket'] });
      sockets.push(socket);
      socket.on('alert.created', (a) => created[i]!.push(a));
      await socketConnected(socket);
    }
    const cameras = await Promise.all(['north', 'south', 'east'].map((n) => registerCamera(api2.url, token, `scale ${n}`)));

    // Both workers busy at once: with concurrency 1 each, two active jobs are on two workers.
    const redis = new Redis(env.sys.redisUrl);
    env.cleanup.add(() => redis.quit());
    const lock = cameraLockKey(env.sys.queuePrefix, cameras[0]!.id);
    assert.equal(await redis.set(lock, 'held-by-test', 'PX', 60_000, 'NX'), 'OK');
    const frameIds: string[] = [];
    const start = Date.now() - 60_000;
    const post = async (api: string, cam: number, i: number) => {
      const res = await postFrame(api, cameras[cam]!.apiKey, UNMASKED, new Date(start + i * 500));
      assert.equal(res.status, 202);
      frameIds.push(res.frameId!);
    };
    await post(api1.url, 0, 0);
    await post(api2.url, 0, 1);
    await waitFor('two jobs active on two workers', async () => ((await env.queue().getJobCounts('active')).active ?? 0) === 2);
    await redis.del(lock);
    for (let i = 2; i < 8; i++) for (const cam of [0, 1, 2]) await post(i % 2 ? api1.url : api2.url, cam, i);

    await env.waitCompleted(frameIds);
    const counts = await env.violationsByFrame(frameIds);
    for (const id of frameIds) assert.equal(counts.get(id), 1, `frame ${id}`);
    const analysed = (w: Proc) => w.logs().filter((l) => l.msg === 'frame analysed').map((l) => l.frameId as string);
    const all = [...analysed(w1), ...analysed(w2)];
    assert.equal(all.length, frameIds.length, 'each frame analysed once across both workers');
    assert.deepEqual(new Set(all), new Set(frameIds));
    assert.ok(analysed(w1).length > 0 && analysed(w2).length > 0, 'both workers took jobs');

    const { prisma } = await env.db();
    const alerts = await prisma.alert.findMany({ where: { cameraId: { in: cameras.map((c) => c.id) } }, orderBy: { id: 'asc' } });
    assert.equal(alerts.length, 3, 'one alert per camera (one person each)');
    const ids = alerts.map((a) => a.id).sort();
    await waitFor('alert.created on both sockets', () => created.every((c) => c.length >= 3));
    for (const [i, events] of created.entries()) {
      assert.deepEqual(events.map((e) => e.id).sort(), ids, `socket on api-${i + 1}: each alert once`);
    }
  });
});
