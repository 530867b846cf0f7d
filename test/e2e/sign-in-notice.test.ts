/**
 * The agency's sign-in notice (CJIS 5.5.4 system use notification) in Chromium against the real system: it
 * stays on the sign-in page until accepted, a sign-in without the tick goes nowhere, the acceptance is
 * audited, signing in again after the session ended needs no second tick in the same tab, and after logging
 * out the next person at the screen accepts it for themselves.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { call } from '../helpers/api.ts';
import { axeViolations, buildDashboard, closeAll, DESK, launchBrowser, screenshot, startSystem, type Browser, type System } from './support.ts';

const PASSWORD = 'correct horse battery staple';
const NOTICE = [
  'You are accessing a Metro Police information system, provided for authorised use only.',
  '',
  'Usage may be monitored, recorded and subject to audit. Unauthorised use is prohibited and subject to criminal and civil penalties.',
  'Use of this system indicates consent to monitoring and recording.',
].join('\n');

let system: System;
let desk: Browser;

before(async () => {
  await buildDashboard();
  system = await startSystem({ username: 'chief', password: PASSWORD }, { MASKWATCH_SIGN_IN_NOTICE: NOTICE, MASKWATCH_SESSION_CHECK_MS: '1000' });
  desk = await launchBrowser(DESK);
});

after(() => closeAll(desk, system));

test('the notice is accepted before signing in, audited, kept for signing in again in the tab, and asked anew after logging out', async () => {
  const { version } = (await call(system.url, 'GET', '/api/v1/auth/sign-in-notice')).body as { version: string };
  const page = await desk.context.newPage();
  const logins: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/v1/auth/login')) logins.push(r.postData() ?? '');
  });
  await page.goto(system.url);
  const notice = page.getByRole('region', { name: 'Notice' });
  await notice.waitFor();
  assert.equal(await notice.getByRole('document', { name: 'Sign-in notice' }).innerText(), NOTICE);
  assert.equal(await page.getByText('Authorised personnel only. Every action is logged.').isVisible(), false, 'the agency\'s notice replaces the standard line');
  assert.equal(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name), 'username', 'the page opens ready for the username');
  assert.equal(await axeViolations(page, 'sign-in with a notice'), '', 'accessibility (axe-core)');
  await screenshot(page, 'sign-in-notice', 'sign-in-notice');

  await page.getByLabel('Username').fill('chief');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const accept = page.getByLabel('I have read this notice and accept its conditions');
  assert.equal(await accept.evaluate((box: HTMLInputElement) => box.validity.valueMissing), true);
  assert.deepEqual(logins, [], 'nothing is sent before the notice is accepted');
  assert.equal(await page.getByRole('button', { name: 'Log out' }).count(), 0);

  await accept.check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  assert.equal((JSON.parse(logins[0]!) as { noticeVersion: string }).noticeVersion, version);
  const audited = async () =>
    (await system.db.prisma.auditEvent.findMany({ where: { action: 'auth.login' }, orderBy: { at: 'asc' } })).map((e) => (JSON.parse(e.details!) as { noticeVersion?: string }).noticeVersion);
  assert.deepEqual(await audited(), [version]);

  // Every session ends (an admin's "log out everywhere"): signing in again in this tab carries the acceptance.
  const token = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD, noticeVersion: version } })).body.token as string;
  const me = (await call(system.url, 'GET', '/api/v1/auth/me', { token })).body.id as string;
  assert.equal((await call(system.url, 'DELETE', `/api/v1/users/${me}/sessions`, { token })).status, 204);
  const again = page.getByRole('dialog', { name: 'Your session has ended' });
  await again.waitFor({ timeout: 10_000 });
  await again.getByLabel('Password').fill(PASSWORD);
  await again.getByRole('button', { name: 'Sign in again' }).click();
  await again.waitFor({ state: 'detached' });
  assert.deepEqual(await audited(), [version, version, version]);

  // Logging out: the next person at this screen reads and accepts it for themselves.
  await page.getByRole('button', { name: 'Log out' }).click();
  await notice.waitFor();
  assert.equal(await accept.isChecked(), false);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('maskwatch.notice-accepted')), null);
  assert.deepEqual(desk.errors.filter((e) => !e.includes('401')), []);
});
