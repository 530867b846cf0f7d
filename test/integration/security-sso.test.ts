/**
 * Single sign-on with a real OpenID Connect provider (oidc-provider on this
 * host), over real HTTP, on SQLite and PostgreSQL: the browser's round trip,
 * how accounts are found and linked, and the answers that must be refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { io as connect } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { signOnAsBrowser, startTestIdp, type TestIdp } from '../helpers/oidc-provider.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import type { SsoConfig } from '../../src/config/config.ts';

const PASSWORD = 'correct horse battery staple';
const problemType = (slug: string) => `https://maskwatch.dev/problems/${slug}`;
const CLIENT = { clientId: 'maskwatch', clientSecret: 'a client secret of the directory' };

for (const provider of testProviders()) {
  describe(`single sign-on (${provider})`, () => {
    let idp: TestIdp;
    let stack: TestStack;
    let api: ApiInstance;
    let admin: string;

    const sso = (issuer: string, more: Partial<SsoConfig> = {}): SsoConfig => ({
      issuer,
      ...CLIENT,
      usernameClaim: 'preferred_username',
      label: 'Sign in with Metro Police ID',
      requiredRoles: [],
      sessionHours: 12,
      groups: null,
      ...more,
    });
    const auditOf = async (action: string) =>
      (await stack.db.prisma.auditEvent.findMany({ where: { action }, orderBy: { at: 'asc' } })).map((e) => ({ ...e, details: JSON.parse(e.details ?? '{}') as Record<string, unknown> }));

    before(async () => {
      idp = await startTestIdp();
      stack = await createTestStack(provider);
      // Every role must enrol a second factor for password sign-in: a directory session is not asked to.
      api = await stack.startApi({ config: { security: { ...stack.config.security, sso: sso(idp.issuer), mfa: { requiredRoles: [], securityKeyRoles: [] } } } });
      idp.addClient({ ...CLIENT, redirectUri: `${api.url}/api/v1/auth/sso/callback` });
      ({ token: admin } = await loginAs(api, { username: 'chief', role: 'ADMIN' }));
    });
    after(async () => {
      await stack?.close();
      await idp?.close();
    });

    test('the dashboard learns whether single sign-on is offered; without it the routes are 404', async () => {
      const offered = await call(api.url, 'GET', '/api/v1/auth/sso');
      assert.deepEqual(offered.body, { enabled: true, label: 'Sign in with Metro Police ID', rolesFromGroups: false, zonesFromGroups: false });

      const plain = await stack.startApi();
      assert.deepEqual((await call(plain.url, 'GET', '/api/v1/auth/sso')).body, { enabled: false, label: null, rolesFromGroups: false, zonesFromGroups: false });
      for (const [method, path] of [['GET', '/api/v1/auth/sso/start'], ['POST', '/api/v1/auth/sso/exchange']] as const) {
        const res = await call(plain.url, method, path);
        assert.equal(res.status, 404, path);
        assert.equal(res.body.type, problemType('sso-disabled'));
      }
    });

    test('a directory user signs on to the account of the same name, which is linked to the directory subject', async () => {
      // Made with a one-time password, on an API where every password sign-in needs a second factor.
      const { userId } = await loginAs(api, { username: 'ana.silva', role: 'DISPATCHER' });
      await stack.db.prisma.user.update({ where: { id: userId }, data: { mustChangePassword: true } });
      const strict = await stack.startApi({ config: { security: { ...stack.config.security, sso: sso(idp.issuer), mfa: { requiredRoles: ['DISPATCHER'], securityKeyRoles: ['DISPATCHER'] } } } });
      idp.profiles.set('u-1001', { preferred_username: 'Ana.Silva', name: 'Ana Silva' });

      // The provider's redirect URI is the first API's; the strict one shares database and secret key.
      const browser = await signOnAsBrowser(api.url, 'u-1001');
      assert.equal(browser.landing, '/#/login?sso=done');
      const copied = browser.jar.get(api.url, 'mw_sso_handoff')!;
      assert.equal(browser.jar.get(api.url, 'mw_sso'), undefined, 'the pending sign-on cookie is cleared');
      assert.ok(browser.jar.get(api.url, 'mw_sso_handoff'));

      const exchanged = await browser.exchange();
      assert.equal(exchanged.status, 200);
      assert.equal(exchanged.headers.get('cache-control'), 'no-store');
      const session = (await exchanged.json()) as { token: string; user: Record<string, unknown> };
      assert.deepEqual(
        { ...session.user, id: undefined },
        { id: undefined, username: 'ana.silva', role: 'DISPATCHER', unitId: null, zones: [], mustChangePassword: false, mfaEnabled: false, mfaSetupRequired: false, securityKeySetupRequired: false },
      );
      // The handoff works once: the cookie is cleared with the answer, and a copy of it is refused.
      assert.equal((await browser.exchange()).status, 401);
      const replayed = await call(strict.url, 'POST', '/api/v1/auth/sso/exchange', { headers: { cookie: `mw_sso_handoff=${copied}` } });
      assert.equal(replayed.status, 401);
      assert.equal(replayed.body.type, problemType('sso-expired'));

      const row = await stack.db.prisma.user.findUniqueOrThrow({ where: { id: userId } });
      assert.equal(row.ssoSubject, 'u-1001');
      // The directory's session is not held to MaskWatch's password change, second factor or security key, on any instance…
      assert.equal((await call(strict.url, 'GET', '/api/v1/alerts', { token: session.token })).status, 200);
      const socket = connect(strict.url, { auth: { token: session.token }, transports: ['websocket'], reconnection: false });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.on('connect', resolve);
          socket.on('connect_error', reject);
          setTimeout(() => reject(new Error('no socket connection within 5 s')), 5000).unref();
        });
      } finally {
        socket.close();
      }
      // …while a password sign-in of the same account still is.
      const byPassword = await call(strict.url, 'POST', '/api/v1/auth/login', { json: { username: 'ana.silva', password: PASSWORD } });
      assert.equal(byPassword.body.user.mustChangePassword, true);
      assert.equal(byPassword.body.user.mfaSetupRequired, true);

      // Renewals stay single sign-on; the session list says how each was signed in.
      const renewed = await call(strict.url, 'POST', '/api/v1/auth/refresh', { token: session.token });
      assert.equal(renewed.status, 200);
      assert.equal(renewed.body.user.mfaSetupRequired, false);
      const sessions = await call(api.url, 'GET', '/api/v1/auth/sessions', { token: renewed.body.token });
      assert.deepEqual(sessions.body.items.map((s: { signInMethod: string }) => s.signInMethod).sort(), ['password', 'password', 'sso']);

      const linked = (await auditOf('user.sso_link')).find((e) => e.subjectId === userId);
      assert.deepEqual(linked?.details, { signInMethod: 'sso', username: 'ana.silva', ssoSubject: 'u-1001' });
      const login = (await auditOf('auth.login')).find((e) => e.subjectId === userId && e.details.signInMethod === 'sso');
      assert.equal(login?.details.ssoSubject, 'u-1001');
      assert.equal(login?.details.clientIp, '127.0.0.1');
    });

    test('once linked, the subject decides: a directory rename cannot move an account, nor another subject take it', async () => {
      await loginAs(api, { username: 'bruno', role: 'DISPATCHER' });
      const { userId: carla } = await loginAs(api, { username: 'carla', role: 'DISPATCHER' });
      idp.profiles.set('u-2001', { preferred_username: 'carla' });
      assert.equal((await signOnAsBrowser(api.url, 'u-2001')).landing, '/#/login?sso=done');

      // The directory renames u-2001 to bruno: still carla's account.
      idp.profiles.set('u-2001', { preferred_username: 'bruno' });
      const renamed = await signOnAsBrowser(api.url, 'u-2001');
      const session = (await (await renamed.exchange()).json()) as { user: { id: string; username: string } };
      assert.equal(session.user.username, 'carla');
      assert.equal(session.user.id, carla);

      // Another directory identity calling itself carla does not get her account.
      idp.profiles.set('u-2002', { preferred_username: 'carla' });
      assert.equal((await signOnAsBrowser(api.url, 'u-2002')).landing, '/#/login?sso-error=linked-elsewhere');
      const refused = (await auditOf('auth.login_failed')).find((e) => e.details.ssoSubject === 'u-2002');
      assert.equal(refused?.details.reason, 'account linked to another directory identity');

      // Linked to the wrong person: an admin unlinks it, carla's sessions end, and the next sign-on links it anew.
      const token = ((await (await (await signOnAsBrowser(api.url, 'u-2001')).exchange()).json()) as { token: string }).token;
      const listed = await call(api.url, 'GET', '/api/v1/users', { token: admin });
      assert.equal(listed.body.items.find((u: { id: string }) => u.id === carla).ssoLinked, true);
      assert.equal((await call(api.url, 'DELETE', `/api/v1/users/${carla}/sso`, { token: admin })).status, 204);
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token })).status, 401);
      const again = await call(api.url, 'DELETE', `/api/v1/users/${carla}/sso`, { token: admin });
      assert.equal(again.status, 409);
      assert.equal(again.body.type, problemType('sso-not-linked'));
      const [unlinked] = (await auditOf('user.sso_unlink')).filter((e) => e.subjectId === carla);
      assert.equal(unlinked?.details.ssoSubject, 'u-2001');
      assert.equal((await signOnAsBrowser(api.url, 'u-2002')).landing, '/#/login?sso=done');
      assert.equal((await stack.db.prisma.user.findUniqueOrThrow({ where: { id: carla } })).ssoSubject, 'u-2002');
    });

    test('no account, a disabled one, a deleted one: refused, audited, and nothing is linked', async () => {
      // A directory that names people by e-mail-like names (Entra ID's UPN).
      await loginAs(api, { username: 'hana.ito@metro.police', role: 'DISPATCHER' });
      idp.profiles.set('u-2901', { preferred_username: 'Hana.Ito@metro.police' });
      assert.equal((await signOnAsBrowser(api.url, 'u-2901')).landing, '/#/login?sso=done');

      idp.profiles.set('u-3001', { preferred_username: 'stranger' });
      assert.equal((await signOnAsBrowser(api.url, 'u-3001')).landing, '/#/login?sso-error=no-account');
      idp.profiles.set('u-3002', { name: 'no username claim' });
      assert.equal((await signOnAsBrowser(api.url, 'u-3002')).landing, '/#/login?sso-error=no-account');

      const { userId: dora } = await loginAs(api, { username: 'dora', role: 'DISPATCHER' });
      idp.profiles.set('u-3003', { preferred_username: 'dora' });
      assert.equal((await signOnAsBrowser(api.url, 'u-3003')).landing, '/#/login?sso=done');
      assert.equal((await call(api.url, 'PATCH', `/api/v1/users/${dora}`, { token: admin, json: { enabled: false } })).status, 200);
      assert.equal((await signOnAsBrowser(api.url, 'u-3003')).landing, '/#/login?sso-error=disabled');

      // Disabled between the provider's answer and the dashboard's exchange: no session.
      const { userId: emil } = await loginAs(api, { username: 'emil', role: 'DISPATCHER' });
      idp.profiles.set('u-3004', { preferred_username: 'emil' });
      const late = await signOnAsBrowser(api.url, 'u-3004');
      assert.equal((await call(api.url, 'DELETE', `/api/v1/users/${emil}`, { token: admin })).status, 204);
      assert.equal((await late.exchange()).status, 401);
      // Deleting the account unlinks it.
      assert.equal((await stack.db.prisma.user.findUniqueOrThrow({ where: { id: emil } })).ssoSubject, null);
      assert.equal((await signOnAsBrowser(api.url, 'u-3004')).landing, '/#/login?sso-error=no-account');

      const reasons = (await auditOf('auth.login_failed')).filter((e) => e.details.signInMethod === 'sso').map((e) => `${String(e.details.ssoSubject)}: ${String(e.details.reason)}`);
      for (const expected of ['u-3001: no account', 'u-3002: no account', 'u-3003: account disabled', 'u-3004: no account']) assert.ok(reasons.includes(expected), `${expected} in ${reasons.join(', ')}`);
      assert.equal(await stack.db.prisma.user.count({ where: { ssoSubject: { in: ['u-3001', 'u-3002'] } } }), 0);
    });

    test('a forged, replayed, cancelled or cookie-less answer is refused; the provider being down is said plainly', async () => {
      await loginAs(api, { username: 'fabio', role: 'DISPATCHER' });
      idp.profiles.set('u-4001', { preferred_username: 'fabio' });

      const forged = await signOnAsBrowser(api.url, 'u-4001', {
        tamper: (url) => {
          url.searchParams.set('state', 'an-attackers-state');
          return url;
        },
      });
      assert.equal(forged.landing, '/#/login?sso-error=failed');

      // The provider's answer carried to another browser (no pending cookie there).
      let stolen = '';
      await signOnAsBrowser(api.url, 'u-4001', {
        tamper: (url) => {
          stolen = url.href;
          return new URL('/api/v1/auth/sso/callback?code=spent&state=spent', url);
        },
      });
      const elsewhere = await fetch(stolen, { redirect: 'manual' });
      assert.equal(elsewhere.headers.get('location'), '/#/login?sso-error=expired');

      assert.equal((await signOnAsBrowser(api.url, 'u-4001', { cancel: true })).landing, '/#/login?sso-error=denied');

      // A sealed value of another kind (the pending cookie) is no handoff.
      const browser = await signOnAsBrowser(api.url, 'u-4001', { tamper: (url) => url });
      const pendingStart = await fetch(`${api.url}/api/v1/auth/sso/start`, { redirect: 'manual' });
      const pendingCookie = pendingStart.headers.getSetCookie().find((c) => c.startsWith('mw_sso='))!.split(';')[0]!.slice('mw_sso='.length);
      const malformed = await call(api.url, 'POST', '/api/v1/auth/sso/exchange', { headers: { cookie: 'mw_sso_handoff=%E0%A4%A' } });
      assert.equal(malformed.status, 401, 'a cookie that does not decode is no handoff');
      const malformedCallback = await fetch(`${api.url}/api/v1/auth/sso/callback?code=x&state=y`, { redirect: 'manual', headers: { cookie: 'mw_sso=%E0%A4%A' } });
      assert.equal(malformedCallback.headers.get('location'), '/#/login?sso-error=expired');
      const swapped = await call(api.url, 'POST', '/api/v1/auth/sso/exchange', { headers: { cookie: `mw_sso_handoff=${pendingCookie}` } });
      assert.equal(swapped.status, 401);
      assert.equal(swapped.body.type, problemType('sso-expired'));
      assert.equal((await browser.exchange()).status, 200);

      const down = await stack.startApi({ config: { security: { ...stack.config.security, sso: sso('http://127.0.0.1:9') } } });
      const start = await fetch(`${down.url}/api/v1/auth/sso/start`, { redirect: 'manual' });
      assert.equal(start.status, 302);
      assert.equal(start.headers.get('location'), '/#/login?sso-error=unavailable');
    });

    test('after logging out, the browser is sent to the provider\'s sign-out (shared computers), and back', async () => {
      const out = await fetch(`${api.url}/api/v1/auth/sso/logout`, { redirect: 'manual' });
      assert.equal(out.status, 302);
      const target = new URL(out.headers.get('location')!);
      assert.equal(target.origin, idp.issuer);
      assert.equal(target.searchParams.get('client_id'), CLIENT.clientId);
      assert.equal(target.searchParams.get('post_logout_redirect_uri'), `${api.url}/`);
      // The provider accepts it (a wrong client or redirect would be an error page): its sign-out form.
      const page = await fetch(target, { redirect: 'manual' });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<form method="post" action="[^"]+\/session\/end\/confirm">/);

      const plain = await stack.startApi();
      assert.equal((await fetch(`${plain.url}/api/v1/auth/sso/logout`, { redirect: 'manual' })).headers.get('location'), '/#/login');
    });

    test('behind a proxy that does not forward the public address, MASKWATCH_PUBLIC_URL gives the registered URIs', async () => {
      const proxied = await stack.startApi({ config: { security: { ...stack.config.security, sso: sso(idp.issuer), publicUrl: 'https://maskwatch.example.org' } } });
      const started = await fetch(`${proxied.url}/api/v1/auth/sso/start`, { redirect: 'manual' });
      assert.match(started.headers.getSetCookie()[0]!, /; HttpOnly; SameSite=Lax; Secure$/, 'browsers reach it over https: Secure cookies');
      const start = new URL(started.headers.get('location')!);
      assert.equal(start.searchParams.get('redirect_uri'), 'https://maskwatch.example.org/api/v1/auth/sso/callback');
      const out = new URL((await fetch(`${proxied.url}/api/v1/auth/sso/logout`, { redirect: 'manual' })).headers.get('location')!);
      assert.equal(out.searchParams.get('post_logout_redirect_uri'), 'https://maskwatch.example.org/');
    });

    test('MASKWATCH_SSO_REQUIRED: those roles sign in only through the directory; the others keep their password', async () => {
      const enforced = await stack.startApi({ config: { security: { ...stack.config.security, sso: sso(idp.issuer, { requiredRoles: ['DISPATCHER', 'OFFICER'] }) } } });
      await loginAs(api, { username: 'ines', role: 'DISPATCHER' });
      const login = (username: string, password: string) => call(enforced.url, 'POST', '/api/v1/auth/login', { json: { username, password } });
      const refused = await login('ines', PASSWORD);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.type, problemType('sso-required'));
      // A wrong password says no more than for anyone else.
      assert.equal((await login('ines', 'not the password at all')).body.type, problemType('login-failed'));
      assert.equal((await login('chief', PASSWORD)).status, 200, 'an admin keeps the password (break-glass)');
      const audit = (await auditOf('auth.login_failed')).find((e) => e.details.username === 'ines' && typeof e.details.reason === 'string');
      assert.match(String(audit?.details.reason), /the role signs in through the directory/);

      idp.profiles.set('u-6001', { preferred_username: 'ines' });
      assert.equal((await (await signOnAsBrowser(api.url, 'u-6001')).exchange()).status, 200);
    });

    test('with MASKWATCH_SSO_*_GROUPS the directory\'s groups set role and zones at each sign-on, and no group means no access', async () => {
      const groups = { claim: 'groups', roles: { ADMIN: ['mw-admins'], DISPATCHER: ['mw-dispatch'], OFFICER: ['mw-patrol'] }, zones: { Centro: ['mw-centro'], Sur: ['mw-sur'], '*': ['mw-city'] }, createAccounts: false };
      const directed = await stack.startApi({ config: { security: { ...stack.config.security, sso: sso(idp.issuer, { groups }) } } });
      idp.addClient({ ...CLIENT, redirectUri: `${directed.url}/api/v1/auth/sso/callback` });
      const offer = await call(directed.url, 'GET', '/api/v1/auth/sso');
      assert.deepEqual(offer.body, { enabled: true, label: 'Sign in with Metro Police ID', rolesFromGroups: true, zonesFromGroups: true });

      const { userId: lena, token: byPassword } = await loginAs(api, { username: 'lena', role: 'DISPATCHER' });
      const signOn = async (groupsOfLena: string[]) => {
        idp.profiles.set('u-8001', { preferred_username: 'lena', groups: groupsOfLena });
        return signOnAsBrowser(directed.url, 'u-8001');
      };
      const account = () => stack.db.prisma.user.findUniqueOrThrow({ where: { id: lena } });

      // Centro's dispatch group: her access narrows to Centro, and her password session (every zone) ends.
      const first = await signOn(['staff', 'mw-dispatch', 'mw-centro']);
      assert.equal(first.landing, '/#/login?sso=done');
      const session = (await (await first.exchange()).json()) as { user: { role: string; zones: string[] } };
      assert.deepEqual([session.user.role, session.user.zones], ['DISPATCHER', ['Centro']]);
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: byPassword })).status, 401, 'the session of the wider access ended');
      const [change] = (await auditOf('user.update')).filter((e) => e.subjectId === lena);
      assert.deepEqual(change?.details, { username: 'lena', changes: { zones: { from: [], to: ['Centro'] } }, sessionsRevoked: 1, clientIp: '127.0.0.1', source: 'directory' });
      assert.equal(change?.actorType, 'SYSTEM');

      // Moved to Sur in the directory, then to the whole city, then promoted; unchanged groups change nothing.
      await signOn(['mw-dispatch', 'mw-sur']);
      assert.deepEqual(JSON.parse((await account()).zones!), ['Sur']);
      await signOn(['mw-dispatch', 'mw-sur', 'mw-city']);
      assert.equal((await account()).zones, null, 'every zone');
      await signOn(['mw-dispatch', 'mw-sur', 'mw-city']);
      assert.equal((await auditOf('user.update')).filter((e) => e.subjectId === lena).length, 3);
      await signOn(['mw-admins', 'mw-dispatch', 'mw-sur']);
      assert.deepEqual([(await account()).role, (await account()).zones], ['ADMIN', null], 'the highest role; zones are a dispatcher\'s');

      // Fail closed: no MaskWatch group, or a dispatcher without a zone group. The account keeps its last access.
      for (const [given, reason] of [
        [['staff'], 'no group of the directory gives a MaskWatch role'],
        [['mw-dispatch'], 'no group of the directory gives the dispatcher a zone'],
      ] as const) {
        assert.equal((await signOn([...given])).landing, '/#/login?sso-error=no-access', given.join());
        const refused = (await auditOf('auth.login_failed')).filter((e) => e.subjectId === lena).at(-1);
        assert.deepEqual(refused?.details, { signInMethod: 'sso', username: 'lena', clientIp: '127.0.0.1', ssoSubject: 'u-8001', groups: [...given], reason });
      }
      assert.equal((await account()).role, 'ADMIN');
      // A provider that sends no groups at all (misconfigured, or Entra ID's overage): the refusal says so.
      idp.profiles.set('u-8001', { preferred_username: 'lena' });
      assert.equal((await signOnAsBrowser(directed.url, 'u-8001')).landing, '/#/login?sso-error=no-access');
      assert.match(String((await auditOf('auth.login_failed')).filter((e) => e.subjectId === lena).at(-1)?.details.reason), /^no group of the directory gives a MaskWatch role: the provider sent no "groups" claim/);

      // A unit is MaskWatch's to give: an officer of the directory without one is sent to a dispatcher.
      assert.equal((await signOn(['mw-patrol'])).landing, '/#/login?sso-error=needs-unit');
      assert.equal((await account()).role, 'ADMIN');
      assert.equal((await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'P-80', status: 'AVAILABLE' } })).status, 201);
      const { userId: mateo } = await loginAs(api, { username: 'mateo', role: 'OFFICER', unitCallSign: 'P-80' });
      idp.profiles.set('u-8002', { preferred_username: 'mateo', groups: ['mw-patrol'] });
      assert.equal((await signOnAsBrowser(directed.url, 'u-8002')).landing, '/#/login?sso=done');
      assert.equal((await stack.db.prisma.user.findUniqueOrThrow({ where: { id: mateo } })).role, 'OFFICER');

      // The directory cannot demote the last enabled admin: refused, and the admin stays.
      await stack.db.prisma.user.updateMany({ where: { role: 'ADMIN', id: { not: lena } }, data: { disabled: true } });
      try {
        assert.equal((await signOn(['mw-dispatch', 'mw-sur'])).landing, '/#/login?sso-error=no-access');
        assert.equal((await account()).role, 'ADMIN');
      } finally {
        await stack.db.prisma.user.updateMany({ where: { role: 'ADMIN', id: { not: lena } }, data: { disabled: false } });
      }
    });

    test('MASKWATCH_SSO_CREATE_ACCOUNTS: a person of a role group gets a linked account at the first sign-on; officers and the ungrouped do not', async () => {
      const groups = { claim: 'groups', roles: { DISPATCHER: ['mw-dispatch'], OFFICER: ['mw-patrol'] }, zones: { Sur: ['mw-sur'] }, createAccounts: true };
      const joining = await stack.startApi({ config: { security: { ...stack.config.security, sso: sso(idp.issuer, { groups }) } } });
      idp.addClient({ ...CLIENT, redirectUri: `${joining.url}/api/v1/auth/sso/callback` });
      const accountsNamed = (username: string) => stack.db.prisma.user.findMany({ where: { username } });

      idp.profiles.set('u-9001', { preferred_username: 'nora.vidal', groups: ['mw-dispatch', 'mw-sur'] });
      const first = await signOnAsBrowser(joining.url, 'u-9001');
      assert.equal(first.landing, '/#/login?sso=done');
      const session = (await (await first.exchange()).json()) as { user: { username: string; role: string; zones: string[]; mustChangePassword: boolean } };
      assert.deepEqual([session.user.username, session.user.role, session.user.zones, session.user.mustChangePassword], ['nora.vidal', 'DISPATCHER', ['Sur'], false]);
      const [nora] = await accountsNamed('nora.vidal');
      assert.equal(nora?.ssoSubject, 'u-9001');
      const [created] = (await auditOf('user.create')).filter((e) => e.subjectId === nora!.id);
      assert.deepEqual(created?.details, { username: 'nora.vidal', role: 'DISPATCHER', unitId: null, zones: ['Sur'], ssoSubject: 'u-9001', source: 'directory' });
      // Nobody knows its password: a password sign-in fails as for anyone else.
      assert.equal((await call(joining.url, 'POST', '/api/v1/auth/login', { json: { username: 'nora.vidal', password: PASSWORD } })).status, 401);
      // The next sign-on finds the same account.
      assert.equal((await signOnAsBrowser(joining.url, 'u-9001')).landing, '/#/login?sso=done');
      assert.equal((await accountsNamed('nora.vidal')).length, 1);

      // An officer needs a patrol unit (an admin creates officers); no group, or a name MaskWatch refuses: no account.
      for (const [subject, profile, landing] of [
        ['u-9002', { preferred_username: 'omar', groups: ['mw-patrol'] }, 'needs-unit'],
        ['u-9003', { preferred_username: 'pia', groups: ['staff'] }, 'no-access'],
        ['u-9004', { preferred_username: 'not a name!', groups: ['mw-dispatch', 'mw-sur'] }, 'no-account'],
      ] as const) {
        idp.profiles.set(subject, { ...profile, groups: [...profile.groups] });
        assert.equal((await signOnAsBrowser(joining.url, subject)).landing, `/#/login?sso-error=${landing}`, subject);
        assert.equal(await stack.db.prisma.user.count({ where: { OR: [{ ssoSubject: subject }, { username: profile.preferred_username }] } }), 0, subject);
      }
      const refused = (await auditOf('auth.login_failed')).filter((e) => e.details.ssoSubject === 'u-9002');
      assert.deepEqual(refused.map((e) => [e.subjectId, e.details.username, e.details.reason]), [[null, 'omar', 'the directory makes them an officer: an admin creates officers, with their patrol unit']]);
    });

    test('a single sign-on session, renewals included, ends MASKWATCH_SSO_SESSION_HOURS after the sign-on', async () => {
      const bounded = await stack.startApi({ config: { security: { ...stack.config.security, sso: sso(idp.issuer, { sessionHours: 1 }) } } });
      await loginAs(api, { username: 'jonas', role: 'DISPATCHER' });
      idp.profiles.set('u-7001', { preferred_username: 'jonas' });
      const before = Date.now();
      const session = (await (await signOnAsBrowser(api.url, 'u-7001')).exchange().then((r) => r.json())) as { token: string };
      // The exchange ran on the first API (12 h); renewals on the bounded one (1 h) keep the sign-on's time.
      const renewed = await call(bounded.url, 'POST', '/api/v1/auth/refresh', { token: session.token });
      assert.equal(renewed.status, 200);
      const bound = Date.parse(renewed.body.expiresAt);
      assert.ok(bound <= before + 3_600_000 + 5000 && bound > before + 3_500_000, `renewed to ${renewed.body.expiresAt}: one hour after the sign-on, not ${stack.config.tokenTtlSeconds} s after now`);
      // The same sign-on, 2 hours ago: no renewal.
      const row = await stack.db.prisma.session.findFirstOrThrow({ where: { user: { username: 'jonas' }, revokedAt: null, signInMethod: 'sso' } });
      assert.ok(row.signedOnAt && row.signedOnAt.getTime() >= before - 1000);
      await stack.db.prisma.session.update({ where: { id: row.id }, data: { signedOnAt: new Date(Date.now() - 2 * 3_600_000) } });
      const late = await call(bounded.url, 'POST', '/api/v1/auth/refresh', { token: renewed.body.token });
      assert.equal(late.status, 401);
      assert.equal(late.body.type, problemType('session-expired'));
      // A password session slides as before.
      const byPassword = await call(bounded.url, 'POST', '/api/v1/auth/login', { json: { username: 'jonas', password: PASSWORD } });
      assert.ok(Date.parse(byPassword.body.expiresAt) > Date.now() + 2 * 3_600_000);
    });

    test('with a sign-in notice, collecting the session needs the version accepted; a refusal keeps the sign-on for the retry', async () => {
      const { userId } = await loginAs(api, { username: 'nora', role: 'DISPATCHER' });
      idp.profiles.set('u-9101', { preferred_username: 'nora' });
      const notice = { text: 'This is a law enforcement system. Use is monitored.', version: '0123456789abcdef' };
      const withNotice = await stack.startApi({ config: { security: { ...stack.config.security, sso: sso(idp.issuer), signInNotice: notice } } });
      const browser = await signOnAsBrowser(api.url, 'u-9101');
      const cookie = `mw_sso_handoff=${browser.jar.get(api.url, 'mw_sso_handoff')!}`;
      for (const json of [undefined, { noticeVersion: 'an-older-version' }]) {
        const refused = await call(withNotice.url, 'POST', '/api/v1/auth/sso/exchange', { headers: { cookie }, json });
        assert.equal(refused.status, 400, JSON.stringify(json));
        assert.equal(refused.body.type, problemType('notice-not-accepted'));
        assert.equal(refused.headers.get('set-cookie'), null, 'the sign-on waits for the acceptance');
      }
      const accepted = await call(withNotice.url, 'POST', '/api/v1/auth/sso/exchange', { headers: { cookie }, json: { noticeVersion: notice.version } });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
      assert.equal(accepted.body.user.username, 'nora');
      const login = (await auditOf('auth.login')).find((e) => e.subjectId === userId && e.details.signInMethod === 'sso');
      assert.equal(login?.details.noticeVersion, notice.version);
    });

    test('the cookies are HttpOnly, scoped to the one route that reads them, and short-lived', async () => {
      const start = await fetch(`${api.url}/api/v1/auth/sso/start`, { redirect: 'manual' });
      const [pending] = start.headers.getSetCookie();
      assert.match(pending!, /^mw_sso=[^;]+; Path=\/api\/v1\/auth\/sso\/callback; Max-Age=600; HttpOnly; SameSite=Lax$/);
      const location = new URL(start.headers.get('location')!);
      assert.equal(location.origin, idp.issuer);
      assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(location.searchParams.get('redirect_uri'), `${api.url}/api/v1/auth/sso/callback`);
      assert.ok(location.searchParams.get('nonce') && location.searchParams.get('state'));

      idp.profiles.set('u-5001', { preferred_username: 'chief' });
      const browser = await signOnAsBrowser(api.url, 'u-5001');
      assert.deepEqual(
        browser.callbackCookies.map((c) => c.replace(/^([^=]+)=[^;]+;/, '$1=…;')),
        ['mw_sso=; Path=/api/v1/auth/sso/callback; Max-Age=0; HttpOnly; SameSite=Lax', 'mw_sso_handoff=…; Path=/api/v1/auth/sso/exchange; Max-Age=60; HttpOnly; SameSite=Strict'],
      );
    });
  });
}
