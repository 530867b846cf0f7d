/**
 * An assignment the unit has not acknowledged in time (MASKWATCH_ESCALATE_ACK_S) re-alerts the officer's phone,
 * in Chromium against the real system: with the page in the background, the assignment chimes, buzzes and shows
 * a notification; its escalation sounds the alarm, buzzes again and replaces the notification with one that asks
 * for the acknowledgement; acknowledging takes it back. And the unit status on the phone stays what dispatch last set,
 * even when a reconnect's refetch answers after the change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { call } from '../helpers/api.ts';
import { pollUntil } from '../helpers/wait.ts';
import {
  alertOfCamera,
  backgroundable,
  buildDashboard,
  closeAll,
  launchBrowser,
  login,
  PHONE,
  recordTones,
  recordVibrations,
  sendToBackground,
  shownNotifications,
  startSystem,
  tones,
  vibrations,
  type Browser,
  type System,
} from './support.ts';

const PASSWORD = 'correct horse battery staple';
const UNMASKED_FACE = path.join(process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared'), 'datasets', 'prajna', 'without_mask', '10.jpg');
/** A dispatched alert not acknowledged within this many seconds escalates (one level at most). */
const ACK_S = 4;
/** The pitches of src/web/sound.ts: the chime of a new assignment, the alarm of an escalation. */
const CHIME = [880, 1320];
const ALARM = [660, 440, 660, 440];

let system: System;
let phone: Browser;

before(async () => {
  await buildDashboard();
  system = await startSystem(
    { username: 'chief', password: PASSWORD },
    { MASKWATCH_ESCALATE_ACK_S: String(ACK_S), MASKWATCH_ESCALATE_DISPATCH_S: '3600', MASKWATCH_ESCALATE_MAX_LEVEL: '1' },
  );
  phone = await launchBrowser(PHONE);
});

after(() => closeAll(phone, system));

test('an unacknowledged assignment escalates: the officer\'s phone sounds the alarm, buzzes and asks for the acknowledgement', async () => {
  const api = system.url;
  const admin = (await call(api, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } })).body.token as string;
  const unit = await call(api, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'P-7', latitude: 40.4155, longitude: -3.7074 } });
  assert.equal(unit.status, 201);
  assert.equal((await call(api, 'POST', '/api/v1/users', { token: admin, json: { username: 'walker7', password: PASSWORD, role: 'OFFICER', unit: 'P-7' } })).status, 201);
  const cam = await call(api, 'POST', '/api/v1/cameras', {
    token: admin,
    json: { name: 'Plaza Mayor', latitude: 40.4155, longitude: -3.7074, address: 'Plaza Mayor 1, Madrid', confirmFrames: 1, confirmWindow: 1 },
  });
  assert.equal(cam.status, 201);

  await phone.context.grantPermissions(['notifications'], { origin: api });
  const officer = await phone.context.newPage();
  await backgroundable(officer);
  await recordVibrations(officer);
  await recordTones(officer);
  await login(officer, api, 'walker7', PASSWORD);
  await officer.locator('.conn-live').waitFor();
  await officer.waitForLoadState('networkidle');
  await officer.getByRole('button', { name: 'Notifications off' }).click();
  await officer.getByRole('button', { name: 'Notifications on', pressed: true }).waitFor();
  await sendToBackground(officer);

  // A frame → an alert → dispatched to P-7: the pocketed phone chimes, buzzes and shows the assignment.
  const frame = await fetch(`${api}/api/v1/frames`, { method: 'POST', headers: { authorization: `Bearer ${cam.body.apiKey}`, 'content-type': 'image/jpeg' }, body: await readFile(UNMASKED_FACE) });
  assert.equal(frame.status, 202);
  const alertId = await alertOfCamera(api, cam.body.id, admin, 'Plaza Mayor');
  // Before the request: the server's dispatch time (the escalation's clock) is later, whatever the response's delay.
  const dispatchedAt = Date.now();
  const dispatched = await call(api, 'POST', `/api/v1/alerts/${alertId}/dispatch`, { token: admin, json: { unitId: unit.body.id } });
  assert.equal(dispatched.status, 200, JSON.stringify(dispatched.body));
  await pollUntil(async () => (await shownNotifications(officer)).some((n) => n.title === 'New assignment'), "the assignment's notification", 30_000);
  assert.deepEqual(await tones(officer), CHIME, 'the assignment chimed');
  const buzzedForAssignment = await vibrations(officer);
  assert.ok(buzzedForAssignment >= 1, 'the phone vibrated for the assignment');

  // Not acknowledged within ACK_S: escalated. The alarm, another buzz, and the notification now asks for the acknowledgement.
  await pollUntil(
    async () => (await shownNotifications(officer)).some((n) => n.title === 'Acknowledge your assignment'),
    "the escalation's notification",
    ACK_S * 1000 + 30_000,
  );
  assert.ok(Date.now() - dispatchedAt >= ACK_S * 1000, 'not before the acknowledgement was due');
  assert.deepEqual(await shownNotifications(officer), [
    {
      title: 'Acknowledge your assignment',
      body: 'Plaza Mayor, Plaza Mayor 1, Madrid · escalated to level 1, dispatch is waiting',
      tag: `alert:${alertId}`,
      requireInteraction: true,
    },
  ]);
  assert.deepEqual(await tones(officer), [...CHIME, ...ALARM], 'the escalation sounded the alarm');
  assert.ok((await vibrations(officer)) > buzzedForAssignment, 'the phone vibrated again');

  // Acknowledged: the notification is taken back.
  await officer.locator(`.officer-card[data-alert-id="${alertId}"]`).getByRole('button', { name: 'Acknowledge' }).click();
  await pollUntil(async () => (await shownNotifications(officer)).length === 0, "the escalated assignment's notification closed", 15_000);
  assert.deepEqual(phone.errors, []);
});

