/**
 * Fault c (+ e for the API): an API instance is stopped with SIGTERM and
 * started again on the same port. It shuts down gracefully (exit 0, sockets
 * told), the dashboard's Socket.IO client reconnects by itself and receives
 * alerts again, the camera agent spools meanwhile and resumes; every accepted
 * frame is processed exactly once.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import { acceptedFrameIds, login, registerCamera, startAgent, startApi, startWorker, waitFor } from './processes.ts';
import { createFaultEnv, UNMASKED_FILE, type FaultEnv } from './support.ts';

describe('fault: API instance restarted', () => {
  let env: FaultEnv;
  let socket: Socket<ServerToClientEvents> | undefined;
  after(async () => {
    socket?.close();
    await env?.cleanup.run();
  });

  it('sockets and agents reconnect; nothing accepted is lost or duplicated', async () => {
    env = await createFaultEnv({ label: 'apirestart' });
    let api = await startApi(env.sys);
    env.cleanup.add(() => api.stop(10_000));
    const worker = env.cleanup.proc(await startWorker(env.sys));
    const token = await login(api.url);
    const camera = await registerCamera(api.url, token, 'restart cam');

    const connects: number[] = [];
    const disconnects: string[] = [];
    const events: { name: string; alert: AlertEvent; connection: number }[] = [];
    socket = io(api.url, { auth: { token }, transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 1000 });
    socket.on('connect', () => connects.push(Date.now()));
    socket.on('disconnect', (reason) => disconnects.push(reason));
    for (const name of ['alert.created', 'alert.updated'] as const) socket.on(name, (alert) => events.push({ name, alert, connection: connects.length }));
    await waitFor('socket connected', () => connects.length === 1);

    const frames = path.join(env.dir, 'camera-frames');
    await mkdir(frames);
    await copyFile(UNMASKED_FILE, path.join(frames, 'frame.jpg'));
    const agent = env.cleanup.proc(startAgent({ server: api.url, key: camera.apiKey, source: frames, fps: 3, loop: true, spoolDir: path.join(env.dir, 'spool') }));
    await waitFor('alert.created on the first connection', () => events.some((e) => e.name === 'alert.created' && e.alert.cameraId === camera.id));

    const { code } = await api.stop();
    assert.equal(code, 0, `graceful shutdown exits 0:\n${api.output()}`);
    await waitFor('socket told of the disconnect', () => disconnects.length >= 1);
    await agent.waitForLog('server cannot take frames: spooling and retrying');

    api = await startApi(env.sys, { port: api.port });
    const acceptedBefore = acceptedFrameIds(agent).length;
    await waitFor('socket reconnected', () => connects.length === 2, { timeoutMs: 90_000 });
    await waitFor('agent sends again', () => acceptedFrameIds(agent).length > acceptedBefore + 2, { timeoutMs: 120_000 });
    await waitFor('an alert event on the new connection', () => events.some((e) => e.connection === 2 && e.alert.cameraId === camera.id), { timeoutMs: 120_000 });
    assert.equal((await agent.stop()).code, 0);

    const accepted = acceptedFrameIds(agent);
    assert.equal(new Set(accepted).size, accepted.length);
    await env.waitCompleted(accepted);
    const counts = await env.violationsByFrame(accepted);
    for (const id of accepted) assert.equal(counts.get(id), 1, `frame ${id}`);
    const created = events.filter((e) => e.name === 'alert.created');
    assert.equal(new Set(created.map((e) => e.alert.id)).size, created.length, 'each alert.created delivered once');
    const { prisma } = await env.db();
    const alerts = await prisma.alert.findMany({ where: { cameraId: camera.id } });
    assert.equal(alerts.reduce((n, a) => n + a.violationCount, 0), accepted.length);
    assert.equal((await worker.stop()).code, 0);
  });
});
