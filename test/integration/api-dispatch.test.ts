/**
 * Dispatch workflow API (issue 4): units, suggested units, lifecycle actions with
 * audit + live alert.updated to the right rooms, stats and CSV export — real
 * SQLite / PostgreSQL, real Redis adapter, real Socket.IO clients.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { io as connectClient, type Socket } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import { EventLog } from './worker-support.ts';
import Fastify from 'fastify';
import { registerProblemHandlers } from '../../src/api/problem.ts';
import { exportRoutes } from '../../src/api/routes/exports.ts';
import { createRepositories } from '../../src/db/repositories/index.ts';
import { createExportService } from '../../src/services/exports.ts';
import { socketConnected } from '../helpers/wait.ts';
import { startOfHour, testClock } from '../helpers/clock.ts';

async function listen(url: string, token: string): Promise<{ socket: Socket<ServerToClientEvents>; log: EventLog }> {
  const socket: Socket<ServerToClientEvents> = connectClient(url, { transports: ['websocket'], auth: { token } });
  const log = new EventLog(socket);
  await socketConnected(socket);
  return { socket, log };
}

// Alerts are dated by this clock; TEST_NOW=23:59:30 runs the file as if in the last minute of an hour and day.
const now = testClock();

for (const provider of testProviders()) {
  describe(`dispatch workflow API (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let admin: string;
    let dispatcher: string;
    let officer: string;
    let officer2: string;
    const units: Record<string, string> = {};
    let cameraId: string;
    const sockets: Socket[] = [];

    async function newAlert(minutesAgo = 0, fixedAt?: Date): Promise<string> {
      const at = fixedAt ?? new Date(now().getTime() - minutesAgo * 60_000);
      const alert = await stack.db.prisma.alert.create({
        data: { cameraId, trackId: randomUUID(), firstSeenAt: at, lastSeenAt: at, createdAt: at, noMaskProbability: 0.97, violationCount: 1 },
      });
      await stack.db.prisma.violation.create({
        data: {
          cameraId,
          frameId: randomUUID(),
          faceIndex: 0,
          capturedAt: at,
          receivedAt: at,
          boxX: 1, boxY: 2, boxW: 30, boxH: 40,
          faceScore: 0.9,
          noMaskProbability: 0.97,
          alertId: alert.id,
        },
      });
      return alert.id;
    }

    /** An alert taken through the whole lifecycle by P-1's officer: each test that reads resolved alerts makes its own. */
    async function resolvedAlert(outcome = 'MASK_PUT_ON'): Promise<string> {
      const alertId = await newAlert();
      const act = async (token: string, action: string, json: unknown = {}) => {
        const r = await call(api.url, 'POST', `/api/v1/alerts/${alertId}/${action}`, { token, json });
        assert.equal(r.status, 200, `${action}: ${JSON.stringify(r.body)}`);
      };
      await act(dispatcher, 'dispatch', { unitId: units['P-1'] });
      for (const action of ['acknowledge', 'en-route', 'on-scene']) await act(officer, action);
      await act(officer, 'resolve', { note: 'mask on', outcome });
      return alertId;
    }

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi();
      admin = (await loginAs(api, { username: 'boss', role: 'ADMIN' })).token;
      dispatcher = (await loginAs(api, { username: 'disp', role: 'DISPATCHER' })).token;
      // Camera at Puerta del Sol; P-1 ~300 m away, P-2 ~3 km, P-3 off duty next door, P-4 no position.
      const cam = await call(api.url, 'POST', '/api/v1/cameras', {
        token: admin,
        json: { name: '=HYPERLINK("http://evil")', latitude: 40.4168, longitude: -3.7038, zone: 'centre', address: 'Sol, "north" side' },
      });
      assert.equal(cam.status, 201);
      cameraId = cam.body.id;
      for (const [callSign, lat, lon, status] of [
        ['P-2', 40.4438, -3.7038, 'AVAILABLE'],
        ['P-1', 40.4195, -3.7038, 'AVAILABLE'],
        ['P-3', 40.4169, -3.7038, 'OFF_DUTY'],
      ] as const) {
        const r = await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign, latitude: lat, longitude: lon, status } });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        units[callSign] = r.body.id;
      }
      const p4 = await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'P-4' } });
      units['P-4'] = p4.body.id;
      officer = (await loginAs(api, { username: 'off1', role: 'OFFICER', unitCallSign: 'P-1' })).token;
      officer2 = (await loginAs(api, { username: 'off2', role: 'OFFICER', unitCallSign: 'P-2' })).token;
    });
    after(async () => {
      for (const s of sockets) s.close();
      await stack.close();
    });

    test('unit CRUD is ADMIN only; duplicate call sign → 409; bad input → 400', async () => {
      const denied = await call(api.url, 'POST', '/api/v1/units', { token: dispatcher, json: { callSign: 'X-1' } });
      assert.equal(denied.status, 403);
      const dup = await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'P-1' } });
      assert.equal(dup.status, 409);
      assert.match(dup.headers.get('content-type') ?? '', /problem\+json/);
      const half = await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'X-2', latitude: 1 } });
      assert.equal(half.status, 400);
      const far = await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'X-3', latitude: 91, longitude: 0 } });
      assert.equal(far.status, 400);
      const list = await call(api.url, 'GET', '/api/v1/units', { token: dispatcher });
      assert.deepEqual(list.body.items.map((u: { callSign: string }) => u.callSign), ['P-1', 'P-2', 'P-3', 'P-4']);
      assert.deepEqual(list.body.items[0].members.map((m: { username: string }) => m.username), ['off1']);
      // Officers see only their own unit.
      const mine = await call(api.url, 'GET', '/api/v1/units', { token: officer });
      assert.deepEqual(mine.body.items.map((u: { callSign: string }) => u.callSign), ['P-1']);
    });

    test('members: admin sets the officers of a unit; others leave it; non-officers are refused', async () => {
      const users = (await call(api.url, 'GET', '/api/v1/users', { token: admin })).body.items as { id: string; username: string; role: string }[];
      const id = (name: string) => users.find((u) => u.username === name)!.id;
      const extra = await call(api.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'off9', password: 'correct horse battery staple', role: 'OFFICER', unit: 'P-4' } });
      assert.equal(extra.status, 201);
      // An officer needs a unit: leaving P-4 for none is refused, and neither the unit nor off9 changes.
      const dropped = await call(api.url, 'PUT', `/api/v1/units/${units['P-4']}/members`, { token: admin, json: { userIds: [] } });
      assert.equal(dropped.status, 409);
      assert.match(dropped.body.detail, /off9 would have none/);
      assert.equal((await call(api.url, 'DELETE', `/api/v1/units/${units['P-4']}`, { token: admin })).status, 409, 'a unit with officers is not deleted');
      assert.equal((await stack.db.prisma.user.findUniqueOrThrow({ where: { username: 'off9' } })).unitId, units['P-4']);
      // Joining P-3's members moves off9 out of P-4.
      const p3 = (await call(api.url, 'GET', `/api/v1/units/${units['P-3']}`, { token: admin })).body as { members: { id: string }[] };
      const p3Members = p3.members.map((m) => m.id);
      const moved = await call(api.url, 'PUT', `/api/v1/units/${units['P-3']}/members`, { token: admin, json: { userIds: [...p3Members, extra.body.id] } });
      assert.equal(moved.status, 200);
      assert.deepEqual((await call(api.url, 'GET', `/api/v1/units/${units['P-4']}`, { token: admin })).body.members, []);
      const back = await call(api.url, 'PUT', `/api/v1/units/${units['P-4']}/members`, { token: admin, json: { userIds: [extra.body.id] } });
      assert.deepEqual(back.body.members.map((m: { username: string }) => m.username), ['off9']);
      const refused = await call(api.url, 'PUT', `/api/v1/units/${units['P-4']}/members`, { token: admin, json: { userIds: [id('disp')] } });
      assert.equal(refused.status, 400);
      assert.match(refused.body.detail, /only officers/);
      assert.equal((await call(api.url, 'PUT', `/api/v1/units/${units['P-4']}/members`, { token: dispatcher, json: { userIds: [] } })).status, 403);
      assert.equal((await call(api.url, 'PUT', `/api/v1/units/nope/members`, { token: admin, json: { userIds: [] } })).status, 404);
      // Only officers belong to units: a dispatcher is not created into one, and off9 made a dispatcher leaves P-4,
      // which keeps the later tests' unit P-4 memberless, as they expect.
      const dispatcherInUnit = await call(api.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'disp9', password: 'correct horse battery staple', role: 'DISPATCHER', unit: 'P-4' } });
      assert.equal(dispatcherInUnit.status, 400);
      assert.match(dispatcherInUnit.body.detail, /only officers belong to a patrol unit/);
      const promoted = await call(api.url, 'PATCH', `/api/v1/users/${extra.body.id}`, { token: admin, json: { role: 'DISPATCHER' } });
      assert.equal(promoted.status, 200);
      assert.equal(promoted.body.unitId, null);
      assert.deepEqual((await call(api.url, 'GET', `/api/v1/units/${units['P-4']}`, { token: admin })).body.members, []);
      const noUnit = await call(api.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'off10', password: 'correct horse battery staple', role: 'OFFICER' } });
      assert.equal(noUnit.status, 400);
      assert.doesNotMatch(noUnit.body.detail, /--unit/, 'an API error speaks of the API, not of CLI flags');
    });

    test('position reports: only an officer of that unit', async () => {
      const ok = await call(api.url, 'POST', `/api/v1/units/${units['P-1']}/position`, { token: officer, json: { latitude: 40.4195, longitude: -3.7039 } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.longitude, -3.7039);
      assert.ok(ok.body.positionAt);
      const other = await call(api.url, 'POST', `/api/v1/units/${units['P-2']}/position`, { token: officer, json: { latitude: 1, longitude: 1 } });
      assert.equal(other.status, 403);
      const disp = await call(api.url, 'POST', `/api/v1/units/${units['P-1']}/position`, { token: dispatcher, json: { latitude: 1, longitude: 1 } });
      assert.equal(disp.status, 403);
      const bad = await call(api.url, 'POST', `/api/v1/units/${units['P-1']}/position`, { token: officer, json: { latitude: 'x', longitude: 1 } });
      assert.equal(bad.status, 400);
    });

    test('suggested units: available only, nearest first, unplaced last; units without officers after the others', async () => {
      const alertId = await newAlert();
      // P-0 stands next to the camera but has no officer to acknowledge: it comes after the staffed units.
      const p0 = await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'P-0', latitude: 40.4168, longitude: -3.7038, status: 'AVAILABLE' } });
      assert.equal(p0.status, 201);
      const r = await call(api.url, 'GET', `/api/v1/alerts/${alertId}/suggested-units`, { token: dispatcher });
      assert.equal((await call(api.url, 'DELETE', `/api/v1/units/${p0.body.id}`, { token: admin })).status, 204);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.items.map((s: { unit: { callSign: string } }) => s.unit.callSign), ['P-1', 'P-2', 'P-0', 'P-4']);
      const [p1, p2, , p4] = r.body.items;
      assert.ok(p1.distanceMeters > 250 && p1.distanceMeters < 350, String(p1.distanceMeters));
      assert.ok(p2.distanceMeters > 2900 && p2.distanceMeters < 3100, String(p2.distanceMeters));
      assert.equal(p4.distanceMeters, null);
      assert.equal((await call(api.url, 'GET', `/api/v1/alerts/${alertId}/suggested-units`, { token: officer })).status, 403);
      assert.equal((await call(api.url, 'GET', `/api/v1/alerts/nope/suggested-units`, { token: dispatcher })).status, 404);
    });

    test('full lifecycle: 409 / 403 / 404 where illegal, audit per step, alert.updated to the right rooms', async () => {
      const alertId = await newAlert();
      const d = await listen(api.url, dispatcher);
      const o1 = await listen(api.url, officer);
      const o2 = await listen(api.url, officer2);
      // A dispatcher connected to another API instance hears it too (Redis adapter).
      const api2 = await stack.startApi();
      const d2 = await listen(api2.url, dispatcher);
      sockets.push(d.socket, o1.socket, o2.socket, d2.socket);
      const act = (token: string, action: string, json: unknown = {}) => call(api.url, 'POST', `/api/v1/alerts/${alertId}/${action}`, { token, json });

      // Officers cannot dispatch; nobody can acknowledge a NEW alert (for an officer it is not their unit's: 404, as for no alert).
      assert.equal((await act(officer, 'dispatch', { unitId: units['P-1'] })).status, 403);
      assert.equal((await act(officer, 'acknowledge')).status, 404);
      assert.equal((await act(dispatcher, 'dispatch', { unitId: units['P-3'] })).status, 409); // off duty
      assert.equal((await act(dispatcher, 'dispatch', { unitId: 'no-such-unit' })).status, 400);

      // Dispatch to P-2, then reassign to P-1: P-2's officers hear about both, and P-2 is free again.
      const first = await act(dispatcher, 'dispatch', { unitId: units['P-2'] });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.status, 'DISPATCHED');
      await o2.log.next('alert.updated', (a) => a.id === alertId && a.assignedUnitId === units['P-2']);
      assert.equal((await call(api.url, 'GET', `/api/v1/units/${units['P-2']}`, { token: admin })).body.status, 'BUSY');
      const re = await act(dispatcher, 'dispatch', { unitId: units['P-1'] });
      assert.equal(re.status, 200);
      assert.equal(re.body.assignedUnitId, units['P-1']);
      await o2.log.next('alert.updated', (a) => a.id === alertId && a.assignedUnitId === units['P-1']);
      assert.equal((await call(api.url, 'GET', `/api/v1/units/${units['P-2']}`, { token: admin })).body.status, 'AVAILABLE');

      // The other unit's officer may not act on it, nor learn that it exists.
      assert.equal((await act(officer2, 'acknowledge')).status, 404);
      // Steps out of order are 409.
      assert.equal((await act(officer, 'on-scene')).status, 409);

      const seen: AlertEvent['status'][] = [];
      for (const [action, status] of [
        ['acknowledge', 'ACKNOWLEDGED'],
        ['en-route', 'EN_ROUTE'],
        ['on-scene', 'ON_SCENE'],
      ] as const) {
        const r = await call(api.url, 'POST', `/api/v1/alerts/${alertId}/${action}`, { token: officer });
        assert.equal(r.status, 200, `${action}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.status, status);
        seen.push((await d.log.next('alert.updated', (a) => a.id === alertId && a.status === status)).status);
        await o1.log.next('alert.updated', (a) => a.id === alertId && a.status === status);
      }
      assert.deepEqual(seen, ['ACKNOWLEDGED', 'EN_ROUTE', 'ON_SCENE']);
      assert.equal((await act(officer, 'resolve', {})).status, 400); // note required
      assert.equal((await act(officer, 'resolve', { note: '   ' })).status, 400);
      assert.equal((await act(officer, 'resolve', { note: 'x', outcome: 'ARRESTED' })).status, 400); // not an outcome
      assert.equal((await call(api.url, 'GET', `/api/v1/alerts/${alertId}`, { token: dispatcher })).body.resolutionOutcome, null, 'open: no outcome yet');
      const done = await act(officer, 'resolve', { note: 'Spoke to the person; <b>mask</b> on.', outcome: 'GONE_ON_ARRIVAL' });
      assert.equal(done.status, 200);
      assert.equal(done.body.status, 'RESOLVED');
      assert.equal(done.body.resolutionOutcome, 'GONE_ON_ARRIVAL');
      assert.equal((await d.log.next('alert.updated', (a) => a.id === alertId && a.status === 'RESOLVED')).resolutionOutcome, 'GONE_ON_ARRIVAL');
      await d2.log.next('alert.updated', (a) => a.id === alertId && a.status === 'RESOLVED');
      assert.equal((await act(dispatcher, 'dismiss', { reason: 'late' })).status, 409);
      assert.equal((await call(api.url, 'GET', `/api/v1/units/${units['P-1']}`, { token: admin })).body.status, 'AVAILABLE');
      // P-2's officer never received the later steps (room isolation).
      assert.ok(!o2.log.events.some((e) => e.alert.id === alertId && e.alert.status === 'ACKNOWLEDGED'));

      const row = await stack.db.prisma.alert.findUniqueOrThrow({ where: { id: alertId } });
      assert.ok(row.dispatchedAt && row.acknowledgedAt && row.enRouteAt && row.onSceneAt && row.resolvedAt);
      assert.equal(row.resolutionNote, 'Spoke to the person; <b>mask</b> on.');
      assert.equal(row.resolutionOutcome, 'GONE_ON_ARRIVAL');
      const audit = await stack.db.prisma.auditEvent.findMany({ where: { subjectType: 'Alert', subjectId: alertId }, orderBy: { at: 'asc' } });
      const steps = audit.map((a) => {
        const d = JSON.parse(a.details!);
        return `${a.action}:${a.actorRole}:${d.from}->${d.to}`;
      });
      assert.deepEqual(steps, [
        'alert.dispatch:DISPATCHER:NEW->DISPATCHED',
        'alert.dispatch:DISPATCHER:DISPATCHED->DISPATCHED',
        'alert.acknowledge:OFFICER:DISPATCHED->ACKNOWLEDGED',
        'alert.en_route:OFFICER:ACKNOWLEDGED->EN_ROUTE',
        'alert.on_scene:OFFICER:EN_ROUTE->ON_SCENE',
        'alert.resolve:OFFICER:ON_SCENE->RESOLVED',
      ]);
      assert.equal(JSON.parse(audit.at(-1)!.details!).note, 'Spoke to the person; <b>mask</b> on.');
      // Officer steps carry the unit's last reported position (reported in an earlier test).
      assert.deepEqual(JSON.parse(audit[2]!.details!).position.latitude, 40.4195);
      const timeline = await call(api.url, 'GET', `/api/v1/alerts/${alertId}/timeline`, { token: dispatcher });
      assert.equal(timeline.status, 200);
      assert.deepEqual(
        timeline.body.items.map((e: { action: string; username: string; to: string }) => `${e.action}/${e.username}/${e.to}`),
        [
          'alert.dispatch/disp/DISPATCHED',
          'alert.dispatch/disp/DISPATCHED',
          'alert.acknowledge/off1/ACKNOWLEDGED',
          'alert.en_route/off1/EN_ROUTE',
          'alert.on_scene/off1/ON_SCENE',
          'alert.resolve/off1/RESOLVED',
        ],
      );
      assert.equal(timeline.body.items.at(-1).note, 'Spoke to the person; <b>mask</b> on.');
      assert.equal(timeline.body.items.at(-1).outcome, 'GONE_ON_ARRIVAL');
      assert.equal(timeline.body.items.at(0).outcome, null);
      // The assigned unit's officers read it too (its notes are for them); another unit's, reassigned away, do not.
      assert.equal((await call(api.url, 'GET', `/api/v1/alerts/${alertId}/timeline`, { token: officer })).status, 200);
      assert.equal((await call(api.url, 'GET', `/api/v1/alerts/${alertId}/timeline`, { token: officer2 })).status, 404);
    });

    test("an officer's step sent late carries the phone's tap time: kept when plausible, ignored otherwise, never refused for it", async () => {
      const alertId = await newAlert();
      const act = (action: string, json: Record<string, unknown>) => call(api.url, 'POST', `/api/v1/alerts/${alertId}/${action}`, { token: officer, json });
      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${alertId}/dispatch`, { token: dispatcher, json: { unitId: units['P-1'] } })).status, 200);
      const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
      const tapped = ago(90_000);
      assert.equal((await act('acknowledge', { tappedAt: tapped })).status, 200);
      assert.equal((await act('en-route', { tappedAt: ago(2 * 3600_000) })).status, 200, 'a phone clock hours off: the step, without the annotation');
      const malformed = await act('on-scene', { tappedAt: 'a minute ago' });
      assert.equal(malformed.status, 400);
      assert.equal(typeof malformed.body.title, 'string');
      assert.equal((await act('on-scene', { tappedAt: ago(-60_000) })).status, 200, 'a tap in the future is ignored');
      const resolvedTap = ago(10_000);
      assert.equal((await act('resolve', { note: 'done', tappedAt: resolvedTap })).status, 200);
      const timeline = (await call(api.url, 'GET', `/api/v1/alerts/${alertId}/timeline`, { token: dispatcher })).body.items as { action: string; at: string; tappedAt: string | null }[];
      const officerSteps = timeline.filter((e) => e.action !== 'alert.dispatch');
      assert.deepEqual(
        officerSteps.map((e) => [e.action, e.tappedAt]),
        [
          ['alert.acknowledge', tapped],
          ['alert.en_route', null],
          ['alert.on_scene', null],
          ['alert.resolve', resolvedTap],
        ],
      );
      // The recorded time stays the step's time (status, statistics, escalation).
      const row = await stack.db.prisma.alert.findUniqueOrThrow({ where: { id: alertId } });
      assert.ok(row.acknowledgedAt! > new Date(tapped), 'acknowledgedAt is when the server got it');
      assert.equal(officerSteps[0]!.at, row.acknowledgedAt!.toISOString());
    });

    test("notes: dispatchers and the assigned unit's officers add them to the open incident, in its timeline, heard live; refused when closed", async () => {
      const alertId = await newAlert();
      const d = await listen(api.url, dispatcher);
      const o1 = await listen(api.url, officer);
      sockets.push(d.socket, o1.socket);
      const note = (token: string, json: unknown, id = alertId) => call(api.url, 'POST', `/api/v1/alerts/${id}/notes`, { token, json });

      const first = await note(dispatcher, { text: '  Caller says: red jacket, heading to Calle Mayor ' });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.noteCount, 1);
      assert.equal(first.body.status, 'NEW', 'a note is not a step');
      await d.log.next('alert.updated', (a) => a.id === alertId && a.noteCount === 1);
      // Not yet their unit's: the officer may neither read nor add to it.
      assert.equal((await note(officer, { text: 'on my way' })).status, 404);
      assert.equal((await call(api.url, 'GET', `/api/v1/alerts/${alertId}/timeline`, { token: officer })).status, 404);

      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${alertId}/dispatch`, { token: dispatcher, json: { unitId: units['P-1'] } })).status, 200);
      const fromOfficer = await note(officer, { text: 'Subject gone when we arrived' });
      assert.equal(fromOfficer.status, 200);
      assert.equal(fromOfficer.body.noteCount, 2);
      await o1.log.next('alert.updated', (a) => a.id === alertId && a.noteCount === 2);
      assert.equal((await note(officer2, { text: 'x' })).status, 404, "another unit's officer");

      // The officer reads what the dispatcher noted before the dispatch.
      const timeline = await call(api.url, 'GET', `/api/v1/alerts/${alertId}/timeline`, { token: officer });
      assert.equal(timeline.status, 200);
      assert.deepEqual(
        timeline.body.items.filter((e: { action: string }) => e.action === 'alert.note').map((e: { username: string; actorRole: string; note: string }) => [e.username, e.actorRole, e.note]),
        [
          ['disp', 'DISPATCHER', 'Caller says: red jacket, heading to Calle Mayor'],
          ['off1', 'OFFICER', 'Subject gone when we arrived'],
        ],
      );

      for (const [json, why] of [[{}, 'no text'], [{ text: '   ' }, 'blank'], [{ text: 'x'.repeat(1001) }, 'too long'], [{ text: 'ok', extra: 1 }, 'unknown field']] as const) {
        const bad = await note(dispatcher, json);
        assert.equal(bad.status, 400, why);
        assert.match(bad.headers.get('content-type') ?? '', /problem\+json/, why);
      }
      assert.equal((await note(dispatcher, { text: 'x' }, randomUUID())).status, 404);

      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${alertId}/dismiss`, { token: dispatcher, json: { reason: 'duplicate' } })).status, 200);
      const closed = await note(dispatcher, { text: 'too late' });
      assert.equal(closed.status, 409);
      assert.equal(closed.body.type, 'https://maskwatch.dev/problems/alert-closed');
      assert.equal(await stack.db.prisma.auditEvent.count({ where: { action: 'alert.note', subjectId: alertId } }), 2, 'one audit event per note, none for a refusal');
      assert.equal((await stack.db.prisma.alert.findUniqueOrThrow({ where: { id: alertId } })).noteCount, 2);
    });

    test('a note sent late by a phone keeps when it was written, and a repeat of it (same Idempotency-Key) is recorded once', async () => {
      const alertId = await newAlert();
      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${alertId}/dispatch`, { token: dispatcher, json: { unitId: units['P-1'] } })).status, 200);
      const d = await listen(api.url, dispatcher);
      sockets.push(d.socket);
      const note = (json: unknown, key?: string, token = officer) =>
        call(api.url, 'POST', `/api/v1/alerts/${alertId}/notes`, { token, json, headers: key ? { 'idempotency-key': key } : {} });
      const written = new Date(Date.now() - 120_000).toISOString();
      const key = randomUUID();
      const first = await note({ text: 'Subject went into the metro', tappedAt: written }, key);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.noteCount, 1);
      await d.log.next('alert.updated', (a) => a.id === alertId && a.noteCount === 1);
      // The first answer was lost: the phone sends it again, by the same key. Not a second note, not announced again.
      const again = await note({ text: 'Subject went into the metro', tappedAt: written }, key);
      assert.equal(again.status, 200);
      assert.equal(again.body.noteCount, 1);
      // Another note by the same key from another user, or another key, is a note of its own.
      assert.equal((await note({ text: 'Dispatch: metro line 1 informed' }, key, dispatcher)).body.noteCount, 2);
      assert.equal((await note({ text: 'Subject went into the metro' }, randomUUID())).body.noteCount, 3);
      await d.log.next('alert.updated', (a) => a.id === alertId && a.noteCount === 3);
      assert.equal(d.log.events.filter((e) => e.name === 'alert.updated' && e.alert.id === alertId && e.alert.noteCount === 1).length, 1, 'the repeat announced nothing');

      for (const [headers, json, why] of [
        [{ 'idempotency-key': 'not-a-uuid' }, { text: 'x' }, 'a key that is not a UUID'],
        [{}, { text: 'x', tappedAt: 'a minute ago' }, 'a malformed time'],
      ] as const) {
        const bad = await call(api.url, 'POST', `/api/v1/alerts/${alertId}/notes`, { token: officer, json, headers });
        assert.equal(bad.status, 400, why);
        assert.match(bad.headers.get('content-type') ?? '', /problem\+json/, why);
      }

      // Closed since: the repeat still answers as the first did; a new note is refused.
      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${alertId}/dismiss`, { token: dispatcher, json: { reason: 'gone' } })).status, 200);
      assert.equal((await note({ text: 'Subject went into the metro', tappedAt: written }, key)).status, 200);
      assert.equal((await note({ text: 'late' }, randomUUID())).status, 409);

      const notes = ((await call(api.url, 'GET', `/api/v1/alerts/${alertId}/timeline`, { token: dispatcher })).body.items as { action: string; note: string; tappedAt: string | null }[])
        .filter((e) => e.action === 'alert.note')
        .map((e) => [e.note, e.tappedAt]);
      assert.deepEqual(notes, [
        ['Subject went into the metro', written],
        ['Dispatch: metro line 1 informed', null],
        ['Subject went into the metro', null],
      ]);
    });

    test('dismiss needs a reason and a command role', async () => {
      const alertId = await newAlert();
      const act = (token: string, json: unknown) => call(api.url, 'POST', `/api/v1/alerts/${alertId}/dismiss`, { token, json });
      assert.equal((await act(officer, { reason: 'x' })).status, 403);
      assert.equal((await act(dispatcher, {})).status, 400);
      const r = await act(dispatcher, { reason: 'false positive: poster' });
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'DISMISSED');
      const row = await stack.db.prisma.alert.findUniqueOrThrow({ where: { id: alertId } });
      assert.equal(row.dismissReason, 'false positive: poster');
    });

    test('a unit with an open alert cannot be deleted', async () => {
      const alertId = await newAlert();
      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${alertId}/dispatch`, { token: dispatcher, json: { unitId: units['P-4'] } })).status, 200);
      assert.equal((await call(api.url, 'DELETE', `/api/v1/units/${units['P-4']}`, { token: admin })).status, 409);
      await call(api.url, 'POST', `/api/v1/alerts/${alertId}/dismiss`, { token: dispatcher, json: { reason: 'test' } });
      assert.equal((await call(api.url, 'DELETE', `/api/v1/units/${units['P-4']}`, { token: admin })).status, 204);
      assert.equal((await call(api.url, 'GET', `/api/v1/units/${units['P-4']}`, { token: admin })).status, 404);
    });

    test('stats: counts per bucket and response-time quantiles', async () => {
      await resolvedAlert();
      await resolvedAlert('NOT_A_VIOLATION');
      // Whole hours around the test's data (all dated by `now`, at most 90 min back): exactly 4 hourly
      // buckets at any time of day.
      const thisHour = startOfHour(now());
      const from = new Date(thisHour.getTime() - 3 * 3600_000).toISOString();
      const to = new Date(thisHour.getTime() + 3600_000).toISOString();
      const byCam = await call(api.url, 'GET', `/api/v1/stats?from=${from}&to=${to}&groupBy=camera`, { token: dispatcher });
      assert.equal(byCam.status, 200, JSON.stringify(byCam.body));
      const violations = await stack.db.prisma.violation.count();
      assert.equal(byCam.body.totals.violations, violations);
      assert.equal(byCam.body.buckets[0].key, cameraId);
      assert.equal(byCam.body.buckets[0].violations, violations);
      // Every alert resolved so far in this file (by this test, and by the others when they ran first).
      const resolved = await stack.db.prisma.alert.count({ where: { resolvedAt: { not: null } } });
      assert.ok(resolved >= 1);
      assert.equal(byCam.body.responseTimes.toResolve.count, resolved);
      // How they ended, counted from the rows (other tests of this file resolve with other outcomes, or none).
      const outcomes = await stack.db.prisma.alert.groupBy({ by: ['resolutionOutcome'], where: { status: 'RESOLVED' }, _count: { _all: true } });
      const expected = ['MASK_PUT_ON', 'WARNED', 'GONE_ON_ARRIVAL', 'NOT_A_VIOLATION', 'OTHER', null]
        .map((outcome) => ({ outcome, alerts: outcomes.find((o) => o.resolutionOutcome === outcome)?._count._all ?? 0 }))
        .filter((o) => o.alerts > 0);
      assert.ok(expected.some((o) => o.outcome === 'MASK_PUT_ON'));
      assert.deepEqual(byCam.body.resolutionOutcomes, expected);
      // Per camera: the resolved alerts, and those whose officer found no violation.
      const camRow = byCam.body.falsePositives.find((r: { cameraId: string }) => r.cameraId === cameraId);
      const resolvedHere = await stack.db.prisma.alert.count({ where: { cameraId, status: 'RESOLVED' } });
      const noneFound = await stack.db.prisma.alert.count({ where: { cameraId, status: 'RESOLVED', resolutionOutcome: 'NOT_A_VIOLATION' } });
      assert.ok(noneFound >= 1);
      assert.deepEqual([camRow.resolvedAlerts, camRow.notAViolation], [resolvedHere, noneFound]);
      assert.ok(byCam.body.responseTimes.toResolve.medianSeconds >= 0);
      const hourly = await call(api.url, 'GET', `/api/v1/stats?from=${from}&to=${to}&groupBy=hour`, { token: admin });
      assert.equal(hourly.body.buckets.length, 4);
      assert.equal(hourly.body.buckets.reduce((n: number, b: { violations: number }) => n + b.violations, 0), violations);
      assert.equal((await call(api.url, 'GET', `/api/v1/stats?groupBy=week`, { token: admin })).status, 400);
      assert.equal((await call(api.url, 'GET', `/api/v1/stats?from=${to}&to=${from}`, { token: admin })).status, 400);
      assert.equal((await call(api.url, 'GET', `/api/v1/stats`, { token: officer })).status, 403);
    });

    test('stats: time to dispatch counts from the first dispatch of a reassigned alert, time to acknowledge from the last', async () => {
      const alertId = await newAlert();
      for (const unit of ['P-1', 'P-2']) {
        assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${alertId}/dispatch`, { token: dispatcher, json: { unitId: units[unit] } })).status, 200);
      }
      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${alertId}/acknowledge`, { token: officer2, json: {} })).status, 200);
      // Put the alert alone in an hour of its own: raised at t0, dispatched at +10 s, reassigned at +100 s, acknowledged at +130 s.
      const t0 = new Date('2026-01-05T10:00:00Z');
      const at = (s: number) => new Date(t0.getTime() + s * 1000);
      await stack.db.prisma.alert.update({ where: { id: alertId }, data: { createdAt: t0, dispatchedAt: at(100), acknowledgedAt: at(130) } });
      const dispatches = await stack.db.prisma.auditEvent.findMany({ where: { action: 'alert.dispatch', subjectId: alertId }, orderBy: { at: 'asc' } });
      assert.equal(dispatches.length, 2);
      await stack.db.prisma.auditEvent.update({ where: { id: dispatches[0]!.id }, data: { at: at(10) } });
      await stack.db.prisma.auditEvent.update({ where: { id: dispatches[1]!.id }, data: { at: at(100) } });
      const res = await call(api.url, 'GET', `/api/v1/stats?from=${t0.toISOString()}&to=${at(3600).toISOString()}`, { token: admin });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual([res.body.responseTimes.toDispatch.count, res.body.responseTimes.toDispatch.medianSeconds], [1, 10]);
      assert.deepEqual([res.body.responseTimes.toAcknowledge.count, res.body.responseTimes.toAcknowledge.medianSeconds], [1, 30]);
      await call(api.url, 'POST', `/api/v1/alerts/${alertId}/dismiss`, { token: dispatcher, json: { reason: 'test' } });
    });

    test('CSV export: all rows, filters, formula cells neutralised', async () => {
      await resolvedAlert();
      const res = await call(api.url, 'GET', `/api/v1/violations.csv?cameraId=${cameraId}`, { token: admin });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="violations-/);
      const lines = (res.body as string).trimEnd().split('\r\n');
      assert.equal(lines[0]!.split(',')[0], 'violation_id');
      const ids = (await stack.db.prisma.violation.findMany({ select: { id: true } })).map((v) => v.id).sort();
      assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]).sort(), ids);
      // The camera name is a formula: exported as text, quoted because it contains quotes.
      assert.ok(lines[1]!.includes(`"'=HYPERLINK(""http://evil"")"`), lines[1]);
      assert.ok(lines[1]!.includes('"Sol, ""north"" side"'), lines[1]);
      const resolved = await call(api.url, 'GET', `/api/v1/violations.csv?status=RESOLVED`, { token: dispatcher });
      const resolvedRows = await stack.db.prisma.violation.count({ where: { alert: { status: 'RESOLVED' } } });
      assert.ok(resolvedRows >= 1);
      assert.equal((resolved.body as string).trimEnd().split('\r\n').length, 1 + resolvedRows);
      assert.ok((resolved.body as string).includes(',RESOLVED,P-1'));
      // The outcome is the last column (added last: the earlier columns keep their positions).
      assert.equal(lines[0]!.split(',').at(-1), 'alert_resolution_outcome');
      assert.ok((resolved.body as string).trimEnd().split('\r\n').slice(1).some((l) => l.endsWith(',MASK_PUT_ON')), 'resolved with MASK_PUT_ON');
      assert.equal((await call(api.url, 'GET', `/api/v1/violations.csv`, { token: officer })).status, 403);
      assert.equal((await call(api.url, 'GET', `/api/v1/violations.csv?status=LOST`, { token: admin })).status, 400);
    });

    test('CSV export pages through the table in batches without losing or repeating rows', async () => {
      // Same capture time for several rows: the (capturedAt, id) keyset must still be exact.
      const sameInstant = new Date(now().getTime() - 90 * 60_000);
      for (let i = 0; i < 3; i++) await newAlert(0, sameInstant);
      const small = Fastify();
      registerProblemHandlers(small);
      await exportRoutes(small, { auth: api.app.auth, services: { exports: createExportService({ ...createRepositories(stack.db.prisma), batchSize: 2 }) } });
      const res = await small.inject({ method: 'GET', url: '/api/v1/violations.csv', headers: { authorization: `Bearer ${admin}` } });
      await small.close();
      assert.equal(res.statusCode, 200);
      const ids = res.body.trimEnd().split('\r\n').slice(1).map((l) => l.split(',')[0]);
      const all = (await stack.db.prisma.violation.findMany({ select: { id: true } })).map((v) => v.id);
      assert.ok(all.length > 4);
      assert.equal(new Set(ids).size, ids.length);
      assert.deepEqual([...ids].sort(), [...all].sort());
    });
  });
}
