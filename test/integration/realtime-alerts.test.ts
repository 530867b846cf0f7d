import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { io as connect, type Socket } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { REDIS_URL } from '../helpers/env.ts';
import { testProviders } from '../helpers/db.ts';
import { createAlertPublisher } from '../../src/realtime/publisher.ts';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { withTimeout } from '../helpers/wait.ts';
import { alertEvent } from '../helpers/alert-event.ts';

type Client = Socket<ServerToClientEvents>;

const alert = (id: string, assignedUnitId: string | null) =>
  alertEvent(id, undefined, { cameraId: 'cam-1', camera: { name: 'Cam 1', latitude: 1, longitude: 2, address: null, zone: null }, assignedUnitId });

/** Connects and resolves once the server accepted (or rejects with the server's reason). */
function open(url: string, token?: string): Promise<Client> {
  const socket: Client = connect(url, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false, forceNew: true });
  return withTimeout(new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  }), `a socket connection to ${url}`);
}

function next<E extends keyof ServerToClientEvents>(socket: Client, event: E): Promise<AlertEvent> {
  return withTimeout(new Promise((resolve) => socket.once(event, ((a: AlertEvent) => resolve(a)) as never)), `a ${event} event`);
}

for (const provider of testProviders()) {
  describe(`realtime (${provider})`, () => {
    let stack: TestStack;
    let apiA: ApiInstance;
    let apiB: ApiInstance;
    let redis: Redis;
    const sockets: Client[] = [];

    before(async () => {
      stack = await createTestStack(provider);
      apiA = await stack.startApi();
      apiB = await stack.startApi();
      redis = new Redis(REDIS_URL);
      await stack.db.prisma.patrolUnit.createMany({ data: [{ callSign: 'ALPHA-1' }, { callSign: 'BRAVO-2' }] });
    });
    after(async () => {
      for (const s of sockets) s.close();
      redis.disconnect();
      await stack.close();
    });

    test('a connection without a valid token is rejected', async () => {
      await assert.rejects(open(apiA.url), /unauthorized/);
      await assert.rejects(open(apiA.url, 'mwt_not-a-real-token-at-all'), /unauthorized/);
    });

    test('an event from a worker redis-emitter reaches a dispatcher on a second API instance; officers get only their unit', async () => {
      const dispatcher = await loginAs(apiA, { username: 'disp', role: 'DISPATCHER' });
      const alpha = await loginAs(apiA, { username: 'officer-a', role: 'OFFICER', unitCallSign: 'ALPHA-1' });
      const units = await stack.db.prisma.patrolUnit.findMany();
      const unitA = units.find((u) => u.callSign === 'ALPHA-1')!.id;
      const unitB = units.find((u) => u.callSign === 'BRAVO-2')!.id;

      // Sockets on instance B; the publisher is what a worker process uses.
      const dispSocket = await open(apiB.url, dispatcher.token);
      const officerSocket = await open(apiB.url, alpha.token);
      sockets.push(dispSocket, officerSocket);
      const publisher = createAlertPublisher({ redis, queuePrefix: stack.config.queuePrefix, logger: stack.logger });

      const dispGot = withTimeout(new Promise<string[]>((resolve) => {
        const ids: string[] = [];
        dispSocket.on('alert.created', (a) => {
          ids.push(a.id);
          if (ids.length === 2) resolve(ids);
        });
      }), 'two alert.created events on the dispatcher socket');
      const officerFirst = next(officerSocket, 'alert.created');
      // Published in this order through one Redis connection, delivered in this order:
      // if the officer could see unit B's alert, it would arrive first.
      await publisher.publish('alert.created', alert('for-bravo', unitB));
      await publisher.publish('alert.created', alert('for-alpha', unitA));
      assert.equal((await officerFirst).id, 'for-alpha');
      assert.deepEqual(await dispGot, ['for-bravo', 'for-alpha']);
      const full = await withTimeout(new Promise<AlertEvent>((resolve) => {
        dispSocket.once('alert.updated', resolve);
        void publisher.publish('alert.updated', { ...alert('for-alpha', unitA), violationCount: 7 });
      }), 'alert.updated on the dispatcher socket');
      assert.equal(full.violationCount, 7);
      assert.equal(full.camera.name, 'Cam 1');
    });

    test('logout disconnects the session’s sockets on every instance', async () => {
      const user = await loginAs(apiA, { username: 'disp-logout', role: 'DISPATCHER' });
      const socket = await open(apiB.url, user.token);
      sockets.push(socket);
      const disconnected = withTimeout(new Promise<string>((resolve) => socket.once('disconnect', resolve)), 'the socket to be disconnected after logout');
      assert.equal((await call(apiA.url, 'POST', '/api/v1/auth/logout', { token: user.token })).status, 204);
      assert.equal(await disconnected, 'io server disconnect');
      await assert.rejects(open(apiB.url, user.token), /unauthorized/);
    });
  });
}
