/**
 * Security keys in Chromium against the real system (`maskwatch start`), with Chromium's own virtual
 * authenticator (DevTools WebAuthn domain) as the key. A dispatcher with two-factor sign-in:
 * - at an IP address, is told why a key cannot be added there;
 * - at http://localhost (a secure context whose host name can name a WebAuthn site), adds a key in Your
 *   account, then signs in by password and key in one click;
 * - with the key gone, the browser's refusal leads to the code field, and a recovery code signs in.
 * Admin › Users marks who has a key.
 * An officer, whose role must sign in with a key (MASKWATCH_SECURITY_KEY_REQUIRED=OFFICER), sets up the app,
 * then adds a key, before seeing anything; from then on the key signs in and a code is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { call } from '../helpers/api.ts';
import { totpCode, totpStep } from '../../src/auth/totp.ts';
import type { CDPSession, Page } from 'playwright-core';
import { axeViolations, buildDashboard, closeAll, DESK, launchBrowser, login, screenshot, startSystem, type Browser, type System } from './support.ts';

const PASSWORD = 'correct horse battery staple';

let system: System;
let desk: Browser;

before(async () => {
  await buildDashboard();
  system = await startSystem({ username: 'chief', password: PASSWORD }, { MASKWATCH_SECURITY_KEY_REQUIRED: 'OFFICER' });
  desk = await launchBrowser(DESK);
});

after(() => closeAll(desk, system));

/** A virtual USB key that answers without a touch. */
const USB_KEY = { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false, automaticPresenceSimulation: true } as const;

/** USB_KEY as the page's browser's only authenticator. */
async function virtualKey(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: USB_KEY });
  return { cdp, authenticatorId };
}

test('a dispatcher adds a security key, signs in with it in one click, and falls back to the code without it', async () => {
  // The dispatcher, with two-factor sign-in on (over the API, as two-factor.test.ts does in the browser).
  const admin = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } })).body.token as string;
  assert.equal((await call(system.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'disp-key', password: PASSWORD, role: 'DISPATCHER' } })).status, 201);
  const token = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'disp-key', password: PASSWORD } })).body.token as string;
  const setup = await call(system.url, 'POST', '/api/v1/auth/mfa/setup', { token, json: { password: PASSWORD } });
  const secret = setup.body.secret as string;
  const step = totpStep(new Date());
  const enabled = await call(system.url, 'POST', '/api/v1/auth/mfa/enable', { token, json: { code: totpCode(secret, step) } });
  assert.equal(enabled.status, 200);
  // Each app code works once and only a later one after it: the second sign-in by code uses a recovery code.
  const recoveryCode = enabled.body.recoveryCodes[0] as string;

  const page = await desk.context.newPage();
  const { cdp, authenticatorId } = await virtualKey(page);
  const local = system.url.replace('127.0.0.1', 'localhost');

  // At an IP address the browser will not use a key, and the dialog says why.
  await page.goto(system.url);
  await page.getByLabel('Username').fill('disp-key');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Authenticator code or recovery code').fill(enabled.body.recoveryCodes[1] as string);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Your account' }).click();
  await page.getByRole('dialog', { name: 'Your account: disp-key' }).getByRole('button', { name: 'Manage two-factor sign-in' }).click();
  const atIp = page.getByRole('dialog', { name: 'Two-factor sign-in' });
  await atIp.getByLabel('Name of the key').fill('blue YubiKey');
  await atIp.getByLabel('Password').first().fill(PASSWORD);
  await atIp.getByRole('button', { name: 'Add key' }).click();
  await atIp.getByText('Security keys cannot be used at 127.0.0.1: open MaskWatch by its host name, not an IP address.').waitFor();
  await atIp.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Log out' }).click();

  // Signed in with the app's code, the dispatcher adds the key in Your account › Manage two-factor sign-in.
  await page.goto(local);
  await page.getByLabel('Username').fill('disp-key');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Enter the 6-digit code of your authenticator app.').waitFor();
  await page.getByLabel('Authenticator code or recovery code').fill(totpCode(secret, step + 1));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.topbar').waitFor();
  await page.getByRole('button', { name: 'Your account' }).click();
  await page.getByRole('dialog', { name: 'Your account: disp-key' }).getByRole('button', { name: 'Manage two-factor sign-in' }).click();
  const manage = page.getByRole('dialog', { name: 'Two-factor sign-in' });
  const keys = manage.getByRole('list', { name: 'Security keys' });
  await keys.getByText('No security key yet.').waitFor();
  await manage.getByLabel('Name of the key').fill('blue YubiKey');
  await manage.getByLabel('Password').first().fill(PASSWORD);
  await manage.getByRole('button', { name: 'Add key' }).click();
  await keys.getByText('blue YubiKey').waitFor();
  await keys.getByText('not used yet').waitFor();
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the key holds one credential for this site');
  assert.equal(credentials[0]!.rpId, 'localhost');
  const signCount = credentials[0]!.signCount;
  await screenshot(page, 'two-factor-security-keys', 'two-factor-security-keys');
  await manage.getByRole('button', { name: 'Cancel' }).click();

  // Password, then the key: one click on Sign in, no code typed.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Username').fill('disp-key');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.topbar').waitFor();
  assert.equal((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0]!.signCount, signCount + 1, 'the key signed once');
  const audit = await call(system.url, 'GET', '/api/v1/audit?action=auth.login', { token: admin });
  assert.equal(audit.status, 200, JSON.stringify(audit.body));
  assert.equal(audit.body.items.find((e: { details: { username?: string } }) => e.details.username === 'disp-key')?.details.secondFactor, 'security-key');

  // The key is lost: the browser finds none, and a code is the way in.
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
  await cdp.send('WebAuthn.addVirtualAuthenticator', { options: USB_KEY });
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Username').fill('disp-key');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The security key was not used.').waitFor();
  assert.ok(await page.getByRole('button', { name: 'Use security key' }).isVisible(), 'the key can be tried again');
  await page.getByLabel('Authenticator code or recovery code').fill(recoveryCode);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.topbar').waitFor();

  // Admin › Users marks who has a key.
  const adminPage = await desk.context.newPage();
  await login(adminPage, local, 'chief', PASSWORD);
  await adminPage.goto(`${local}/#/admin/users`);
  const row = adminPage.getByRole('row').filter({ has: adminPage.getByRole('rowheader', { name: 'disp-key' }) });
  await row.getByText('Security key').waitFor();
  assert.deepEqual(desk.errors.filter((e) => !/401|403|Failed to load resource/.test(e)), []);
});

