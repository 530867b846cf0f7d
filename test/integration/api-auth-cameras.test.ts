import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Redis } from 'ioredis';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { REDIS_URL } from '../helpers/env.ts';
import { startApiInstance, type ApiInstance } from '../../src/system/api-instance.ts';

function assertProblem(res: { status: number; headers: Headers; body: { status?: unknown; type?: unknown; title?: unknown; detail?: unknown } }, status: number) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.type, 'string');
  assert.equal(typeof res.body.title, 'string');
  assert.equal(typeof res.body.detail, 'string');
}

for (const provider of testProviders()) {
  describe(`auth + cameras API (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let admin: string;

    before(async () => {
      stack = await createTestStack(provider, {
        MASKWATCH_ADMIN_USER: 'chief',
        MASKWATCH_ADMIN_PASSWORD: 'first-admin-password',
      });
      api = await stack.startApi();
      const login = await call(api.url, 'POST', '/api/v1/auth/login', {
        json: { username: 'chief', password: 'first-admin-password' },
      });
      assert.equal(login.status, 200);
      admin = login.body.token;
      // The environment's password is a setup credential: the first admin replaces it before anything else.
      const change = await call(api.url, 'POST', '/api/v1/auth/password', {
        token: admin,
        json: { currentPassword: 'first-admin-password', newPassword: 'chief-own-password' },
      });
      assert.equal(change.status, 204);
    });
    after(() => stack.close());

    test('first admin from env: login returns token, expiry and user; /me works', async () => {
      const login = await call(api.url, 'POST', '/api/v1/auth/login', {
        json: { username: 'chief', password: 'chief-own-password' },
      });
      assert.equal(login.status, 200);
      assert.match(login.body.token, /^mwt_[A-Za-z0-9_-]{43}$/);
      assert.ok(new Date(login.body.expiresAt).getTime() > Date.now());
      assert.deepEqual({ ...login.body.user, id: undefined }, { id: undefined, username: 'chief', role: 'ADMIN', unitId: null, zones: [], mustChangePassword: false, mfaEnabled: false, mfaSetupRequired: false, securityKeySetupRequired: false });
      const me = await call(api.url, 'GET', '/api/v1/auth/me', { token: login.body.token });
      assert.equal(me.status, 200);
      assert.equal(me.body.username, 'chief');
      // The token is stored only as a hash.
      const sessions = await stack.db.prisma.session.findMany({ where: { userId: me.body.id } });
      assert.ok(sessions.length >= 1);
      assert.ok(sessions.every((s) => s.tokenHash !== login.body.token && /^[0-9a-f]{64}$/.test(s.tokenHash)));
    });

    test('ensureAdmin is idempotent: a second instance does not duplicate or reset the admin', async () => {
      const second = await stack.startApi();
      assert.equal(await stack.db.prisma.user.count({ where: { username: 'chief' } }), 1);
      const login = await call(second.url, 'POST', '/api/v1/auth/login', {
        json: { username: 'chief', password: 'chief-own-password' },
      });
      assert.equal(login.status, 200);
      await second.close();
    });

    test('bad password, unknown user → 401 problem; logout revokes the token', async () => {
      assertProblem(await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: 'nope-nope-nope' } }), 401);
      assertProblem(await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'ghost', password: 'whatever-whatever' } }), 401);
      const login = await call(api.url, 'POST', '/api/v1/auth/login', {
        json: { username: 'chief', password: 'chief-own-password' },
      });
      const token = login.body.token;
      assert.equal((await call(api.url, 'POST', '/api/v1/auth/logout', { token })).status, 204);
      assertProblem(await call(api.url, 'GET', '/api/v1/auth/me', { token }), 401);
      assertProblem(await call(api.url, 'GET', '/api/v1/auth/me'), 401);
    });

    test('schema validation, unknown route and oversized JSON are problem+json', async () => {
      const invalid = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief' } });
      assertProblem(invalid, 400);
      assert.ok(Array.isArray(invalid.body.errors));
      assertProblem(await call(api.url, 'GET', '/api/v1/nothing-here'), 404);
      const big = await call(api.url, 'POST', '/api/v1/auth/login', {
        json: { username: 'chief', password: 'x'.repeat(400 * 1024) },
      });
      assertProblem(big, 413);
    });

    test('camera lifecycle: create (admin only) → key works; rotate → old key 401; disable → 401', async () => {
      const dispatcher = await loginAs(api, { username: `disp-${provider}`, role: 'DISPATCHER' });
      const body = { name: 'Main St / 5th', latitude: 52.52, longitude: 13.405, zone: 'centre' };
      assertProblem(await call(api.url, 'POST', '/api/v1/cameras', { token: dispatcher.token, json: body }), 403);
      assertProblem(await call(api.url, 'POST', '/api/v1/cameras', { json: body }), 401);
      assertProblem(
        await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { ...body, latitude: 123 } }),
        400,
      );

      const created = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: body });
      assert.equal(created.status, 201);
      assert.match(created.body.apiKey, /^mwc_[A-Za-z0-9_-]{43}$/);
      assert.equal(created.body.name, body.name);
      assert.equal(created.body.enabled, true);
      assert.equal(created.body.apiKeyHint, created.body.apiKey.slice(-4));
      const id = created.body.id;
      const row = await stack.db.prisma.camera.findUniqueOrThrow({ where: { id } });
      assert.notEqual(row.apiKeyHash, created.body.apiKey);

      // Listing never shows the key again; dispatchers can read.
      const list = await call(api.url, 'GET', '/api/v1/cameras', { token: dispatcher.token });
      assert.equal(list.status, 200);
      assert.ok(list.body.items.some((c: { id: string }) => c.id === id));
      assert.ok(list.body.items.every((c: { apiKey?: string }) => c.apiKey === undefined));
      assert.equal((await call(api.url, 'GET', `/api/v1/cameras/${id}`, { token: dispatcher.token })).body.id, id);
      assertProblem(await call(api.url, 'GET', '/api/v1/cameras/does-not-exist', { token: admin }), 404);

      // A non-image body with a real key gets past auth (415 not 401): the key works. Probed on
      // this instance and on a second one, which must see rotations/disabling at once too.
      const other = await stack.startApi();
      const probe = (key: string, on = api) =>
        call(on.url, 'POST', '/api/v1/frames', { token: key, body: Buffer.from('hello'), headers: { 'content-type': 'image/jpeg' } });
      assert.equal((await probe(created.body.apiKey)).status, 415);
      assert.equal((await probe(created.body.apiKey, other)).status, 415);

      const rotated = await call(api.url, 'POST', `/api/v1/cameras/${id}/rotate-key`, { token: admin });
      assert.equal(rotated.status, 200);
      assert.notEqual(rotated.body.apiKey, created.body.apiKey);
      assertProblem(await probe(created.body.apiKey), 401);
      assertProblem(await probe(created.body.apiKey, other), 401);
      assert.equal((await probe(rotated.body.apiKey)).status, 415);
      assert.equal((await probe(rotated.body.apiKey, other)).status, 415);

      const patched = await call(api.url, 'PATCH', `/api/v1/cameras/${id}`, { token: admin, json: { enabled: false, zone: 'north' } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.enabled, false);
      assert.equal(patched.body.zone, 'north');
      assertProblem(await probe(rotated.body.apiKey), 401);
      assertProblem(await probe(rotated.body.apiKey, other), 401);
      assertProblem(await call(api.url, 'PATCH', `/api/v1/cameras/${id}`, { token: admin, json: {} }), 400);

      // Re-enabled (on the other instance): the key works again everywhere.
      assert.equal((await call(other.url, 'PATCH', `/api/v1/cameras/${id}`, { token: admin, json: { enabled: true } })).status, 200);
      assert.equal((await probe(rotated.body.apiKey)).status, 415);
      assert.equal((await probe(rotated.body.apiKey, other)).status, 415);
      await other.close();

      const audit = await stack.db.prisma.auditEvent.findMany({ where: { subjectType: 'Camera', subjectId: id }, orderBy: { at: 'asc' } });
      assert.deepEqual(
        audit.map((a) => a.action).sort(),
        ['camera.create', 'camera.disable', 'camera.enable', 'camera.rotate_key'],
      );
      assert.ok(audit.every((a) => a.actorType === 'USER' && a.actorRole === 'ADMIN'));
    });

    test('wrong or absent camera key → 401', async () => {
      const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
      const headers = { 'content-type': 'image/jpeg' };
      assertProblem(await call(api.url, 'POST', '/api/v1/frames', { body: jpeg, headers }), 401);
      assertProblem(await call(api.url, 'POST', '/api/v1/frames', { token: 'mwc_' + 'A'.repeat(43), body: jpeg, headers }), 401);
      // A user's login token is not a camera key.
      assertProblem(await call(api.url, 'POST', '/api/v1/frames', { token: admin, body: jpeg, headers }), 401);
    });

    test('OpenAPI document at /docs lists the routes', async () => {
      const res = await call(api.url, 'GET', '/docs/json');
      assert.equal(res.status, 200);
      for (const p of ['/api/v1/frames', '/api/v1/cameras', '/api/v1/auth/login', '/api/v1/alerts', '/api/v1/violations', '/api/v1/audit', '/api/v1/alerts/{id}/evidence-access', '/api/v1/auth/mfa/setup', '/api/v1/auth/mfa/enable', '/api/v1/auth/mfa/recovery-codes', '/api/v1/auth/mfa/disable', '/api/v1/auth/mfa/keys', '/api/v1/auth/mfa/keys/options', '/api/v1/auth/mfa/keys/{id}', '/api/v1/users/{id}/mfa', '/api/v1/auth/sessions', '/api/v1/auth/sessions/{id}', '/api/v1/audit/integrity', '/api/v1/auth/sso', '/api/v1/auth/sso/start', '/api/v1/auth/sso/callback', '/api/v1/auth/sso/exchange', '/api/v1/auth/sso/logout', '/api/v1/users/{id}/sso', '/api/v1/users/{id}/sessions/{sessionId}', '/api/v1/zones', '/api/v1/zones/rename', '/scim/v2/Users', '/scim/v2/Users/{id}', '/scim/v2/ServiceProviderConfig', '/api/v1/auth/sign-in-notice', '/api/v1/evidence-holds', '/api/v1/alerts/{id}/hold', '/api/v1/alerts/{id}/evidence-package', '/api/v1/evidence-packages', '/api/v1/alerts/{id}/notes', '/api/v1/evidence-signing-key', '/api/v1/system/checks']) {
        assert.ok(res.body.paths[p], `missing ${p}`);
      }
      const alertItem = res.body.paths['/api/v1/alerts'].get.responses['200'].content['application/json'].schema.properties.items.items;
      assert.equal(alertItem.properties.noMaskProbability.type, 'number');
      assert.equal(alertItem.properties.maskProbability.deprecated, true, 'the old name is documented as deprecated');
      const violationItem = res.body.paths['/api/v1/violations'].get.responses['200'].content['application/json'].schema.properties.items.items;
      assert.deepEqual(violationItem.properties.label.enum, ['no_mask', 'mask_incorrect', null]);
      // Errors and non-JSON bodies are documented with the media type they are sent with.
      const responses = (p: string, method = 'get') => res.body.paths[p][method].responses;
      assert.deepEqual(Object.keys(responses('/api/v1/alerts')['4XX'].content), ['application/problem+json']);
      assert.deepEqual(Object.keys(responses('/api/v1/alerts/{id}/frames/{frameId}')['200'].content), ['image/jpeg']);
      assert.deepEqual(Object.keys(responses('/metrics')['200'].content), ['text/plain']);
      assert.deepEqual(Object.keys(responses('/api/v1/violations.csv')['200'].content), ['text/csv']);
      // SCIM answers and errors in its own media type, behind the directory's token.
      assert.deepEqual(Object.keys(responses('/scim/v2/Users', 'post')['201'].content), ['application/scim+json']);
      assert.deepEqual(Object.keys(responses('/scim/v2/Users/{id}', 'patch')['4XX'].content), ['application/scim+json']);
      assert.deepEqual(res.body.paths['/scim/v2/Users'].get.security, [{ scimToken: [] }]);
      const ui = await fetch(api.url + '/docs/');
      assert.equal(ui.status, 200);
      assert.match(await ui.text(), /swagger/i);
    });

    test("an id over the router's own bound is a 400 problem naming the field; a URL past every bound a 414 problem", async () => {
      const token = admin;
      const long = await fetch(`${api.url}/api/v1/alerts/${'a'.repeat(129)}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(long.status, 400);
      assert.match(long.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.match((await long.json()).detail, /params\/id/);
      const huge = await fetch(`${api.url}/api/v1/alerts/${'a'.repeat(3000)}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(huge.status, 414);
      assert.match(huge.headers.get('content-type') ?? '', /^application\/problem\+json/);
    });

    test('request bodies: an empty JSON body is no body; a wrong type or an unknown field is named', async () => {
      const session = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: 'chief-own-password' } });
      assert.equal(session.status, 200);
      const post = (url: string, init: { token?: string; type: string; body: string }) =>
        fetch(api.url + url, {
          method: 'POST',
          headers: { 'content-type': init.type, ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
          body: init.body,
        });
      // As many HTTP clients send it: Content-Type set, no body.
      const logout = await post('/api/v1/auth/logout', { token: session.body.token, type: 'application/json', body: '' });
      assert.equal(logout.status, 204, await logout.text());
      const needsBody = await post('/api/v1/cameras', { token: admin, type: 'application/json', body: '' });
      assert.equal(needsBody.status, 400);
      assert.match((await needsBody.json()).detail, /body must be object/);
      const asText = await post('/api/v1/auth/login', { type: 'text/plain', body: 'chief' });
      assert.equal(asText.status, 415);
      assert.match(asText.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.match((await asText.json()).detail, /Content-Type must be application\/json/);
      const typo = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'Gate', latitude: 40.4, longitude: -3.7, zoen: 'Centro' } });
      assert.equal(typo.status, 400);
      assert.match(typo.body.detail, /unknown property "zoen"/);
      assert.equal(typo.body.errors[0].path, 'body');
    });

    test('/healthz, /readyz and /metrics', async () => {
      assert.equal((await call(api.url, 'GET', '/healthz')).status, 200);
      const ready = await call(api.url, 'GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body.checks, { database: 'ok', redis: 'ok' });
      const metrics = await fetch(api.url + '/metrics');
      const text = await metrics.text();
      assert.match(text, /maskwatch_frames_received_total \d+/);
      assert.match(text, /maskwatch_frames_rejected_total\{reason="unauthorized"\} \d+/);
      assert.match(text, /maskwatch_queue_jobs\{state="waiting"\} \d+/);
      // No worker runs beside this API: the gauge an operator alerts on says so.
      assert.match(text, /^maskwatch_queue_workers 0$/m);
      // Redis's settings as this Redis has them: the append-only file on this test's Redis may be either way.
      const info = new Redis(REDIS_URL);
      const aof = /aof_enabled:(\d)/.exec(await info.info('persistence'))![1];
      const policy = /maxmemory_policy:(\S+)/.exec(await info.info('memory'))![1];
      info.disconnect();
      assert.match(text, new RegExp(`^maskwatch_redis_requirement_met\\{requirement="persistence"\\} ${aof}$`, 'm'));
      assert.match(text, new RegExp(`^maskwatch_redis_requirement_met\\{requirement="eviction"\\} ${policy === 'noeviction' ? 1 : 0}$`, 'm'));
      assert.match(text, /^maskwatch_redis_requirement_met\{requirement="version"\} 1$/m);
    });
  });
}

describe('readiness in the logs', () => {
  let stack: TestStack;
  let api: ApiInstance;
  const lines: Array<Record<string, unknown>> = [];
  let workersReady = false;

  before(async () => {
    stack = await createTestStack('sqlite');
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const readinessChecks = [
      {
        name: 'workers',
        check: () => {
          if (!workersReady) throw new Error('loading models');
        },
      },
    ];
    api = await startApiInstance({ config: stack.config, db: stack.db, logger: pino({ level: 'info' }, sink), readinessChecks });
  });
  after(async () => {
    await api?.close();
    await stack?.close();
  });

  test('not ready while starting is answered quietly; not ready after being ready is one warning naming the failed check, not a failed request', async () => {
    const starting = await call(api.url, 'GET', '/readyz');
    assert.equal(starting.status, 503);
    assert.deepEqual(starting.body.checks, { database: 'ok', redis: 'ok', workers: 'failed: loading models' });
    const readyzLines = () => lines.filter((l) => l.url === '/readyz' || l.msg === 'not ready');
    assert.deepEqual(readyzLines(), [], 'a readiness probe polling while the workers load models adds no warning');
    workersReady = true;
    assert.equal((await call(api.url, 'GET', '/readyz')).status, 200);
    assert.deepEqual(readyzLines(), [], 'a ready answer is not logged (the route logs at warn and above)');
    workersReady = false;
    const lost = await call(api.url, 'GET', '/readyz');
    assert.equal(lost.status, 503);
    assert.deepEqual(lost.body.checks, { database: 'ok', redis: 'ok', workers: 'failed: loading models' });
    assert.deepEqual(
      readyzLines().map((l) => [l.level, l.msg, l.checks]),
      [[40, 'not ready', { workers: 'failed: loading models' }]],
      'one warning with the failing check only; no error line',
    );
    workersReady = true;
  });
});
