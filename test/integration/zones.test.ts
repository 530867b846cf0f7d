/**
 * Zones over real HTTP and Socket.IO, on SQLite and PostgreSQL: who sees which zone's alerts (a zone no
 * dispatcher sees is named), and renaming a zone on every camera and dispatcher at once, merging into an
 * existing one, with the live consoles told. The command line does the same against the database.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { runCli } from '../helpers/cli.ts';
import { socketConnected, withTimeout } from '../helpers/wait.ts';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const problemType = (slug: string) => `https://maskwatch.dev/problems/${slug}`;
/** A precinct's own system takes Centro's and Oeste's new alerts: settings name zones too. */
const WEBHOOKS = [{ name: 'precinct-cad', url: 'http://127.0.0.1:9/hook', secret: 'a webhook secret of 32 characters!', events: ['alert.created' as const], zones: ['Centro', 'Oeste'] }];

for (const provider of testProviders()) {
  describe(`zones (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let admin: string;
    const camera: Record<string, string> = {};
    const user: Record<string, { userId: string; token: string }> = {};
    const sockets: Socket[] = [];

    const zonesOf = async (name: string) => (await stack.db.prisma.user.findUniqueOrThrow({ where: { id: user[name]!.userId } })).zones;

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi({ config: { webhooks: WEBHOOKS } });
      admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
      for (const [name, zone] of [['a', 'Centro'], ['b', 'Centro'], ['c', 'Sur'], ['d', null], ['e', 'Norte']] as const) {
        const res = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: `cam ${name}`, latitude: 40.4, longitude: -3.7, zone } });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        camera[name] = res.body.id;
      }
      // ana: Centro; bea: Sur and Centro; carl: every zone; dora: a zone no camera has; eva (disabled): Norte.
      for (const [name, zones] of [['ana', ['Centro']], ['bea', ['Sur', 'Centro']], ['carl', []], ['dora', ['Oeste']], ['eva', ['Norte']]] as const) {
        user[name] = await loginAs(api, { username: name, role: 'DISPATCHER' });
        if (zones.length > 0) assert.equal((await call(api.url, 'PATCH', `/api/v1/users/${user[name]!.userId}`, { token: admin, json: { zones } })).status, 200);
        user[name]!.token = (await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: name, password: 'correct horse battery staple' } })).body.token;
      }
      assert.equal((await call(api.url, 'PATCH', `/api/v1/users/${user.eva!.userId}`, { token: admin, json: { enabled: false } })).status, 200);
      const now = new Date();
      await stack.db.prisma.alert.create({ data: { cameraId: camera.a!, trackId: randomUUID(), firstSeenAt: now, lastSeenAt: now, violationCount: 1, noMaskProbability: 0.9 } });
      await stack.db.prisma.alert.create({ data: { cameraId: camera.e!, trackId: randomUUID(), firstSeenAt: now, lastSeenAt: now, violationCount: 1, noMaskProbability: 0.9 } });
    });
    after(async () => {
      for (const s of sockets) s.close();
      await stack?.close();
    });

    test('GET /api/v1/zones: each zone\'s cameras, open alerts and the dispatchers who see it; a zone nobody sees shows 0', async () => {
      const res = await call(api.url, 'GET', '/api/v1/zones', { token: admin });
      assert.equal(res.status, 200);
      const webhook = 'MASKWATCH_WEBHOOKS target precinct-cad';
      assert.deepEqual(res.body.items, [
        { zone: 'Centro', cameras: 2, openAlerts: 1, dispatchers: 3, zonedDispatchers: 2, namedBy: [webhook] },
        // eva, its only dispatcher, is disabled: Norte's alerts reach admins only.
        { zone: 'Norte', cameras: 1, openAlerts: 1, dispatchers: 1, zonedDispatchers: 0, namedBy: [] },
        { zone: 'Oeste', cameras: 0, openAlerts: 0, dispatchers: 2, zonedDispatchers: 1, namedBy: [webhook] },
        { zone: 'Sur', cameras: 1, openAlerts: 0, dispatchers: 2, zonedDispatchers: 1, namedBy: [] },
        { zone: null, cameras: 1, openAlerts: 0, dispatchers: 1, zonedDispatchers: 0, namedBy: [] },
      ]);
      assert.equal((await call(api.url, 'GET', '/api/v1/zones', { token: user.carl!.token })).status, 403);
      // For an operator's alert rule: zones with cameras only.
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      assert.deepEqual(metrics.split('\n').filter((l) => l.startsWith('maskwatch_zone_dispatchers{')).sort(), [
        'maskwatch_zone_dispatchers{zone="(no zone)"} 1',
        'maskwatch_zone_dispatchers{zone="Centro"} 3',
        'maskwatch_zone_dispatchers{zone="Norte"} 1',
        'maskwatch_zone_dispatchers{zone="Sur"} 2',
      ]);
    });

    test('a rename reaches every camera and dispatcher at once; sessions stay, and live consoles hear of the open alerts', async () => {
      const everyone = connect(api.url, { auth: { token: user.carl!.token }, transports: ['websocket'], reconnection: false }) as Socket<ServerToClientEvents>;
      sockets.push(everyone);
      await socketConnected(everyone, 'carl\'s socket');
      const heard = withTimeout(
        new Promise<AlertEvent>((resolve) => everyone.on('alert.updated', (a) => a.camera.zone === 'Centro Norte' && resolve(a))),
        'alert.updated with the new zone name',
      );

      const res = await call(api.url, 'POST', '/api/v1/zones/rename', { token: admin, json: { from: 'Centro', to: 'Centro Norte' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { from: 'Centro', to: 'Centro Norte', cameras: 2, dispatchers: 2, merged: false, namedBy: ['MASKWATCH_WEBHOOKS target precinct-cad'] });
      // The setting still names Centro, which keeps a row (no camera) until the operator changes it.
      const after = (await call(api.url, 'GET', '/api/v1/zones', { token: admin })).body.items as { zone: string; cameras: number; namedBy: string[] }[];
      assert.deepEqual(after.find((z) => z.zone === 'Centro'), { zone: 'Centro', cameras: 0, openAlerts: 0, dispatchers: 1, zonedDispatchers: 0, namedBy: ['MASKWATCH_WEBHOOKS target precinct-cad'] });
      assert.equal((await heard).cameraId, camera.a);
      for (const name of ['a', 'b']) assert.equal((await stack.db.prisma.camera.findUniqueOrThrow({ where: { id: camera[name]! } })).zone, 'Centro Norte');
      assert.deepEqual(JSON.parse((await zonesOf('ana'))!), ['Centro Norte']);
      assert.deepEqual(JSON.parse((await zonesOf('bea'))!), ['Sur', 'Centro Norte']);
      // ana keeps her session, and her scope follows the name: Centro's alert is still hers.
      const mine = await call(api.url, 'GET', '/api/v1/alerts', { token: user.ana!.token });
      assert.equal(mine.status, 200);
      assert.deepEqual(mine.body.items.map((a: AlertEvent) => a.cameraId), [camera.a]);
      const [audited] = await stack.db.prisma.auditEvent.findMany({ where: { action: 'zone.rename' } });
      assert.equal(audited?.actorId, (await stack.db.prisma.user.findUniqueOrThrow({ where: { username: 'chief' } })).id);
      assert.deepEqual(JSON.parse(audited!.details!).userIds.sort(), [user.ana!.userId, user.bea!.userId].sort());

      // Into an existing zone: the two merge, and nobody lists one zone twice.
      const merged = await call(api.url, 'POST', '/api/v1/zones/rename', { token: admin, json: { from: 'Sur', to: 'Centro Norte' } });
      assert.deepEqual(merged.body, { from: 'Sur', to: 'Centro Norte', cameras: 1, dispatchers: 1, merged: true, namedBy: [] });
      assert.deepEqual(JSON.parse((await zonesOf('bea'))!), ['Centro Norte']);
    });

    test('refused: an unknown zone (404), the same name, or spaces around the new one (400); nothing changes', async () => {
      const before = await call(api.url, 'GET', '/api/v1/zones', { token: admin });
      // Atlantis is nobody's; Centro, after its rename, only a setting's: nothing to rename.
      for (const from of ['Atlantis', 'Centro']) {
        const unknown = await call(api.url, 'POST', '/api/v1/zones/rename', { token: admin, json: { from, to: 'Norte' } });
        assert.equal(unknown.status, 404, from);
        assert.equal(unknown.body.type, problemType('zone-not-found'));
      }
      for (const json of [{ from: 'Norte', to: 'Norte' }, { from: 'Norte', to: ' Norte ' }, { from: 'Norte' }, { from: 'Norte', to: 'x'.repeat(101) }]) {
        const res = await call(api.url, 'POST', '/api/v1/zones/rename', { token: admin, json });
        assert.equal(res.status, 400, JSON.stringify(json));
      }
      assert.deepEqual((await call(api.url, 'GET', '/api/v1/zones', { token: admin })).body, before.body);
    });

    if (provider === 'sqlite') {
      test('maskwatch zones list / rename: the same, from the command line, audited as the CLI', async () => {
        const env = {
          DATABASE_URL: stack.config.databaseUrl,
          REDIS_URL: stack.config.redisUrl,
          MASKWATCH_QUEUE_PREFIX: stack.config.queuePrefix,
          MASKWATCH_DATA_DIR: stack.dataDir,
          MASKWATCH_WEBHOOKS: JSON.stringify(WEBHOOKS),
          LOG_LEVEL: 'warn',
        };
        const listed = await runCli(['zones', 'list', '--json'], { env });
        assert.equal(listed.code, 0, listed.stderr);
        const rows = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { zone: string | null });
        assert.deepEqual(rows, (await call(api.url, 'GET', '/api/v1/zones', { token: admin })).body.items);
        const text = await runCli(['zones', 'list'], { env });
        assert.match(text.stdout, /^Norte\tcameras: 1\topen alerts: 1\tdispatchers: 1 \(0 limited to it\)$/m);

        const renamed = await runCli(['zones', 'rename', 'Oeste', 'Poniente'], { env });
        assert.equal(renamed.code, 0, renamed.stderr);
        assert.equal(renamed.stdout, 'renamed zone "Oeste" to "Poniente": 0 camera(s), 1 dispatcher(s)\n');
        assert.equal(renamed.stderr, 'maskwatch zones rename: MASKWATCH_WEBHOOKS target precinct-cad still name "Oeste": change them to "Poniente" and restart\n');
        assert.deepEqual(JSON.parse((await zonesOf('dora'))!), ['Poniente']);
        const audited = await stack.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'zone.rename', subjectId: 'Poniente' } });
        assert.deepEqual([audited.actorType, audited.actorId], ['SYSTEM', 'cli']);

        // Through Redis, the live consoles hear of the renamed zone's open alert, as from the API.
        const everyone = sockets[0]!;
        assert.ok(everyone.connected, "carl's socket is still open");
        const heard = withTimeout(
          new Promise<AlertEvent>((resolve) => everyone.on('alert.updated', (a) => a.camera.zone === 'Norte Alto' && resolve(a))),
          'alert.updated from the command line',
        );
        const north = await runCli(['zones', 'rename', 'Norte', 'Norte Alto'], { env });
        assert.equal(north.code, 0, north.stderr);
        assert.equal((await heard).cameraId, camera.e);

        const missing = await runCli(['zones', 'rename', 'Atlantis', 'Norte'], { env });
        assert.equal(missing.code, 1);
        assert.equal(missing.stderr, 'maskwatch zones rename: no zone "Atlantis"\n');
        const usage = await runCli(['zones', 'rename', 'Norte'], { env });
        assert.equal(usage.code, 1);
        assert.match(usage.stderr, /^maskwatch zones: rename needs the zone's name and its new name\nusage:/);
      });
    }
  });
}
