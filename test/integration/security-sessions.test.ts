/**
 * Secrets and sessions (issue 6, item 3) against the real app: password
 * policy, token expiry and revocation, hashed camera keys,
 * security headers, CORS closed by default, and rate limits with 429 +
 * Retry-After (per IP, per camera, on login).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { createAuthService } from '../../src/auth/service.ts';
import { createUserRepository } from '../../src/db/repositories/users.ts';
import { createSessionRepository } from '../../src/db/repositories/sessions.ts';
import { createAuditRepository } from '../../src/db/repositories/audit.ts';
import { corsHeaders, limitClass, badQueryEncoding } from '../../src/api/security.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { envFlag, loadConfig } from '../../src/config/config.ts';
import { REPO_ROOT } from '../../src/paths.ts';

const JPEG = await readFile(path.resolve(process.cwd(), '..', 'shared', 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));
const PASSWORD = 'correct horse battery staple';

function assertProblem(res: { status: number; headers: Headers; body: { status?: unknown; type?: unknown; title?: unknown; detail?: unknown } }, status: number) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.status, status);
}

describe('pure helpers of src/api/security.ts', () => {
  test('limit classes, CORS decisions, query encoding', () => {
    assert.equal(limitClass('POST', '/api/v1/frames'), 'ingest');
    assert.equal(limitClass('POST', '/api/v1/auth/login'), 'login');
    assert.equal(limitClass('GET', '/api/v1/frames'), 'api');
    assert.equal(limitClass('GET', undefined), 'api');
    assert.equal(limitClass('GET', '/healthz'), 'probe');
    assert.equal(limitClass('GET', '/readyz'), 'probe');
    assert.equal(limitClass('GET', '/metrics'), 'api');
    assert.equal(corsHeaders('https://evil.example', [], false), null);
    assert.equal(corsHeaders(undefined, ['https://ok.example'], false), null);
    assert.equal(corsHeaders('https://ok.example.evil', ['https://ok.example'], false), null);
    assert.deepEqual(corsHeaders('https://ok.example', ['https://ok.example'], false), { 'access-control-allow-origin': 'https://ok.example', vary: 'Origin' });
    assert.ok(corsHeaders('https://ok.example', ['https://ok.example'], true)!['access-control-allow-methods']);
    assert.equal(badQueryEncoding('/a?x=%C3%A9'), false);
    assert.equal(badQueryEncoding('/a?x=%C3%28'), true);
    assert.equal(badQueryEncoding('/a?x=100%'), true);
    assert.equal(badQueryEncoding('/a'), false);
  });

  test('security configuration: safe defaults, bad values named', () => {
    const c = loadConfig({});
    assert.deepEqual(c.security.corsOrigins, []);
    assert.deepEqual(c.security.trustProxy, []);
    assert.equal(c.security.loginMaxFailures, 5);
    assert.equal(c.security.loginLockSeconds, 900);
    assert.equal(c.security.loginBaseDelayMs, 2000);
    assert.equal(c.privacy.retentionDays, 30);
    assert.deepEqual(loadConfig({ MASKWATCH_CORS_ORIGINS: 'https://a.example, http://b.example:8080' }).security.corsOrigins, ['https://a.example', 'http://b.example:8080']);
    assert.throws(() => loadConfig({ MASKWATCH_CORS_ORIGINS: '*' }), /MASKWATCH_CORS_ORIGINS/);
    assert.throws(() => loadConfig({ MASKWATCH_CORS_ORIGINS: 'https://a.example/path' }), /MASKWATCH_CORS_ORIGINS/);
    assert.throws(() => loadConfig({ MASKWATCH_TRUST_PROXY: 'true' }), /MASKWATCH_TRUST_PROXY/);
    assert.throws(() => loadConfig({ MASKWATCH_RETENTION_DAYS: '0' }), /MASKWATCH_RETENTION_DAYS/);
    assert.throws(() => loadConfig({ MASKWATCH_RATE_PER_CAMERA: '-1' }), /MASKWATCH_RATE_PER_CAMERA/);
    // A first-admin password without a name would be ignored without a word.
    assert.throws(() => loadConfig({ MASKWATCH_ADMIN_PASSWORD: 'a long enough password' }), /MASKWATCH_ADMIN_USER: is required/);
  });

  test('default folders are the project\'s, whatever the working directory; paths given are taken from it', () => {
    const elsewhere = path.join(path.sep, 'tmp', 'somewhere-else');
    assert.equal(loadConfig({}, elsewhere).dataDir, path.join(REPO_ROOT, 'data'));
    assert.equal(loadConfig({}, elsewhere).databaseUrl, `file:${path.join(REPO_ROOT, 'data', 'maskwatch.db')}`);
    assert.equal(loadConfig({}, elsewhere).assetsDir, path.resolve(REPO_ROOT, '..', 'shared'));
    assert.equal(loadConfig({ MASKWATCH_DATA_DIR: 'mine' }, elsewhere).dataDir, path.join(elsewhere, 'mine'));
  });

  test('on/off variables read before the config (MASKWATCH_EXIT_WITH_PARENT) take the same spellings and name a bad value', () => {
    assert.equal(envFlag({}, 'MASKWATCH_EXIT_WITH_PARENT'), false);
    assert.equal(envFlag({ MASKWATCH_EXIT_WITH_PARENT: 'true' }, 'MASKWATCH_EXIT_WITH_PARENT'), true);
    assert.equal(envFlag({ MASKWATCH_EXIT_WITH_PARENT: '1' }, 'MASKWATCH_EXIT_WITH_PARENT'), true);
    assert.equal(envFlag({ MASKWATCH_EXIT_WITH_PARENT: '0' }, 'MASKWATCH_EXIT_WITH_PARENT'), false);
    assert.throws(() => envFlag({ MASKWATCH_EXIT_WITH_PARENT: 'maybe' }, 'MASKWATCH_EXIT_WITH_PARENT'), /MASKWATCH_EXIT_WITH_PARENT: must be true or false/);
  });
});

describe('secrets, sessions, headers, CORS (sqlite, real Redis)', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let admin: string;

  before(async () => {
    stack = await createTestStack('sqlite');
    api = await stack.startApi();
    admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
  });
  after(() => stack?.close());

  test('passwords: at least 12 characters, stored as scrypt hashes', async () => {
    const short = await call(api.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'shorty', password: 'elevenchars', role: 'DISPATCHER' } });
    assertProblem(short, 400);
    await assert.rejects(api.app.auth.createUser({ username: 'shorty2', password: 'x'.repeat(11), role: 'ADMIN' }, { type: 'SYSTEM' }), /at least 12/);
    const ok = await call(api.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'longer', password: 'twelve-chars', role: 'DISPATCHER' } });
    assert.equal(ok.status, 201);
    const row = await stack.db.prisma.user.findUniqueOrThrow({ where: { username: 'longer' } });
    assert.match(row.passwordHash, /^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/);
    assert.doesNotMatch(row.passwordHash, /twelve-chars/);
  });

  test('tokens expire: valid before the TTL, refused after it (auth service on the real database, injected clock)', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const prisma = stack.db.prisma;
    const auth = createAuthService({
      users: createUserRepository(prisma),
      sessions: createSessionRepository(prisma),
      audit: createAuditRepository(prisma),
      tokenTtlSeconds: 3600,
      logger: stack.logger,
      now: () => now,
    });
    await auth.createUser({ username: 'clocked', password: PASSWORD, role: 'DISPATCHER' }, { type: 'SYSTEM' });
    assert.deepEqual(await auth.login('clocked', 'nope-nope-nope'), { ok: false, reason: 'failed' });
    const session = await auth.login('clocked', PASSWORD);
    assert.ok(session.ok);
    assert.ok(await auth.authenticate(session.token));
    now = new Date(now.getTime() + 3601_000);
    assert.equal(await auth.authenticate(session.token), null);
  });

  test('the environment creates the first admin only: once an admin exists, a deleted or new MASKWATCH_ADMIN_USER is not (re)created', async () => {
    const prisma = stack.db.prisma;
    const auth = createAuthService({ users: createUserRepository(prisma), sessions: createSessionRepository(prisma), audit: createAuditRepository(prisma), tokenTtlSeconds: 3600, logger: stack.logger });
    await auth.createUser({ username: 'keeper', password: PASSWORD, role: 'ADMIN' }, { type: 'SYSTEM' });
    // e.g. the compose file still carries the setup admin that was deleted since.
    assert.equal(await auth.ensureAdmin({ username: 'setup-admin', password: PASSWORD }), 'exists');
    assert.equal(await prisma.user.count({ where: { username: 'setup-admin' } }), 0);
  });

  test('tokens: an expired session is refused by the API; logout revokes the token at once', async () => {
    const { token } = await loginAs(api, { username: 'expiring', role: 'DISPATCHER' });
    assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token })).status, 200);
    const hash = createHash('sha256').update(token).digest('hex');
    await stack.db.prisma.session.update({ where: { tokenHash: hash }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assertProblem(await call(api.url, 'GET', '/api/v1/auth/me', { token }), 401);

    const login = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'expiring', password: PASSWORD } });
    const fresh = login.body.token as string;
    assert.equal((await call(api.url, 'POST', '/api/v1/auth/logout', { token: fresh })).status, 204);
    assertProblem(await call(api.url, 'GET', '/api/v1/auth/me', { token: fresh }), 401);
    // Only hashes are stored.
    assert.equal(await stack.db.prisma.session.count({ where: { tokenHash: fresh } }), 0);
  });

  test('camera keys: shown once, stored as sha256 only', async () => {
    const cam = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'hashed', latitude: 1, longitude: 1 } });
    const key = cam.body.apiKey as string;
    const row = await stack.db.prisma.camera.findUniqueOrThrow({ where: { id: cam.body.id } });
    assert.equal(row.apiKeyHash, createHash('sha256').update(key).digest('hex'));
    assert.ok(!JSON.stringify(row).includes(key));
    const again = await call(api.url, 'GET', `/api/v1/cameras/${cam.body.id}`, { token: admin });
    assert.equal(again.body.apiKey, undefined);
  });

  test('security headers on API, dashboard and errors; no X-Powered-By', async () => {
    for (const [p, token] of [['/api/v1/auth/me', admin], ['/', undefined], ['/api/v1/nope', undefined]] as const) {
      const res = await fetch(api.url + p, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, `${p}: CSP`);
      assert.match(csp, /script-src 'self'(;|$)/, `${p}: no inline scripts`);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /object-src 'none'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(res.headers.get('x-powered-by'), null);
      await res.arrayBuffer();
    }
  });

  test('CORS is closed by default: no Access-Control-Allow-Origin for any origin, preflight included', async () => {
    const simple = await fetch(`${api.url}/api/v1/auth/me`, { headers: { origin: 'https://evil.example', authorization: `Bearer ${admin}` } });
    assert.equal(simple.headers.get('access-control-allow-origin'), null);
    await simple.arrayBuffer();
    const preflight = await fetch(`${api.url}/api/v1/cameras`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    assert.ok(preflight.status >= 400, `preflight answered ${preflight.status}`);
    await preflight.arrayBuffer();
    const socketPoll = await fetch(`${api.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://evil.example' } });
    assert.equal(socketPoll.headers.get('access-control-allow-origin'), null);
    await socketPoll.arrayBuffer();
  });
});

describe('CORS allow-list and rate limits (low limits for the test)', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let admin: string;

  before(async () => {
    stack = await createTestStack('sqlite', {
      MASKWATCH_CORS_ORIGINS: 'https://dispatch.example.org',
      MASKWATCH_RATE_WINDOW_MS: '60000',
      MASKWATCH_RATE_PER_IP: '40',
      MASKWATCH_RATE_LOGIN_PER_IP: '4',
      MASKWATCH_RATE_PER_CAMERA: '3',
      MASKWATCH_RATE_INGEST_PER_IP: '1000',
    });
    api = await stack.startApi();
    admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token; // login 1 of 4
  });
  after(() => stack?.close());

  test('a configured origin gets CORS headers (and a preflight), others still none', async () => {
    const ok = await fetch(`${api.url}/api/v1/auth/me`, { headers: { origin: 'https://dispatch.example.org', authorization: `Bearer ${admin}` } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://dispatch.example.org');
    assert.match(ok.headers.get('vary') ?? '', /Origin/);
    await ok.arrayBuffer();
    const pre = await fetch(`${api.url}/api/v1/cameras`, {
      method: 'OPTIONS',
      headers: { origin: 'https://dispatch.example.org', 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://dispatch.example.org');
    const other = await fetch(`${api.url}/api/v1/auth/me`, { headers: { origin: 'https://evil.example', authorization: `Bearer ${admin}` } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    await other.arrayBuffer();
  });

  test('per camera: the 4th frame in the window → 429 + Retry-After; another camera is unaffected', async () => {
    const mk = async (name: string) => (await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name, latitude: 1, longitude: 1 } })).body.apiKey as string;
    const a = await mk('busy');
    const b = await mk('quiet');
    const post = (key: string) => call(api.url, 'POST', '/api/v1/frames', { body: JPEG, headers: { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' } });
    for (let i = 0; i < 3; i++) assert.equal((await post(a)).status, 202);
    const limited = await post(a);
    assertProblem(limited, 429);
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.equal((await post(b)).status, 202);
  });

  test('login per IP: the 5th attempt in the window → 429 before any password is checked', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'nobody', password: 'whatever-whatever' } })).status, 401);
    }
    const limited = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } });
    assertProblem(limited, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  });

  test('per IP on the rest of the API: 429 + Retry-After once the budget is spent; health probes still answer', async () => {
    let status = 0;
    let res: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 45 && status !== 429; i++) {
      res = await call(api.url, 'GET', '/api/v1/auth/me', { token: admin });
      status = res.status;
    }
    assert.ok(res);
    assertProblem(res, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    // A load balancer's probe from the same address is not refused.
    assert.equal((await call(api.url, 'GET', '/healthz')).status, 200);
    assert.equal((await call(api.url, 'GET', '/readyz')).status, 200);
  });
});
