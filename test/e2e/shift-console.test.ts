/**
 * Issue 12, item 4 (a console for a whole shift), in Chromium against the real
 * system (API + worker + dashboard), with a short escalation delay and a short
 * token lifetime from the configuration:
 * - an escalation is re-announced (toast, title badge, reorder) while keyboard
 *   focus survives the feed's live updates and a keyboard Assign;
 * - a session is renewed without a reload, and an ended one asks for the
 *   password again without leaving the page;
 * - a reconnect clears the errors the outage left and refetches;
 * - the admin tab survives a reload; history links to alerts; the audit trail finds an alert's events and links to its review; closed incidents
 *   are reviewed with their timeline and who viewed their evidence; a camera gone quiet is marked silent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page, Request } from 'playwright-core';
import { unzipSync } from 'fflate';
import { checkPackage, manifestAlertIds, publicKeyFingerprint } from '../../src/domain/evidence-package.ts';
import { call } from '../helpers/api.ts';
import { axeViolations, buildDashboard, closeAll, DESK, launchBrowser, login, screenshot, startSystem, type Browser, type System } from './support.ts';

const PASSWORD = 'correct horse battery staple';
const DATASETS = path.join(process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared'), 'datasets');
const FACES = ['10.jpg', '0.jpg', '100.jpg', '101.jpg'].map((f) => path.join(DATASETS, 'prajna', 'without_mask', f));
/** Unhandled (NEW) alerts escalate after this many seconds; one level at most. */
const ESCALATE_S = 6;
/** Token lifetime: the page renews at half of it. */
const TOKEN_TTL_S = 60;

let system: System;
let desk: Browser;
const keys: Record<string, string> = {};
const unitIds: Record<string, string> = {};

async function token(username: string): Promise<string> {
  const res = await call(system.url, 'POST', '/api/v1/auth/login', { json: { username, password: PASSWORD } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.token as string;
}

async function postFrame(camera: string, file: string): Promise<void> {
  const res = await fetch(`${system.url}/api/v1/frames`, { method: 'POST', headers: { authorization: `Bearer ${keys[camera]}`, 'content-type': 'image/jpeg' }, body: await readFile(file) });
  await res.arrayBuffer();
  assert.equal(res.status, 202);
}

const card = (page: Page, camera: string) => page.locator('.alert-item', { hasText: camera });
const focusedAlertId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-alert-id') ?? document.activeElement?.tagName ?? null);
const markDocument = (page: Page) => page.evaluate(() => ((window as unknown as { __same: boolean }).__same = true));
const sameDocument = (page: Page) => page.evaluate(() => (window as unknown as { __same?: boolean }).__same === true);

/** Console errors that are the point of a test step (offline fetches, the 401 of an ended session), not bugs. */
const EXPECTED_ERRORS = /ERR_INTERNET_DISCONNECTED|status of 401|ERR_NETWORK_CHANGED|WebSocket connection to .* failed/;

before(async () => {
  await buildDashboard();
  system = await startSystem(
    { username: 'chief', password: PASSWORD },
    {
      MASKWATCH_ESCALATE_DISPATCH_S: String(ESCALATE_S),
      MASKWATCH_ESCALATE_ACK_S: '3600',
      MASKWATCH_ESCALATE_MAX_LEVEL: '1',
      MASKWATCH_TOKEN_TTL_S: String(TOKEN_TTL_S),
    },
  );
  const admin = await token('chief');
  for (const username of ['desk1', 'desk2', 'desk3']) {
    assert.equal((await call(system.url, 'POST', '/api/v1/users', { token: admin, json: { username, password: PASSWORD, role: 'DISPATCHER' } })).status, 201);
  }
  for (const [name, latitude, longitude, zone] of [
    ['North gate', 40.4203, -3.7058, 'Centro'],
    ['South gate', 40.4169, -3.7035, 'Centro'],
    ['River bridge', 40.4065, -3.6895, 'Retiro'],
    ['East square', 40.4125, -3.6935, 'Retiro'],
    ['West park', 40.4150, -3.7150, 'Moncloa'],
  ] as const) {
    const cam = await call(system.url, 'POST', '/api/v1/cameras', { token: admin, json: { name, latitude, longitude, zone } });
    assert.equal(cam.status, 201);
    keys[name] = cam.body.apiKey;
  }
  for (const [callSign, latitude, longitude] of [
    ['P-1', 40.4189, -3.7066],
    ['P-2', 40.41, -3.71],
  ] as const) {
    const r = await call(system.url, 'POST', '/api/v1/units', { token: admin, json: { callSign, latitude, longitude } });
    assert.equal(r.status, 201);
    unitIds[callSign] = r.body.id;
  }
  assert.equal((await call(system.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'walker2', password: PASSWORD, role: 'OFFICER', unit: 'P-2' } })).status, 201);
  desk = await launchBrowser(DESK);
});

