/**
 * A precinct's dispatcher, in Chromium against the real system (`maskwatch start`): in Admin › Users the
 * admin limits a dispatcher to zone Centro by ticking it among the cameras' zones; the dispatcher's
 * session ends, and once signed in again their header names the zone and their feed, filters and map
 * hold the Centro camera's alert only, while a dispatcher without zones sees both. Renamed in Admin › Zones,
 * the zone keeps its dispatcher, whose open console follows the new name without signing in again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { call } from '../helpers/api.ts';
import { alertOfCamera, axeViolations, buildDashboard, closeAll, DESK, launchBrowser, login, screenshot, startSystem, type Browser, type System } from './support.ts';

const PASSWORD = 'correct horse battery staple';
const GROUP = path.join(process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared'), 'datasets', 'scenes', 'group-faces.jpg');

let system: System;
let desk: Browser;

before(async () => {
  await buildDashboard();
  system = await startSystem({ username: 'chief', password: PASSWORD });
  const token = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } })).body.token as string;
  for (const username of ['ana', 'eva']) {
    assert.equal((await call(system.url, 'POST', '/api/v1/users', { token, json: { username, password: PASSWORD, role: 'DISPATCHER' } })).status, 201);
  }
  const frame = await readFile(GROUP);
  for (const [name, zone, latitude] of [['Puerta del Sol', 'Centro', 40.4169], ['Plaza Elíptica', 'Sur', 40.385]] as const) {
    const cam = await call(system.url, 'POST', '/api/v1/cameras', { token, json: { name, zone, latitude, longitude: -3.7035, confirmFrames: 1, confirmWindow: 1 } });
    assert.equal(cam.status, 201);
    const res = await fetch(`${system.url}/api/v1/frames`, { method: 'POST', headers: { authorization: `Bearer ${cam.body.apiKey}`, 'content-type': 'image/jpeg' }, body: frame });
    assert.equal(res.status, 202);
    await alertOfCamera(system.url, cam.body.id, token, name);
  }
  // A camera without a zone: no dispatcher limited to zones hears of it, which the zones dialog says.
  assert.equal((await call(system.url, 'POST', '/api/v1/cameras', { token, json: { name: 'Depot', latitude: 40.4, longitude: -3.7 } })).status, 201);
  desk = await launchBrowser(DESK);
});

after(() => closeAll(desk, system));

test("an admin limits a dispatcher to a zone; the dispatcher's console then holds that zone's alerts only", async () => {
  const dispatcher = await desk.context.newPage();
  await login(dispatcher, system.url, 'ana', PASSWORD);
  await dispatcher.locator('.alert-item', { hasText: 'Plaza Elíptica' }).waitFor();

  const admin = await desk.context.newPage();
  await login(admin, system.url, 'chief', PASSWORD);
  await admin.goto(`${system.url}/#/admin/users`);
  await admin.getByRole('button', { name: 'Zones of ana: every zone' }).click();
  const dialog = admin.getByRole('dialog', { name: 'Zones of ana' });
  assert.deepEqual(await dialog.getByRole('checkbox').evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).value)), ['Centro', 'Sur'], "the cameras' zones");
  await dialog.getByText('1 camera has no zone: its alerts reach only admins and the dispatchers who see every zone.').waitFor();
  await dialog.getByRole('checkbox', { name: 'Centro' }).check();
  assert.equal(await axeViolations(admin, 'Admin › Users › Zones'), '');
  await screenshot(admin, 'admin-user-zones', 'admin-user-zones');
  await dialog.getByRole('button', { name: 'Save zones' }).click();
  await admin.getByRole('button', { name: 'Zones of ana: Centro' }).waitFor();
  assert.equal(await admin.getByRole('button', { name: /^Zones of eva: every zone$/ }).count(), 1);

  // The change ended ana's session: her open page asks her to sign in again, then starts over with her new access.
  const again = dispatcher.getByRole('dialog', { name: 'Your session has ended' });
  await again.waitFor({ timeout: 15_000 });
  await again.getByLabel('Password').fill(PASSWORD);
  await again.getByRole('button', { name: 'Sign in again' }).click();
  await dispatcher.getByRole('button', { name: 'ana · DISPATCHER · Centro: your account' }).waitFor();
  await dispatcher.locator('.alert-item', { hasText: 'Puerta del Sol' }).waitFor();
  assert.equal(await dispatcher.locator('.alert-item', { hasText: 'Plaza Elíptica' }).count(), 0, "the Sur camera's alert is not hers");
  const zoneOptions = await dispatcher.getByRole('combobox', { name: 'Zone' }).locator('option').allTextContents();
  assert.deepEqual(zoneOptions, ['All zones', 'Centro']);

  const everyone = await desk.context.newPage();
  await login(everyone, system.url, 'eva', PASSWORD);
  await everyone.locator('.alert-item', { hasText: 'Plaza Elíptica' }).waitFor();
  assert.equal(await everyone.locator('.alert-item', { hasText: 'Puerta del Sol' }).count(), 1);

  // Admin › Zones: who sees which; Centro is renamed, and ana keeps her session while her console follows the name.
  await admin.goto(`${system.url}/#/admin/zones`);
  const centroRow = admin.getByRole('row').filter({ has: admin.getByRole('rowheader', { name: 'Centro', exact: true }) });
  await centroRow.waitFor();
  assert.deepEqual((await centroRow.getByRole('cell').allTextContents()).slice(0, 3), ['1', '1', '2 (1 limited to it)']);
  await centroRow.getByRole('button', { name: 'Rename zone Centro' }).click();
  const rename = admin.getByRole('dialog', { name: 'Rename zone Centro' });
  await rename.getByLabel('New name').fill('Centro Histórico');
  assert.equal(await axeViolations(admin, 'Admin › Zones › Rename'), '');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await admin.getByText('Zone Centro is now Centro Histórico: 1 camera, 1 dispatcher').waitFor();
  await admin.getByRole('rowheader', { name: 'Centro Histórico', exact: true }).waitFor();
  assert.equal(await axeViolations(admin, 'Admin › Zones'), '');
  await screenshot(admin, 'admin-zones', 'admin-zones');
  await dispatcher.getByRole('button', { name: 'ana · DISPATCHER · Centro Histórico: your account' }).waitFor({ timeout: 15_000 });
  await dispatcher.locator('.alert-item', { hasText: 'Puerta del Sol' }).waitFor();
  assert.equal(await dispatcher.getByRole('dialog', { name: 'Your session has ended' }).count(), 0);

  // Her zone's alert closed, her feed says the quiet is hers, not the city's.
  const token = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } })).body.token as string;
  const centro = (await call(system.url, 'GET', '/api/v1/alerts', { token })).body.items.find((a: { camera: { zone: string } }) => a.camera.zone === 'Centro Histórico');
  assert.equal((await call(system.url, 'POST', `/api/v1/alerts/${centro.id}/dismiss`, { token, json: { reason: 'test over' } })).status, 200);
  await dispatcher.getByText('No open alerts in Centro Histórico.').waitFor();

  // The old name given again (as a directory group map not yet changed would): no camera has it, and eva's quiet feed says so.
  const eva = (await call(system.url, 'GET', '/api/v1/users', { token })).body.items.find((u: { username: string }) => u.username === 'eva');
  assert.equal((await call(system.url, 'PATCH', `/api/v1/users/${eva.id}`, { token, json: { zones: ['Centro'] } })).status, 200);
  const evaAgain = everyone.getByRole('dialog', { name: 'Your session has ended' });
  await evaAgain.waitFor({ timeout: 15_000 });
  await evaAgain.getByLabel('Password').fill(PASSWORD);
  await evaAgain.getByRole('button', { name: 'Sign in again' }).click();
  await everyone.getByText('No camera is in Centro: no alert can reach you. Ask an administrator to check your zones.').waitFor();
  assert.deepEqual(desk.errors.filter((e) => !/401|Failed to load resource/.test(e)), []);
});
