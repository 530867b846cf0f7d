/**
 * Single sign-on in Chromium against the real system (`maskwatch start` with
 * MASKWATCH_SSO_ISSUER) and a real OpenID Connect provider on this host
 * (oidc-provider, whose development sign-in page takes any password): the
 * sign-in page offers the agency's button, the provider's page signs the
 * dispatcher in and sends the browser back to the console, a directory user
 * without an account is told so, a session that ends is signed on again
 * from where it was, and logging out signs out at the provider too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { call } from '../helpers/api.ts';
import { startTestIdp, type TestIdp } from '../helpers/oidc-provider.ts';
import { buildDashboard, closeAll, launchBrowser, login, screenshot, startSystem, type Browser, type System } from './support.ts';

const PASSWORD = 'correct horse battery staple';
const CLIENT = { clientId: 'maskwatch', clientSecret: 'a client secret of the directory' };

let idp: TestIdp;
let system: System;
let desk: Browser;

before(async () => {
  await buildDashboard();
  idp = await startTestIdp();
  system = await startSystem(
    { username: 'chief', password: PASSWORD },
    {
      MASKWATCH_SSO_ISSUER: idp.issuer,
      MASKWATCH_SSO_CLIENT_ID: CLIENT.clientId,
      MASKWATCH_SSO_CLIENT_SECRET: CLIENT.clientSecret,
      MASKWATCH_SSO_LABEL: 'Sign in with Metro Police ID',
      // Dispatchers sign in only through the directory; the admin keeps a password (break-glass).
      MASKWATCH_SSO_REQUIRED: 'DISPATCHER',
      // The directory's precinct groups decide a dispatcher's zones.
      MASKWATCH_SSO_ZONE_GROUPS: JSON.stringify({ Centro: 'mw-precinct-centro', '*': 'mw-dispatch-citywide' }),
    },
  );
  idp.addClient({ ...CLIENT, redirectUri: `${system.url}/api/v1/auth/sso/callback` });
  desk = await launchBrowser({ viewport: { width: 1280, height: 800 } });
});

after(() => closeAll(desk, system, idp));

/** The provider's own sign-in page (dev interactions: any password), reached from MaskWatch's button. */
async function signOnAtProvider(page: Page, login: string): Promise<void> {
  await page.getByRole('link', { name: 'Sign in with Metro Police ID' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('the directory password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

test('a dispatcher signs on with the agency account and lands in the console, in the zone of their directory group; a stranger is told why not', async () => {
  const admin = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } })).body.token as string;
  // The account exists in MaskWatch (role, unit); its password is never used by its owner.
  assert.equal((await call(system.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'ana', password: 'a password nobody types', role: 'DISPATCHER' } })).status, 201);

  assert.equal((await call(system.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'bea', password: 'a password nobody types', role: 'DISPATCHER' } })).status, 201);
  idp.profiles.set('ana', { preferred_username: 'ana', groups: ['staff', 'mw-precinct-centro'] });
  idp.profiles.set('bea', { preferred_username: 'bea', groups: ['staff'] });

  const page = await desk.context.newPage();
  await page.goto(system.url);
  const button = page.getByRole('link', { name: 'Sign in with Metro Police ID' });
  await button.waitFor();
  await screenshot(page, 'sign-in-single-sign-on', 'sign-in-single-sign-on');
  await button.click();

  // The provider's own page, on its own origin.
  await page.waitForURL((url) => url.origin === idp.issuer, { timeout: 10_000 });
  await page.locator('input[name="login"]').fill('ana');
  await page.locator('input[name="password"]').fill('the directory password');
  await page.getByRole('button', { name: 'Sign-in' }).click();

  await page.locator('header.topbar').waitFor({ timeout: 15_000 });
  assert.equal(new URL(page.url()).hash, '#/dispatch');
  await page.locator('header.topbar').getByText('ana · DISPATCHER · Centro').waitFor();
  assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie the page can read');
  await page.getByRole('button', { name: 'Your account' }).click();
  const account = page.getByRole('dialog', { name: 'Your account: ana' });
  await account.getByText(/single sign-on · 127\.0\.0\.1/).waitFor();
  await account.getByRole('button', { name: 'Cancel' }).click();

  // The session ends while the console is open: signing on again comes back to the same view.
  await page.evaluate(() => (location.hash = '#/dispatch'));
  const users = (await call(system.url, 'GET', '/api/v1/users', { token: admin })).body.items as { id: string; username: string }[];
  const ana = users.find((u) => u.username === 'ana')!;
  assert.equal((await call(system.url, 'DELETE', `/api/v1/users/${ana.id}/sessions`, { token: admin })).status, 204);
  const relogin = page.getByRole('dialog', { name: 'Your session has ended' });
  await relogin.waitFor({ timeout: 15_000 });
  await relogin.getByRole('link', { name: 'Sign on again' }).click();
  // The provider remembers its own session: straight back, no form, into a live console.
  await page.locator('.conn-live').waitFor({ timeout: 15_000 });
  assert.equal(new URL(page.url()).hash, '#/dispatch');
  assert.equal(await page.getByRole('dialog', { name: 'Your session has ended' }).count(), 0);
  const renewed = await page.evaluate(() => (JSON.parse(sessionStorage.getItem('maskwatch.session')!) as { token: string; signInMethod: string }));
  assert.equal(renewed.signInMethod, 'sso');
  assert.equal((await call(system.url, 'GET', '/api/v1/auth/me', { token: renewed.token })).body.username, 'ana');

  // Logging out on a shared computer signs out at the provider too: the next "Sign in with…" asks again.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL((url) => url.origin === idp.issuer, { timeout: 10_000 });
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await signOnAtProvider(page, 'ana');
  await page.locator('.conn-live').waitFor({ timeout: 15_000 });

  // Admin › Users shows the link; unlinking ends ana's session.
  const adminPage = await desk.context.newPage();
  await adminPage.addInitScript(() => {
    window.confirm = () => true;
  });
  await login(adminPage, system.url, 'chief', PASSWORD);
  await adminPage.goto(`${system.url}/#/admin/users`);
  await adminPage.reload();
  const anaRow = adminPage.getByRole('row').filter({ has: adminPage.getByRole('rowheader', { name: 'ana', exact: true }) });
  await anaRow.getByText('Directory', { exact: true }).waitFor();
  assert.match((await anaRow.getByText('Directory', { exact: true }).getAttribute('title')) ?? '', /Its zones follow the directory's groups at each sign-on/);
  await anaRow.getByRole('button', { name: 'Unlink ana from the directory' }).click();
  await adminPage.getByText('ana unlinked from the directory').waitFor();
  await page.getByRole('dialog', { name: 'Your session has ended' }).waitFor({ timeout: 15_000 });
  assert.equal(await anaRow.getByText('Directory', { exact: true }).count(), 0);

  // A directory user with no MaskWatch account, in a fresh browser.
  const other = await launchBrowser({ viewport: { width: 1280, height: 800 } });
  try {
    const stranger = await other.context.newPage();
    await stranger.goto(system.url);
    // ana's password is refused: dispatchers sign in through the directory.
    await stranger.getByLabel('Username').fill('ana');
    await stranger.getByLabel('Password').fill('a password nobody types');
    await stranger.getByRole('button', { name: 'Sign in', exact: true }).click();
    await stranger.getByText('This account signs in with your agency account').waitFor();
    await signOnAtProvider(stranger, 'stranger');
    await stranger.getByText('Your agency account has no MaskWatch account').waitFor({ timeout: 15_000 });
    assert.equal(await stranger.locator('header.topbar').count(), 0);
    // An account whose directory groups give no zone: fails closed, and says so (the provider's session forgotten first).
    await stranger.context().clearCookies();
    await signOnAtProvider(stranger, 'bea');
    await stranger.getByText('Your agency\'s directory gives you no access to MaskWatch').waitFor({ timeout: 15_000 });
    assert.equal(await stranger.locator('header.topbar').count(), 0);
  } finally {
    await other.close();
  }
});