after(() => closeAll(desk, system));

test('an escalation is re-announced (toast, title badge, reorder); focus survives feed updates and a keyboard Assign', async (t) => {
  const page = await desk.context.newPage();
  await login(page, system.url, 'desk1', PASSWORD);
  await page.locator('.conn-live').waitFor();
  await markDocument(page);
  // Sound is on by default, with a clear mute.
  const mute = page.getByRole('button', { name: 'Sound on: mute alert sounds' });
  assert.equal(await mute.getAttribute('aria-pressed'), 'false');

  // Alert A is dispatched at once (so it never escalates); B, newer, is left alone.
  await postFrame('North gate', FACES[0]!);
  await card(page, 'North gate').waitFor();
  const a = (await card(page, 'North gate').getAttribute('data-alert-id'))!;
  const dispatcher = await token('desk1');
  assert.equal((await call(system.url, 'POST', `/api/v1/alerts/${a}/dispatch`, { token: dispatcher, json: { unitId: unitIds['P-1'] } })).status, 200);
  await card(page, 'North gate').locator('.badge.status-DISPATCHED').waitFor();

  // Keyboard focus on A, then B arrives live: A keeps the focus; B, which nobody dispatched yet, goes above A (a unit has A).
  await card(page, 'North gate').focus();
  await postFrame('South gate', FACES[1]!);
  await card(page, 'South gate').waitFor();
  const b = (await card(page, 'South gate').getAttribute('data-alert-id'))!;
  assert.equal(await focusedAlertId(page), a, 'focus stayed on A when B arrived');
  assert.deepEqual(await page.locator('.alert-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-alert-id'))), [b, a]);
  assert.equal(await page.title(), '(2) Dispatch · MaskWatch');
  // One tab stop for the whole list (roving tabindex).
  assert.equal(await page.locator('.alert-list [tabindex="0"]').count(), 1);

  // B escalates (not dispatched within ESCALATE_S): re-announced, still on top.
  await page.locator('.toast', { hasText: 'Escalated to level 1: South gate' }).waitFor({ timeout: (ESCALATE_S + 30) * 1000 });
  const raised = (await system.db.prisma.alert.findUniqueOrThrow({ where: { id: b } })).createdAt.getTime();
  t.diagnostic(`escalation deadline → toast in the dispatcher's browser: ${Date.now() - raised - ESCALATE_S * 1000} ms (figure, not asserted)`);
  await page.waitForFunction(() => document.title === '(2) ⚠1 Dispatch · MaskWatch', undefined, { timeout: 5000 });
  await card(page, 'South gate').locator('.badge-escalated', { hasText: 'Escalated 1' }).waitFor();
  assert.deepEqual(await page.locator('.alert-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-alert-id'))), [b, a]);
  assert.match((await card(page, 'South gate').getAttribute('class'))!, /is-escalated/);
  assert.equal(await focusedAlertId(page), a, 'focus stayed on A through the reorder');
  await screenshot(page, 'dispatcher-escalation', 'dispatcher-escalation');

  // Keyboard only: k moves up to B, a opens Assign with the nearest unit focused, Enter assigns.
  await page.keyboard.press('k');
  assert.equal(await focusedAlertId(page), b);
  await page.keyboard.press('a');
  await page.getByRole('heading', { name: 'South gate' }).waitFor();
  await page.getByRole('button', { name: 'Assign P-2' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Assign P-2', 'the only available unit is focused');
  await page.keyboard.press('Enter');
  await card(page, 'South gate').locator('.badge.status-DISPATCHED').waitFor();
  await page.waitForFunction((id) => document.activeElement?.getAttribute('data-alert-id') === id, b, { timeout: 5000 });
  // Opened and handled: the badge leaves the title.
  assert.equal(await page.title(), '(2) Dispatch · MaskWatch');
  // n puts the cursor in B's note: typed, Enter-less (a note may have lines), added with its button; Escape goes back.
  await page.keyboard.press('n');
  await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'text', undefined, { timeout: 5000 });
  await page.keyboard.type('Caller: two people, one without a mask');
  await page.getByRole('form', { name: 'Add a note' }).getByRole('button', { name: 'Add note' }).click();
  await page.getByRole('list', { name: 'Timeline' }).getByText('Caller: two people, one without a mask').waitFor();
  await page.getByRole('form', { name: 'Add a note' }).getByLabel('Add a note').focus();
  await page.keyboard.press('Escape');
  await page.waitForFunction((id) => document.activeElement?.getAttribute('data-alert-id') === id, b, { timeout: 5000 });
  // j moves down; Tab leaves the list in one press.
  await page.keyboard.press('j');
  assert.equal(await focusedAlertId(page), a);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => !!document.activeElement?.closest('.alert-list')), false, 'one Tab leaves the feed');
  // ? shows the keys; typing into a field is never a hotkey.
  await page.keyboard.press('?');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
  await page.keyboard.press('Escape');
  // Chromium closes a modal dialog on Escape in a later task; until then the page behind is inert. Its
  // 'close' event, later still, hands focus back to the feed: wait for that before focusing a field.
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor({ state: 'hidden' });
  await page.waitForFunction(() => !!document.activeElement?.closest('.alert-list'), undefined, { timeout: 5000 });
  await page.getByRole('combobox', { name: 'Status' }).focus();
  await page.waitForFunction(() => document.activeElement?.tagName === 'SELECT', undefined, { timeout: 5000 });
  await page.keyboard.press('m');
  assert.equal(await page.evaluate(() => localStorage.getItem('maskwatch.sound')), null, '"m" in a field did not mute');
  // Filters that hide open alerts say so, an escalated one above all; one click clears them.
  await page.getByRole('combobox', { name: 'Camera' }).selectOption({ label: 'North gate' });
  const filterNote = page.locator('.filter-note');
  await filterNote.getByText('1 of 2 open alerts shown').waitFor();
  await filterNote.getByText('1 escalated hidden').waitFor();
  await filterNote.getByRole('button', { name: 'Clear filters' }).click();
  await filterNote.waitFor({ state: 'hidden' });
  assert.equal(await page.locator('.alert-item').count(), 2);
  assert.equal(await page.getByRole('combobox', { name: 'Camera' }).inputValue(), '');
  // Mute is remembered across a reload.
  await mute.click();
  assert.equal(await page.evaluate(() => localStorage.getItem('maskwatch.sound')), 'off');
  await page.reload();
  await page.getByRole('button', { name: 'Muted: unmute alert sounds' }).waitFor();
  await page.getByRole('button', { name: 'Muted: unmute alert sounds' }).click();
  assert.equal(await page.evaluate(() => localStorage.getItem('maskwatch.sound')), 'on');
  await page.close();
});

