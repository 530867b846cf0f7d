/**
 * Every view of the dashboard, as each role sees it with real data, checked by axe-core (WCAG 2.1 A/AA, 2.2 AA, best practices)
 * in Chromium against the real system: sign-in, the dispatcher's console with an incident open in the evidence
 * viewer, the officer's page with an assignment and its Resolve form, and every admin tab (System with its checks loaded). A violation fails the test with the rule,
 * what it means and the elements, so it can be fixed where it is. And WCAG 2.2.2, which axe cannot see: nothing on the
 * console blinks or moves for more than five seconds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { call } from '../helpers/api.ts';
import {
  alertOfCamera,
  axeViolations,
  buildDashboard,
  closeAll,
  DESK,
  launchBrowser,
  login,
  PHONE,
  screenshot,
  startSystem,
  type Browser,
  type System,
} from './support.ts';

const PASSWORD = 'correct horse battery staple';
const GROUP = path.join(process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared'), 'datasets', 'scenes', 'group-faces.jpg');

let system: System;
let desk: Browser;
let phone: Browser;
let alertId = '';
let admin = '';
let unitId = '';

before(async () => {
  await buildDashboard();
  system = await startSystem({ username: 'chief', password: PASSWORD });
  admin = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } })).body.token as string;
  const unit = await call(system.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'P-3', latitude: 40.4165, longitude: -3.7036 } });
  assert.equal(unit.status, 201);
  unitId = unit.body.id;
  for (const json of [
    { username: 'desk', password: PASSWORD, role: 'DISPATCHER' },
    { username: 'walker3', password: PASSWORD, role: 'OFFICER', unit: 'P-3' },
  ]) assert.equal((await call(system.url, 'POST', '/api/v1/users', { token: admin, json })).status, 201);
  const cam = await call(system.url, 'POST', '/api/v1/cameras', {
    token: admin,
    json: { name: 'Puerta del Sol', latitude: 40.4169, longitude: -3.7035, address: 'Puerta del Sol, Madrid', zone: 'Centro', confirmFrames: 1, confirmWindow: 1 },
  });
  assert.equal(cam.status, 201);
  const frame = await fetch(`${system.url}/api/v1/frames`, { method: 'POST', headers: { authorization: `Bearer ${cam.body.apiKey}`, 'content-type': 'image/jpeg' }, body: await readFile(GROUP) });
  assert.equal(frame.status, 202);
  alertId = await alertOfCamera(system.url, cam.body.id, admin, 'Puerta del Sol');
  desk = await launchBrowser(DESK);
  phone = await launchBrowser(PHONE);
});

after(() => closeAll(desk, phone, system));

test('every view meets WCAG 2.1 A/AA, 2.2 AA and best practices as axe-core checks them', async () => {
  const found: string[] = [];
  const check = async (view: string, page: Page) => {
    const v = await axeViolations(page, view);
    if (v) found.push(v);
  };

  const page = await desk.context.newPage();
  await page.goto(system.url);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await check('sign-in', page);

  await login(page, system.url, 'desk', PASSWORD);
  const item = page.locator(`.alert-item[data-alert-id="${alertId}"]`);
  await item.click();
  await page.locator('img.evidence-frame[src^="data:image/jpeg"]').waitFor();
  await check('dispatcher console, incident open', page);
  await page.getByRole('button', { name: 'Assign', exact: true }).click();
  await page.getByRole('button', { name: 'Assign P-3' }).waitFor();
  await check('dispatcher console, units suggested', page);
  await page.getByRole('button', { name: 'Assign P-3' }).click();
  await page.locator('.toast', { hasText: 'Dispatched P-3' }).waitFor();
  await page.getByRole('button', { name: 'Log out' }).click();

  await login(page, system.url, 'chief', PASSWORD);
  for (const tab of ['history', 'review', 'stats', 'cameras', 'zones', 'units', 'users', 'webhooks', 'audit', 'system']) {
    await page.goto(`${system.url}/#/admin/${tab}`);
    await page.locator(`#panel-${tab}`).waitFor();
    await page.waitForLoadState('networkidle');
    if (tab === 'system') {
      await page.getByRole('table', { name: 'Deployment checks' }).getByRole('rowheader', { name: 'redis persistence' }).waitFor({ timeout: 15_000 });
      // `maskwatch start --workers 1`: the API and its worker process each announce themselves.
      const instances = page.getByRole('table', { name: 'Running instances' });
      await instances.getByRole('cell', { name: 'API', exact: true }).waitFor({ timeout: 10_000 });
      await instances.getByRole('cell', { name: 'Worker', exact: true }).waitFor({ timeout: 10_000 });
      await screenshot(page, 'admin-system', 'admin-system');
    }
    await check(`admin › ${tab}`, page);
  }
  await page.getByRole('button', { name: 'Your account' }).click();
  await page.getByRole('dialog', { name: /Your account/ }).waitFor();
  await check('your account', page);

  const officer = await phone.context.newPage();
  await login(officer, system.url, 'walker3', PASSWORD);
  await officer.locator(`.officer-card[data-alert-id="${alertId}"]`).waitFor();
  await officer.waitForLoadState('networkidle');
  await check('officer, with an assignment', officer);
  // ...and its Resolve form (how it ended, the note), once on scene.
  const card = officer.locator(`.officer-card[data-alert-id="${alertId}"]`);
  for (const [button, status] of [
    ['Acknowledge', 'ACKNOWLEDGED'],
    ['En route', 'EN_ROUTE'],
    ['On scene', 'ON_SCENE'],
  ] as const) {
    await card.getByRole('button', { name: button }).click();
    await card.locator(`.badge.status-${status}`).waitFor();
  }
  await card.getByRole('button', { name: 'Resolve' }).click();
  await card.getByRole('group', { name: 'How did it end?' }).waitFor();
  await check('officer, resolving', officer);

  assert.equal(found.length, 0, `accessibility violations:\n${found.join('\n')}`);
  assert.deepEqual([...desk.errors, ...phone.errors].filter((e) => !/401|Failed to load resource/.test(e)), []);
});

test('nothing on the console blinks or moves for more than five seconds, and then it stays still (WCAG 2.2.2)', async () => {
  const cam = await call(system.url, 'POST', '/api/v1/cameras', {
    token: admin,
    json: { name: 'Gran Vía', latitude: 40.4203, longitude: -3.7058, zone: 'Centro', confirmFrames: 1, confirmWindow: 1 },
  });
  assert.equal(cam.status, 201);
  const own = await launchBrowser(DESK);
  try {
    const page = await own.context.newPage();
    await login(page, system.url, 'desk', PASSWORD);
    await page.locator('.map-camera').first().waitFor();
    const frame = await fetch(`${system.url}/api/v1/frames`, { method: 'POST', headers: { authorization: `Bearer ${cam.body.apiKey}`, 'content-type': 'image/jpeg' }, body: await readFile(GROUP) });
    assert.equal(frame.status, 202);
    const id = await alertOfCamera(system.url, cam.body.id, admin, 'Gran Vía');
    await page.locator(`.alert-item[data-alert-id="${id}"] .badge-new`).waitFor();
    const pulse = page.locator(`.map-camera[data-camera-id="${cam.body.id}"] .pulse`);
    await pulse.waitFor();

    // What the arrival's card, badge and map ring are styled to do (however long the steps above took).
    const [card, badge, ring] = [`.alert-item.is-new[data-alert-id="${id}"]`, `.alert-item[data-alert-id="${id}"] .badge-new`, `.map-camera[data-camera-id="${cam.body.id}"] .pulse`];
    const styled = await page.evaluate(
      (selectors) =>
        selectors.map((selector) => {
          const style = getComputedStyle(document.querySelector(selector)!);
          return { selector, name: style.animationName, seconds: parseFloat(style.animationDuration) * Number(style.animationIterationCount) };
        }),
      [card, badge, ring],
    );
    assert.deepEqual(styled.filter((a) => a.name !== 'none' && !(a.seconds <= 5)), [], `nothing is styled to move for more than 5 s: ${JSON.stringify(styled)}`);
    assert.deepEqual(styled.filter((a) => a.name !== 'none').map((a) => a.selector), [card, ring], 'the arrival is announced by motion: the card flashes, the camera pulses');
    const animations = () =>
      page.evaluate(() =>
        document.getAnimations().map((a) => ({
          name: (a as CSSAnimation).animationName ?? a.id,
          target: ((a.effect as KeyframeEffect | null)?.target as Element | null)?.getAttribute('class') ?? '?',
          endMs: a.effect?.getComputedTiming().endTime as number,
          running: a.playState === 'running',
        })),
      );
    assert.deepEqual((await animations()).filter((a) => !(a.endMs <= 5000)), [], 'every animation ends within 5 s');

    await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), undefined, { timeout: 15_000 });
    // The map is redrawn on every unit or alert change: the camera's ring must not start pulsing again.
    assert.equal((await call(system.url, 'PATCH', `/api/v1/units/${unitId}`, { token: admin, json: { status: 'OFF_DUTY' } })).status, 200);
    await page.locator(`.map-unit[data-unit-id="${unitId}"].unit-OFF_DUTY`).waitFor();
    assert.deepEqual((await animations()).filter((a) => a.running), [], 'a redraw of the map starts no motion');
    assert.match((await pulse.getAttribute('class')) ?? '', /is-still/, 'the alerting camera keeps a still ring');
    assert.notEqual(await page.locator(badge).evaluate((el) => getComputedStyle(el).boxShadow), 'none', 'the unseen alert keeps its ring');
    assert.deepEqual(own.errors, []);
  } finally {
    await own.close();
  }
});