test("a reconnect's refetch answered after a dispatcher's live status change does not put back the status it replaced", async () => {
  const api = system.url;
  const admin = (await call(api, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } })).body.token as string;
  const unit = await call(api, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'P-8', status: 'AVAILABLE' } });
  assert.equal(unit.status, 201);
  assert.equal((await call(api, 'POST', '/api/v1/users', { token: admin, json: { username: 'walker8', password: PASSWORD, role: 'OFFICER', unit: 'P-8' } })).status, 201);
  const officer = await phone.context.newPage();
  await login(officer, api, 'walker8', PASSWORD);
  await officer.locator('.conn-live').waitFor();
  const status = officer.locator('select[name="unit-status"]');
  await pollUntil(async () => (await status.inputValue()) === 'AVAILABLE', "the unit's status on the officer's page");
  // Count the units answers the page has read (the view's handling runs in the same turn, before any evaluate).
  await officer.evaluate(() => {
    const json = Response.prototype.json;
    Response.prototype.json = async function (this: Response) {
      const body: unknown = await json.call(this);
      if (new URL(this.url).pathname === '/api/v1/units') (window as unknown as { unitsRead: number }).unitsRead = ((window as unknown as { unitsRead?: number }).unitsRead ?? 0) + 1;
      return body;
    };
  });
  const unitsRead = () => officer.evaluate(() => (window as unknown as { unitsRead?: number }).unitsRead ?? 0);

  // The refetch after a reconnect reads the unit (AVAILABLE) and its answer is held back…
  let held: (() => void) | undefined;
  const release = new Promise<void>((resolve) => (held = resolve));
  let read = false;
  await officer.route('**/api/v1/units', async (route) => {
    const answer = await route.fetch();
    read = true;
    await release;
    await route.fulfill({ response: answer });
  });
  await officer.evaluate(() => window.dispatchEvent(new Event('offline'))); // Socket.IO drops the connection and reconnects
  await pollUntil(async () => read, "the reconnect's refetch of the units");
  // …while a dispatcher sets the unit off duty, which the page shows live…
  assert.equal((await call(api, 'PATCH', `/api/v1/units/${unit.body.id}`, { token: admin, json: { status: 'OFF_DUTY' } })).status, 200);
  await pollUntil(async () => (await status.inputValue()) === 'OFF_DUTY', 'the live change on the officer\'s page');
  // …and the late answer, which still says AVAILABLE, is read without putting it back.
  const before = await unitsRead();
  held!();
  await pollUntil(async () => (await unitsRead()) > before, 'the held answer read by the page');
  assert.equal(await status.inputValue(), 'OFF_DUTY');
  await officer.unroute('**/api/v1/units');
  await officer.close();
  assert.deepEqual(phone.errors, []);
});
