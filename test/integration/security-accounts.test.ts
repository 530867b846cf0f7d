/**
 * Account lifecycle and sockets that follow the session (issue 13, items 1–2),
 * over real HTTP and real Socket.IO clients on two API instances sharing one
 * database and Redis: an account change made through instance A ends the
 * user's tokens (401) and their sockets on instance B within 5 s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { io as connect, type Socket } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { REDIS_URL } from '../helpers/env.ts';
import { testProviders } from '../helpers/db.ts';
import { createAlertPublisher, type AlertPublisher } from '../../src/realtime/publisher.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { alertEvent } from '../helpers/alert-event.ts';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
const PASSWORD = 'correct horse battery staple';
/** The promise of issue 13: sockets of an ended session are gone within this. */
const SOCKET_DEADLINE_MS = 5000;

function withTimeout<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const alert = (id: string, assignedUnitId: string | null) =>
  alertEvent(id, undefined, { status: 'DISPATCHED', cameraId: 'cam-1', camera: { name: 'Cam 1', latitude: 1, longitude: 2, address: 'Main St 1', zone: null }, assignedUnitId });

function open(url: string, token: string): Promise<Client> {
  const socket: Client = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    }),
    'the socket handshake',
    10_000,
  );
}

/** Resolves with the disconnect reason; fails naming `what` if the server keeps the socket past the deadline. */
function disconnectedWithin(socket: Client, what: string, ms = SOCKET_DEADLINE_MS): Promise<string> {
  if (!socket.connected) return Promise.resolve('already disconnected');
  return withTimeout(new Promise<string>((resolve) => socket.once('disconnect', resolve)), `${what}: the server to disconnect the socket`, ms);
}

/** The first alert.updated id the socket receives. */
function firstUpdate(socket: Client, what: string): Promise<string> {
  return withTimeout(new Promise<string>((resolve) => socket.once('alert.updated', (a) => resolve(a.id))), what, 10_000);
}

