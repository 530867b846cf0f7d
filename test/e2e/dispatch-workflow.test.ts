/**
 * Issue 4 end to end, in Chromium against the real system: a camera posts a
 * frame of an unmasked face → the logged-in dispatcher sees the alert appear
 * live → assigns the nearest unit → the officer (second browser, phone-sized)
 * acknowledges, goes en route, arrives, resolves — the dispatcher's view
 * following each step live → the admin exports a CSV containing the violation.
 * An officer's steps and notes tapped without a connection are sent once the connection is back, even after the tab was closed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { call } from '../helpers/api.ts';
import { pollUntil } from '../helpers/wait.ts';
import {
  alertOfCamera,
  backgroundable,
  buildDashboard,
  closeAll,
  DESK,
  launchBrowser,
  login,
  PHONE,
  recordVibrations,
  screenshot,
  sendToBackground,
  shownNotifications,
  startSystem,
  vibrations,
  type Browser,
  type System,
} from './support.ts';

const PASSWORD = 'correct horse battery staple';
const CAMERA_NAME = 'Gran Vía 12';
// Markup in a camera's name must be shown as text, never parsed (XSS check, last test: not in the docs' screenshots).
const HOSTILE_NAME = 'Gran Vía 14 <img src=x onerror="window.__xss=1">';
const DATASETS = path.join(process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared'), 'datasets');
const UNMASKED_FACE = path.join(DATASETS, 'prajna', 'without_mask', '10.jpg');
const UNMASKED_FACE_2 = path.join(DATASETS, 'prajna', 'without_mask', '0.jpg');
const MASKED_FACE = path.join(DATASETS, 'chandrikadeb7', 'with_mask', '0323.jpg');

let system: System;
let desk: Browser; // dispatcher + admin (desktop)
let phone: Browser; // officer
let apiKey: string;
let solKey: string;
let cameraId: string;
const unitIds: Record<string, string> = {};

before(async () => {
  await buildDashboard();
  system = await startSystem({ username: 'chief', password: PASSWORD });
  const api = { url: system.url };
  const login = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } });
  assert.equal(login.status, 200);
  const admin = { token: login.body.token as string };
  const users = (json: object) => call(api.url, 'POST', '/api/v1/users', { token: admin.token, json });
  assert.equal((await users({ username: 'dispatch1', password: PASSWORD, role: 'DISPATCHER' })).status, 201);
  const cam = await call(api.url, 'POST', '/api/v1/cameras', {
    token: admin.token,
    json: { name: CAMERA_NAME, latitude: 40.4203, longitude: -3.7058, address: 'Gran Vía 12, Madrid', zone: 'Centro' },
  });
  assert.equal(cam.status, 201);
  apiKey = cam.body.apiKey;
  cameraId = cam.body.id;
  const sol = await call(api.url, 'POST', '/api/v1/cameras', { token: admin.token, json: { name: 'Puerta del Sol', latitude: 40.4169, longitude: -3.7035, zone: 'Centro' } });
  solKey = sol.body.apiKey;
  await call(api.url, 'POST', '/api/v1/cameras', { token: admin.token, json: { name: 'Atocha station', latitude: 40.4065, longitude: -3.6895, zone: 'Retiro' } });
  for (const [callSign, latitude, longitude] of [
    ['P-12', 40.4254, -3.6912],
    ['P-11', 40.4189, -3.7066],
    ['P-14', 40.4100, -3.7100],
  ] as const) {
    const r = await call(api.url, 'POST', '/api/v1/units', { token: admin.token, json: { callSign, latitude, longitude } });
    assert.equal(r.status, 201);
    unitIds[callSign] = r.body.id;
  }
  await call(api.url, 'POST', '/api/v1/units', { token: admin.token, json: { callSign: 'P-20', status: 'OFF_DUTY' } });
  assert.equal((await users({ username: 'officer11', password: PASSWORD, role: 'OFFICER', unit: 'P-11' })).status, 201);
  desk = await launchBrowser(DESK);
  phone = await launchBrowser(PHONE);
});

after(() => closeAll(desk, phone, system));

async function postFrame(key: string, file: string): Promise<number> {
  const res = await fetch(`${system.url}/api/v1/frames`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' },
    body: await readFile(file),
  });
  await res.arrayBuffer();
  return res.status;
}

function alertItem(page: Page, alertId: string) {
  return page.locator(`.alert-item[data-alert-id="${alertId}"]`);
}

test('dispatcher → officer → admin: live alert, assignment, response, CSV', async (t) => {
  const api = { url: system.url };
  const prisma = system.db.prisma;

  // Login page, then the dispatcher's live view.
  const dispatcher = await desk.context.newPage();
  await dispatcher.goto(api.url);
  await dispatcher.getByRole('heading', { name: 'Sign in to the command center' }).waitFor();
  await screenshot(dispatcher, 'login', 'login');
  await login(dispatcher, api.url, 'dispatch1', PASSWORD);
  await dispatcher.getByRole('heading', { name: /Live alerts/ }).waitFor();
  await dispatcher.locator('.conn-live').waitFor(); // socket connected before the frame is sent
  await dispatcher.getByText('No open alerts.').waitFor();
  await dispatcher.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

  // The officer signs in on a phone and has nothing to do yet.
  const officer = await phone.context.newPage();
  await login(officer, api.url, 'officer11', PASSWORD);
  await officer.getByRole('heading', { name: 'Unit P-11' }).waitFor();
  await officer.locator('.conn-live').waitFor();
  await officer.getByText('No open alerts for your unit.').waitFor();
  // The phone reports the unit's position (browser geolocation).
  await phone.context.grantPermissions(['geolocation'], { origin: api.url });
  await phone.context.setGeolocation({ latitude: 40.4195, longitude: -3.7061 });
  await officer.getByRole('button', { name: 'Report position' }).click();
  await officer.getByText(/Last position 40\.41950, -3\.70610/).waitFor();
  const p11 = await prisma.patrolUnit.findUniqueOrThrow({ where: { callSign: 'P-11' } });
  assert.deepEqual([p11.latitude, p11.longitude], [40.4195, -3.7061]);

  // A camera posts a frame of an unmasked face (and another camera another person).
  const posted = Date.now();
  assert.equal(await postFrame(apiKey, UNMASKED_FACE), 202);
  assert.equal(await postFrame(solKey, UNMASKED_FACE_2), 202);

  // It appears in the dispatcher's feed without a reload, highlighted as new.
  const fresh = dispatcher.locator('.alert-item.is-new', { hasText: 'Gran Vía 12' });
  await fresh.waitFor();
  t.diagnostic(`frame POST → alert visible in the dispatcher's browser: ${Date.now() - posted} ms (figure, not asserted)`);
  const alertId = (await fresh.getAttribute('data-alert-id'))!;
  assert.ok(alertId);
  assert.equal(await dispatcher.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument), true, 'the page was not reloaded');
  assert.equal(await alertItem(dispatcher, alertId).locator('.badge.status-NEW').textContent(), 'New');

  // Alert detail: snapshots, camera, confidence, violation count.
  await alertItem(dispatcher, alertId).click();
  await dispatcher.getByRole('heading', { name: CAMERA_NAME }).waitFor();
  await dispatcher.locator('img.snapshot-face[src^="data:image/jpeg"]').waitFor();
  await dispatcher.locator('img.snapshot-frame[src^="data:image/jpeg"]').waitFor();
  const facts = await dispatcher.locator('.facts').innerText();
  assert.match(facts, /Gran Vía 12, Madrid/);
  assert.match(facts, /Model score \(no mask\)\s+(\d+|[<>] \d+) %/);
  assert.match(facts, /Violations\s+\d+/);
  await dispatcher.locator(`.alert-item.is-new[data-alert-id="${alertId}"]`).waitFor({ state: 'detached' }); // selecting clears the highlight
  await dispatcher.locator('.alert-item.is-new', { hasText: 'Puerta del Sol' }).waitFor();

  // Assign: suggested units are the available ones, nearest first.
  await dispatcher.getByRole('button', { name: 'Assign', exact: true }).click();
  const suggestions = dispatcher.getByRole('list', { name: 'Suggested units' });
  await suggestions.waitFor();
  const order = await suggestions.locator('.callsign').allTextContents();
  assert.deepEqual(order, ['P-11', 'P-14', 'P-12']);
  await screenshot(dispatcher, 'dispatcher-assign');
  await dispatcher.getByRole('button', { name: 'Assign P-11' }).click();
  await dispatcher.locator('.detail-status .status-DISPATCHED').waitFor();
  await dispatcher.getByText('Assigned to P-11').waitFor();

  // The officer's phone shows it live; only Acknowledge is possible.
  const card = officer.locator(`.officer-card[data-alert-id="${alertId}"]`);
  await card.waitFor();
  await card.locator('img.snapshot-face[src^="data:image/jpeg"]').waitFor();
  // The person to find, large, with the last-seen time; the camera's address once, for the whole card.
  const toFind = card.getByRole('list', { name: '1 person to find' }).locator('.officer-person');
  assert.equal(await toFind.count(), 1);
  assert.match(await toFind.innerText(), /1\. No mask\s+Last seen \d{2}:\d{2}:\d{2} · (just now|\d+ min ago)/);
  assert.ok((await toFind.locator('img.officer-shot').evaluate((img: HTMLImageElement) => img.getBoundingClientRect().width)) >= 120, 'the best shot is shown large');
  assert.equal((await card.innerText()).split('Gran Vía 12, Madrid').length - 1, 1, 'the address appears once on the card');
  assert.match((await card.getByRole('link', { name: /^Open in maps: / }).getAttribute('href'))!, /^https:\/\/www\.openstreetmap\.org\/\?mlat=40\.4203/);
  assert.equal(await card.getByRole('button', { name: 'Acknowledge' }).isEnabled(), true);
  assert.equal(await card.getByRole('button', { name: 'En route' }).isDisabled(), true);
  assert.equal(await card.getByRole('button', { name: 'Resolve' }).isDisabled(), true);
  await screenshot(officer, 'officer', 'officer');

  // Notes: the dispatcher adds what a caller said; the officer is told at once and answers with a note of their own.
  const dispatchNote = dispatcher.getByRole('form', { name: 'Add a note' });
  await dispatchNote.getByLabel('Add a note').fill('Caller: red jacket, heading to Sol');
  await dispatchNote.getByRole('button', { name: 'Add note' }).click();
  await dispatcher.getByRole('list', { name: 'Timeline' }).getByText('Caller: red jacket, heading to Sol').waitFor();
  await officer.locator('.toast', { hasText: `Note from dispatch1 on ${CAMERA_NAME}: Caller: red jacket, heading to Sol` }).waitFor();
  const cardNotes = card.getByRole('list', { name: 'Notes' });
  await cardNotes.getByText('Caller: red jacket, heading to Sol').waitFor();
  const officerNote = card.getByRole('form', { name: 'Add a note' });
  await officerNote.getByLabel('Add a note').fill('Seen him by the fountain');
  await officerNote.getByRole('button', { name: 'Add note' }).click();
  await cardNotes.getByText('Seen him by the fountain').waitFor();
  await dispatcher.getByRole('list', { name: 'Timeline' }).getByText('Seen him by the fountain').waitFor();
  await alertItem(dispatcher, alertId).locator('.alert-meta', { hasText: '· 2 notes' }).waitFor();
  assert.equal(await officer.locator('.toast', { hasText: 'Note from officer11' }).count(), 0, "the officer is not told of their own note");

  // Each officer step shows up live in the dispatcher's list.
  // The status board says which alert the unit is on, by camera, and opens it.
  await dispatcher.locator('.alert-item', { hasText: 'Puerta del Sol' }).click();
  await dispatcher.getByRole('heading', { name: 'Puerta del Sol' }).waitFor();
  const boardAlert = dispatcher.locator('.board tr', { hasText: 'P-11' }).getByRole('button', { name: CAMERA_NAME });
  await boardAlert.locator('.badge.status-DISPATCHED').waitFor();
  await boardAlert.click();
  await dispatcher.getByRole('heading', { name: CAMERA_NAME }).waitFor();
  for (const [button, status, next] of [
    ['Acknowledge', 'ACKNOWLEDGED', 'En route'],
    ['En route', 'EN_ROUTE', 'On scene'],
    ['On scene', 'ON_SCENE', 'Resolve'],
  ] as const) {
    const clicked = Date.now();
    await card.getByRole('button', { name: button }).click();
    await card.locator(`.badge.status-${status}`).waitFor();
    // The focus moves on to the card's next step, not to the page.
    await officer.waitForFunction((label) => document.activeElement?.textContent === label, next, { timeout: 5000 });
    await alertItem(dispatcher, alertId).locator(`.badge.status-${status}`).waitFor();
    t.diagnostic(`officer "${button}" → dispatcher list updated: ${Date.now() - clicked} ms`);
    await dispatcher.locator(`.detail-status .status-${status}`).waitFor();
  }
  await screenshot(dispatcher, 'dispatcher', 'dispatcher');
  // Toasts on a phone stay below the header: Log out is never covered.
  const logout = await officer.getByRole('button', { name: 'Log out' }).boundingBox();
  const toastsTop = await officer.evaluate(() => document.getElementById('toasts')!.getBoundingClientRect().top);
  assert.ok(logout && toastsTop >= logout.y + logout.height, `toasts at y=${toastsTop} over the header (Log out ends at ${logout ? logout.y + logout.height : '?'})`);
  // Three steps recorded within seconds: on a phone only the newest two notices stay, not a stack over the card.
  await officer.locator('.toast', { hasText: 'On scene: recorded' }).waitFor();
  const shown = await officer.locator('.toast').allTextContents();
  assert.ok(shown.length <= 2, `toasts stacked on the phone: ${shown.join(' | ')}`);
  // The first tap on Resolve asks how it ended (focused) and for the note, without an error; each is then required.
  assert.equal(await card.getByLabel('Resolution note').isHidden(), true);
  await card.getByRole('button', { name: 'Resolve' }).click();
  await officer.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.value === 'MASK_PUT_ON', undefined, { timeout: 5000 });
  assert.equal(await officer.locator('.toast-error').count(), 0, 'no error for the first tap');
  const outcomes = card.getByRole('group', { name: 'How did it end?' });
  assert.deepEqual(await outcomes.getByRole('radio').evaluateAll((els) => els.map((e) => e.parentElement!.textContent!.trim())), [
    'Mask put on',
    'Warned or cited',
    'Gone on arrival',
    'Not a violation',
    'Other (see note)',
  ]);
  await card.getByRole('button', { name: 'Resolve' }).click();
  await card.getByRole('alert').filter({ hasText: 'Choose how it ended first.' }).waitFor();
  await outcomes.getByLabel('Mask put on').check();
  assert.equal(await card.getByRole('alert').filter({ hasText: 'Choose how it ended first.' }).count(), 0, 'choosing clears the error');
  await card.getByRole('button', { name: 'Resolve' }).click();
  // An empty note is said under the field, not in a toast over the card.
  await card.getByRole('alert').filter({ hasText: 'Add a resolution note first.' }).waitFor();
  assert.equal(await card.getByLabel('Resolution note').getAttribute('aria-invalid'), 'true');
  assert.equal(await officer.locator('.toast-error').count(), 0, 'the missing note is not a toast');
  await card.getByLabel('Resolution note').pressSequentially('S');
  assert.equal(await card.getByRole('alert').filter({ hasText: 'Add a resolution note first.' }).count(), 0, 'typing clears the error');
  await card.getByLabel('Resolution note').fill('Spoke to the person, mask on. <script>alert(1)</script>');
  await card.locator('.resolve').scrollIntoViewIfNeeded();
  await screenshot(officer, 'officer-resolve', 'officer-resolve');
  await card.getByRole('button', { name: 'Resolve' }).click();
  await officer.getByText('No open alerts for your unit.').waitFor();
  // The resolved card left with the focus: it goes to the list, not to the page.
  await officer.waitForFunction(() => document.activeElement?.id === 'officer-h', undefined, { timeout: 5000 }).catch(() => assert.fail('focus did not move to the list after Resolve'));
  await dispatcher.locator('.detail-status .status-RESOLVED').waitFor();
  // The timeline is the alert's audit trail; the officer's note is shown as text.
  const timeline = dispatcher.getByRole('list', { name: 'Timeline' });
  await timeline.getByText('Resolved: Mask put on · officer11').waitFor();
  assert.deepEqual(await timeline.locator('li > span').allTextContents(), [
    'Alert raised by camera',
    'Dispatched → P-11 · dispatch1',
    'Note · dispatch1',
    'Note · officer11',
    'Acknowledged · officer11',
    'En route · officer11',
    'On scene · officer11',
    'Resolved: Mask put on · officer11',
  ]);
  await timeline.getByText('Spoke to the person, mask on. <script>alert(1)</script>').waitFor();
  await alertItem(dispatcher, alertId).waitFor({ state: 'detached' }); // "Open only" hides it now
  // The unit is free again on the status board.
  await dispatcher.locator('.board tr', { hasText: 'P-11' }).locator('.badge.unit-AVAILABLE').waitFor();

  // The other alert is dismissed with a reason, by keyboard only.
  const other = dispatcher.locator('.alert-item', { hasText: 'Puerta del Sol' });
  const otherId = (await other.getAttribute('data-alert-id'))!;
  await other.focus();
  await dispatcher.keyboard.press('Enter');
  await dispatcher.getByRole('heading', { name: 'Puerta del Sol' }).waitFor();
  await dispatcher.getByRole('button', { name: 'Dismiss' }).focus();
  await dispatcher.keyboard.press('Enter');
  assert.equal(await dispatcher.evaluate(() => document.activeElement?.getAttribute('name')), 'reason');
  await dispatcher.keyboard.type('Duplicate: same person as the Gran Vía alert');
  await dispatcher.keyboard.press('Enter');
  await dispatcher.locator('.detail-status .status-DISMISSED').waitFor();
  await alertItem(dispatcher, otherId).waitFor({ state: 'detached' });
  await dispatcher.getByText('0 open').waitFor();
  const dismissed = await prisma.alert.findUniqueOrThrow({ where: { id: otherId } });
  assert.equal(dismissed.dismissReason, 'Duplicate: same person as the Gran Vía alert');

  const row = await prisma.alert.findUniqueOrThrow({ where: { id: alertId } });
  assert.equal(row.status, 'RESOLVED');
  assert.equal(row.resolutionNote, 'Spoke to the person, mask on. <script>alert(1)</script>');
  assert.equal(row.noteCount, 2);
  assert.equal(row.resolutionOutcome, 'MASK_PUT_ON');
  const audit = await prisma.auditEvent.findMany({ where: { subjectId: alertId }, orderBy: { at: 'asc' } });
  assert.deepEqual(audit.map((a) => a.action), ['alert.dispatch', 'alert.note', 'alert.note', 'alert.acknowledge', 'alert.en_route', 'alert.on_scene', 'alert.resolve']);

  // The admin exports a CSV containing the violation.
  const admin = await desk.context.newPage();
  await login(admin, api.url, 'chief', PASSWORD);
  await admin.getByRole('tab', { name: 'Violations' }).waitFor();
  await admin.getByRole('table', { name: 'Violations' }).getByText(CAMERA_NAME).first().waitFor();
  await admin.locator('img.thumb[src^="data:image/jpeg"]').last().waitFor();
  await screenshot(admin, 'admin-history', 'admin-history');
  // The filters fit one row at 1440 px (selects have a bounded width, whatever the camera names).
  const filterBottoms = await admin.getByRole('form', { name: 'Search violations' }).locator(':scope > *').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().bottom)));
  assert.ok(Math.max(...filterBottoms) - Math.min(...filterBottoms) < 20, `filters on several rows: ${filterBottoms.join(' ')}`);
  // The zone is chosen from the cameras' zones (the filter matches exactly), not typed.
  const searchForm = admin.getByRole('form', { name: 'Search violations' });
  const zoneFilter = searchForm.getByLabel('Zone');
  await admin.waitForFunction(() => document.querySelectorAll('form[aria-label="Search violations"] select[name="zone"] option').length >= 3, null, { timeout: 10_000 });
  assert.deepEqual(await zoneFilter.locator('option').allTextContents(), ['All zones', 'Centro', 'Retiro']);
  await zoneFilter.selectOption('Retiro');
  await searchForm.getByRole('button', { name: 'Search' }).click();
  await admin.getByText('No violations match these filters.').waitFor({ timeout: 10_000 });
  await zoneFilter.selectOption('Centro');
  await searchForm.getByRole('button', { name: 'Search' }).click();
  await admin.getByRole('table', { name: 'Violations' }).getByText(CAMERA_NAME).first().waitFor({ timeout: 10_000 });
  const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('button', { name: 'Export CSV' }).click()]);
  const csv = await readFile((await download.path())!, 'utf8');
  const violations = await prisma.violation.findMany({ where: { cameraId }, select: { id: true } });
  assert.ok(violations.length >= 1);
  const lines = csv.trimEnd().split('\r\n');
  assert.match(lines[0]!, /^violation_id,captured_at,/);
  for (const v of violations) {
    const line = lines.find((l) => l.startsWith(`${v.id},`));
    assert.ok(line, `violation ${v.id} in the CSV`);
    assert.ok(line.includes(`,${alertId},RESOLVED,P-11`), line);
    assert.ok(line.endsWith(',MASK_PUT_ON'), line);
  }
  assert.match(download.suggestedFilename(), /^violations-.*\.csv$/);

  // The other admin views, for the screenshots and to check they render with real data.
  await admin.getByRole('tab', { name: 'Statistics' }).click();
  await admin.getByRole('img', { name: /^Violations per camera/ }).waitFor();
  await admin.locator('.kpi-value').first().waitFor();
  assert.equal(await admin.locator('.kpi', { hasText: 'Violations' }).first().locator('.kpi-value').textContent(), String(await prisma.violation.count()));
  // The resolved alert counts under the outcome the officer chose.
  assert.match((await admin.getByRole('img', { name: /^How resolved alerts ended/ }).getAttribute('aria-label'))!, /1 in total; highest Mask put on with 1$/);
  await screenshot(admin, 'admin-stats', 'admin-stats');
  // Camera management: the new camera's key is shown once, and works.
  await admin.getByRole('tab', { name: 'Cameras' }).click();
  await admin.getByRole('table', { name: 'Cameras' }).getByText('Atocha station').waitFor();
  const form = admin.getByRole('form', { name: 'New camera' });
  await form.getByLabel('Name').fill('Plaza del Callao');
  await form.getByLabel('Latitude').fill('40.4199');
  await form.getByLabel('Longitude').fill('-3.7058');
  await form.getByLabel('Address').fill('Plaza del Callao 1');
  await form.getByLabel('Zone').fill('Centro');
  // A camera that posts single stills: one frame confirms a person (1 of 1).
  await form.getByLabel('Confirm in k frames').fill('1');
  await form.getByLabel('of the last n frames').fill('1');
  await form.getByRole('button', { name: 'Create camera' }).click();
  const key = (await admin.getByRole('alert').locator('code.secret').textContent())!;
  assert.match(key, /^mwc_/);
  const cameras = admin.getByRole('table', { name: 'Cameras' });
  await cameras.getByText('Plaza del Callao', { exact: true }).waitFor();
  assert.equal(await cameras.locator('tr', { hasText: 'Plaza del Callao' }).getByRole('cell', { name: /^1 of 1/ }).count(), 1, 'the confirmation is stored and shown');
  assert.equal(await cameras.locator('tr', { hasText: 'Atocha station' }).getByRole('cell', { name: /^default/ }).count(), 1);
  // Changed in place later: 2 of the last 3 frames (PATCH), as for a 2 fps video camera.
  await cameras.getByRole('button', { name: 'Change the confirmation of Atocha station' }).click();
  const edit = cameras.getByRole('form', { name: 'Confirmation of Atocha station' });
  await edit.getByLabel('Confirm in k frames').fill('2');
  await edit.getByLabel('of the last n frames').fill('3');
  await edit.getByRole('button', { name: 'Save' }).click();
  await cameras.locator('tr', { hasText: 'Atocha station' }).getByRole('cell', { name: /^2 of 3/ }).waitFor();
  // Edited later: the address officers navigate by, and the zone; the form goes back to creating.
  await cameras.getByRole('button', { name: 'Edit Plaza del Callao' }).click();
  const editForm = admin.getByRole('form', { name: 'Edit camera Plaza del Callao' });
  assert.equal(await editForm.getByLabel('Address').inputValue(), 'Plaza del Callao 1');
  await editForm.getByLabel('Address').fill('Plaza del Callao 2, Madrid');
  await editForm.getByLabel('Zone').fill('');
  await editForm.getByRole('button', { name: 'Save changes' }).click();
  await cameras.locator('tr', { hasText: 'Plaza del Callao 2, Madrid' }).waitFor();
  await admin.getByRole('form', { name: 'New camera' }).waitFor();
  const edited = await prisma.camera.findFirstOrThrow({ where: { name: 'Plaza del Callao' } });
  assert.deepEqual([edited.address, edited.zone, edited.confirmFrames, edited.confirmWindow], ['Plaza del Callao 2, Madrid', null, 1, 1]);
  await screenshot(admin, 'admin-cameras', 'admin-cameras');
  assert.equal(await postFrame(key, MASKED_FACE), 202);
  await admin.getByRole('tab', { name: 'Units' }).click();
  await admin.getByRole('table', { name: 'Units' }).getByRole('cell', { name: /officer11/ }).waitFor();
  await screenshot(admin, 'admin-units', 'admin-units');

  await admin.getByRole('tab', { name: 'Users' }).click();
  const newUser = admin.getByRole('form', { name: 'New user' });
  await newUser.getByLabel('Username').fill('officer12');
  await newUser.getByLabel('Password').fill(PASSWORD);
  await newUser.getByLabel('Role').selectOption('OFFICER');
  await newUser.getByLabel('Unit').selectOption('P-12');
  await newUser.getByRole('button', { name: 'Create user' }).click();
  await admin.getByRole('table', { name: 'Users' }).getByRole('row', { name: /officer12 officer P-12/ }).waitFor();
  await screenshot(admin, 'admin-users', 'admin-users');

  // k without n is refused in the form, before any request.
  await admin.getByRole('tab', { name: 'Cameras' }).click();
  await form.getByLabel('Name').fill('Half configured');
  await form.getByLabel('Latitude').fill('40.41');
  await form.getByLabel('Longitude').fill('-3.70');
  await form.getByLabel('Confirm in k frames').fill('2');
  await form.getByRole('button', { name: 'Create camera' }).click();
  await admin.locator('.toast-error', { hasText: 'Give both k and n of the confirmation' }).waitFor();
  assert.equal(await cameras.getByText('Half configured').count(), 0);

  assert.deepEqual([...desk.errors, ...phone.errors], []);
  for (const page of [dispatcher, officer, admin]) await page.close();
});

test('markup in a camera name is shown as text on the dispatcher, officer and admin pages, never parsed', async () => {
  const api = system.url;
  const token = async (username: string) => (await call(api, 'POST', '/api/v1/auth/login', { json: { username, password: PASSWORD } })).body.token as string;
  const cam = await call(api, 'POST', '/api/v1/cameras', {
    token: await token('chief'),
    json: { name: HOSTILE_NAME, latitude: 40.4211, longitude: -3.7049, address: 'Gran Vía 14, Madrid', zone: 'Centro', confirmFrames: 1, confirmWindow: 1 },
  });
  assert.equal(cam.status, 201);
  const notParsed = async (page: Page, where: string) => {
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, `no script ran on the ${where} page`);
    assert.equal(await page.locator('img[src="x"]').count(), 0, `no element was made from the name on the ${where} page`);
  };

  const dispatcher = await desk.context.newPage();
  await login(dispatcher, api, 'dispatch1', PASSWORD);
  await dispatcher.locator('.conn-live').waitFor();
  assert.equal(await postFrame(cam.body.apiKey, UNMASKED_FACE), 202);
  const item = dispatcher.locator('.alert-item', { hasText: HOSTILE_NAME });
  await item.waitFor();
  const alertId = (await item.getAttribute('data-alert-id'))!;
  await item.click();
  await dispatcher.getByRole('heading', { name: HOSTILE_NAME, exact: true }).waitFor();
  await notParsed(dispatcher, 'dispatcher');

  const dispatcherToken = await token('dispatch1');
  assert.equal((await call(api, 'PATCH', `/api/v1/units/${unitIds['P-11']}`, { token: dispatcherToken, json: { status: 'AVAILABLE' } })).status, 200);
  assert.equal((await call(api, 'POST', `/api/v1/alerts/${alertId}/dispatch`, { token: dispatcherToken, json: { unitId: unitIds['P-11'] } })).status, 200);
  const officer = await phone.context.newPage();
  await login(officer, api, 'officer11', PASSWORD);
  await officer.locator(`.officer-card[data-alert-id="${alertId}"]`).getByText(HOSTILE_NAME).waitFor();
  await notParsed(officer, 'officer');

  const admin = await desk.context.newPage();
  await login(admin, api, 'chief', PASSWORD);
  await admin.getByRole('table', { name: 'Violations' }).getByText(HOSTILE_NAME).first().waitFor();
  await notParsed(admin, 'admin');
  assert.deepEqual([...desk.errors, ...phone.errors], []);
  // The officer's open tabs would share the next test's outbox (and send from it): each test closes its pages.
  for (const page of [dispatcher, officer, admin]) await page.close();
});

test("an officer's steps and notes tapped without a connection are sent once it is back, even from a killed tab; one whose answer was lost is settled, not refused", async () => {
  const api = system.url;
  const token = async (username: string) => (await call(api, 'POST', '/api/v1/auth/login', { json: { username, password: PASSWORD } })).body.token as string;
  const [admin, dispatcher, officerToken] = [await token('chief'), await token('dispatch1'), await token('officer11')];
  const cam = await call(api, 'POST', '/api/v1/cameras', {
    token: admin,
    json: { name: 'Callao', latitude: 40.4199, longitude: -3.7057, address: 'Plaza del Callao 1, Madrid', confirmFrames: 1, confirmWindow: 1 },
  });
  assert.equal(cam.status, 201);
  assert.equal(await postFrame(cam.body.apiKey, UNMASKED_FACE_2), 202);
  const alertId = await alertOfCamera(system.url, cam.body.id, dispatcher, 'Callao');
  assert.equal((await call(api, 'PATCH', `/api/v1/units/${unitIds['P-11']}`, { token: dispatcher, json: { status: 'AVAILABLE' } })).status, 200);
  assert.equal((await call(api, 'POST', `/api/v1/alerts/${alertId}/dispatch`, { token: dispatcher, json: { unitId: unitIds['P-11'] } })).status, 200);
  const status = async () => (await call(api, 'GET', `/api/v1/alerts/${alertId}`, { token: dispatcher })).body.status as string;

  const officer = await phone.context.newPage();
  await login(officer, api, 'officer11', PASSWORD);
  const card = officer.locator(`.officer-card[data-alert-id="${alertId}"]`);
  await card.getByRole('button', { name: 'Acknowledge' }).waitFor();
  const pending = card.getByRole('status').filter({ hasText: 'not sent yet' });

  // In a dead zone: the tap is kept, said on the card, and the buttons wait.
  await phone.context.setOffline(true);
  await card.getByRole('button', { name: 'Acknowledge' }).click();
  await pending.filter({ hasText: 'Acknowledge: not sent yet, no connection.' }).waitFor();
  assert.equal(await card.getByRole('button', { name: 'En route' }).isDisabled(), true);
  assert.equal(await status(), 'DISPATCHED');
  // Back in coverage: sent without another tap, once.
  await phone.context.setOffline(false);
  await card.locator('.badge.status-ACKNOWLEDGED').waitFor({ timeout: 15_000 });
  await officer.locator('.toast', { hasText: 'Acknowledge: recorded' }).waitFor();
  await pending.waitFor({ state: 'hidden' });
  assert.equal(await status(), 'ACKNOWLEDGED');

  // The first try reached the server but its answer was lost (here: the step is recorded behind the phone's back);
  // the retry is refused as a conflict, and the card settles it from the alert as it now is.
  await phone.context.setOffline(true);
  await card.getByRole('button', { name: 'En route' }).click();
  await pending.filter({ hasText: 'En route: not sent yet' }).waitFor();
  assert.equal((await call(api, 'POST', `/api/v1/alerts/${alertId}/en-route`, { token: officerToken })).status, 200);
  await phone.context.setOffline(false);
  await card.locator('.badge.status-EN_ROUTE').waitFor({ timeout: 15_000 });
  await officer.locator('.toast', { hasText: 'En route: recorded' }).waitFor();
  await pending.waitFor({ state: 'hidden' });
  assert.equal(await officer.locator('.toast-error').count(), 0, 'no refusal shown for a step that was recorded');
  assert.equal(await card.getByRole('button', { name: 'On scene' }).isEnabled(), true);
  const timeline = (await call(api, 'GET', `/api/v1/alerts/${alertId}/timeline`, { token: dispatcher })).body.items as { action: string; at: string; tappedAt: string | null }[];
  assert.deepEqual(
    timeline.map((e) => e.action).filter((a) => a === 'alert.acknowledge' || a === 'alert.en_route'),
    ['alert.acknowledge', 'alert.en_route'],
  );
  // The acknowledgement got through late: the timeline says when it was tapped, beside when it was recorded.
  const ack = timeline.find((e) => e.action === 'alert.acknowledge')!;
  assert.ok(ack.tappedAt && Date.parse(ack.tappedAt) <= Date.parse(ack.at), JSON.stringify(ack));
  const desk1 = await desk.context.newPage();
  await login(desk1, api, 'dispatch1', PASSWORD);
  await alertItem(desk1, alertId).click();
  await desk1.getByRole('list', { name: 'Timeline' }).locator('li', { hasText: 'Acknowledged · officer11' }).getByText(/tapped \d{2}:\d{2}:\d{2}, sent when back online/).waitFor();

  // Out of coverage again, with the officer's console open in two tabs: a step tapped in one and a note added in
  // the other are both kept on the phone, each tab showing both, and the phone kills the tabs. Signed in again once
  // back in coverage, both are sent, in order, each once, saying when they were tapped.
  const tab2 = await phone.context.newPage();
  await login(tab2, api, 'officer11', PASSWORD);
  const card2nd = tab2.locator(`.officer-card[data-alert-id="${alertId}"]`);
  await card2nd.getByRole('button', { name: 'On scene' }).waitFor();
  await phone.context.setOffline(true);
  await card.getByRole('button', { name: 'On scene' }).click();
  await pending.filter({ hasText: 'On scene: not sent yet' }).waitFor();
  await card2nd.getByRole('status').filter({ hasText: 'On scene: not sent yet' }).waitFor();
  await card2nd.getByRole('textbox', { name: 'Add a note' }).fill('Subject went into the metro, line 1');
  await card2nd.getByRole('button', { name: 'Add note' }).click();
  await card2nd.getByRole('list', { name: 'Notes not sent yet' }).getByText('not sent yet, no connection').waitFor();
  assert.equal(await card2nd.getByRole('textbox', { name: 'Add a note' }).inputValue(), '', 'the note is kept in the outbox, not in the field');
  await card.getByRole('list', { name: 'Notes not sent yet' }).getByText('Subject went into the metro, line 1').waitFor();
  // Logging out is asked first: the officer may rather stay until they are sent. Logged out, they stay on the phone.
  const outboxSize = (page: Page) =>
    page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith('maskwatch.outbox.')).reduce((n, [, v]) => n + (JSON.parse(v) as unknown[]).length, 0));
  const notSent = officer.getByRole('dialog', { name: 'Not sent yet' });
  await officer.getByRole('button', { name: 'Log out' }).click();
  await notSent.getByText('Tapped without a connection, not at dispatch yet: On scene at Callao, a note at Callao.').waitFor();
  await screenshot(officer, 'officer-not-sent-yet');
  await notSent.getByRole('button', { name: 'Stay signed in' }).click();
  await notSent.waitFor({ state: 'detached' });
  await card.getByRole('button', { name: 'Add note' }).waitFor();
  await officer.getByRole('button', { name: 'Log out' }).click();
  await notSent.getByRole('button', { name: 'Log out anyway' }).click();
  await officer.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  assert.equal(await outboxSize(officer), 2, 'both still on the phone after logging out');
  await officer.close();
  await tab2.close();
  await phone.context.setOffline(false);
  assert.equal(await status(), 'EN_ROUTE');
  const again = await phone.context.newPage();
  await login(again, api, 'officer11', PASSWORD);
  const card2 = again.locator(`.officer-card[data-alert-id="${alertId}"]`);
  await card2.locator('.badge.status-ON_SCENE').waitFor({ timeout: 15_000 });
  await card2.getByRole('list', { name: 'Notes' }).getByText('Subject went into the metro, line 1').waitFor();
  await card2.getByRole('list', { name: 'Notes not sent yet' }).locator('li').waitFor({ state: 'detached' });
  assert.equal(await again.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('maskwatch.outbox.')).length), 0, 'nothing left on the phone');
  const later = (await call(api, 'GET', `/api/v1/alerts/${alertId}/timeline`, { token: dispatcher })).body.items as { action: string; at: string; tappedAt: string | null; note: string | null }[];
  const onScene = later.filter((e) => e.action === 'alert.on_scene');
  const notes = later.filter((e) => e.action === 'alert.note');
  assert.equal(onScene.length, 1);
  assert.deepEqual(
    notes.map((e) => e.note),
    ['Subject went into the metro, line 1'],
  );
  for (const e of [...onScene, ...notes]) assert.ok(e.tappedAt && Date.parse(e.tappedAt) < Date.parse(e.at), JSON.stringify(e));
  assert.ok(Date.parse(onScene[0]!.tappedAt!) <= Date.parse(notes[0]!.tappedAt!), 'in the order they were tapped');
  await alertItem(desk1, alertId).click();
  await desk1.getByRole('list', { name: 'Timeline' }).locator('li', { hasText: 'Note · officer11' }).getByText(/written \d{2}:\d{2}:\d{2}, sent when back online/).waitFor();

  // The unit's status is not kept for later (dispatch may move the unit meanwhile): changed without a connection,
  // it is refused on the spot and the list goes back to the status dispatch sees. A dispatcher's change shows live.
  const unitStatus = again.locator('select[name="unit-status"]');
  assert.equal(await unitStatus.inputValue(), 'BUSY');
  await phone.context.setOffline(true);
  await unitStatus.selectOption('OFF_DUTY');
  await again.locator('.toast-error', { hasText: 'Status not changed to Off duty: no connection. Still Busy.' }).waitFor();
  assert.equal(await unitStatus.inputValue(), 'BUSY');
  await phone.context.setOffline(false);
  await again.locator('.conn-live').waitFor({ timeout: 15_000 });
  assert.equal((await call(api, 'PATCH', `/api/v1/units/${unitIds['P-11']}`, { token: dispatcher, json: { status: 'OFF_DUTY' } })).status, 200);
  await pollUntil(async () => (await unitStatus.inputValue()) === 'OFF_DUTY', "the dispatcher's status change on the officer's page");
  await desk1.close();
  await again.close();
});

test('notifications: a console in the background hears of a new alert, a pocketed phone of its assignment; both are taken back', async () => {
  const api = system.url;
  const token = async (username: string) => (await call(api, 'POST', '/api/v1/auth/login', { json: { username, password: PASSWORD } })).body.token as string;
  const [admin, dispatcherToken] = [await token('chief'), await token('dispatch1')];
  const cam = await call(api, 'POST', '/api/v1/cameras', {
    token: admin,
    json: { name: 'Plaza Mayor', latitude: 40.4155, longitude: -3.7074, address: 'Plaza Mayor 1, Madrid', confirmFrames: 1, confirmWindow: 1 },
  });
  assert.equal(cam.status, 201);
  for (const b of [desk, phone]) await b.context.grantPermissions(['notifications'], { origin: api });
  const dispatcher = await desk.context.newPage();
  const officer = await phone.context.newPage();
  for (const page of [dispatcher, officer]) await backgroundable(page);
  await recordVibrations(officer);
  await login(dispatcher, api, 'dispatch1', PASSWORD);
  await login(officer, api, 'officer11', PASSWORD);
  for (const page of [dispatcher, officer]) {
    await page.locator('.conn-live').waitFor();
    // The first load is over: an alert it fetched would be known already, not announced.
    await page.waitForLoadState('networkidle');
    // Off until the user turns them on: the browser asks for permission only from a click.
    await page.getByRole('button', { name: 'Notifications off' }).click();
    await page.getByRole('button', { name: 'Notifications on', pressed: true }).waitFor();
    await sendToBackground(page);
  }

  // A frame → the dispatcher, working in another window, gets a system notification: the place and the count, no face.
  assert.equal(await postFrame(cam.body.apiKey, UNMASKED_FACE), 202);
  const alertId = await alertOfCamera(system.url, cam.body.id, dispatcherToken, 'Plaza Mayor');
  await alertItem(dispatcher, alertId).waitFor();
  await pollUntil(async () => (await shownNotifications(dispatcher)).some((n) => n.tag === `alert:${alertId}`), "the new alert's notification on the dispatcher's computer", 15_000);
  assert.deepEqual(
    (await shownNotifications(dispatcher)).find((n) => n.tag === `alert:${alertId}`),
    { title: 'New alert', body: 'Plaza Mayor, Plaza Mayor 1, Madrid · 1 person', tag: `alert:${alertId}`, requireInteraction: false },
  );
  assert.deepEqual(await shownNotifications(officer), [], 'not yet a matter for the unit');

  // Dispatched to P-11 → the officer's phone buzzes and shows the assignment until it is acted on.
  assert.equal((await call(api, 'PATCH', `/api/v1/units/${unitIds['P-11']}`, { token: dispatcherToken, json: { status: 'AVAILABLE' } })).status, 200);
  assert.equal((await call(api, 'POST', `/api/v1/alerts/${alertId}/dispatch`, { token: dispatcherToken, json: { unitId: unitIds['P-11'] } })).status, 200);
  await pollUntil(async () => (await shownNotifications(officer)).length > 0, "the assignment's notification on the officer's phone", 30_000);
  assert.deepEqual(await shownNotifications(officer), [
    { title: 'New assignment', body: 'Plaza Mayor, Plaza Mayor 1, Madrid · 1 person', tag: `alert:${alertId}`, requireInteraction: true },
  ]);
  assert.ok((await vibrations(officer)) >= 1, 'the phone vibrated');

  // Acknowledged: the assignment's notification is taken back.
  await officer.locator(`.officer-card[data-alert-id="${alertId}"]`).getByRole('button', { name: 'Acknowledge' }).click();
  await pollUntil(async () => (await shownNotifications(officer)).length === 0, "the acknowledged assignment's notification closed", 15_000);

  // Logging out takes this user's notifications back: they are not for the next person at the screen.
  assert.ok((await shownNotifications(dispatcher)).length > 0);
  await dispatcher.getByRole('button', { name: 'Log out' }).click();
  await pollUntil(async () => (await shownNotifications(dispatcher)).length === 0, "the dispatcher's notifications closed at logout", 15_000);
  for (const page of [dispatcher, officer]) await page.close();
});

test("the dashboard installs as an app (a phone's home screen, where iOS offers web notifications)", async () => {
  const page = await phone.context.newPage();
  await login(page, system.url, 'officer11', PASSWORD);
  const cdp = await phone.context.newCDPSession(page);
  await pollUntil(
    async () => (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors.length === 0,
    'Chromium finds nothing that stops installing the dashboard',
    15_000,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify((await cdp.send('Page.getInstallabilityErrors')).installabilityErrors)}`);
  });
  const manifest = await page.evaluate(async () => (await fetch(document.querySelector<HTMLLinkElement>('link[rel="manifest"]')!.href)).json());
  assert.deepEqual([manifest.start_url, manifest.scope, manifest.display], ['/', '/', 'standalone']);
  // Every icon it names, and iOS's Home Screen icon (a PNG: iOS takes no SVG there), is served as declared.
  const appleIcon = await page.evaluate(() => document.querySelector<HTMLLinkElement>('link[rel="apple-touch-icon"]')!.getAttribute('href')!);
  for (const icon of [...(manifest.icons as { src: string; sizes: string; type: string }[]), { src: appleIcon, sizes: '180x180', type: 'image/png' }]) {
    const res = await fetch(new URL(icon.src, system.url));
    assert.equal(res.status, 200, icon.src);
    assert.equal(res.headers.get('content-type')?.split(';')[0], icon.type, icon.src);
    const { width, height } = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    if (icon.sizes !== 'any') assert.equal(`${width}x${height}`, icon.sizes, icon.src);
  }
  await page.close();
});
