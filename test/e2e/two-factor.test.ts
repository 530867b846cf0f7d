/**
 * Two-factor sign-in in Chromium against the real system (`maskwatch start`
 * with MASKWATCH_MFA_REQUIRED=ADMIN): the admin must set it up before seeing
 * anything (QR code and key, first code, recovery codes), signs in again with
 * a code and with a recovery code, and resets a dispatcher's lost phone in
 * Admin › Users. Codes are computed from
 * the key the page shows, as an authenticator app would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { call } from '../helpers/api.ts';
import { totpCode, totpStep } from '../../src/auth/totp.ts';
import { axeViolations, buildDashboard, closeAll, DESK, launchBrowser, screenshot, startSystem, type Browser, type System } from './support.ts';

const PASSWORD = 'correct horse battery staple';

let system: System;
let desk: Browser;

before(async () => {
  await buildDashboard();
  system = await startSystem({ username: 'chief', password: PASSWORD }, { MASKWATCH_MFA_REQUIRED: 'ADMIN' });
  desk = await launchBrowser(DESK);
});

after(() => closeAll(desk, system));

test('an admin sets up two-factor sign-in before anything else, signs in with a code, and resets a dispatcher\'s', async () => {
  const page = await desk.context.newPage();
  // The dashboard confirms destructive actions with confirm(); the test answers yes.
  await page.addInitScript(() => {
    window.confirm = () => true;
  });
  await page.goto(system.url);
  await page.getByLabel('Username').fill('chief');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();

  const setup = page.getByRole('dialog', { name: 'Set up two-factor sign-in' });
  await setup.waitFor();
  assert.equal(await page.locator('header.topbar').count(), 0, 'nothing behind the dialog before the setup');
  assert.equal(await setup.getByRole('button', { name: 'Cancel' }).count(), 0, 'the setup cannot be skipped');
  await setup.getByLabel('Password').fill(PASSWORD);
  await setup.getByRole('button', { name: 'Continue' }).click();
  const qr = setup.getByRole('img', { name: 'QR code of the two-factor secret' });
  await qr.waitFor();
  assert.ok(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 'the QR code is drawn');
  const secret = (await setup.locator('[data-secret]').getAttribute('data-secret'))!;
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await screenshot(page, 'two-factor-setup', 'two-factor-setup');
  assert.equal(await axeViolations(page, 'two-factor setup'), '', 'accessibility (axe-core)');

  await setup.getByLabel('Code shown by the app').fill('000000' === totpCode(secret, totpStep(new Date())) ? '111111' : '000000');
  await setup.getByRole('button', { name: 'Turn on' }).click();
  await setup.getByText('Wrong code').waitFor();
  const enabledStep = totpStep(new Date());
  await setup.getByLabel('Code shown by the app').fill(totpCode(secret, enabledStep));
  await setup.getByRole('button', { name: 'Turn on' }).click();
  // Recovery codes, shown this once, before the console.
  const codes = setup.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await codes.first().waitFor();
  assert.equal(await codes.count(), 10);
  const recoveryCode = (await codes.nth(2).textContent())!.trim();
  assert.match(recoveryCode, /^[a-z2-7]{5}-[a-z2-7]{5}$/);
  assert.equal(await page.locator('header.topbar').count(), 0);
  await screenshot(page, 'two-factor-recovery-codes');
  assert.equal(await axeViolations(page, 'recovery codes'), '', 'accessibility (axe-core)');
  await setup.getByRole('button', { name: 'I have saved them' }).click();
  await page.locator('header.topbar').waitFor();
  await page.getByRole('button', { name: 'Your account' }).click();
  const account = page.getByRole('dialog', { name: 'Your account: chief' });
  await account.getByRole('button', { name: 'Manage two-factor sign-in' }).waitFor();
  await account.getByRole('button', { name: 'Cancel' }).click();

  // Signing in again: the code field appears when the server asks for it.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Username').fill('chief');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Enter the 6-digit code of your authenticator app.').waitFor();
  assert.equal(await axeViolations(page, 'sign-in, code asked'), '', 'accessibility (axe-core)');
  await page.getByLabel('Authenticator code or recovery code').fill(totpCode(secret, enabledStep + 1));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.topbar').waitFor();

  // Without the phone: a recovery code, once.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Username').fill('chief');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Authenticator code or recovery code').fill(recoveryCode);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.topbar').waitFor();

  // A dispatcher (not bound by the admins-only policy) enrols over the API, then loses the phone.
  await page.goto(`${system.url}/#/admin/users`);
  const newUser = page.getByRole('form', { name: 'New user' });
  await newUser.getByLabel('Username').fill('disp1');
  await newUser.getByLabel('Password').fill(PASSWORD);
  await newUser.getByLabel('Role').selectOption('DISPATCHER');
  await newUser.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('rowheader', { name: 'disp1' }).waitFor();
  const token = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'disp1', password: PASSWORD } })).body.token as string;
  const enrol = await call(system.url, 'POST', '/api/v1/auth/mfa/setup', { token, json: { password: PASSWORD } });
  assert.equal(enrol.status, 200);
  const on = await call(system.url, 'POST', '/api/v1/auth/mfa/enable', { token, json: { code: totpCode(enrol.body.secret, totpStep(new Date())) } });
  assert.equal(on.status, 200);
  assert.equal((await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'disp1', password: PASSWORD } })).status, 401);

  await page.reload();
  const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'disp1' }) });
  await row.getByText('Two-factor').first().waitFor();
  await screenshot(page, 'admin-users-two-factor');
  await page.getByRole('button', { name: 'Reset the two-factor sign-in of disp1' }).click();
  await page.getByRole('button', { name: 'Reset the two-factor sign-in of disp1' }).waitFor({ state: 'detached' });
  assert.equal((await call(system.url, 'GET', '/api/v1/auth/me', { token })).status, 401, 'the dispatcher\'s sessions ended');
  assert.equal((await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'disp1', password: PASSWORD } })).status, 200);
  assert.deepEqual(desk.errors.filter((e) => !/401|403|Failed to load resource/.test(e)), []);
});