for (const provider of testProviders()) {
  describe(`accounts and sockets that follow the session (${provider})`, () => {
    let stack: TestStack;
    let apiA: ApiInstance;
    let apiB: ApiInstance;
    let redis: Redis;
    let publisher: AlertPublisher;
    let admin: string;
    let adminId: string;
    let unitA: string;
    let unitB: string;
    const sockets: Client[] = [];
    let n = 0;
    const name = (label: string) => `${label}-${++n}`;
    const track = (s: Client) => (sockets.push(s), s);

    before(async () => {
      stack = await createTestStack(provider);
      apiA = await stack.startApi();
      // Instance B re-checks its sockets every 3 s: the broadcast, not the re-check, must meet the deadline in most cases,
      // and the re-check alone still does (it is the only path for unit membership changes and expiry).
      apiB = await stack.startApi({ config: { sessionCheckMs: 3000 } });
      redis = new Redis(REDIS_URL);
      publisher = createAlertPublisher({ redis, queuePrefix: stack.config.queuePrefix, logger: stack.logger });
      const units = await Promise.all(['ALPHA-1', 'BRAVO-2'].map((callSign) => stack.db.prisma.patrolUnit.create({ data: { callSign } })));
      [unitA, unitB] = units.map((u) => u.id) as [string, string];
      ({ token: admin, userId: adminId } = await loginAs(apiA, { username: 'chief', role: 'ADMIN' }));
    });
    after(async () => {
      for (const s of sockets) s.close();
      redis.disconnect();
      await stack.close();
    });

    async function officer(unitCallSign = 'ALPHA-1') {
      const username = name('officer');
      const user = await loginAs(apiA, { username, role: 'OFFICER', unitCallSign });
      const socket = track(await open(apiB.url, user.token));
      return { ...user, username, socket };
    }

    async function assertTokenDead(token: string) {
      const me = await call(apiA.url, 'GET', '/api/v1/auth/me', { token });
      assert.equal(me.status, 401, `token still accepted: ${JSON.stringify(me.body)}`);
      await assert.rejects(open(apiB.url, token), /unauthorized/);
    }

    test('PATCH /api/v1/users/:id: 200 with the user; bad changes are 4xx problems', async () => {
      const { userId } = await loginAs(apiA, { username: name('disp'), role: 'DISPATCHER' });
      const res = await call(apiA.url, 'PATCH', `/api/v1/users/${userId}`, { token: admin, json: { role: 'OFFICER', unitId: unitA } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(
        { ...res.body, username: undefined, lastSignInAt: undefined },
        { id: userId, username: undefined, role: 'OFFICER', unitId: unitA, zones: [], enabled: true, mustChangePassword: false, mfaEnabled: false, ssoLinked: false, lastSignInAt: undefined, securityKeys: 0, securityKeyRequired: false },
      );
      assert.ok(Date.parse(res.body.lastSignInAt) > Date.now() - 60_000, 'the user signed in moments ago');
      const noUnit = await call(apiA.url, 'PATCH', `/api/v1/users/${userId}`, { token: admin, json: { unitId: null } });
      assert.equal(noUnit.status, 400);
      assert.match(noUnit.body.detail, /OFFICER needs a unit/);
      assert.equal((await call(apiA.url, 'PATCH', `/api/v1/users/${userId}`, { token: admin, json: { unitId: 'no-such-unit' } })).status, 400);
      assert.equal((await call(apiA.url, 'PATCH', `/api/v1/users/${userId}`, { token: admin, json: {} })).status, 400);
      assert.equal((await call(apiA.url, 'PATCH', `/api/v1/users/${userId}`, { token: admin, json: { enabled: 'no' } })).status, 400);
      assert.equal((await call(apiA.url, 'PATCH', '/api/v1/users/00000000-0000-4000-8000-000000000000', { token: admin, json: { enabled: false } })).status, 404);
      // The last enabled admin stays: nobody can lock the installation out of its administration.
      const self = await call(apiA.url, 'PATCH', `/api/v1/users/${adminId}`, { token: admin, json: { enabled: false } });
      assert.equal(self.status, 409);
      assert.equal(self.body.type?.endsWith('last-admin') || self.body.code === 'last-admin' || /last enabled admin/.test(self.body.detail), true);
      assert.equal((await call(apiA.url, 'DELETE', `/api/v1/users/${adminId}`, { token: admin })).status, 409);
    });

    for (const action of ['disable', 'role change', 'password reset', 'revoke sessions', 'delete'] as const) {
      test(`${action}: the user's tokens → 401 and their socket on the other instance is disconnected within 5 s`, async () => {
        const o = await officer();
        const second = await call(apiA.url, 'POST', '/api/v1/auth/login', { json: { username: o.username, password: PASSWORD } });
        const gone = disconnectedWithin(o.socket, action);
        const started = Date.now();
        const res =
          action === 'disable'
            ? await call(apiA.url, 'PATCH', `/api/v1/users/${o.userId}`, { token: admin, json: { enabled: false } })
            : action === 'role change'
              ? await call(apiA.url, 'PATCH', `/api/v1/users/${o.userId}`, { token: admin, json: { role: 'DISPATCHER' } })
              : action === 'password reset'
                ? await call(apiA.url, 'POST', `/api/v1/users/${o.userId}/password`, { token: admin, json: { password: 'a brand new password' } })
                : action === 'revoke sessions'
                  ? await call(apiA.url, 'DELETE', `/api/v1/users/${o.userId}/sessions`, { token: admin })
                  : await call(apiA.url, 'DELETE', `/api/v1/users/${o.userId}`, { token: admin });
        assert.equal(res.status, action === 'disable' || action === 'role change' ? 200 : 204, JSON.stringify(res.body));
        assert.equal(await gone, 'io server disconnect');
        assert.ok(Date.now() - started < SOCKET_DEADLINE_MS);
        await assertTokenDead(o.token);
        await assertTokenDead(second.body.token);
        const audited = await stack.db.prisma.auditEvent.findMany({ where: { subjectId: o.userId, actorId: adminId } });
        assert.equal(audited.length, 1, 'one audit event by the admin');
        assert.match(audited[0]!.details ?? '', /"clientIp":"127\.0\.0\.1"/);
        if (action === 'password reset') {
          const login = await call(apiA.url, 'POST', '/api/v1/auth/login', { json: { username: o.username, password: 'a brand new password' } });
          assert.equal(login.status, 200, 'the new password works');
          assert.equal((await call(apiA.url, 'POST', '/api/v1/auth/login', { json: { username: o.username, password: PASSWORD } })).status, 401);
        }
      });
    }

    test('an officer moved to another unit (PATCH unitId) stops receiving the old unit’s alert.updated', async () => {
      const o = await officer('ALPHA-1');
      const before = firstUpdate(o.socket, 'unit A alert.updated before the move');
      await publisher.publish('alert.updated', alert('a-before', unitA));
      assert.equal(await before, 'a-before');
      const gone = disconnectedWithin(o.socket, 'unit move');
      assert.equal((await call(apiA.url, 'PATCH', `/api/v1/users/${o.userId}`, { token: admin, json: { unitId: unitB } })).status, 200);
      await gone;
      await assertTokenDead(o.token);
      // Logged in again, the officer's socket is in unit B's room only: published in this order, unit A's would arrive first.
      const again = await call(apiA.url, 'POST', '/api/v1/auth/login', { json: { username: o.username, password: PASSWORD } });
      assert.equal(again.body.user.unitId, unitB);
      const socket = track(await open(apiB.url, again.body.token));
      const first = firstUpdate(socket, 'unit B alert.updated after the move');
      await publisher.publish('alert.updated', alert('a-after', unitA));
      await publisher.publish('alert.updated', alert('b-after', unitB));
      assert.equal(await first, 'b-after');
    });

    test('membership changed on the unit board (PUT /units/:id/members): the socket leaves the old unit’s room within 5 s', async () => {
      const o = await officer('ALPHA-1');
      const gone = disconnectedWithin(o.socket, 'unit membership change (periodic re-check)');
      // Unit B's officers stay (an officer needs a unit); o joins them.
      const members = (await call(apiA.url, 'GET', `/api/v1/units/${unitB}`, { token: admin })).body.members.map((m: { id: string }) => m.id) as string[];
      assert.equal((await call(apiA.url, 'PUT', `/api/v1/units/${unitB}/members`, { token: admin, json: { userIds: [...members, o.userId] } })).status, 200);
      await gone;
      // Same token, new unit: a reconnect joins unit B's room only.
      const socket = track(await open(apiB.url, o.token));
      const first = firstUpdate(socket, 'unit B alert.updated after the membership change');
      await publisher.publish('alert.updated', alert('m-a', unitA));
      await publisher.publish('alert.updated', alert('m-b', unitB));
      assert.equal(await first, 'm-b');
    });

    test('session expiry disconnects the socket (short TTL injected through config)', async () => {
      const shortLived = await stack.startApi({ config: { tokenTtlSeconds: 2, sessionCheckMs: 250 } });
      const user = await loginAs(shortLived, { username: name('short'), role: 'DISPATCHER' });
      const socket = track(await open(shortLived.url, user.token));
      const session = await stack.db.prisma.session.findFirstOrThrow({ where: { userId: user.userId } });
      const reason = await disconnectedWithin(socket, 'session expiry', session.expiresAt.getTime() - Date.now() + SOCKET_DEADLINE_MS);
      assert.equal(reason, 'io server disconnect');
      assert.ok(Date.now() >= session.expiresAt.getTime(), 'not before the expiry');
      await assertTokenDead(user.token);
    });

    test('renewal: a socket that re-authenticates with the new token stays; one left on the revoked token is dropped', async () => {
      const user = await loginAs(apiA, { username: name('disp'), role: 'DISPATCHER' });
      const renewed = track(await open(apiB.url, user.token));
      const stale = track(await open(apiB.url, user.token));
      const refresh = await call(apiA.url, 'POST', '/api/v1/auth/refresh', { token: user.token });
      assert.equal(refresh.status, 200);
      const ack = await withTimeout(new Promise<{ ok: boolean }>((resolve) => renewed.emit('session.renew', refresh.body.token, resolve)), 'the session.renew ack', 5000);
      assert.deepEqual(ack, { ok: true });
      // Someone else's token, or garbage, does not move a socket onto another session.
      const other = await loginAs(apiA, { username: name('disp'), role: 'DISPATCHER' });
      const probe = track(await open(apiB.url, refresh.body.token));
      const refused = await withTimeout(new Promise<{ ok: boolean }>((resolve) => probe.emit('session.renew', other.token, resolve)), 'the refused ack', 5000);
      assert.deepEqual(refused, { ok: false });
      const staleGone = disconnectedWithin(stale, 'socket on the token revoked by renewal');
      await apiB.realtime.checkSessions();
      await staleGone;
      assert.ok(renewed.connected, 'the renewed socket stays');
      const got = withTimeout(new Promise<string>((resolve) => renewed.once('alert.updated', (a) => resolve(a.id))), 'an event on the renewed socket', 5000);
      await publisher.publish('alert.updated', alert('after-renewal', unitA));
      assert.equal(await got, 'after-renewal');
      // Logging out with the new token now reaches the renewed socket (it joined the new session's room).
      const loggedOut = disconnectedWithin(renewed, 'logout of the renewed session');
      assert.equal((await call(apiA.url, 'POST', '/api/v1/auth/logout', { token: refresh.body.token })).status, 204);
      await loggedOut;
    });

    test('own password change: current password required, throttled per user, other sessions end, this one stays', async () => {
      const username = name('disp');
      const user = await loginAs(apiA, { username, role: 'DISPATCHER' });
      const other = await call(apiA.url, 'POST', '/api/v1/auth/login', { json: { username, password: PASSWORD } });
      const otherSocket = track(await open(apiB.url, other.body.token));
      const ownSocket = track(await open(apiB.url, user.token));
      const wrong = await call(apiA.url, 'POST', '/api/v1/auth/password', { token: user.token, json: { currentPassword: 'not my password', newPassword: 'my new password 1' } });
      assert.equal(wrong.status, 403);
      assert.equal((await call(apiA.url, 'POST', '/api/v1/auth/password', { token: user.token, json: { currentPassword: PASSWORD, newPassword: 'short' } })).status, 400);
      const gone = disconnectedWithin(otherSocket, 'the other session after a password change');
      const ok = await call(apiA.url, 'POST', '/api/v1/auth/password', { token: user.token, json: { currentPassword: PASSWORD, newPassword: 'my new password 1' } });
      assert.equal(ok.status, 204, JSON.stringify(ok.body));
      await gone;
      await assertTokenDead(other.body.token);
      assert.equal((await call(apiA.url, 'GET', '/api/v1/auth/me', { token: user.token })).status, 200, 'this session stays');
      await apiB.realtime.checkSessions();
      assert.ok(ownSocket.connected, 'this session’s socket stays');
      assert.equal((await call(apiA.url, 'POST', '/api/v1/auth/login', { json: { username, password: 'my new password 1' } })).status, 200);
      const audit = await stack.db.prisma.auditEvent.findMany({ where: { subjectId: user.userId, action: { startsWith: 'user.password_change' } }, orderBy: { at: 'asc' } });
      assert.deepEqual(audit.map((a) => a.action).sort(), ['user.password_change', 'user.password_change_failed']);

      // Parallel guesses with a stolen token: at most MASKWATCH_LOGIN_MAX_FAILURES are checked, the rest get 429,
      // and then even the right password waits (counted before the check, atomically).
      const max = stack.config.security.loginMaxFailures;
      const guesses = await Promise.all(
        Array.from({ length: max + 5 }, (_, i) =>
          call(apiA.url, 'POST', '/api/v1/auth/password', { token: user.token, json: { currentPassword: `guess number ${i}`, newPassword: 'another new password' } }),
        ),
      );
      assert.equal(guesses.filter((g) => g.status === 403).length, max - 0, JSON.stringify(guesses.map((g) => g.status)));
      assert.equal(guesses.filter((g) => g.status === 429).length, 5);
      const right = await call(apiA.url, 'POST', '/api/v1/auth/password', { token: user.token, json: { currentPassword: 'my new password 1', newPassword: 'another new password' } });
      assert.equal(right.status, 429);
      assert.ok(Number(right.headers.get('retry-after')) > 0);
    });

    test('a user sees where they are signed in and signs one session out: its token and sockets end, the others stay', async () => {
      const username = name('disp');
      const user = await loginAs(apiA, { username, role: 'DISPATCHER' });
      const phone = await call(apiA.url, 'POST', '/api/v1/auth/login', {
        json: { username, password: PASSWORD },
        headers: { 'user-agent': 'Mozilla/5.0 (Linux; Android 14) Mobile Safari' },
      });
      const phoneSocket = track(await open(apiB.url, phone.body.token));
      const ownSocket = track(await open(apiB.url, user.token));

      const list = await call(apiA.url, 'GET', '/api/v1/auth/sessions', { token: user.token });
      assert.equal(list.status, 200);
      assert.equal(list.body.items.length, 2);
      const [newest, older] = list.body.items;
      assert.equal(newest.userAgent, 'Mozilla/5.0 (Linux; Android 14) Mobile Safari', 'newest first, with the client it came from');
      assert.equal(newest.current, false);
      assert.equal(older.current, true, 'this request\'s session is marked');
      assert.match(newest.clientIp, /^(::ffff:)?127\.0\.0\.1$|^::1$/);
      assert.ok(Date.parse(newest.expiresAt) > Date.now());

      // Another user's session is not yours to end, and reads the same as an unknown one.
      const stranger = await loginAs(apiA, { username: name('disp'), role: 'DISPATCHER' });
      const notMine = await call(apiA.url, 'DELETE', `/api/v1/auth/sessions/${newest.id}`, { token: stranger.token });
      assert.equal(notMine.status, 404);
      assert.equal((await call(apiA.url, 'GET', '/api/v1/auth/me', { token: phone.body.token })).status, 200);

      const gone = disconnectedWithin(phoneSocket, 'the signed-out session');
      assert.equal((await call(apiA.url, 'DELETE', `/api/v1/auth/sessions/${newest.id}`, { token: user.token })).status, 204);
      await gone;
      await assertTokenDead(phone.body.token);
      assert.equal((await call(apiA.url, 'DELETE', `/api/v1/auth/sessions/${newest.id}`, { token: user.token })).status, 404, 'ended already');
      await apiB.realtime.checkSessions();
      assert.ok(ownSocket.connected, 'the other sessions stay');
      assert.deepEqual((await call(apiA.url, 'GET', '/api/v1/auth/sessions', { token: user.token })).body.items.map((i: { id: string }) => i.id), [older.id]);

      // An admin sees a user's sessions too.
      const adminView = await call(apiA.url, 'GET', `/api/v1/users/${user.userId}/sessions`, { token: admin });
      assert.equal(adminView.status, 200);
      assert.deepEqual(adminView.body.items.map((i: { id: string; current: boolean }) => [i.id, i.current]), [[older.id, false]]);
      const byOwner = await stack.db.prisma.auditEvent.findFirst({ where: { subjectId: user.userId, action: 'user.session_revoke' } });
      assert.match(byOwner?.details ?? '', /"byOwner":true/);

      // …and signs one out (a browser left open on a shared or lost device); a session of another user is a 404.
      const desk = await call(apiA.url, 'POST', '/api/v1/auth/login', { json: { username, password: PASSWORD } });
      const deskSession = (await call(apiA.url, 'GET', '/api/v1/auth/sessions', { token: desk.body.token })).body.items.find((i: { current: boolean }) => i.current).id as string;
      const deskSocket = track(await open(apiB.url, desk.body.token));
      const strangers = await call(apiA.url, 'DELETE', `/api/v1/users/${stranger.userId}/sessions/${deskSession}`, { token: admin });
      assert.equal(strangers.status, 404);
      assert.equal(strangers.body.type, 'https://maskwatch.dev/problems/session-not-found');
      const deskGone = disconnectedWithin(deskSocket, 'the session an admin signed out');
      assert.equal((await call(apiA.url, 'DELETE', `/api/v1/users/${user.userId}/sessions/${deskSession}`, { token: admin })).status, 204);
      await deskGone;
      await assertTokenDead(desk.body.token);
      assert.equal((await call(apiA.url, 'GET', '/api/v1/auth/me', { token: user.token })).status, 200, 'the user\'s other sessions stay');
      const byAdmin = await stack.db.prisma.auditEvent.findFirst({ where: { subjectId: user.userId, action: 'user.session_revoke', actorRole: 'ADMIN' } });
      assert.match(byAdmin?.details ?? '', new RegExp(`"sessionId":"${deskSession}","byOwner":false`));
    });

    test('DELETE /api/v1/users/:id anonymises the account and keeps its audit trail (nothing cascades)', async () => {
      const username = name('admin2');
      const second = await loginAs(apiA, { username, role: 'ADMIN' });
      const cam = await call(apiA.url, 'POST', '/api/v1/cameras', { token: second.token, json: { name: 'Audited cam', latitude: 1, longitude: 2 } });
      assert.equal(cam.status, 201);
      const trail = await stack.db.prisma.auditEvent.count({ where: { actorId: second.userId } });
      assert.ok(trail >= 1, 'the user has an audit trail');
      assert.equal((await call(apiA.url, 'DELETE', `/api/v1/users/${second.userId}`, { token: admin })).status, 204);
      assert.equal(await stack.db.prisma.auditEvent.count({ where: { actorId: second.userId } }), trail, 'audit rows kept');
      const row = await stack.db.prisma.user.findUniqueOrThrow({ where: { id: second.userId } });
      assert.ok(row.deletedAt && row.disabled);
      assert.equal(row.username, `deleted-${second.userId}`);
      assert.doesNotMatch(row.passwordHash, /^scrypt/);
      const list = await call(apiA.url, 'GET', '/api/v1/users', { token: admin });
      assert.ok(!list.body.items.some((u: { id: string }) => u.id === second.userId), 'not listed');
      assert.equal((await call(apiA.url, 'POST', '/api/v1/auth/login', { json: { username, password: PASSWORD } })).status, 401);
      assert.equal((await call(apiA.url, 'DELETE', `/api/v1/users/${second.userId}`, { token: admin })).status, 404);
      const deleted = await stack.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'user.delete', subjectId: second.userId } });
      assert.equal(deleted.actorId, adminId);
      // The name is free again.
      assert.equal((await call(apiA.url, 'POST', '/api/v1/users', { token: admin, json: { username, password: PASSWORD, role: 'DISPATCHER' } })).status, 201);
    });
  });
}

