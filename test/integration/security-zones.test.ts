/**
 * Dispatchers limited to zones (a precinct's dispatcher), over real HTTP and Socket.IO with Redis, on
 * SQLite and PostgreSQL: a dispatcher with zones sees the alerts, evidence, history, exports, statistics
 * and live events of their zones' cameras only, and any other alert is the same 404 as no alert at all;
 * admins and dispatchers without zones see everything. Zones are set by admins (API) and only on
 * dispatchers; a change ends the user's sessions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { io as connect, type Socket } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { socketConnected, withTimeout } from '../helpers/wait.ts';
import { createAlertPublisher } from '../../src/realtime/publisher.ts';
import { toAlertEvent } from '../../src/services/alert-view.ts';
import { withCamera } from '../../src/db/repositories/alerts.ts';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const JPEG = await readFile(path.resolve(process.cwd(), '..', 'shared', 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));
const PASSWORD = 'correct horse battery staple';
const ZONES = ['Centro', 'Sur', null] as const;
type Zone = (typeof ZONES)[number];
const key = (zone: Zone) => zone ?? 'none';

interface Fixture {
  cameraId: string;
  alertId: string;
  personId: string;
  frameId: string;
  /** Below snapshots/. */
  snapshot: string;
}

for (const provider of testProviders()) {
  describe(`dispatchers limited to zones (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let admin: string;
    let unitId: string;
    const at: Record<string, Fixture> = {};
    /** Tokens: `centro` is limited to zone Centro, `everyone` has no zones. */
    const token: Record<'centro' | 'everyone', string> = { centro: '', everyone: '' };
    const sockets: Socket[] = [];

    const get = (who: keyof typeof token, url: string) => call(api.url, 'GET', url, { token: token[who] });
    const login = async (username: string) => {
      const res = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username, password: PASSWORD } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as { token: string; user: { zones: string[] } };
    };

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi();
      admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
      const unit = await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'C-1', latitude: 40.42, longitude: -3.7 } });
      unitId = unit.body.id;
      const prisma = stack.db.prisma;
      const now = new Date();
      for (const zone of ZONES) {
        const cam = await call(api.url, 'POST', '/api/v1/cameras', {
          token: admin,
          json: { name: `cam ${key(zone)}`, latitude: 40.4, longitude: -3.7, ...(zone ? { zone } : {}) },
        });
        assert.equal(cam.status, 201, JSON.stringify(cam.body));
        const cameraId = cam.body.id as string;
        const frameId = randomUUID();
        const crop = `snapshots/${cameraId}/${frameId}-0.jpg`;
        const frame = `snapshots/${cameraId}/${frameId}-frame.jpg`;
        await mkdir(path.join(stack.dataDir, 'snapshots', cameraId), { recursive: true });
        await writeFile(path.join(stack.dataDir, crop), JPEG);
        await writeFile(path.join(stack.dataDir, frame), JPEG);
        const alert = await prisma.alert.create({
          data: { cameraId, trackId: frameId, firstSeenAt: now, lastSeenAt: now, violationCount: 1, noMaskProbability: 0.9, snapshotPath: crop, frameSnapshotPath: frame },
        });
        const person = await prisma.alertPerson.create({
          data: {
            alertId: alert.id, cameraId, trackKey: `${frameId}:0`, label: 'no_mask', boxX: 10, boxY: 10, boxW: 40, boxH: 40, noMaskProbability: 0.9,
            bestShotPath: crop, lastFrameSnapshotPath: frame, firstSeenAt: now, lastSeenAt: now,
          },
        });
        await prisma.violation.create({
          data: {
            cameraId, frameId, faceIndex: 0, capturedAt: now, receivedAt: now, boxX: 10, boxY: 10, boxW: 40, boxH: 40, faceScore: 0.95,
            noMaskProbability: 0.9, faceSnapshotPath: crop, frameSnapshotPath: frame, alertId: alert.id, personId: person.id,
          },
        });
        at[key(zone)] = { cameraId, alertId: alert.id, personId: person.id, frameId, snapshot: crop.slice('snapshots/'.length) };
      }
      for (const [username, zones] of [['ana', ['Centro', ' Centro ']], ['eva', []]] as const) {
        const created = await call(api.url, 'POST', '/api/v1/users', { token: admin, json: { username, password: PASSWORD, role: 'DISPATCHER', zones } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
      }
      token.centro = (await login('ana')).token;
      token.everyone = (await login('eva')).token;
    });

    after(async () => {
      for (const s of sockets) s.disconnect();
      await stack?.close();
    });

    test('zones are an admin setting of dispatchers only, shown in the user list and the session', async () => {
      const users = await call(api.url, 'GET', '/api/v1/users', { token: admin });
      const zonesOf = (name: string) => users.body.items.find((u: { username: string }) => u.username === name)?.zones;
      assert.deepEqual(zonesOf('ana'), ['Centro'], 'trimmed and without repeats');
      assert.deepEqual(zonesOf('eva'), []);
      assert.deepEqual(zonesOf('chief'), []);
      assert.deepEqual((await get('centro', '/api/v1/auth/me')).body.zones, ['Centro']);
      assert.deepEqual((await login('ana')).user.zones, ['Centro']);

      const officer = await call(api.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'olga', password: PASSWORD, role: 'OFFICER', unit: 'C-1', zones: ['Centro'] } });
      assert.equal(officer.status, 400);
      assert.match(officer.body.detail, /only dispatchers are limited to zones/);
      const long = await call(api.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'lara', password: PASSWORD, role: 'DISPATCHER', zones: ['x'.repeat(101)] } });
      assert.equal(long.status, 400);
      const chief = users.body.items.find((u: { username: string }) => u.username === 'chief');
      const adminZones = await call(api.url, 'PATCH', `/api/v1/users/${chief.id}`, { token: admin, json: { zones: ['Centro'] } });
      assert.equal(adminZones.status, 400);
      assert.match(adminZones.body.detail, /only dispatchers are limited to zones/);
    });

    test("a dispatcher with zones sees only their zones' alerts, people, frames and crops; the others are a 404", async () => {
      const ids = (items: { id: string }[]) => items.map((a) => a.id).sort();
      const listed = await get('centro', '/api/v1/alerts');
      assert.deepEqual(ids(listed.body.items), [at.Centro!.alertId]);
      assert.deepEqual(ids((await get('everyone', '/api/v1/alerts')).body.items), ids(Object.values(at).map((f) => ({ id: f.alertId }))));
      assert.deepEqual((await get('centro', `/api/v1/alerts?cameraId=${at.Sur!.cameraId}`)).body.items, [], 'a filter cannot widen the scope');

      for (const [zone, expected] of [['Centro', 200], ['Sur', 404], ['none', 404]] as const) {
        const f = at[zone]!;
        const urls = [
          `/api/v1/alerts/${f.alertId}`,
          `/api/v1/alerts/${f.alertId}/timeline`,
          `/api/v1/alerts/${f.alertId}/suggested-units`,
          `/api/v1/alerts/${f.alertId}/people/${f.personId}/track`,
          `/api/v1/alerts/${f.alertId}/frames/${f.frameId}`,
          `/api/v1/snapshots/${f.snapshot}`,
        ];
        for (const url of urls) {
          const res = await get('centro', url);
          assert.equal(res.status, expected, `${url} (zone ${zone}) as the Centro dispatcher: ${JSON.stringify(res.body).slice(0, 200)}`);
          if (expected === 404 && !url.includes('/snapshots/')) assert.equal(res.body.type, 'https://maskwatch.dev/problems/not-found');
          assert.equal((await get('everyone', url)).status, 200, `${url} as a dispatcher without zones`);
        }
      }
      // Refused views leave no view record: nothing was shown.
      const views = await stack.db.prisma.auditEvent.count({ where: { action: 'snapshot.view', actorId: (await get('centro', '/api/v1/auth/me')).body.id } });
      assert.equal(views, 2, 'the Centro frame and crop only');
    });

    test("a dispatcher with zones cannot act on another zone's alert, and nothing changes", async () => {
      const sur = at.Sur!;
      const steps = [
        call(api.url, 'POST', `/api/v1/alerts/${sur.alertId}/dispatch`, { token: token.centro, json: { unitId } }),
        call(api.url, 'POST', `/api/v1/alerts/${sur.alertId}/dismiss`, { token: token.centro, json: { reason: 'not mine' } }),
        call(api.url, 'POST', `/api/v1/alerts/${sur.alertId}/people/${sur.personId}/false-positive`, { token: token.centro, json: { reason: 'not mine' } }),
      ];
      for (const res of await Promise.all(steps)) assert.equal(res.status, 404, JSON.stringify(res.body));
      const row = await stack.db.prisma.alert.findUniqueOrThrow({ where: { id: sur.alertId }, include: { people: true } });
      assert.equal(row.status, 'NEW');
      assert.equal(row.people[0]!.falsePositive, false);
      assert.equal(await stack.db.prisma.auditEvent.count({ where: { subjectId: sur.alertId } }), 0);

      const own = await call(api.url, 'POST', `/api/v1/alerts/${at.Centro!.alertId}/dispatch`, { token: token.centro, json: { unitId } });
      assert.equal(own.status, 200, JSON.stringify(own.body));
      assert.equal(own.body.status, 'DISPATCHED');
    });

    test("history, CSV export, statistics and the camera list hold their zones' rows only", async () => {
      const cameraIds = (items: { cameraId: string }[]) => [...new Set(items.map((v) => v.cameraId))];
      assert.deepEqual(cameraIds((await get('centro', '/api/v1/violations')).body.items), [at.Centro!.cameraId]);
      assert.equal((await get('everyone', '/api/v1/violations')).body.items.length, 3);

      const csv = (await get('centro', '/api/v1/violations.csv')).body as string;
      const rows = csv.trim().split('\r\n');
      assert.equal(rows.length, 2, csv);
      assert.ok(rows[1]!.includes(at.Centro!.cameraId));
      assert.equal((await get('everyone', '/api/v1/violations.csv')).body.trim().split('\r\n').length, 4);
      const exported = await stack.db.prisma.auditEvent.findFirst({ where: { action: 'violations.export' }, orderBy: { at: 'asc' } });
      assert.deepEqual(JSON.parse(exported!.details!).zones, ['Centro'], 'the export is audited with its scope');

      for (const groupBy of ['day', 'camera', 'zone'] as const) {
        const mine = (await get('centro', `/api/v1/stats?groupBy=${groupBy}`)).body;
        const all = (await get('everyone', `/api/v1/stats?groupBy=${groupBy}`)).body;
        assert.deepEqual(mine.totals, { violations: 1, alerts: 1 }, groupBy);
        assert.deepEqual(all.totals, { violations: 3, alerts: 3 }, groupBy);
        const alerts = (s: { buckets: { alerts: number }[] }) => s.buckets.reduce((n, b) => n + b.alerts, 0);
        assert.equal(alerts(mine), 1, `${groupBy} buckets`);
        assert.equal(alerts(all), 3, `${groupBy} buckets`);
        if (groupBy === 'zone') assert.deepEqual(mine.buckets.map((b: { label: string }) => b.label), ['Centro']);
      }
      assert.deepEqual((await get('centro', '/api/v1/stats')).body.falsePositives.map((r: { cameraId: string }) => r.cameraId), [at.Centro!.cameraId]);

      const cams = await get('centro', '/api/v1/cameras');
      assert.deepEqual(cams.body.items.map((c: { zone: string }) => c.zone), ['Centro']);
      assert.equal((await get('centro', `/api/v1/cameras/${at.Centro!.cameraId}`)).status, 200);
      assert.equal((await get('centro', `/api/v1/cameras/${at.Sur!.cameraId}`)).status, 404);
      assert.equal((await get('everyone', `/api/v1/cameras/${at.Sur!.cameraId}`)).status, 200);
      assert.equal((await get('everyone', '/api/v1/cameras')).body.items.length, 3);
    });

    test("sockets: their zones' alert events only, every unit change, and a camera moved away is announced to the old zone", async () => {
      const open = async (t: string) => {
        const s: Socket<ServerToClientEvents> = connect(api.url, { auth: { token: t }, transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(s as Socket);
        await socketConnected(s);
        return s;
      };
      const centro = await open(token.centro);
      const everyone = await open(token.everyone);
      const heard: Record<'centro' | 'everyone', string[]> = { centro: [], everyone: [] };
      const until = (s: Socket<ServerToClientEvents>, who: keyof typeof heard, id: string) =>
        withTimeout(
          new Promise<AlertEvent>((resolve) => {
            const on = (a: AlertEvent) => {
              heard[who].push(`${a.id}@${a.camera.zone ?? 'none'}`);
              if (a.id === id) resolve(a);
            };
            s.on('alert.created', on);
            s.on('alert.updated', on);
          }),
          `alert ${id} on the ${who} socket`,
        );

      const redis = new Redis(stack.config.redisUrl);
      try {
        const publisher = createAlertPublisher({ redis, queuePrefix: stack.config.queuePrefix, logger: stack.logger });
        const event = async (f: Fixture) =>
          toAlertEvent((await stack.db.prisma.alert.findUniqueOrThrow({ where: { id: f.alertId }, include: withCamera })) as Parameters<typeof toAlertEvent>[0]);
        // Published in this order on one connection; the Centro one last, so each socket has had the others by then.
        const seen = [until(centro, 'centro', at.Centro!.alertId), until(everyone, 'everyone', at.Centro!.alertId)];
        for (const zone of ['Sur', 'none', 'Centro']) await publisher.publish('alert.updated', await event(at[zone]!));
        await Promise.all(seen);
      } finally {
        redis.disconnect();
      }
      assert.deepEqual(heard.centro, [`${at.Centro!.alertId}@Centro`]);
      assert.deepEqual(heard.everyone, [`${at.Sur!.alertId}@Sur`, `${at.none!.alertId}@none`, `${at.Centro!.alertId}@Centro`]);

      const unitSeen = Promise.all(
        [centro, everyone].map((s) => withTimeout(new Promise<string>((resolve) => s.once('unit.updated', (u) => resolve(u.status))), 'unit.updated on every command socket')),
      );
      assert.equal((await call(api.url, 'PATCH', `/api/v1/units/${unitId}`, { token: admin, json: { status: 'OFF_DUTY' } })).status, 200);
      assert.deepEqual(await unitSeen, ['OFF_DUTY', 'OFF_DUTY']);

      // The Centro camera moves to zone Sur: its open alert is re-announced to Centro too, so their screens drop it.
      heard.centro = [];
      const moved = until(centro, 'centro', at.Centro!.alertId);
      assert.equal((await call(api.url, 'PATCH', `/api/v1/cameras/${at.Centro!.cameraId}`, { token: admin, json: { zone: 'Sur' } })).status, 200);
      assert.equal((await moved).camera.zone, 'Sur');
      assert.equal((await get('centro', `/api/v1/alerts/${at.Centro!.alertId}`)).status, 404, 'no longer theirs');
      assert.equal((await call(api.url, 'PATCH', `/api/v1/cameras/${at.Centro!.cameraId}`, { token: admin, json: { zone: 'Centro' } })).status, 200);
    });

    test("a change of zones ends the dispatcher's sessions and is audited", async () => {
      const { token: old } = await login('ana');
      const id = (await call(api.url, 'GET', '/api/v1/auth/me', { token: old })).body.id as string;
      const patched = await call(api.url, 'PATCH', `/api/v1/users/${id}`, { token: admin, json: { zones: ['Sur', 'Centro'] } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual(patched.body.zones, ['Sur', 'Centro']);
      assert.equal((await call(api.url, 'GET', '/api/v1/alerts', { token: old })).status, 401, 'the old session saw less than the new zones allow');
      const audit = await stack.db.prisma.auditEvent.findFirst({ where: { action: 'user.update', subjectId: id }, orderBy: { at: 'desc' } });
      assert.deepEqual(JSON.parse(audit!.details!).changes.zones, { from: ['Centro'], to: ['Sur', 'Centro'] });
      const { token: fresh } = await login('ana');
      const items = (await call(api.url, 'GET', '/api/v1/alerts', { token: fresh })).body.items as { camera: { zone: string } }[];
      assert.deepEqual(items.map((a) => a.camera.zone).sort(), ['Centro', 'Sur']);
      // Back to every zone; a role change away from dispatcher clears them too.
      assert.deepEqual((await call(api.url, 'PATCH', `/api/v1/users/${id}`, { token: admin, json: { zones: [] } })).body.zones, []);
      await call(api.url, 'PATCH', `/api/v1/users/${id}`, { token: admin, json: { zones: ['Sur'] } });
      const admined = await call(api.url, 'PATCH', `/api/v1/users/${id}`, { token: admin, json: { role: 'ADMIN' } });
      assert.equal(admined.status, 200, JSON.stringify(admined.body));
      assert.deepEqual(admined.body.zones, []);
      assert.equal((await stack.db.prisma.user.findUniqueOrThrow({ where: { id } })).zones, null);
    });
  });
}
