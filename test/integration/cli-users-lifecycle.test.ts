/**
 * `maskwatch users disable|enable|set-role|set-unit|set-zones|reset-password|reset-mfa|unlink-sso|revoke-sessions|delete`
 * as a real process against a running API's database and Redis: clear messages,
 * exit 1 on errors, and the user's tokens and sockets end (issue 13 item 1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { io as connect, type Socket } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { runCli } from '../helpers/cli.ts';
import { freePort } from '../helpers/redis-server.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { totpCode, totpStep } from '../../src/auth/totp.ts';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.ts';

const PASSWORD = 'correct horse battery staple';

const cli = (args: string[], env: Record<string, string>, stdin?: string) => runCli(['users', ...args], { env, stdin });

function open(url: string, token: string): Promise<Socket> {
  const socket = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** The CLI's process start-up alone can take seconds on a busy machine: the 5 s count from its exit (the change is made then). */
function disconnectedWithin(socket: Socket, what: string, ms = 5000): Promise<string> {
  if (!socket.connected) return Promise.resolve('disconnected');
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    new Promise<string>((resolve) => socket.once('disconnect', resolve)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: socket still connected after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('maskwatch users lifecycle subcommands (sqlite, real Redis, running API)', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let env: Record<string, string>;
  const sockets: Socket[] = [];

  before(async () => {
    stack = await createTestStack('sqlite');
    // A slow periodic re-check (60 s): a socket gone within 5 s was dropped by the CLI's Redis broadcast.
    api = await stack.startApi({ config: { sessionCheckMs: 60_000 } });
    env = { DATABASE_URL: stack.config.databaseUrl, REDIS_URL: stack.config.redisUrl, MASKWATCH_QUEUE_PREFIX: stack.config.queuePrefix, MASKWATCH_DATA_DIR: stack.dataDir, LOG_LEVEL: 'warn' };
    await stack.db.prisma.patrolUnit.createMany({ data: [{ callSign: 'ALPHA-1' }, { callSign: 'BRAVO-2' }] });
    await loginAs(api, { username: 'chief', role: 'ADMIN' });
  });
  after(async () => {
    for (const s of sockets) s.close();
    await stack.close();
  });

  test('disable, enable, set-unit, set-role, reset-password, revoke-sessions, delete', async () => {
    const o = await loginAs(api, { username: 'walker', role: 'OFFICER', unitCallSign: 'ALPHA-1' });
    let socket = await open(api.url, o.token);
    sockets.push(socket);
    const disabled = await cli(['disable', 'walker'], env);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, /disabled user walker/);
    await disconnectedWithin(socket, 'users disable');
    assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: o.token })).status, 401);
    assert.equal((await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'walker', password: PASSWORD } })).status, 401);

    assert.equal((await cli(['enable', 'walker'], env)).code, 0);
    const login = async (password = PASSWORD) => {
      const r = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'walker', password } });
      assert.equal(r.status, 200, `login as walker: ${JSON.stringify(r.body)}`);
      return r.body as { token: string; user: { role: string; unitId: string | null } };
    };
    let session = await login();

    const unitB = (await stack.db.prisma.patrolUnit.findUniqueOrThrow({ where: { callSign: 'BRAVO-2' } })).id;
    socket = await open(api.url, session.token);
    sockets.push(socket);
    const moved = await cli(['set-unit', 'walker', 'BRAVO-2'], env);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /moved to unit BRAVO-2/);
    await disconnectedWithin(socket, 'users set-unit');
    session = await login();
    assert.equal(session.user.unitId, unitB);

    const promoted = await cli(['set-role', 'walker', 'dispatcher'], env);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: session.token })).status, 401);
    session = await login();
    assert.equal(session.user.role, 'DISPATCHER');

    const reset = await cli(['reset-password', 'walker', '--password-stdin', '--must-change'], env, 'a temporary password\n');
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: session.token })).status, 401);
    session = await login('a temporary password');
    assert.equal((session.user as { mustChangePassword?: boolean }).mustChangePassword, true);
    assert.equal((await call(api.url, 'POST', '/api/v1/auth/password', { token: session.token, json: { currentPassword: 'a temporary password', newPassword: PASSWORD } })).status, 204);

    socket = await open(api.url, session.token);
    sockets.push(socket);
    const revoked = await cli(['revoke-sessions', 'walker'], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked 1 session of walker/);
    await disconnectedWithin(socket, 'users revoke-sessions');

    const id = o.userId;
    const deleted = await cli(['delete', 'walker'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /audit trail kept/);
    assert.equal((await stack.db.prisma.user.findUniqueOrThrow({ where: { id } })).username, `deleted-${id}`);
    const actions = (await stack.db.prisma.auditEvent.findMany({ where: { subjectId: id }, orderBy: [{ at: 'asc' }, { id: 'asc' }] })).map((a) => `${a.actorType}:${a.action}`);
    for (const a of ['SYSTEM:user.update', 'SYSTEM:user.password_reset', 'SYSTEM:user.sessions_revoke', 'SYSTEM:user.delete']) assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
  });

  test('reset-mfa: a user who lost their phone logs in with the password again; users list shows who has two-factor sign-in', async () => {
    const u = await loginAs(api, { username: 'lostphone', role: 'DISPATCHER' });
    const setup = await call(api.url, 'POST', '/api/v1/auth/mfa/setup', { token: u.token, json: { password: PASSWORD } });
    assert.equal(setup.status, 200);
    const enable = await call(api.url, 'POST', '/api/v1/auth/mfa/enable', { token: u.token, json: { code: totpCode(setup.body.secret, totpStep(new Date())) } });
    assert.equal(enable.status, 200);
    assert.match((await cli(['list'], env)).stdout, /^lostphone\tDISPATCHER\t-\ttwo-factor$/m);
    assert.match((await cli(['list'], { ...env, MASKWATCH_SECURITY_KEY_REQUIRED: 'DISPATCHER' })).stdout, /^lostphone\tDISPATCHER\t-\ttwo-factor\tsecurity key due$/m);
    // A security key too: the reset removes it with the app.
    const options = await call(api.url, 'POST', '/api/v1/auth/mfa/keys/options', { token: u.token, json: { password: PASSWORD } });
    const credential = createSoftAuthenticator().create(options.body, { origin: api.url });
    assert.equal((await call(api.url, 'POST', '/api/v1/auth/mfa/keys', { token: u.token, json: { name: 'key', credential } })).status, 201);
    assert.match((await cli(['list'], env)).stdout, /^lostphone\tDISPATCHER\t-\ttwo-factor\tsecurity keys: 1$/m);
    const socket = await open(api.url, u.token);
    sockets.push(socket);

    const reset = await cli(['reset-mfa', 'lostphone'], env);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /two-factor sign-in of lostphone removed with 1 security key; 1 session ended/);
    await disconnectedWithin(socket, 'users reset-mfa');
    assert.match((await cli(['list'], env)).stdout, /^lostphone\tDISPATCHER\t-$/m);
    const login = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'lostphone', password: PASSWORD } });
    assert.equal(login.status, 200, 'the password alone logs in again');
    assert.ok(await stack.db.prisma.auditEvent.findFirst({ where: { subjectId: u.userId, action: 'user.mfa_reset', actorType: 'SYSTEM' } }));
    const unknown = await cli(['reset-mfa', 'nobody-here'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no user "nobody-here"/);
  });

  test('unlink-sso: an account linked to the wrong directory identity is unlinked, its sessions end; users list shows the link', async () => {
    const u = await loginAs(api, { username: 'linked', role: 'DISPATCHER' });
    await stack.db.prisma.user.update({ where: { id: u.userId }, data: { ssoSubject: 'directory-subject-1' } });
    assert.match((await cli(['list'], env)).stdout, /^linked\tDISPATCHER\t-\tsingle sign-on$/m);
    const socket = await open(api.url, u.token);
    sockets.push(socket);

    const unlink = await cli(['unlink-sso', 'linked'], env);
    assert.equal(unlink.code, 0, unlink.stderr);
    assert.match(unlink.stdout, /linked unlinked from its directory identity; 1 session ended/);
    await disconnectedWithin(socket, 'users unlink-sso');
    assert.equal((await stack.db.prisma.user.findUniqueOrThrow({ where: { id: u.userId } })).ssoSubject, null);
    assert.match((await cli(['list'], env)).stdout, /^linked\tDISPATCHER\t-$/m);
    const again = await cli(['unlink-sso', 'linked'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /linked is not linked to a directory identity/);
  });

  test('disable works with Redis down, for one Redis and for a Sentinel URL: a warning, then the user is disabled', async () => {
    const closed = await freePort();
    const urls = [`redis://:secret@127.0.0.1:${closed}`, `redis+sentinel://:secret@127.0.0.1:${closed},127.0.0.1:${closed}/mymaster?sentinelPassword=secret`];
    for (const [i, url] of urls.entries()) {
      const name = `bob${i}`;
      await loginAs(api, { username: name, role: 'DISPATCHER' });
      const r = await cli(['disable', name], { ...env, REDIS_URL: url });
      assert.equal(r.code, 0, `${url}: ${r.stderr}`);
      assert.match(r.stderr, /^warning: Redis \(redis(\+sentinel)?:\/\/:\*\*\*@127\.0\.0\.1:\d+.*\) is not reachable: /, url);
      assert.doesNotMatch(r.stderr, /secret/, 'no password printed');
      assert.match(r.stdout, /disabled user bob/);
      assert.equal((await stack.db.prisma.user.findFirstOrThrow({ where: { username: name } })).disabled, true, name);
    }
  });

  test("zones: users add --zone and set-zones limit a dispatcher to zones, end their sessions, and users list shows them", async () => {
    const added = await cli(['add', '--username', 'desk1', '--role', 'DISPATCHER', '--zone', 'Centro', '--zone', 'Norte', '--password-stdin'], env, PASSWORD);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /created user desk1 \(DISPATCHER, zones Centro, Norte\)/);
    const first = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'desk1', password: PASSWORD } });
    assert.deepEqual(first.body.user.zones, ['Centro', 'Norte']);
    const socket = await open(api.url, first.body.token);
    sockets.push(socket);

    const set = await cli(['set-zones', 'desk1', 'Sur'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /user desk1 now sees the alerts of zones Sur; their sessions ended/);
    await disconnectedWithin(socket, 'users set-zones');
    assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: first.body.token })).status, 401);
    assert.match((await cli(['list'], env)).stdout, /desk1\tDISPATCHER\t-\tzones: Sur\n/);

    // The same as JSON lines, with the API's names: an access review's input.
    const json = await cli(['list', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const rows = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const desk1 = rows.find((r) => r.username === 'desk1');
    assert.deepEqual(Object.keys(desk1), ['username', 'role', 'unit', 'zones', 'enabled', 'mfaEnabled', 'securityKeys', 'securityKeyRequired', 'ssoLinked', 'lastSignInAt', 'createdAt']);
    assert.deepEqual([desk1.role, desk1.unit, desk1.zones, desk1.enabled], ['DISPATCHER', null, ['Sur'], true]);
    assert.ok(Date.parse(desk1.lastSignInAt) > 0 && Date.parse(desk1.createdAt) > 0);
    assert.deepEqual(rows.map((r) => r.username), [...rows.map((r) => r.username)].sort(), 'by username');
    const bad = await cli(['list', '--csv'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unexpected argument "--csv"/);

    const none = await cli(['set-zones', 'desk1', '--none'], env);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /user desk1 now sees every zone/);
    assert.match((await cli(['list'], env)).stdout, /desk1\tDISPATCHER\t-\n/);
  });

  test('errors: clear message and exit 1', async () => {
    const cases: [string[], string, RegExp][] = [
      [['disable', 'nobody-here'], '', /no user "nobody-here"/],
      [['disable'], '', /USERNAME is required/],
      [['set-role', 'chief', 'KING'], '', /ADMIN, DISPATCHER or OFFICER/],
      [['set-unit', 'chief'], '', /CALLSIGN, or --none/],
      [['set-unit', 'chief', 'NOPE-9'], '', /no patrol unit with call sign "NOPE-9"/],
      [['disable', 'chief', '--unit', 'ALPHA-1'], '', /--unit does not apply to disable/],
      [['disable', 'chief'], '', /last enabled admin/],
      [['delete', 'chief'], '', /last enabled admin/],
      [['reset-password', 'chief', '--password-stdin'], 'short', /at least 12/],
      [['reset-password', 'chief'], '', /--password-stdin/],
      // Only officers belong to units: refused before a unit is created or a role changed.
      [['add', '--username', 'desk9', '--role', 'DISPATCHER', '--unit', 'NEW-UNIT-9', '--password-stdin'], PASSWORD, /only officers belong to a patrol unit/],
      [['set-role', 'chief', 'DISPATCHER', '--unit', 'ALPHA-1'], '', /only officers belong to a patrol unit/],
      // Only dispatchers are limited to zones.
      [['add', '--username', 'cop9', '--role', 'OFFICER', '--unit', 'ALPHA-1', '--zone', 'Centro', '--password-stdin'], PASSWORD, /--zone: only dispatchers are limited to zones/],
      [['set-zones', 'chief', 'Centro'], '', /only dispatchers are limited to zones/],
      [['set-zones', 'chief'], '', /give the ZONEs, or --none/],
      [['set-zones', 'chief', 'Centro', '--none'], '', /give ZONEs or --none, not both/],
    ];
    for (const [args, stdin, message] of cases) {
      const r = await cli(args, env, stdin);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal(await stack.db.prisma.patrolUnit.count({ where: { callSign: 'NEW-UNIT-9' } }), 0);
  });
});