test('a session is renewed without a reload; an ended session asks for the password and keeps the page', async (t) => {
  // The page's own clock is moved to the renewal time (a browser of its own: the clock is the whole context's).
  const own = await launchBrowser(DESK);
  t.after(() => own.close());
  const page = await own.context.newPage();
  await page.clock.install();
  await login(page, system.url, 'desk2', PASSWORD);
  await page.locator('.conn-live').waitFor();
  await markDocument(page);
  const first = await page.evaluate(() => JSON.parse(sessionStorage.getItem('maskwatch.session')!).token as string);
  const isRefresh = (r: Request) => r.url().endsWith('/api/v1/auth/refresh') && r.method() === 'POST';
  let refreshes = 0;
  page.on('request', (r) => void (isRefresh(r) && refreshes++));
  // Not due 2 s before half the token's lifetime (a renewal would have been sent before a later request answers)...
  await page.clock.fastForward((TOKEN_TTL_S / 2 - 2) * 1000);
  await page.evaluate(() => fetch('/healthz').then((r) => r.status));
  assert.equal(refreshes, 0, 'renewed too early');
  // ...and renewed once it has passed.
  const renewed = page.waitForResponse((r) => isRefresh(r.request()), { timeout: 15_000 });
  await page.clock.fastForward(3000);
  const res = await renewed;
  assert.equal(res.status(), 200);
  await page.waitForFunction((old) => JSON.parse(sessionStorage.getItem('maskwatch.session')!).token !== old, first, { timeout: 5000 });
  const second = await page.evaluate(() => JSON.parse(sessionStorage.getItem('maskwatch.session')!).token as string);
  assert.equal(await sameDocument(page), true, 'the page was not reloaded');
  assert.equal((await call(system.url, 'GET', '/api/v1/auth/me', { token: first })).status, 401, 'the old token is revoked');
  assert.equal((await call(system.url, 'GET', '/api/v1/auth/me', { token: second })).status, 200);
  await page.locator('.conn-live').waitFor();

  // The session ends (logged out elsewhere): its socket (moved onto the renewed session) is closed by the server and
  // its reconnect refused, so the sign-in-again dialog opens on the same page without waiting for a request.
  assert.equal((await call(system.url, 'POST', '/api/v1/auth/logout', { token: second })).status, 204);
  const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
  await dialog.waitFor();
  await screenshot(page, 'session-ended');
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Sign in again' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await sameDocument(page), true, 'still the same page');
  await page.locator('.conn-live').waitFor();
  // Working again: the timeline of the open alert loads with the new token.
  await card(page, 'North gate').click();
  await page.getByRole('list', { name: 'Timeline' }).getByText(/Dispatched → P-1/).waitFor();
  assert.deepEqual(own.errors.filter((e) => !EXPECTED_ERRORS.test(e)), []);
});

