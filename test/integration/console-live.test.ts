/**
 * Server side of the dispatcher console (issue 12, item 4), on the real app:
 * sessions are renewed without logging in again (POST /api/v1/auth/refresh),
 * and unit changes reach dashboards live (unit.updated), on a second API
 * instance too (Redis adapter), officers only for their own unit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import type { ServerToClientEvents, UnitEvent } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

type Client = Socket<ServerToClientEvents>;

function open(url: string, token: string): Promise<Client> {
  const socket: Client = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** The next unit.updated matching `pred`, or a rejection naming what did not arrive. */
function nextUnit(socket: Client, what: string, pred: (u: UnitEvent) => boolean, timeoutMs = 5000): Promise<UnitEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('unit.updated', on);
      reject(new Error(`no unit.updated for ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (u: UnitEvent) => {
      if (!pred(u)) return;
      clearTimeout(timer);
      socket.off('unit.updated', on);
      resolve(u);
    };
    socket.on('unit.updated', on);
  });
}

describe('console: session renewal and live units', () => {
  let stack: TestStack;
  let apiA: ApiInstance;
  let apiB: ApiInstance;
  const sockets: Client[] = [];

  before(async () => {
    stack = await createTestStack('sqlite');
    apiA = await stack.startApi();
    apiB = await stack.startApi();
  });
  after(async () => {
    for (const s of sockets) s.close();
    await stack.close();
  });

  test('refresh: a new token with a full lifetime; the old one is revoked; an expired one gets 401', async () => {
    const { token } = await loginAs(apiA, { username: 'shift', role: 'DISPATCHER' });
    const res = await call(apiA.url, 'POST', '/api/v1/auth/refresh', { token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { token: renewed, expiresAt, expiresInSeconds, user } = res.body;
    assert.notEqual(renewed, token);
    assert.equal(user.username, 'shift');
    const ttl = stack.config.tokenTtlSeconds;
    assert.ok(Math.abs(expiresInSeconds - ttl) <= 2, `expiresInSeconds ${expiresInSeconds} vs TTL ${ttl}`);
    assert.ok(Math.abs(Date.parse(expiresAt) - (Date.now() + ttl * 1000)) < 5000);
    assert.equal((await call(apiA.url, 'GET', '/api/v1/auth/me', { token: renewed })).status, 200);
    assert.equal((await call(apiA.url, 'GET', '/api/v1/auth/me', { token })).status, 401, 'the old token is revoked');
    assert.equal((await call(apiA.url, 'POST', '/api/v1/auth/refresh', { token })).status, 401, 'a revoked token cannot be renewed');
    // The renewed token works for sockets too.
    sockets.push(await open(apiB.url, renewed));
    // An expired session cannot be renewed.
    await stack.db.prisma.session.update({ where: { tokenHash: createHash('sha256').update(renewed).digest('hex') }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await call(apiA.url, 'POST', '/api/v1/auth/refresh', { token: renewed });
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get('content-type') ?? '', /^application\/problem\+json/);
    // The route is documented.
    const doc = await call(apiA.url, 'GET', '/docs/json');
    assert.ok(doc.body.paths['/api/v1/auth/refresh']?.post, 'POST /api/v1/auth/refresh in the OpenAPI document');
  });

  test('unit.updated: status and position changes reach dispatchers on another instance, and only the unit’s own officers', async () => {
    const { token: admin } = await loginAs(apiA, { username: 'boss', role: 'ADMIN' });
    const a = (await call(apiA.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'L-1', latitude: 40.41, longitude: -3.7 } })).body;
    await call(apiA.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'L-2' } });
    const { token: dispatcher } = await loginAs(apiA, { username: 'desk', role: 'DISPATCHER' });
    const { token: officer } = await loginAs(apiA, { username: 'walker', role: 'OFFICER', unitCallSign: 'L-1' });
    const { token: otherOfficer } = await loginAs(apiA, { username: 'runner', role: 'OFFICER', unitCallSign: 'L-2' });
    const desk = await open(apiB.url, dispatcher);
    const own = await open(apiB.url, officer);
    const other = await open(apiB.url, otherOfficer);
    sockets.push(desk, own, other);
    let otherSaw = 0;
    other.on('unit.updated', (u) => {
      if (u.id === a.id) otherSaw++;
    });

    const busy = nextUnit(desk, 'L-1 going off duty', (u) => u.id === a.id && u.status === 'OFF_DUTY');
    const ownBusy = nextUnit(own, 'L-1 going off duty (its officer)', (u) => u.id === a.id && u.status === 'OFF_DUTY');
    assert.equal((await call(apiA.url, 'PATCH', `/api/v1/units/${a.id}`, { token: dispatcher, json: { status: 'OFF_DUTY' } })).status, 200);
    assert.equal((await busy).callSign, 'L-1');
    await ownBusy;

    const moved = nextUnit(desk, 'L-1 position', (u) => u.id === a.id && u.latitude === 40.42);
    assert.equal((await call(apiA.url, 'POST', `/api/v1/units/${a.id}/position`, { token: officer, json: { latitude: 40.42, longitude: -3.71 } })).status, 200);
    const m = await moved;
    assert.equal(m.longitude, -3.71);
    assert.ok(m.positionAt);
    // The other unit's officer heard nothing about L-1 (a later event for L-2 proves its socket was live).
    const own2 = nextUnit(other, 'L-2 status', (u) => u.callSign === 'L-2');
    const l2 = (await call(apiA.url, 'GET', '/api/v1/units', { token: admin })).body.items.find((u: UnitEvent) => u.callSign === 'L-2');
    await call(apiA.url, 'PATCH', `/api/v1/units/${l2.id}`, { token: admin, json: { status: 'OFF_DUTY' } });
    await own2;
    assert.equal(otherSaw, 0);
  });
});
