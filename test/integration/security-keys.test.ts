/**
 * Security keys (WebAuthn) as a second factor, over real HTTP with Redis for the challenges, on SQLite
 * and PostgreSQL. The key is a software authenticator (test/helpers/soft-authenticator.ts) that signs
 * exactly what a browser would pass to a real key; Chromium's virtual authenticator covers the dashboard
 * (test/e2e/security-key.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { createSoftAuthenticator, type SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import { totpCode, totpStep, TOTP_STEP_SECONDS } from '../../src/auth/totp.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { io as connect } from 'socket.io-client';
import { socketConnected } from '../helpers/wait.ts';

const PASSWORD = 'correct horse battery staple';
const problemType = (slug: string) => `https://maskwatch.dev/problems/${slug}`;

for (const provider of testProviders()) {
  describe(`security keys (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let second: ApiInstance;
    /** An instance where dispatchers must sign in with a security key (MASKWATCH_SECURITY_KEY_REQUIRED=DISPATCHER). */
    let keyed: ApiInstance;
    let clock = new Date(Math.floor(Date.now() / 30_000) * 30_000 + 15_000);
    const nextStep = () => (clock = new Date(clock.getTime() + TOTP_STEP_SECONDS * 1000));

    const login = (username: string, more: Record<string, unknown> = {}, on: ApiInstance = api) =>
      call(on.url, 'POST', '/api/v1/auth/login', { json: { username, password: PASSWORD, ...more } });

    /** A user with two-factor sign-in on; returns their token and TOTP secret. */
    async function enrolled(username: string): Promise<{ token: string; userId: string; secret: string }> {
      // Every first leg of a two-factor login is charged to the login throttle until the second passes.
      const { token, userId } = await loginAs(api, { username, role: 'DISPATCHER' });
      const setup = await call(api.url, 'POST', '/api/v1/auth/mfa/setup', { token, json: { password: PASSWORD } });
      const enable = await call(api.url, 'POST', '/api/v1/auth/mfa/enable', { token, json: { code: totpCode(setup.body.secret, totpStep(clock)) } });
      assert.equal(enable.status, 200, JSON.stringify(enable.body));
      nextStep();
      return { token, userId, secret: setup.body.secret };
    }

    /** Registers `key` for the user through the two routes, as the dashboard does. */
    async function register(token: string, key: SoftAuthenticator, name = 'blue key', on: ApiInstance = api) {
      const options = await call(on.url, 'POST', '/api/v1/auth/mfa/keys/options', { token, json: { password: PASSWORD } });
      assert.equal(options.status, 200, JSON.stringify(options.body));
      const credential = key.create(options.body, { origin: on.url });
      return call(on.url, 'POST', '/api/v1/auth/mfa/keys', { token, json: { name, credential } });
    }

    /** A login's second leg with the key's answer to the challenge of its first. */
    async function signInWithKey(username: string, key: SoftAuthenticator, on: ApiInstance = api, origin = on.url) {
      const first = await login(username, {}, on);
      assert.equal(first.status, 401);
      assert.equal(first.body.type, problemType('mfa-required'));
      assert.ok(first.body.securityKey, 'the 401 carries the challenge for the keys');
      return login(username, { securityKey: key.get(first.body.securityKey, { origin }) }, on);
    }

    /** Resolves once a socket with `token` connects (then closes it); rejects with the server's refusal. */
    async function socketConnects(url: string, token: string): Promise<void> {
      const socket = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false });
      try {
        await socketConnected(socket, 'the socket to connect', 5000);
      } finally {
        socket.close();
      }
    }

    before(async () => {
      stack = await createTestStack(provider);
      // Refused answers are failed logins; these tests make more than the 5 free ones (throttling has its own tests).
      const config = { security: { ...stack.config.security, loginMaxFailures: 100 } };
      api = await stack.startApi({ totpClock: () => clock, config });
      // Another instance on the same database and Redis: a challenge given by one is answered to the other.
      second = await stack.startApi({ totpClock: () => clock, config });
      const mfa = { requiredRoles: ['DISPATCHER' as const], securityKeyRoles: ['DISPATCHER' as const] };
      keyed = await stack.startApi({ totpClock: () => clock, config: { security: { ...config.security, mfa } } });
    });
    after(async () => {
      await stack?.close();
    });

    test('a key is added with the password under two-factor sign-in, and then signs in; the challenge is bound to the account', async () => {
      const { token, userId, secret } = await enrolled('key-owner');
      const key = createSoftAuthenticator();

      const wrong = await call(api.url, 'POST', '/api/v1/auth/mfa/keys/options', { token, json: { password: 'not it' } });
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.type, problemType('wrong-password'));

      const options = await call(api.url, 'POST', '/api/v1/auth/mfa/keys/options', { token, json: { password: PASSWORD } });
      assert.equal(options.status, 200);
      assert.equal(options.headers.get('cache-control'), 'no-store');
      assert.equal(options.body.rp.id, '127.0.0.1', 'bound to the host name the browser uses');
      assert.equal(options.body.attestation, 'none');
      assert.deepEqual(options.body.excludeCredentials, []);

      // Answered to the other instance (same host name): the challenge is in Redis, not in one process.
      const credential = key.create(options.body, { origin: second.url });
      const added = await call(second.url, 'POST', '/api/v1/auth/mfa/keys', { token, json: { name: '  blue key ', credential } });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      assert.equal(added.body.name, 'blue key');
      assert.equal(added.body.lastUsedAt, null);
      const again = await call(api.url, 'POST', '/api/v1/auth/mfa/keys', { token, json: { name: 'again', credential } });
      assert.equal(again.status, 400, 'a challenge is used once');
      assert.equal(again.body.type, problemType('security-key-failed'));

      const listed = await call(api.url, 'GET', '/api/v1/auth/mfa/keys', { token });
      assert.deepEqual(
        listed.body.items.map((k: { id: string; name: string }) => [k.id, k.name]),
        [[added.body.id, 'blue key']],
      );
      const row = await stack.db.prisma.securityKey.findFirstOrThrow({ where: { userId } });
      assert.equal(row.credentialId, key.credentialId!, 'only the credential id and public key are stored');

      const first = await login('key-owner');
      assert.equal(first.status, 401);
      assert.equal(first.headers.get('cache-control'), 'no-store');
      assert.deepEqual(first.body.securityKey.allowCredentials.map((c: { id: string }) => c.id), [key.credentialId]);
      const signed = await login('key-owner', { securityKey: key.get(first.body.securityKey, { origin: api.url }) });
      assert.equal(signed.status, 200, JSON.stringify(signed.body));
      assert.equal(signed.body.user.mfaEnabled, true);

      const audit = await stack.db.prisma.auditEvent.findMany({ where: { subjectId: userId, action: { in: ['auth.login', 'user.security_key_add'] } }, orderBy: { at: 'desc' } });
      assert.equal(audit[0]!.action, 'auth.login');
      assert.equal(JSON.parse(audit[0]!.details ?? '{}').secondFactor, 'security-key');
      assert.ok(audit.some((e) => e.action === 'user.security_key_add'));
      const used = await call(api.url, 'GET', '/api/v1/auth/mfa/keys', { token });
      assert.ok(used.body.items[0].lastUsedAt, 'its last sign-in is shown');

      // Admin › Users shows who has a key.
      const { token: admin } = await loginAs(api, { username: 'key-owner-admin', role: 'ADMIN' });
      const users = await call(api.url, 'GET', '/api/v1/users', { token: admin });
      assert.equal(users.body.items.find((u: { id: string }) => u.id === userId).securityKeys, 1);
      assert.equal(users.body.items.find((u: { username: string }) => u.username === 'key-owner-admin').securityKeys, 0);
      assert.equal((await call(api.url, 'PATCH', `/api/v1/users/${userId}`, { token: admin, json: { enabled: true } })).body.securityKeys, 1);

      // The app's code still works beside the key.
      assert.equal((await login('key-owner', { code: totpCode(secret, totpStep(nextStep())) })).status, 200);
    });

    test('refused answers: replayed, for another challenge, from another origin, signed by another key, or from a clone', async () => {
      const { token } = await enrolled('key-refusals');
      const key = createSoftAuthenticator();
      assert.equal((await register(token, key)).status, 201);

      const first = await login('key-refusals');
      const answer = key.get(first.body.securityKey, { origin: api.url });
      assert.equal((await login('key-refusals', { securityKey: answer })).status, 200);
      const replayed = await login('key-refusals', { securityKey: answer });
      assert.equal(replayed.status, 401, 'an answer signs in once');
      assert.equal(replayed.body.type, problemType('mfa-failed'));

      // A look-alike site relays the challenge: the browser reports the page's real origin.
      const phished = await login('key-refusals');
      const fromPhish = await login('key-refusals', { securityKey: key.get(phished.body.securityKey, { origin: 'https://maskwatch-login.example.net' }) });
      assert.equal(fromPhish.status, 401);
      assert.equal(fromPhish.body.type, problemType('mfa-failed'));

      // Someone else's key, registered to their own account, cannot pass this account's second factor.
      const { token: otherToken } = await enrolled('key-other');
      const otherKey = createSoftAuthenticator();
      assert.equal((await register(otherToken, otherKey)).status, 201);
      const mine = await login('key-refusals');
      const theirs = await login('key-other');
      const crossed = await login('key-refusals', { securityKey: otherKey.get(theirs.body.securityKey, { origin: api.url }) });
      assert.equal(crossed.status, 401);
      assert.ok(mine.body.securityKey);

      // A clone's counter is behind the original's.
      const before = await signInWithKey('key-refusals', key);
      assert.equal(before.status, 200);
      key.setCounter(1);
      const cloned = await signInWithKey('key-refusals', key);
      assert.equal(cloned.status, 401, 'a counter that goes back is a cloned key');

      // A wrong password with a valid answer is still login-failed, and asks for nothing.
      const noPassword = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'key-refusals', password: 'wrong password!' } });
      assert.equal(noPassword.status, 401);
      assert.equal(noPassword.body.type, problemType('login-failed'));
      assert.equal(noPassword.body.securityKey, undefined, 'no challenge, nor the key ids, before the right password');

      const failures = await stack.db.prisma.auditEvent.findMany({ where: { action: 'auth.login_failed' } });
      assert.ok(failures.some((e) => JSON.parse(e.details ?? '{}').reason === 'security key not accepted'));
    });

    test('keys need two-factor sign-in on; removing one, or turning two-factor off, stops it; an admin reset removes them', async () => {
      const { token: plain } = await loginAs(api, { username: 'key-no-mfa', role: 'DISPATCHER' });
      const refused = await call(api.url, 'POST', '/api/v1/auth/mfa/keys/options', { token: plain, json: { password: PASSWORD } });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.type, problemType('mfa-not-enabled'));

      const { token, userId, secret } = await enrolled('key-lifecycle');
      const blue = createSoftAuthenticator();
      const spare = createSoftAuthenticator();
      const blueAdded = await register(token, blue, 'blue');
      assert.equal((await register(token, spare, 'spare')).status, 201);

      // Each key is excluded from the next registration, so one key is not added twice.
      const options = await call(api.url, 'POST', '/api/v1/auth/mfa/keys/options', { token, json: { password: PASSWORD } });
      assert.deepEqual(new Set(options.body.excludeCredentials.map((c: { id: string }) => c.id)), new Set([blue.credentialId, spare.credentialId]));

      const { token: other } = await enrolled('key-lifecycle-other');
      const notYours = await call(api.url, 'DELETE', `/api/v1/auth/mfa/keys/${blueAdded.body.id}`, { token: other });
      assert.equal(notYours.status, 404);
      assert.equal(notYours.body.type, problemType('security-key-not-found'));

      assert.equal((await call(api.url, 'DELETE', `/api/v1/auth/mfa/keys/${blueAdded.body.id}`, { token })).status, 204);
      const first = await login('key-lifecycle');
      assert.deepEqual(first.body.securityKey.allowCredentials.map((c: { id: string }) => c.id), [spare.credentialId]);
      assert.throws(() => blue.get(first.body.securityKey, { origin: api.url }), /not one of the allowed keys/);
      assert.equal((await login('key-lifecycle', { securityKey: spare.get(first.body.securityKey, { origin: api.url }) })).status, 200);

      // Two-factor off: the keys go with it, and the password alone signs in.
      const off = await call(api.url, 'POST', '/api/v1/auth/mfa/disable', { token, json: { password: PASSWORD, code: totpCode(secret, totpStep(nextStep())) } });
      assert.equal(off.status, 204, JSON.stringify(off.body));
      assert.equal(await stack.db.prisma.securityKey.count({ where: { userId } }), 0);
      assert.equal((await login('key-lifecycle')).status, 200);

      // An admin's reset (lost phone and key) removes keys too.
      const { token: admin } = await loginAs(api, { username: 'key-admin', role: 'ADMIN' });
      const { token: lost, userId: lostId } = await enrolled('key-lost');
      assert.equal((await register(lost, createSoftAuthenticator())).status, 201);
      assert.equal((await call(api.url, 'DELETE', `/api/v1/users/${lostId}/mfa`, { token: admin })).status, 204);
      assert.equal(await stack.db.prisma.securityKey.count({ where: { userId: lostId } }), 0);
    });

    test('an account without keys is asked for the code as before, with no challenge', async () => {
      await enrolled('key-none');
      const first = await login('key-none');
      assert.equal(first.status, 401);
      assert.equal(first.body.type, problemType('mfa-required'));
      assert.equal(first.body.securityKey, undefined);
      const bogus = await login('key-none', { securityKey: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' } } });
      assert.equal(bogus.status, 401);
      assert.equal(bogus.body.type, problemType('mfa-failed'));
      const malformed = await login('key-none', { securityKey: { id: 'not base64url!' } });
      assert.equal(malformed.status, 400, 'validated at the edge');
    });

    test('MASKWATCH_SECURITY_KEY_REQUIRED: a key is added before anything else, then only the key signs in; the last key stays', async () => {
      const { secret, userId } = await enrolled('key-policy');
      const code = () => totpCode(secret, totpStep(nextStep()));
      const signedIn = await login('key-policy', { code: code() }, keyed);
      assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
      assert.equal(signedIn.body.user.securityKeySetupRequired, true);
      const token = signedIn.body.token as string;
      // Admins see who must have a key and has none yet.
      const { token: admin } = await loginAs(keyed, { username: 'key-policy-chief', role: 'ADMIN' });
      const listed = async () => (await call(keyed.url, 'GET', '/api/v1/users', { token: admin })).body.items.find((u: { id: string }) => u.id === userId);
      assert.deepEqual([(await listed()).securityKeyRequired, (await listed()).securityKeys], [true, 0]);

      // Until a key is added: only the session and key routes, and no socket.
      const blocked = await call(keyed.url, 'GET', '/api/v1/alerts', { token });
      assert.equal(blocked.status, 403);
      assert.equal(blocked.body.type, problemType('security-key-setup-required'));
      await assert.rejects(socketConnects(keyed.url, token), /two-factor setup required/);
      assert.equal((await call(keyed.url, 'GET', '/api/v1/auth/me', { token })).body.securityKeySetupRequired, true);
      assert.equal((await call(keyed.url, 'GET', '/api/v1/auth/mfa/keys', { token })).status, 200);
      const blue = createSoftAuthenticator();
      const blueAdded = await register(token, blue, 'blue', keyed);
      assert.equal(blueAdded.status, 201, JSON.stringify(blueAdded.body));
      assert.equal((await call(keyed.url, 'GET', '/api/v1/alerts', { token })).status, 200, 'the same session goes on once the key is added');
      assert.equal((await listed()).securityKeys, 1);
      await socketConnects(keyed.url, token);

      // From now on a code is refused before it is checked (a phished one is not even used up), with the key's challenge.
      const phished = code();
      const byCode = await login('key-policy', { code: phished }, keyed);
      assert.equal(byCode.status, 401);
      assert.equal(byCode.body.type, problemType('security-key-required'));
      assert.deepEqual(byCode.body.securityKey.allowCredentials.map((c: { id: string }) => c.id), [blue.credentialId]);
      assert.equal((await login('key-policy', { code: phished })).status, 200, 'the refused code was not used up');
      const failures = await stack.db.prisma.auditEvent.findMany({ where: { action: 'auth.login_failed' } });
      assert.ok(failures.some((e) => JSON.parse(e.details ?? '{}').reason === 'code refused: the role signs in with a security key'));
      assert.equal((await signInWithKey('key-policy', blue, keyed)).status, 200);

      // The last key cannot be removed, nor two-factor turned off; a second key can replace the first.
      const last = await call(keyed.url, 'DELETE', `/api/v1/auth/mfa/keys/${blueAdded.body.id}`, { token });
      assert.equal(last.status, 403);
      assert.equal(last.body.type, problemType('security-key-required-by-policy'));
      const off = await call(keyed.url, 'POST', '/api/v1/auth/mfa/disable', { token, json: { password: PASSWORD, code: code() } });
      assert.equal(off.status, 403);
      assert.equal(off.body.type, problemType('mfa-required-by-policy'));
      const spare = createSoftAuthenticator();
      assert.equal((await register(token, spare, 'spare', keyed)).status, 201);
      assert.equal((await call(keyed.url, 'DELETE', `/api/v1/auth/mfa/keys/${blueAdded.body.id}`, { token })).status, 204);
      assert.equal((await signInWithKey('key-policy', spare, keyed)).status, 200);

      // Other roles are not held to it.
      const { secret: other } = await enrolled('key-policy-admin-free');
      await stack.db.prisma.user.update({ where: { username: 'key-policy-admin-free' }, data: { role: 'ADMIN' } });
      const otherRole = await login('key-policy-admin-free', { code: totpCode(other, totpStep(nextStep())) }, keyed);
      assert.equal(otherRole.status, 200);
      assert.equal(otherRole.body.user.securityKeySetupRequired, false);
    });
  });
}