describe('first admin from the environment must change that password', () => {
  let stack: TestStack;
  let api: ApiInstance;

  before(async () => {
    stack = await createTestStack('sqlite', { MASKWATCH_ADMIN_USER: 'root-admin', MASKWATCH_ADMIN_PASSWORD: 'setup password from env' });
    api = await stack.startApi();
  });
  after(() => stack?.close());

  test('login says mustChangePassword; only the password change and session routes answer until it is changed', async () => {
    const login = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'root-admin', password: 'setup password from env' } });
    assert.equal(login.status, 200);
    assert.equal(login.body.user.mustChangePassword, true);
    const token = login.body.token as string;
    const blocked = await call(api.url, 'GET', '/api/v1/users', { token });
    assert.equal(blocked.status, 403);
    assert.match(blocked.body.type ?? '', /password-change-required/);
    assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token })).body.mustChangePassword, true);
    await assert.rejects(open(api.url, token), /password change required/);
    const change = await call(api.url, 'POST', '/api/v1/auth/password', { token, json: { currentPassword: 'setup password from env', newPassword: 'the admin’s own password' } });
    assert.equal(change.status, 204);
    assert.equal((await call(api.url, 'GET', '/api/v1/users', { token })).status, 200, 'the same token works once changed');
    const socket = await open(api.url, token);
    socket.close();
    const again = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'root-admin', password: 'the admin’s own password' } });
    assert.equal(again.body.user.mustChangePassword, false);
    // A restart with the same environment neither resets the password nor asks again.
    const second = await stack.startApi();
    assert.equal((await call(second.url, 'POST', '/api/v1/auth/login', { json: { username: 'root-admin', password: 'setup password from env' } })).status, 401);
  });

  test('MASKWATCH_ADMIN_MUST_CHANGE_PASSWORD=false (password from a secret store) skips it', async () => {
    const other = await createTestStack('sqlite', { MASKWATCH_ADMIN_USER: 'vault-admin', MASKWATCH_ADMIN_PASSWORD: 'from the secret store', MASKWATCH_ADMIN_MUST_CHANGE_PASSWORD: 'false' });
    try {
      const a = await other.startApi();
      const login = await call(a.url, 'POST', '/api/v1/auth/login', { json: { username: 'vault-admin', password: 'from the secret store' } });
      assert.equal(login.body.user.mustChangePassword, false);
      assert.equal((await call(a.url, 'GET', '/api/v1/users', { token: login.body.token })).status, 200);
    } finally {
      await other.close();
    }
  });
});
