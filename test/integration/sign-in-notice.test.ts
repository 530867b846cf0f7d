/**
 * The agency's sign-in notice (MASKWATCH_SIGN_IN_NOTICE_FILE; CJIS 5.5.4 system use notification) over real
 * HTTP: anyone can read it before signing in; a password sign-in must send the version it accepted, is refused
 * before anything else is checked otherwise, and is audited with it; the command line's admin client shows
 * it and sends it. Without a notice nothing is asked.
 * (Single sign-on's side is in security-sso.test.ts.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { call, createTestStack, type TestStack } from '../helpers/api.ts';
import { tempDir } from '../helpers/env.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { login as adminLogin } from '../../src/agent/admin-client.ts';

const PASSWORD = 'correct horse battery staple';
const NOTICE = 'You are accessing a law enforcement information system.\r\nUsage may be monitored, recorded and audited.  \r\n';
const problemType = (slug: string) => `https://maskwatch.dev/problems/${slug}`;

let stack: TestStack;
let api: ApiInstance;
let cleanup: () => Promise<void>;

before(async () => {
  const tmp = await tempDir('maskwatch-notice');
  cleanup = tmp.cleanup;
  const file = path.join(tmp.dir, 'notice.txt');
  await writeFile(file, NOTICE);
  stack = await createTestStack('sqlite', { MASKWATCH_SIGN_IN_NOTICE_FILE: file });
  api = await stack.startApi();
});
after(async () => {
  await stack?.close();
  await cleanup?.();
});

test('the notice is public, in one form (\\n line ends, no trailing spaces), with a version derived from its text', async () => {
  const res = await call(api.url, 'GET', '/api/v1/auth/sign-in-notice');
  assert.equal(res.status, 200);
  assert.equal(res.body.text, 'You are accessing a law enforcement information system.\nUsage may be monitored, recorded and audited.');
  assert.match(res.body.version, /^[0-9a-f]{16}$/);
  assert.deepEqual(stack.config.security.signInNotice, res.body);
});

test('a password sign-in without the accepted version, or with an older one, is refused before the password is checked', async () => {
  const { version } = (await call(api.url, 'GET', '/api/v1/auth/sign-in-notice')).body as { version: string };
  // Made through the auth service: loginAs would sign in without the notice.
  const { id } = await api.app.auth.createUser({ username: 'ana', password: PASSWORD, role: 'DISPATCHER' }, { type: 'SYSTEM' });
  const before = await stack.db.prisma.auditEvent.count({ where: { action: { startsWith: 'auth.login' } } });
  for (const [noticeVersion, detail] of [[undefined, /read and accept the sign-in notice first/], ['0000000000000000', /has changed since it was shown/]] as const) {
    const res = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'ana', password: 'a wrong password!', ...(noticeVersion ? { noticeVersion } : {}) } });
    assert.equal(res.status, 400);
    assert.equal(res.body.type, problemType('notice-not-accepted'));
    assert.match(res.body.detail, detail);
  }
  assert.equal(await stack.db.prisma.auditEvent.count({ where: { action: { startsWith: 'auth.login' } } }), before, 'no attempt was made, so none is audited');

  const ok = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'ana', password: PASSWORD, noticeVersion: version } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const audit = await stack.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'auth.login', subjectId: id } });
  assert.equal((JSON.parse(audit.details!) as { noticeVersion: string }).noticeVersion, version);
});

test('the command line\'s admin sign-in (maskwatch simulate) shows the notice, as a login banner, and sends its version', async () => {
  await api.app.auth.createUser({ username: 'simadmin', password: PASSWORD, role: 'ADMIN' }, { type: 'SYSTEM' });
  const shown: string[] = [];
  const token = await adminLogin(api.url, 'simadmin', PASSWORD, fetch, (text) => shown.push(text));
  assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token })).status, 200);
  assert.deepEqual(shown, [stack.config.security.signInNotice!.text]);
});

test('without a notice: {text: null, version: null}, and sign-ins send nothing', async () => {
  const plain = await stack.startApi({ config: { security: { ...stack.config.security, signInNotice: null } } });
  assert.deepEqual((await call(plain.url, 'GET', '/api/v1/auth/sign-in-notice')).body, { text: null, version: null });
  assert.equal((await call(plain.url, 'POST', '/api/v1/auth/login', { json: { username: 'ana', password: PASSWORD } })).status, 200);
});