test('a reconnect clears stale errors ("Image unavailable", no connection) and refetches', async () => {
  const page = await desk.context.newPage();
  await login(page, system.url, 'desk3', PASSWORD);
  await page.locator('.conn-live').waitFor();
  await postFrame('River bridge', FACES[2]!);
  await card(page, 'River bridge').waitFor();

  await desk.context.setOffline(true);
  await page.locator('.conn-offline').waitFor();
  await card(page, 'River bridge').click();
  await page.getByRole('heading', { name: 'River bridge' }).waitFor();
  await page.locator('.detail .snapshot-missing', { hasText: 'Image unavailable' }).first().waitFor();
  await page.getByRole('button', { name: 'Assign', exact: true }).click();
  await page.locator('#assign-panel .form-error', { hasText: 'No connection to the server' }).waitFor();
  assert.equal(await page.getByText('Failed to fetch').count(), 0, 'no raw fetch error shown');

  // While offline an event is missed: the alert is dispatched by someone else.
  const id = (await card(page, 'River bridge').getAttribute('data-alert-id'))!;
  assert.equal((await call(system.url, 'POST', `/api/v1/alerts/${id}/dispatch`, { token: await token('desk1'), json: { unitId: unitIds['P-1'] } })).status, 200);

  await desk.context.setOffline(false);
  await page.locator('.conn-live').waitFor();
  await page.locator('.detail img.snapshot-face[src^="data:image/jpeg"]').waitFor();
  await page.locator('.detail img.snapshot-frame[src^="data:image/jpeg"]').waitFor();
  assert.equal(await page.locator('.detail .snapshot-missing').count(), 0);
  assert.equal(await page.locator('.detail .form-error:not(:empty)').count(), 0);
  // The missed change was fetched.
  await page.locator('.detail-status .status-DISPATCHED').waitFor();
  await card(page, 'River bridge').locator('.badge.status-DISPATCHED').waitFor();
  await page.close();
});

test('a scrolled feed keeps its place and counts alerts landing above it; units and the map update live', async () => {
  const page = await desk.context.newPage();
  // Short enough that the scrolled list shows only its last card.
  await page.setViewportSize({ width: 1440, height: 300 });
  await login(page, system.url, 'desk1', PASSWORD);
  await page.locator('.conn-live').waitFor();
  await page.locator('.alert-item').nth(2).waitFor();
  const list = page.getByRole('listbox', { name: 'Alerts' });
  await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
  assert.ok((await list.evaluate((el) => el.scrollTop)) > 0, 'the list scrolls at this height');
  /** The first card at least half visible and its offset from the list's top edge. */
  const anchor = () =>
    list.evaluate((el) => {
      const items = [...el.querySelectorAll<HTMLElement>('.alert-item')];
      const top = el.getBoundingClientRect().top;
      const first = items.find((li) => li.getBoundingClientRect().top + li.offsetHeight / 2 >= top)!;
      return { id: first.dataset.alertId, offset: Math.round(first.getBoundingClientRect().top - top) };
    });
  const before = await anchor();

  // A new alert escalates and moves above the visible part: counted, not pushing the content.
  await postFrame('West park', FACES[0]!);
  await card(page, 'West park').waitFor({ state: 'attached' });
  const indicator = page.getByRole('button', { name: /↑ 1 new alert/ });
  await indicator.waitFor({ timeout: (ESCALATE_S + 30) * 1000 });
  const west = (await card(page, 'West park').getAttribute('data-alert-id'))!;
  await card(page, 'West park').locator('.badge-escalated').waitFor({ state: 'attached' });
  const order = await page.locator('.alert-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-alert-id')));
  assert.ok(order.indexOf(west) < order.length - 1, `escalated above the level-0 alert: ${order.join(' ')}`);
  const after = await anchor();
  assert.equal(after.id, before.id, 'the same card is at the top of the visible part');
  assert.ok(Math.abs(after.offset - before.offset) <= 2, `it did not move: ${before.offset} → ${after.offset} px`);
  await indicator.click();
  assert.equal(await list.evaluate((el) => el.scrollTop), 0);
  assert.equal(await focusedAlertId(page), west);
  await indicator.waitFor({ state: 'hidden' });
  // Not opened yet: the escalation stays unseen across a reload (title badge and card highlight).
  await page.reload();
  await card(page, 'West park').waitFor({ state: 'attached' });
  await page.waitForFunction(() => /⚠1 Dispatch/.test(document.title), undefined, { timeout: 5000 });
  assert.match((await card(page, 'West park').getAttribute('class'))!, /is-escalated/);

  // A unit reports its position: board and map follow at once (the safety poll is minutes away).
  await page.setViewportSize({ width: 1440, height: 900 });
  const unitOnMap = page.getByRole('img', { name: /^Unit P-2/ }).locator('rect');
  const scale = await page.locator('.map-scale text').textContent();
  const x0 = Number(await unitOnMap.getAttribute('x'));
  const officer = await token('walker2');
  assert.equal((await call(system.url, 'POST', `/api/v1/units/${unitIds['P-2']}/position`, { token: officer, json: { latitude: 40.4120, longitude: -3.7000 } })).status, 200);
  await page.waitForFunction(
    (x) => {
      const g = [...document.querySelectorAll('.map-unit')].find((e) => e.getAttribute('aria-label')?.startsWith('Unit P-2'));
      return Number(g?.querySelector('rect')?.getAttribute('x')) !== x;
    },
    x0,
    { timeout: 5000 },
  );
  await page.locator('.board tr', { hasText: 'P-2' }).getByText('just now').waitFor({ timeout: 5000 });
  assert.equal(await page.locator('.map-scale text').textContent(), scale, 'the map scale did not change');
  // Zoom: buttons and wheel change the scale; Fit goes back.
  await page.getByRole('button', { name: 'Zoom in' }).click();
  assert.notEqual(await page.locator('.map-scale text').textContent(), scale);
  await page.getByRole('button', { name: 'Fit all cameras' }).click();
  assert.equal(await page.locator('.map-scale text').textContent(), scale);
  await page.locator('svg.map').hover();
  await page.mouse.wheel(0, -200);
  await page.waitForFunction((s0) => document.querySelector('.map-scale text')?.textContent !== s0, scale, { timeout: 5000 });
  await screenshot(page, 'dispatcher-map-zoom');
  await page.close();
});

