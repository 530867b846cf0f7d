/**
 * Login hardening (issue 13, item 3) over real HTTP on real Redis:
 * - parallel guesses cannot bypass the limit (the count is charged atomically
 *   before the password check);
 * - the limit is per (account, client IP), so it cannot lock others out;
 * - delays grow with each failure and a success resets them;
 * - logins are audited with the client address, taken from X-Forwarded-For
 *   only when the peer is a configured proxy (docker-compose sets it for nginx).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Redis } from 'ioredis';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { REDIS_URL, uniquePrefix, deleteRedisPrefix } from '../helpers/env.ts';
import { createLoginThrottle, loginDelayMs } from '../../src/auth/login-throttle.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const PASSWORD = 'correct horse battery staple';

describe('login throttling per (account, client IP) over HTTP', () => {
  let stack: TestStack;
  let api: ApiInstance;

  before(async () => {
    stack = await createTestStack('sqlite', {
      // The test client is the "proxy": its X-Forwarded-For picks the client address.
      MASKWATCH_TRUST_PROXY: '127.0.0.1',
      MASKWATCH_RATE_LOGIN_PER_IP: '1000',
      MASKWATCH_LOGIN_MAX_FAILURES: '5',
      MASKWATCH_LOGIN_DELAY_MS: '60000',
    });
    api = await stack.startApi();
  });
  after(() => stack?.close());

  const login = (username: string, password: string, ip: string) =>
    call(api.url, 'POST', '/api/v1/auth/login', { json: { username, password }, headers: { 'x-forwarded-for': ip } });

  test('29 wrong passwords and the right one at once: at most 5 passwords are checked, the rest get 429', async () => {
    await api.app.auth.createUser({ username: 'racer', password: PASSWORD, role: 'DISPATCHER' }, { type: 'SYSTEM' });
    const attempts = [...Array.from({ length: 29 }, (_, i) => `wrong-password-${i}`), PASSWORD];
    const results = await Promise.all(attempts.map((p) => login('racer', p, '203.0.113.7')));
    const checked = results.filter((r) => r.status === 401 || r.status === 200).length;
    const throttled = results.filter((r) => r.status === 429);
    assert.ok(checked <= 5, `${checked} passwords were checked (statuses ${results.map((r) => r.status).join(',')})`);
    assert.equal(checked + throttled.length, 30, 'every answer is 200, 401 or 429');
    for (const r of throttled) {
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After');
    }
    const won = results[29]!.status === 200;
    if (!won) {
      // The right password arriving after the charge is refused unchecked, from this address.
      assert.equal((await login('racer', PASSWORD, '203.0.113.7')).status, 429);
    }
  });

  test('a guesser cannot lock the account: the owner logs in from another address', async () => {
    await api.app.auth.createUser({ username: 'victim', password: PASSWORD, role: 'DISPATCHER' }, { type: 'SYSTEM' });
    for (let i = 0; i < 5; i++) assert.equal((await login('victim', `nope-nope-nope-${i}`, '198.51.100.9')).status, 401);
    const blocked = await login('victim', PASSWORD, '198.51.100.9');
    assert.equal(blocked.status, 429, 'the guesser is slowed down');
    const owner = await login('victim', PASSWORD, '192.0.2.44');
    assert.equal(owner.status, 200, JSON.stringify(owner.body));
    // No account-wide lock is written either.
    const row = await stack.db.prisma.user.findUniqueOrThrow({ where: { username: 'victim' } });
    assert.equal(row.lockedUntil, null);
  });

  test('unknown usernames are throttled exactly like real ones (no account enumeration)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login('no-such-user', `nope-nope-nope-${i}`, '198.51.100.10')).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  });

  test('logins are audited with the client address (success and failure)', async () => {
    const { userId } = await loginAs(api, { username: 'audited', role: 'DISPATCHER' });
    assert.equal((await login('audited', PASSWORD, '192.0.2.80')).status, 200);
    assert.equal((await login('audited', 'wrong-wrong-wrong', '192.0.2.81')).status, 401);
    const ok = await stack.db.prisma.auditEvent.findFirst({ where: { action: 'auth.login', subjectId: userId }, orderBy: { at: 'desc' } });
    assert.ok(ok, 'successful login audited');
    assert.equal(JSON.parse(ok.details!).clientIp, '192.0.2.80');
    assert.equal(ok.actorId, userId);
    const failed = await stack.db.prisma.auditEvent.findMany({ where: { action: 'auth.login_failed' } });
    const mine = failed.map((e) => JSON.parse(e.details!)).find((d) => d.username === 'audited');
    assert.deepEqual(mine, { username: 'audited', clientIp: '192.0.2.81' });
  });
});

describe('login throttle delays (real Redis, injected clock)', () => {
  const prefix = uniquePrefix('login');
  const redis = new Redis(REDIS_URL);
  after(async () => {
    redis.disconnect();
    await deleteRedisPrefix(REDIS_URL, prefix);
  });

  test('free attempts, then delays that double up to the cap; a success resets', async () => {
    let now = 1_000_000;
    const opts = { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 5000 };
    const throttle = createLoginThrottle({ redis, prefix, ...opts, now: () => now });
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => loginDelayMs(n, opts)), [0, 0, 1000, 2000, 4000]);
    assert.equal(loginDelayMs(9, opts), 5000);
    for (let i = 0; i < 3; i++) assert.equal((await throttle.begin('Alice', '10.0.0.1')).allowed, true);
    const waiting = await throttle.begin('alice', '10.0.0.1'); // names compare case-insensitively
    assert.deepEqual(waiting, { allowed: false, retryAfterMs: 1000 });
    now += 1000;
    assert.equal((await throttle.begin('alice', '10.0.0.1')).allowed, true);
    assert.deepEqual(await throttle.begin('alice', '10.0.0.1'), { allowed: false, retryAfterMs: 2000 });
    now += 2000;
    assert.equal((await throttle.begin('alice', '10.0.0.1')).allowed, true);
    now += 4000;
    const ok = await throttle.begin('alice', '10.0.0.1');
    assert.equal(ok.allowed, true);
    assert.deepEqual(await throttle.begin('alice', '10.0.0.1'), { allowed: false, retryAfterMs: 5000 }, 'capped');
    assert.equal((await throttle.begin('alice', '10.0.0.2')).allowed, true, 'another address is not slowed');
    if (ok.allowed) await throttle.succeeded(ok.ticket);
    for (let i = 0; i < 3; i++) assert.equal((await throttle.begin('alice', '10.0.0.1')).allowed, true, 'reset by the success');
  });
});

describe('deployment: the API trusts nginx for client addresses', () => {
  test('docker-compose gives nginx a fixed address and the APIs trust exactly it; nginx sets X-Forwarded-For', () => {
    const root = path.resolve(import.meta.dirname, '..', '..');
    const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { networks: { default: { ipv4_address: string } }; environment: Record<string, string> }>;
    };
    const proxyIp = compose.services.proxy!.networks.default.ipv4_address;
    assert.match(proxyIp, /^\d+\.\d+\.\d+\.\d+$/);
    for (const api of ['api1', 'api2']) assert.equal(compose.services[api]!.environment.MASKWATCH_TRUST_PROXY, proxyIp);
    const nginx = readFileSync(path.join(root, 'deploy', 'nginx.conf'), 'utf8');
    assert.match(nginx, /proxy_set_header X-Forwarded-For \$remote_addr;/, 'the edge proxy overwrites what clients send');
  });
});
