/**
 * SCIM provisioning over real HTTP, on SQLite and PostgreSQL, as Entra ID's provisioning service drives it:
 * match by userName, create a joiner, disable a leaver (whose open session ends at once), delete them. The
 * token is checked before any body is read; what the directory may do is bounded by MASKWATCH_SCIM_ROLES.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { runCli } from '../helpers/cli.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const TOKEN = 'mwscim_a-test-token-of-the-directory-0123456789';
const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A request as a SCIM client sends it: its own media type, and the bearer token. */
function scim(api: ApiInstance, method: string, path: string, body?: unknown, token = TOKEN) {
  const headers: Record<string, string> = { accept: 'application/scim+json' };
  if (body !== undefined) headers['content-type'] = 'application/scim+json';
  return call(api.url, method, `/scim/v2${path}`, { token, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

const replace = (path: string, value: unknown) => ({ schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path, value }] });

for (const provider of testProviders()) {
  describe(`SCIM provisioning (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let chief: { token: string; userId: string };

    const auditOf = async (action: string, subjectId: string) =>
      (await stack.db.prisma.auditEvent.findMany({ where: { action, subjectId }, orderBy: { at: 'asc' } })).map((e) => ({ ...e, details: JSON.parse(e.details ?? '{}') as Record<string, unknown> }));

    before(async () => {
      stack = await createTestStack(provider, { MASKWATCH_SCIM_TOKEN_SHA256: createHash('sha256').update(TOKEN).digest('hex') });
      api = await stack.startApi();
      chief = await loginAs(api, { username: 'chief', role: 'ADMIN' });
    });
    after(async () => {
      await stack?.close();
    });

    test('the token comes first: none, a wrong one, or SCIM off are refused in SCIM\'s own error form, before a body is read', async () => {
      for (const token of [undefined, 'mwscim_wrong', chief.token]) {
        const res = await call(api.url, 'GET', '/scim/v2/Users', token ? { token } : {});
        assert.equal(res.status, 401, String(token));
        assert.equal(res.headers.get('content-type'), 'application/scim+json; charset=utf-8');
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
        assert.deepEqual(res.body, { schemas: [SCIM_ERROR], status: '401', detail: 'a valid SCIM bearer token is required' });
      }
      // 2 MB with the wrong token: refused as unauthorised, not as too large.
      const big = await call(api.url, 'POST', '/scim/v2/Users', { token: 'mwscim_wrong', headers: { 'content-type': 'application/scim+json' }, body: 'x'.repeat(2_000_000) });
      assert.equal(big.status, 401);
      const off = await stack.startApi({ config: { security: { ...stack.config.security, scim: null } } });
      const res = await scim(off, 'GET', '/Users');
      assert.equal(res.status, 404);
      assert.match(res.body.detail, /SCIM provisioning is off.*MASKWATCH_SCIM_TOKEN_SHA256/);
      assert.equal((await scim(api, 'GET', '/ServiceProviderConfig')).body.patch.supported, true);
      // A resource MaskWatch does not have: SCIM's 404, and only for the directory.
      const groups = await scim(api, 'GET', '/Groups');
      assert.equal(groups.status, 404);
      assert.equal(groups.headers.get('content-type'), 'application/scim+json; charset=utf-8');
      assert.match(groups.body.detail, /no GET \/scim\/v2\/Groups: it provisions \/Users only/);
      assert.equal((await scim(api, 'GET', '/Groups', undefined, 'mwscim_wrong')).status, 401);
    });

    test('a joiner: matched by userName first (none), created with the directory\'s role, found again in any case; a second create is a conflict', async () => {
      const userName = 'Ana.Garcia@police.example';
      const match = await scim(api, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName.toLowerCase()}"`)}`);
      assert.equal(match.status, 200);
      assert.deepEqual(match.body, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

      // Entra ID's create, with the attributes it maps by default.
      const created = await scim(api, 'POST', '/Users', {
        schemas: [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
        externalId: 'ana.garcia',
        userName,
        active: true,
        displayName: 'Ana García',
        emails: [{ primary: true, type: 'work', value: userName }],
        name: { formatted: 'Ana García', familyName: 'García', givenName: 'Ana' },
        roles: [{ primary: 'True', type: 'WindowsAzureActiveDirectoryRole', value: 'Dispatcher' }],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.headers.get('content-type'), 'application/scim+json; charset=utf-8');
      const id = created.body.id as string;
      assert.equal(created.headers.get('location'), `/scim/v2/Users/${id}`);
      assert.deepEqual({ ...created.body, meta: { ...created.body.meta, created: 'x' } }, {
        schemas: [USER_SCHEMA],
        id,
        userName,
        active: true,
        roles: [{ value: 'DISPATCHER', primary: true }],
        meta: { resourceType: 'User', created: 'x', location: `${api.url}/scim/v2/Users/${id}` },
      });
      const row = await stack.db.prisma.user.findUniqueOrThrow({ where: { id } });
      assert.equal(row.role, 'DISPATCHER');
      assert.equal(row.disabled, false);
      const [audit] = await auditOf('user.create', id);
      assert.equal(audit?.actorType, 'SYSTEM');
      assert.deepEqual(audit?.details, { username: userName, role: 'DISPATCHER', unitId: null, source: 'provisioning' });
      // Nobody knows its password: the person signs in through the directory.
      assert.equal((await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: userName, password: 'correct horse battery staple' } })).status, 401);

      const found = await scim(api, 'GET', `/Users?filter=${encodeURIComponent('userName eq "ANA.GARCIA@police.example"')}`);
      assert.equal(found.body.totalResults, 1);
      assert.equal(found.body.Resources[0].id, id);
      assert.equal((await scim(api, 'GET', `/Users/${id}`)).body.userName, userName);

      const again = await scim(api, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: userName.toUpperCase(), roles: [{ value: 'DISPATCHER' }] });
      assert.equal(again.status, 409);
      assert.equal(again.body.scimType, 'uniqueness');
    });

    test('the same joiner sent twice at once (a directory\'s retry): one account, and the other request is told it exists', async () => {
      const body = { schemas: [USER_SCHEMA], userName: 'twice@police.example', roles: [{ value: 'DISPATCHER' }] };
      const answers = await Promise.all(Array.from({ length: 4 }, () => scim(api, 'POST', '/Users', body)));
      assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409, 409], JSON.stringify(answers.map((a) => a.body)));
      assert.ok(answers.every((a) => a.status === 201 || a.body.scimType === 'uniqueness'));
      assert.equal(await stack.db.prisma.user.count({ where: { username: 'twice@police.example' } }), 1);
    });

    test('a leaver: active "False" disables the account and ends its open session at once; active true enables it again', async () => {
      const disp = await loginAs(api, { username: 'disp', role: 'DISPATCHER' });
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: disp.token })).status, 200);
      const disabled = await scim(api, 'PATCH', `/Users/${disp.userId}`, replace('active', 'False'));
      assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
      assert.equal(disabled.body.active, false);
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: disp.token })).status, 401);
      assert.equal((await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'disp', password: 'correct horse battery staple' } })).status, 401);
      const [audit] = await auditOf('user.update', disp.userId);
      assert.deepEqual(audit?.details, { username: 'disp', changes: { enabled: { from: true, to: false } }, sessionsRevoked: 1, clientIp: '127.0.0.1', source: 'provisioning' });

      // Repeated (a directory retries): nothing changes, nothing more is audited.
      assert.equal((await scim(api, 'PATCH', `/Users/${disp.userId}`, replace('active', false))).status, 200);
      assert.equal((await auditOf('user.update', disp.userId)).length, 1);

      // Okta's form: one replace with an object value.
      const enabled = await scim(api, 'PATCH', `/Users/${disp.userId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: true } }] });
      assert.equal(enabled.body.active, true);
      assert.equal((await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'disp', password: 'correct horse battery staple' } })).status, 200);
    });

    test('officers: never made or re-roled by the directory (a unit is an admin\'s to give), but a leaving officer is disabled', async () => {
      await stack.db.prisma.patrolUnit.create({ data: { callSign: 'P-11', latitude: 40.4, longitude: -3.7 } });
      const officer = await loginAs(api, { username: 'luis', role: 'OFFICER', unitCallSign: 'P-11' });
      const made = await scim(api, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'new.officer', roles: [{ value: 'Officer' }] });
      assert.equal(made.status, 400);
      assert.equal(made.body.scimType, 'invalidValue');
      assert.match(made.body.detail, /may not give the role OFFICER/);
      const promoted = await scim(api, 'PATCH', `/Users/${officer.userId}`, replace('roles[primary eq "True"].value', 'Dispatcher'));
      assert.equal(promoted.status, 400);
      assert.match(promoted.body.detail, /may not take away the role OFFICER/);
      const left = await scim(api, 'PATCH', `/Users/${officer.userId}`, replace('active', 'False'));
      assert.equal(left.body.active, false);
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: officer.token })).status, 401);
    });

    test('roles: only those MASKWATCH_SCIM_ROLES allows (DISPATCHER by default); with ADMIN allowed, the last admin is still kept', async () => {
      const bea = await loginAs(api, { username: 'bea', role: 'DISPATCHER' });
      const refused = await scim(api, 'PATCH', `/Users/${bea.userId}`, replace('roles[primary eq "True"].value', 'Admin'));
      assert.equal(refused.status, 400);
      assert.match(refused.body.detail, /may not give the role ADMIN \(MASKWATCH_SCIM_ROLES allows DISPATCHER\)/);
      assert.equal((await scim(api, 'POST', '/Users', { userName: 'no.role' })).status, 400);

      const wider = await stack.startApi({ config: { security: { ...stack.config.security, scim: { ...stack.config.security.scim!, roles: ['ADMIN', 'DISPATCHER'] } } } });
      const promoted = await scim(wider, 'PATCH', `/Users/${bea.userId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'roles', value: [{ value: 'admin', primary: true }] }] });
      assert.deepEqual(promoted.body.roles, [{ value: 'ADMIN', primary: true }]);
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: bea.token })).status, 401, 'a change of role ends the session');
      const demoted = await scim(wider, 'PATCH', `/Users/${bea.userId}`, replace('roles[primary eq "True"].value', 'Dispatcher'));
      assert.deepEqual(demoted.body.roles, [{ value: 'DISPATCHER', primary: true }]);
      // chief is now the only admin: neither disabled nor deleted by the directory.
      const last = await scim(wider, 'PATCH', `/Users/${chief.userId}`, replace('active', 'False'));
      assert.equal(last.status, 409);
      assert.match(last.body.detail, /last enabled admin/);
      assert.equal((await scim(wider, 'DELETE', `/Users/${chief.userId}`)).status, 409);
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: chief.token })).status, 200);
    });

    test('refusals name what is wrong: a rename, a filter MaskWatch does not answer, an unknown operation or account, a bad body', async () => {
      const carl = await loginAs(api, { username: 'carl', role: 'DISPATCHER' });
      const renamed = await scim(api, 'PUT', `/Users/${carl.userId}`, { schemas: [USER_SCHEMA], userName: 'carlos', active: true });
      assert.equal(renamed.status, 400);
      assert.equal(renamed.body.scimType, 'mutability');
      // PUT with the same name in another case, and `active` left out: a full replacement means enabled.
      assert.equal((await scim(api, 'PUT', `/Users/${carl.userId}`, { schemas: [USER_SCHEMA], userName: 'CARL' })).body.active, true);
      const filter = await scim(api, 'GET', `/Users?filter=${encodeURIComponent('externalId eq "carl"')}`);
      assert.equal(filter.status, 400);
      assert.equal(filter.body.scimType, 'invalidFilter');
      const op = await scim(api, 'PATCH', `/Users/${carl.userId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'move', path: 'active', value: true }] });
      assert.equal(op.body.scimType, 'invalidSyntax');
      const missing = await scim(api, 'GET', '/Users/00000000-0000-0000-0000-000000000000');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.schemas[0], SCIM_ERROR);
      const bad = await scim(api, 'POST', '/Users', { schemas: [USER_SCHEMA] });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.scimType, 'invalidSyntax');
      assert.match(bad.body.detail, /userName/);
      const json = await call(api.url, 'POST', '/scim/v2/Users', { token: TOKEN, headers: { 'content-type': 'application/scim+json' }, body: '{"userName":' });
      assert.equal(json.status, 400);
      assert.equal(json.body.schemas[0], SCIM_ERROR);
    });

    test('DELETE: the account is anonymised (its audit trail stays), its session ends, and it is gone from SCIM', async () => {
      const dora = await loginAs(api, { username: 'dora', role: 'DISPATCHER' });
      assert.equal((await scim(api, 'DELETE', `/Users/${dora.userId}`)).status, 204);
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: dora.token })).status, 401);
      assert.equal((await scim(api, 'GET', `/Users/${dora.userId}`)).status, 404);
      assert.equal((await scim(api, 'GET', `/Users?filter=${encodeURIComponent('userName eq "dora"')}`)).body.totalResults, 0);
      const row = await stack.db.prisma.user.findUniqueOrThrow({ where: { id: dora.userId } });
      assert.notEqual(row.deletedAt, null);
      const [audit] = await auditOf('user.delete', dora.userId);
      assert.equal(audit?.details.source, 'provisioning');
      assert.equal((await scim(api, 'DELETE', `/Users/${dora.userId}`)).status, 404);
    });

    test('paging: startIndex is 1-based, count bounds the page, totalResults counts them all', async () => {
      const all = await scim(api, 'GET', '/Users');
      const total = all.body.totalResults as number;
      assert.ok(total >= 4);
      const page = await scim(api, 'GET', '/Users?startIndex=2&count=2');
      assert.equal(page.body.totalResults, total);
      assert.equal(page.body.startIndex, 2);
      assert.equal(page.body.itemsPerPage, 2);
      assert.deepEqual(page.body.Resources.map((u: { id: string }) => u.id), all.body.Resources.slice(1, 3).map((u: { id: string }) => u.id));
      assert.equal((await scim(api, 'GET', '/Users?count=201')).status, 400);
    });
  });
}

test('maskwatch scim-token: a token whose SHA-256 is the setting printed beside it, which a server then accepts', async () => {
  const r = await runCli(['scim-token', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const made = JSON.parse(r.stdout) as { token: string; tokenSha256: string };
  assert.match(made.token, /^mwscim_[A-Za-z0-9_-]{43}$/);
  assert.equal(made.tokenSha256, createHash('sha256').update(made.token).digest('hex'));
  const stack = await createTestStack('sqlite', { MASKWATCH_SCIM_TOKEN_SHA256: made.tokenSha256 });
  try {
    const api = await stack.startApi();
    assert.equal((await scim(api, 'GET', '/Users', undefined, made.token)).status, 200);
  } finally {
    await stack.close();
  }
  const wrong = await runCli(['scim-token', 'extra']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /unexpected argument "extra"/);
});
