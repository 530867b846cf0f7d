/**
 * Two-factor sign-in (TOTP) over real HTTP and Socket.IO, on SQLite and
 * PostgreSQL: enrolment, logins that need a code, codes that work once, the
 * admin's reset, and the policy that makes a role enrol before anything else.
 * The API's TOTP clock is injected, so codes are computed for exact time steps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { io as connect } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { totpCode, totpStep, TOTP_STEP_SECONDS } from '../../src/auth/totp.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const PASSWORD = 'correct horse battery staple';
const problemType = (slug: string) => `https://maskwatch.dev/problems/${slug}`;

for (const provider of testProviders()) {
  describe(`two-factor sign-in (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let strict: ApiInstance;
    let admin: string;
    // Mid-step and still: a step is never crossed by accident; tests move it on by whole steps.
    let clock = new Date(Math.floor(Date.now() / 30_000) * 30_000 + 15_000);
    const step = () => totpStep(clock);
    const nextStep = () => (clock = new Date(clock.getTime() + TOTP_STEP_SECONDS * 1000));

    const login = (username: string, password: string, code?: string, on: ApiInstance = api) =>
      call(on.url, 'POST', '/api/v1/auth/login', { json: { username, password, ...(code ? { code } : {}) } });

    /** Sets up and enables two-factor sign-in for a logged-in user; returns the secret. */
    async function enrol(token: string, on: ApiInstance = api): Promise<string> {
      const setup = await call(on.url, 'POST', '/api/v1/auth/mfa/setup', { token, json: { password: PASSWORD } });
      assert.equal(setup.status, 200, JSON.stringify(setup.body));
      const enable = await call(on.url, 'POST', '/api/v1/auth/mfa/enable', { token, json: { code: totpCode(setup.body.secret, step()) } });
      assert.equal(enable.status, 200, JSON.stringify(enable.body));
      return setup.body.secret as string;
    }

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi({ totpClock: () => clock });
      // Same database and data dir (so the same secret key file), with the policy that admins must enrol.
      strict = await stack.startApi({
        totpClock: () => clock,
        config: { security: { ...stack.config.security, mfa: { requiredRoles: ['ADMIN'], securityKeyRoles: [] } } },
      });
      ({ token: admin } = await loginAs(api, { username: 'chief', role: 'ADMIN' }));
    });
    after(async () => {
      await stack?.close();
    });

    test('a user enrols with the password and a first code; the secret is stored sealed, other sessions end', async () => {
      const { token, userId } = await loginAs(api, { username: 'disp-enrol', role: 'DISPATCHER' });
      const other = (await login('disp-enrol', PASSWORD)).body.token as string;

      const wrong = await call(api.url, 'POST', '/api/v1/auth/mfa/setup', { token, json: { password: 'not the password' } });
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.type, problemType('wrong-password'));

      const setup = await call(api.url, 'POST', '/api/v1/auth/mfa/setup', { token, json: { password: PASSWORD } });
      assert.equal(setup.status, 200);
      assert.equal(setup.headers.get('cache-control'), 'no-store');
      const { secret, otpauthUri, qrSvg } = setup.body;
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.ok(otpauthUri.startsWith('otpauth://totp/MaskWatch:disp-enrol?'), otpauthUri);
      assert.equal(new URL(otpauthUri).searchParams.get('secret'), secret);
      assert.match(qrSvg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);

      // Not on until a code confirms it: the password alone still logs in.
      assert.equal((await login('disp-enrol', PASSWORD)).status, 200);
      const row = await stack.db.prisma.user.findUniqueOrThrow({ where: { id: userId } });
      assert.ok(row.totpPendingSecret && !row.totpPendingSecret.includes(secret), 'the pending secret is sealed');
      assert.equal(row.totpEnabledAt, null);

      const badCode = await call(api.url, 'POST', '/api/v1/auth/mfa/enable', { token, json: { code: totpCode(secret, step() + 5) } });
      assert.equal(badCode.status, 400);
      assert.equal(badCode.body.type, problemType('mfa-failed'));
      const notACode = await call(api.url, 'POST', '/api/v1/auth/mfa/enable', { token, json: { code: '12ab56' } });
      assert.equal(notACode.status, 400);

      const enable = await call(api.url, 'POST', '/api/v1/auth/mfa/enable', { token, json: { code: totpCode(secret, step()) } });
      assert.equal(enable.status, 200);
      assert.equal(enable.headers.get('cache-control'), 'no-store');
      assert.equal(enable.body.recoveryCodes.length, 10, 'recovery codes are shown once, at enabling');
      for (const c of enable.body.recoveryCodes) assert.match(c, /^[a-z2-7]{5}-[a-z2-7]{5}$/);
      assert.equal(new Set(enable.body.recoveryCodes).size, 10);
      const enabled = await stack.db.prisma.user.findUniqueOrThrow({ where: { id: userId } });
      assert.ok(enabled.totpSecret && !enabled.totpSecret.includes(secret), 'the secret is sealed');
      assert.equal(enabled.totpPendingSecret, null);
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: other })).status, 401, 'a session opened without the second factor ends');
      const me = await call(api.url, 'GET', '/api/v1/auth/me', { token });
      assert.equal(me.status, 200);
      assert.equal(me.body.mfaEnabled, true);
      assert.equal(me.body.mfaSetupRequired, false);

      const again = await call(api.url, 'POST', '/api/v1/auth/mfa/setup', { token, json: { password: PASSWORD } });
      assert.equal(again.status, 409);
      assert.equal(again.body.type, problemType('mfa-enabled'));
      const audit = await stack.db.prisma.auditEvent.findMany({ where: { subjectId: userId, action: 'user.mfa_enable' } });
      assert.equal(audit.length, 1);
    });

    test('an enrolled account needs a code at login; each code works once; a wrong password says nothing about the code', async () => {
      const { token, userId } = await loginAs(api, { username: 'disp-login', role: 'DISPATCHER' });
      const secret = await enrol(token);

      const noCode = await login('disp-login', PASSWORD);
      assert.equal(noCode.status, 401);
      assert.equal(noCode.body.type, problemType('mfa-required'));
      const wrongPassword = await login('disp-login', 'not the password', totpCode(secret, step()));
      assert.equal(wrongPassword.status, 401);
      assert.equal(wrongPassword.body.type, problemType('login-failed'));
      const used = await login('disp-login', PASSWORD, totpCode(secret, step()));
      assert.equal(used.status, 401, 'the code that enabled it was used already');
      assert.equal(used.body.type, problemType('mfa-failed'));

      nextStep();
      const ok = await login('disp-login', PASSWORD, totpCode(secret, step()));
      assert.equal(ok.status, 200);
      assert.equal(ok.body.user.mfaEnabled, true);
      const replay = await login('disp-login', PASSWORD, totpCode(secret, step()));
      assert.equal(replay.status, 401, 'a code seen over a shoulder cannot be used again');
      // The phone's clock one step ahead still works, once.
      assert.equal((await login('disp-login', PASSWORD, totpCode(secret, step() + 1))).status, 200);
      assert.equal((await login('disp-login', PASSWORD, totpCode(secret, step() - 1))).status, 401, 'an earlier step than one used is refused');

      const failed = await stack.db.prisma.auditEvent.findMany({ where: { action: 'auth.login_failed' } });
      const mfaFailures = failed.filter((e) => (JSON.parse(e.details ?? '{}') as { username?: string; reason?: string }).username === 'disp-login');
      assert.equal(mfaFailures.filter((e) => e.details?.includes('wrong second-factor code')).length, 3);
      assert.ok(await stack.db.prisma.auditEvent.findFirst({ where: { action: 'auth.login', subjectId: userId } }));
    });

    test('a recovery code signs in once without the app; a new set voids the old one; codes are stored as hashes', async () => {
      const { token, userId } = await loginAs(api, { username: 'disp-recover', role: 'DISPATCHER' });
      const setup = await call(api.url, 'POST', '/api/v1/auth/mfa/setup', { token, json: { password: PASSWORD } });
      const codes = (await call(api.url, 'POST', '/api/v1/auth/mfa/enable', { token, json: { code: totpCode(setup.body.secret, step()) } })).body.recoveryCodes as string[];
      const stored = await stack.db.prisma.mfaRecoveryCode.findMany({ where: { userId } });
      assert.equal(stored.length, 10);
      assert.ok(stored.every((r) => /^[0-9a-f]{64}$/.test(r.codeHash) && !codes.some((c) => r.codeHash.includes(c.replace('-', '')))), 'only hashes are stored');

      // Typed without the dash and in capitals, as people do.
      const typed = codes[3]!.replace('-', '').toUpperCase();
      const ok = await login('disp-recover', PASSWORD, typed);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const again = await login('disp-recover', PASSWORD, codes[3]);
      assert.equal(again.status, 401, 'a recovery code works once');
      assert.equal(again.body.type, problemType('mfa-failed'));
      const event = await stack.db.prisma.auditEvent.findFirst({ where: { action: 'auth.login', subjectId: userId }, orderBy: { at: 'desc' } });
      assert.match(event?.details ?? '', /"secondFactor":"recovery-code"/);
      assert.equal(await stack.db.prisma.mfaRecoveryCode.count({ where: { userId, usedAt: null } }), 9);

      // Someone else's code is no code for this account.
      const { token: otherToken } = await loginAs(api, { username: 'disp-other', role: 'DISPATCHER' });
      const otherSetup = await call(api.url, 'POST', '/api/v1/auth/mfa/setup', { token: otherToken, json: { password: PASSWORD } });
      const otherCodes = (await call(api.url, 'POST', '/api/v1/auth/mfa/enable', { token: otherToken, json: { code: totpCode(otherSetup.body.secret, step()) } })).body.recoveryCodes as string[];
      assert.equal((await login('disp-recover', PASSWORD, otherCodes[0])).status, 401);

      const wrongPassword = await call(api.url, 'POST', '/api/v1/auth/mfa/recovery-codes', { token: ok.body.token, json: { password: 'not the password' } });
      assert.equal(wrongPassword.status, 403);
      const renewed = await call(api.url, 'POST', '/api/v1/auth/mfa/recovery-codes', { token: ok.body.token, json: { password: PASSWORD } });
      assert.equal(renewed.status, 200);
      assert.equal(renewed.body.recoveryCodes.length, 10);
      assert.equal((await login('disp-recover', PASSWORD, codes[5])).status, 401, 'the earlier set no longer works');
      assert.equal((await login('disp-recover', PASSWORD, renewed.body.recoveryCodes[0])).status, 200);
      assert.ok(await stack.db.prisma.auditEvent.findFirst({ where: { action: 'user.mfa_recovery_codes', subjectId: userId } }));

      // An admin's reset takes them away with the second factor.
      assert.equal((await call(api.url, 'DELETE', `/api/v1/users/${userId}/mfa`, { token: admin })).status, 204);
      assert.equal(await stack.db.prisma.mfaRecoveryCode.count({ where: { userId } }), 0);
    });

    test('wrong codes are throttled like wrong passwords: six digits cannot be walked through', async () => {
      const { token } = await loginAs(api, { username: 'disp-guess', role: 'DISPATCHER' });
      const secret = await enrol(token);
      nextStep();
      const right = totpCode(secret, step());
      const guesses = ['000000', '111111', '222222', '333333', '444444', '555555', '666666'].filter((c) => c !== right);
      const statuses: number[] = [];
      for (const code of guesses) statuses.push((await login('disp-guess', PASSWORD, code)).status);
      assert.ok(statuses.includes(429), `a guesser is slowed down: ${statuses.join(', ')}`);
      const blocked = await login('disp-guess', PASSWORD, right);
      assert.equal(blocked.status, 429, 'even the right code waits for the delay');
      assert.ok(Number(blocked.headers.get('retry-after')) >= 1);
    });

    test('an admin resets a lost phone: every session ends, the password alone logs in again; audited', async () => {
      const { token, userId } = await loginAs(api, { username: 'officer-lost', role: 'DISPATCHER' });
      await enrol(token);
      const reset = await call(api.url, 'DELETE', `/api/v1/users/${userId}/mfa`, { token: admin });
      assert.equal(reset.status, 204);
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token })).status, 401);
      const relogin = await login('officer-lost', PASSWORD);
      assert.equal(relogin.status, 200);
      assert.equal(relogin.body.user.mfaEnabled, false);
      const users = await call(api.url, 'GET', '/api/v1/users', { token: admin });
      assert.equal(users.body.items.find((u: { id: string }) => u.id === userId).mfaEnabled, false);
      const event = await stack.db.prisma.auditEvent.findFirst({ where: { action: 'user.mfa_reset', subjectId: userId } });
      assert.ok(event, 'the reset is audited');
      assert.match(event.details ?? '', /"wasEnabled":true/);
      // Only admins may reset.
      const notAdmin = await call(api.url, 'DELETE', `/api/v1/users/${userId}/mfa`, { token: relogin.body.token });
      assert.equal(notAdmin.status, 403);
    });

    test('a user turns it off with password and code, unless the role must have it', async () => {
      const { token } = await loginAs(api, { username: 'disp-off', role: 'DISPATCHER' });
      const secret = await enrol(token);
      nextStep();
      const badCode = await call(api.url, 'POST', '/api/v1/auth/mfa/disable', { token, json: { password: PASSWORD, code: totpCode(secret, step() + 4) } });
      assert.equal(badCode.status, 400);
      const off = await call(api.url, 'POST', '/api/v1/auth/mfa/disable', { token, json: { password: PASSWORD, code: totpCode(secret, step()) } });
      assert.equal(off.status, 204);
      assert.equal((await login('disp-off', PASSWORD)).status, 200);

      // Under a policy that requires it for admins, an admin cannot turn theirs off.
      const { token: adminToken } = await loginAs(api, { username: 'chief-2', role: 'ADMIN' });
      const adminSecret = await enrol(adminToken);
      nextStep();
      const onStrict = (await login('chief-2', PASSWORD, totpCode(adminSecret, step()), strict)).body.token as string;
      const refused = await call(strict.url, 'POST', '/api/v1/auth/mfa/disable', {
        token: onStrict,
        json: { password: PASSWORD, code: totpCode(adminSecret, step() + 1) },
      });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.type, problemType('mfa-required-by-policy'));
    });

    test('MASKWATCH_MFA_REQUIRED: an admin without a second factor may only enrol (API and sockets) until done', async () => {
      const created = await api.app.auth.createUser({ username: 'chief-new', password: PASSWORD, role: 'ADMIN' }, { type: 'SYSTEM' });
      const first = await login('chief-new', PASSWORD, undefined, strict);
      assert.equal(first.status, 200);
      assert.equal(first.body.user.mfaSetupRequired, true);
      const token = first.body.token as string;
      const blocked = await call(strict.url, 'GET', '/api/v1/users', { token });
      assert.equal(blocked.status, 403);
      assert.equal(blocked.body.type, problemType('mfa-setup-required'));
      assert.equal((await call(strict.url, 'GET', '/api/v1/auth/me', { token })).body.mfaSetupRequired, true);
      const socketError = await new Promise<string>((resolve, reject) => {
        const socket = connect(strict.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
        const timer = setTimeout(() => {
          socket.close();
          reject(new Error('timed out waiting for the socket handshake to be refused'));
        }, 10_000);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.close();
          reject(new Error('the socket of an account that must enrol was accepted'));
        });
        socket.once('connect_error', (err) => {
          clearTimeout(timer);
          socket.close();
          resolve(err.message);
        });
      });
      assert.match(socketError, /two-factor/);
      // A dispatcher is not bound by an admins-only policy.
      const { token: dispatcher } = await loginAs(strict, { username: 'disp-free', role: 'DISPATCHER' });
      assert.equal((await call(strict.url, 'GET', '/api/v1/alerts', { token: dispatcher })).status, 200);

      await enrol(token, strict);
      const users = await call(strict.url, 'GET', '/api/v1/users', { token });
      assert.equal(users.status, 200, 'enrolled: the admin may work');
      assert.equal(users.body.items.find((u: { id: string }) => u.id === created.id).mfaEnabled, true);
    });
  });
}