test('admin: the tab is kept in the URL; history has status, thumbnails and alert links; closed incidents have their timeline', async () => {
  // A closed incident to review.
  await postFrame('East square', FACES[3]!);
  const desk1 = await token('desk1');
  const closedId = await waitForNewAlert(desk1, 'East square');
  const person = (await call(system.url, 'GET', `/api/v1/alerts/${closedId}`, { token: desk1 })).body.people[0].id as string;
  assert.equal((await call(system.url, 'POST', `/api/v1/alerts/${closedId}/people/${person}/false-positive`, { token: desk1, json: { reason: 'Face on a poster' } })).status, 200);
  assert.equal((await call(system.url, 'POST', `/api/v1/alerts/${closedId}/dismiss`, { token: desk1, json: { reason: 'Mask on, false positive' } })).status, 200);
  // The dispatcher looked at the evidence before dismissing it (the review shows who saw it).
  const frameUrl = (await call(system.url, 'GET', `/api/v1/alerts/${closedId}`, { token: desk1 })).body.frameSnapshotUrl as string;
  assert.equal((await fetch(`${system.url}${frameUrl}`, { headers: { authorization: `Bearer ${desk1}` } })).status, 200);

  const page = await desk.context.newPage();
  await login(page, system.url, 'chief', PASSWORD);
  const table = page.getByRole('table', { name: 'Violations' });
  await table.locator('tbody tr').first().waitFor();
  assert.match(page.url(), /#\/admin\/history$/);
  // Status column, thumbnails, links to the alert.
  await table.locator('.badge.status-DISMISSED').first().waitFor();
  // What the violation is, and that its person was marked a false positive.
  const dismissedRow = table.locator('tbody tr', { has: page.locator('.badge.status-DISMISSED') }).first();
  await dismissedRow.getByText('False positive', { exact: true }).waitFor();
  assert.match((await dismissedRow.locator('td').nth(4).textContent())!, /^No mask · .+ False positive$/);
  await table.locator('img.thumb[src^="data:image/jpeg"]').first().waitFor();
  assert.ok((await table.getByRole('link', { name: /^Open in Dispatch: the alert of/ }).count()) >= 1);

  await page.getByRole('tab', { name: 'Statistics' }).click();
  assert.match(page.url(), /#\/admin\/stats$/);
  // The false-positive rate per camera: East square's one person was marked, 100 %; none of its alerts was resolved.
  const fpRow = page.getByRole('table', { name: 'False positives per camera' }).locator('tbody tr', { hasText: 'East square' });
  await fpRow.waitFor();
  assert.deepEqual(await fpRow.locator('td').allTextContents(), ['East square', '1', '1', '100 %', '0', '–']);
  await page.reload();
  await page.getByRole('tab', { name: 'Statistics', selected: true }).waitFor();

  // From the history to the after-action review of the dismissed alert.
  await page.getByRole('tab', { name: 'Violations' }).click();
  const row = table.locator('tbody tr', { has: page.locator('.badge.status-DISMISSED') }).first();
  await row.getByRole('link', { name: /^Review: the alert of/ }).click();
  await page.getByRole('tab', { name: 'Closed incidents', selected: true }).waitFor();
  const review = page.getByRole('region', { name: 'Incident review' });
  await review.getByRole('list', { name: 'Timeline' }).getByText('Dismissed · desk1').waitFor();
  await review.getByText('Mask on, false positive').waitFor();
  await review.getByText('Raised → dismissed').waitFor();
  // Who saw the evidence: the dispatcher's view of the frame, with how many faces it left sharp.
  await review.getByRole('list', { name: 'Who viewed the evidence' }).getByText('desk1 · dispatcher').waitFor();
  await review.getByRole('table', { name: 'Views of the evidence' }).locator('tr', { hasText: 'desk1 · dispatcher' }).getByText(/^Annotated frame \(\d+ unblurred, \d+ blurred\)$/).first().waitFor();
  // The evidence as the dispatcher saw it, read-only: the people, numbered on the frame, with their false-positive marks.
  const people = review.getByRole('list', { name: 'People in this incident' }).locator('.evidence-person');
  await people.first().waitFor();
  assert.equal(await people.count(), 1);
  await people.first().getByText('False positive: Face on a poster').waitFor();
  await review.getByRole('list', { name: 'Timeline' }).getByText('A person marked not a violation · desk1').waitFor();
  await review.locator(`.evidence-overlay rect.person-box.false-positive[data-person-id="${person}"]`).waitFor({ state: 'attached' });
  assert.equal(await review.getByRole('button', { name: 'Not a violation' }).isHidden(), true, 'a closed incident is reviewed, not edited');
  assert.match(page.url(), new RegExp(`#/admin/review\\?alert=${closedId}$`));
  await page.reload();
  await page.getByRole('region', { name: 'Incident review' }).getByText('Mask on, false positive').waitFor();
  await screenshot(page, 'admin-review', 'admin-review');

  // An evidence hold (a complaint): kept past retention with its reason, badged in the list, then released.
  const hold = page.getByRole('region', { name: 'Incident review' }).getByRole('region', { name: 'Evidence hold' });
  await hold.getByLabel('Reason').fill('Complaint 2026-118: the stop is contested');
  // The review date is filled with the default period (90 days ahead); set it to 30 days.
  const reviewBy = hold.getByLabel('Review by');
  const inDays = (d: number) => page.evaluate((days) => {
    const t = new Date(Date.now() + days * 86_400_000);
    return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, '0')}-${String(t.getDate()).padStart(2, '0')}`;
  }, d);
  assert.equal(await reviewBy.inputValue(), await inDays(90));
  await reviewBy.fill(await inDays(30));
  await hold.getByRole('button', { name: 'Hold evidence' }).click();
  await hold.getByText('Complaint 2026-118: the stop is contested').waitFor();
  await hold.getByText(/^Review by \d{4}-\d{2}-\d{2} /).waitFor();
  await page.getByRole('list', { name: 'Closed incidents' }).locator(`button[data-alert-id="${closedId}"] .badge-hold`).waitFor();
  const stored = await system.db.prisma.alert.findUniqueOrThrow({ where: { id: closedId } });
  assert.equal(stored.holdReason, 'Complaint 2026-118: the stop is contested');
  const reviewInDays = (stored.holdReviewAt!.getTime() - Date.now()) / 86_400_000;
  assert.ok(reviewInDays > 28 && reviewInDays <= 30, `review in 30 days (local midnight): ${reviewInDays}`);
  assert.equal(await axeViolations(page, 'closed incident on hold'), '', 'accessibility (axe-core)');

  // Its review date passes: "Hold review due", and the review keeps it with a new date.
  await system.db.prisma.alert.update({ where: { id: closedId }, data: { holdReviewAt: new Date(Date.now() - 86_400_000) } });
  await page.reload();
  await page.getByRole('list', { name: 'Closed incidents' }).locator(`button[data-alert-id="${closedId}"] .badge-hold-due`, { hasText: 'Hold review due' }).waitFor();
  await hold.getByText('Review due').waitFor();
  // Show: On evidence hold lists every held incident (whatever its age), those due for review first.
  await page.getByRole('form', { name: 'Filter closed incidents' }).getByLabel('Show').selectOption('HELD');
  await page.getByText('1 incident on evidence hold, 1 due for review').waitFor();
  await page.getByRole('list', { name: 'Closed incidents' }).locator(`button[data-alert-id="${closedId}"] .badge-hold-due`).waitFor();
  assert.equal(await axeViolations(page, 'closed incident whose hold is due for review'), '', 'accessibility (axe-core)');
  await screenshot(page, 'admin-evidence-hold', 'admin-evidence-hold');
  await hold.getByLabel('Reason').fill('Complaint 2026-118: hearing on 2027-02-10');
  await hold.getByRole('button', { name: 'Keep on hold' }).click();
  await hold.getByText('Complaint 2026-118: hearing on 2027-02-10').waitFor();
  await page.getByRole('list', { name: 'Closed incidents' }).locator(`button[data-alert-id="${closedId}"] .badge-hold`).waitFor();
  assert.ok((await system.db.prisma.alert.findUniqueOrThrow({ where: { id: closedId } })).holdReviewAt!.getTime() > Date.now(), 'a new review date');
  await page.evaluate(() => {
    window.confirm = () => true;
  });
  await hold.getByRole('button', { name: 'Release hold' }).click();
  await hold.getByRole('button', { name: 'Hold evidence' }).waitFor();
  await page.getByText('0 incidents on evidence hold').waitFor();
  assert.equal((await system.db.prisma.alert.findUniqueOrThrow({ where: { id: closedId } })).heldAt, null);

  // Its evidence package, downloaded as the browser saves it: every file matches the manifest; the export is audited.
  const pack = page.getByRole('region', { name: 'Incident review' }).getByRole('region', { name: 'Evidence package' });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), pack.getByRole('button', { name: 'Download evidence package' }).click()]);
  assert.equal(download.suggestedFilename(), `maskwatch-evidence-${closedId}.zip`);
  const packaged = checkPackage(new Map(Object.entries(unzipSync(await readFile(await download.path())))));
  assert.deepEqual(packaged.problems, []);
  assert.deepEqual(manifestAlertIds(packaged.manifest!), [closedId]);
  await pack.getByText('Downloaded. The export is recorded in the audit trail.').waitFor();
  assert.equal(await system.db.prisma.auditEvent.count({ where: { action: 'evidence.export', subjectId: closedId } }), 1);
  // Signed: the section shows the key's fingerprint, and its public key is the one that checks the package.
  assert.equal(packaged.signature?.valid, true);
  await pack.locator('code.fingerprint', { hasText: packaged.signature!.keyFingerprint }).waitFor({ timeout: 10_000 });
  const [keyFile] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), pack.getByRole('button', { name: 'Download public key' }).click()]);
  const published = createPublicKey(await readFile(await keyFile.path()));
  assert.equal(publicKeyFingerprint(published), packaged.signature!.keyFingerprint);

  // The incident joins a case: one package under the case reference, recorded in the incident's trail.
  const caseSection = page.getByRole('region', { name: 'Case package' });
  await pack.getByRole('button', { name: 'Add to case package' }).click();
  await pack.getByRole('button', { name: 'In the case package' }).waitFor();
  await caseSection.getByRole('list', { name: 'Incidents in the case' }).getByRole('listitem').first().waitFor();
  await caseSection.getByLabel('Case reference').fill('DP-2026/0412');
  // The case being built survives a reload (the admin looks for its other incidents meanwhile).
  await page.reload();
  await caseSection.getByRole('list', { name: 'Incidents in the case' }).getByRole('listitem').first().waitFor();
  assert.equal(await caseSection.getByLabel('Case reference').inputValue(), 'DP-2026/0412');
  assert.equal(await axeViolations(page, 'a case package with an incident'), '', 'accessibility (axe-core)');
  await screenshot(page, 'admin-case-package', 'admin-case-package');
  // Encrypted by default, under a generated passphrase of 120 bits to send by another channel: 7-Zip opens it.
  const passphrase = await caseSection.getByLabel('Passphrase').inputValue();
  assert.match(passphrase, /^([2-9A-HJ-NP-Z]{4}-){5}[2-9A-HJ-NP-Z]{4}$/);
  const [caseDownload] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), caseSection.getByRole('button', { name: 'Download case package' }).click()]);
  assert.equal(caseDownload.suggestedFilename(), 'maskwatch-case-DP-2026-0412-encrypted.zip');
  const opened = mkdtempSync(path.join(tmpdir(), 'mw-case-'));
  execFileSync('7z', ['x', `-p${passphrase}`, `-o${opened}`, await caseDownload.path()], { stdio: 'pipe' });
  const casePackaged = checkPackage(new Map(Object.entries(unzipSync(await readFile(path.join(opened, 'maskwatch-case-DP-2026-0412.zip'))))));
  rmSync(opened, { recursive: true, force: true });
  assert.deepEqual(casePackaged.problems, []);
  assert.deepEqual(manifestAlertIds(casePackaged.manifest!), [closedId]);
  await caseSection.getByText('Downloaded 1 incident as case DP-2026/0412, encrypted with the passphrase above.').waitFor();
  const caseExport = await system.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'evidence.export', subjectId: closedId }, orderBy: { at: 'desc' } });
  assert.deepEqual(JSON.parse(caseExport.details!).case, { reference: 'DP-2026/0412', alertIds: [closedId] });
  assert.equal(JSON.parse(caseExport.details!).encrypted, true);
  assert.doesNotMatch(caseExport.details!, new RegExp(passphrase), 'the passphrase is recorded nowhere');
  await caseSection.getByRole('button', { name: /^Remove .* from the case$/ }).click();
  await pack.getByRole('button', { name: 'Add to case package' }).waitFor();

  // An open alert's link opens it in Dispatch.
  await page.getByRole('tab', { name: 'Violations' }).click();
  const openRow = table.locator('tbody tr', { has: page.getByRole('link', { name: /^Open in Dispatch: the alert of/ }) }).first();
  const camera = (await openRow.locator('td').nth(2).textContent())!;
  await openRow.getByRole('link', { name: /^Open in Dispatch: the alert of/ }).click();
  await page.getByRole('heading', { name: camera, exact: true }).waitFor();
  assert.match(page.url(), /#\/dispatch\?alert=/);

  // The audit trail, searched by the closed alert's id: who marked its person and who dismissed it.
  await page.goto(`${system.url}/#/admin/audit`);
  const trail = page.getByRole('table', { name: 'Audit trail' });
  await trail.locator('tbody tr').first().waitFor();
  const search = page.getByRole('form', { name: 'Search the audit trail' });
  await search.getByLabel('Subject').fill(closedId);
  await search.getByRole('button', { name: 'Search' }).click();
  // The search's page replaces the unfiltered one: every row is about this alert (or a frame of it).
  await page.waitForFunction(
    (id) => {
      const cells = [...document.querySelectorAll('table[aria-label="Audit trail"] tbody tr td:nth-child(4)')];
      return cells.length >= 2 && cells.every((c) => c.textContent!.includes(id));
    },
    closedId.slice(0, 8),
    { timeout: 5000 },
  );
  await trail.locator('tbody tr', { hasText: 'alert.dismiss' }).getByText('desk1 · dispatcher').waitFor();
  await trail.locator('tbody tr', { hasText: 'alert.person_false_positive' }).getByText('desk1 · dispatcher').waitFor();
  // The trail's seals recomputed on request (nothing sealed tampered with: intact).
  await page.getByRole('button', { name: 'Verify integrity' }).click();
  await page.getByRole('status').filter({ hasText: 'Intact' }).waitFor();
  await screenshot(page, 'admin-audit', 'admin-audit');
  // An alert's subject links to its review: its timeline and who saw its evidence.
  await trail.locator('tbody tr', { hasText: 'alert.dismiss' }).getByRole('link', { name: `Review alert ${closedId.slice(0, 8)}` }).click();
  await page.getByRole('tab', { name: 'Closed incidents', selected: true }).waitFor();
  assert.match(page.url(), new RegExp(`#/admin/review\\?alert=${closedId}$`));
  await page.getByRole('region', { name: 'Incident review' }).getByRole('list', { name: 'Who viewed the evidence' }).getByText('desk1 · dispatcher').waitFor();

  // A camera that stopped sending frames: Silent in Admin › Cameras, and hollow on the dispatcher's map.
  const quiet = await system.db.prisma.camera.findFirstOrThrow({ where: { name: 'East square' } });
  await system.db.prisma.camera.update({ where: { id: quiet.id }, data: { lastFrameAt: new Date(Date.now() - 20 * 60_000) } });
  await page.goto(`${system.url}/#/admin/cameras`);
  const quietRow = page.getByRole('table', { name: 'Cameras' }).locator('tbody tr', { hasText: 'East square' });
  await quietRow.locator('.badge-silent', { hasText: 'Silent' }).waitFor();
  await quietRow.getByText(/^last frame .+ \(20 min ago\)$/).waitFor();
  assert.equal(await page.getByRole('table', { name: 'Cameras' }).locator('.badge-silent').count(), 1, 'the cameras still sending are not silent');
  await page.goto(`${system.url}/#/dispatch`);
  const onMap = page.locator(`.map-camera.is-silent[data-camera-id="${quiet.id}"]`);
  await onMap.waitFor({ state: 'attached' });
  assert.match((await onMap.getAttribute('aria-label'))!, /^Camera East square, silent: no frames$/);

  // No command-line wording in the UI.
  await page.goto(`${system.url}/#/admin/users`);
  const form = page.getByRole('form', { name: 'New user' });
  await form.getByLabel('Username').fill('walker');
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByLabel('Role').selectOption('OFFICER');
  await form.getByRole('button', { name: 'Create user' }).click();
  await page.locator('.toast', { hasText: 'An officer belongs to a patrol unit' }).waitFor();
  assert.equal(await page.getByText('--unit').count(), 0);

  await page.close();

  const unexpected = desk.errors.filter((e) => !EXPECTED_ERRORS.test(e));
  assert.deepEqual(unexpected, []);
});

async function waitForNewAlert(tokenValue: string, camera: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await call(system.url, 'GET', '/api/v1/alerts?status=NEW&limit=50', { token: tokenValue });
    const found = res.body.items.find((x: { camera: { name: string } }) => x.camera.name === camera);
    if (found) return found.id as string;
    if (Date.now() > deadline) throw new Error(`no NEW alert of ${camera} within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