test('an officer whose role must sign in with a key sets up the app, then a key, before anything else; then a code is refused', async () => {
  const admin = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } })).body.token as string;
  assert.equal((await call(system.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'K-1', latitude: 40.417, longitude: -3.704 } })).status, 201);
  const created = await call(system.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'officer-key', password: PASSWORD, role: 'OFFICER', unit: 'K-1' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  // Admin › Users marks who must add a key and has none yet.
  const adminPage = await desk.context.newPage();
  await login(adminPage, system.url, 'chief', PASSWORD);
  await adminPage.goto(`${system.url}/#/admin/users`);
  await adminPage.getByRole('row').filter({ has: adminPage.getByRole('rowheader', { name: 'officer-key' }) }).getByText('Key due').waitFor();
  await adminPage.close();

  const page = await desk.context.newPage();
  const key = await virtualKey(page);
  await page.goto(system.url.replace('127.0.0.1', 'localhost'));
  await page.getByLabel('Username').fill('officer-key');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();

  // First the app (keys are added under two-factor sign-in)…
  const setup = page.getByRole('dialog', { name: 'Set up two-factor sign-in' });
  await setup.getByLabel('Password').fill(PASSWORD);
  await setup.getByRole('button', { name: 'Continue' }).click();
  const secret = (await setup.locator('[data-secret]').getAttribute('data-secret'))!;
  const step = totpStep(new Date());
  await setup.getByLabel('Code shown by the app').fill(totpCode(secret, step));
  await setup.getByRole('button', { name: 'Turn on' }).click();
  await setup.getByRole('button', { name: 'I have saved them' }).click();

  // …then a key, with nothing behind the dialog and no way past it but logging out.
  const keyDialog = page.getByRole('dialog', { name: 'Add a security key' });
  await keyDialog.getByText('Accounts like yours sign in with a security key you touch, not a code').waitFor();
  assert.equal(await page.locator('header.topbar').count(), 0, 'nothing behind the dialog before a key is added');
  assert.equal(await keyDialog.getByRole('button', { name: 'Cancel' }).count(), 0, 'adding a key cannot be skipped');
  assert.equal(await keyDialog.getByRole('button', { name: 'Log out' }).count(), 1);
  await screenshot(page, 'security-key-required', 'security-key-required');
  assert.equal(await axeViolations(page, 'adding a key before anything else'), '', 'accessibility (axe-core)');
  await keyDialog.getByLabel('Name of the key').fill('duty key');
  await keyDialog.getByLabel('Password').fill(PASSWORD);
  await keyDialog.getByRole('button', { name: 'Add key' }).click();
  await page.locator('header.topbar').waitFor();
  await page.getByRole('heading', { name: 'Unit K-1' }).waitFor();

  // The key is not at hand: the app's code is refused, and the page says why…
  const [credential] = (await key.cdp.send('WebAuthn.getCredentials', { authenticatorId: key.authenticatorId })).credentials;
  assert.ok(credential, 'the key holds the credential');
  // The browser's only authenticator holds no credential for the site: the browser refuses at once.
  await key.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: key.authenticatorId });
  const { authenticatorId } = await key.cdp.send('WebAuthn.addVirtualAuthenticator', { options: USB_KEY });
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Username').fill('officer-key');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The security key was not used.').waitFor();
  await page.getByLabel('Authenticator code or recovery code').fill(totpCode(secret, step + 1));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Accounts like yours sign in with a security key, not a code').waitFor();
  assert.equal(await axeViolations(page, 'sign-in, code refused'), '', 'accessibility (axe-core)');
  assert.equal(await page.locator('header.topbar').count(), 0);

  // …and once the key is at hand again, it signs in.
  await key.cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
  await page.getByRole('button', { name: 'Use security key' }).click();
  await page.locator('header.topbar').waitFor();
  assert.deepEqual(desk.errors.filter((e) => !/401|403|Failed to load resource/.test(e)), []);
});
