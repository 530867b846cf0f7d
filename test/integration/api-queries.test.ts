import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { call, createTestStack, loginAs, type JsonBody, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

for (const provider of testProviders()) {
  describe(`alerts, violations and snapshots API (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let dispatcher: string;
    let officerA: string;
    let cams: { id: string }[];
    let unitA: string;
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi();
      const { prisma } = stack.db;
      const [a, b] = await Promise.all([prisma.patrolUnit.create({ data: { callSign: 'A-1' } }), prisma.patrolUnit.create({ data: { callSign: 'B-2' } })]);
      unitA = a.id;
      cams = await Promise.all(
        ['north', 'south'].map((zone, i) =>
          prisma.camera.create({ data: { name: `cam-${zone}`, latitude: i, longitude: i, zone, apiKeyHash: `h-${zone}-${provider}`, apiKeyHint: 'xxxx' } }),
        ),
      );
      // 25 alerts: alternate cameras and units; some share a createdAt to exercise the id tie-break.
      for (let i = 0; i < 25; i++) {
        const at = new Date(t0 + Math.floor(i / 2) * 1000);
        const alert = await prisma.alert.create({
          data: {
            cameraId: cams[i % 2]!.id,
            trackId: `t${i}`,
            firstSeenAt: at,
            lastSeenAt: at,
            createdAt: at,
            violationCount: 1,
            noMaskProbability: 0.9,
            status: i % 5 === 0 ? 'RESOLVED' : 'NEW',
            assignedUnitId: i % 3 === 0 ? a.id : i % 3 === 1 ? b.id : null,
            snapshotPath: `snapshots/${cams[i % 2]!.id}/alert-${i}.jpg`,
          },
        });
        // The two newest violations belong to people: one worn incorrectly and marked a false positive, one without a mask.
        const person =
          i < 23
            ? null
            : await prisma.alertPerson.create({
                data: {
                  alertId: alert.id,
                  cameraId: alert.cameraId,
                  trackKey: `t${i}`,
                  label: i === 24 ? 'mask_incorrect' : 'no_mask',
                  boxX: 1, boxY: 2, boxW: 30, boxH: 40,
                  noMaskProbability: 0.95,
                  firstSeenAt: at,
                  lastSeenAt: at,
                  falsePositive: i === 24,
                },
              });
        await prisma.violation.create({
          data: {
            personId: person?.id ?? null,
            cameraId: alert.cameraId,
            frameId: `f${i}`,
            faceIndex: 0,
            capturedAt: at,
            receivedAt: at,
            boxX: 1, boxY: 2, boxW: 30, boxH: 40,
            faceScore: 0.9,
            noMaskProbability: 0.95,
            alertId: alert.id,
          },
        });
      }
      dispatcher = (await loginAs(api, { username: 'disp', role: 'DISPATCHER' })).token;
      officerA = (await loginAs(api, { username: 'off-a', role: 'OFFICER', unitCallSign: 'A-1' })).token;
    });
    after(() => stack.close());

    async function all(pathAndQuery: string, token: string, limit: number) {
      const ids: string[] = [];
      const items: JsonBody[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const sep = pathAndQuery.includes('?') ? '&' : '?';
        const res = await call(api.url, 'GET', `${pathAndQuery}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { token });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.ok(res.body.items.length <= limit);
        items.push(...res.body.items);
        ids.push(...res.body.items.map((x: { id: string }) => x.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 100);
      return { ids, items, pages };
    }

    test('alerts: keyset pages cover every alert once, newest first', async () => {
      const { ids, items, pages } = await all('/api/v1/alerts', dispatcher, 4);
      assert.equal(ids.length, 25);
      assert.equal(new Set(ids).size, 25);
      assert.equal(pages, 7);
      const times = items.map((a) => Date.parse(a.createdAt));
      assert.deepEqual(times, [...times].sort((x, y) => y - x));
      assert.equal(items[0].camera.name.startsWith('cam-'), true);
      assert.match(items[0].snapshotUrl, /^\/api\/v1\/snapshots\/[^/]+\/alert-\d+\.jpg$/);
      assert.equal(items[0].noMaskProbability, 0.9);
      assert.equal(items[0].maskProbability, items[0].noMaskProbability, 'the deprecated alias carries the same value');
    });

    test('alerts: status and camera filters; officers see only their unit', async () => {
      const resolved = await all('/api/v1/alerts?status=RESOLVED', dispatcher, 2);
      assert.equal(resolved.ids.length, 5);
      assert.ok(resolved.items.every((a) => a.status === 'RESOLVED'));
      const cam0 = await all(`/api/v1/alerts?cameraId=${cams[0]!.id}`, dispatcher, 50);
      assert.equal(cam0.ids.length, 13);
      const mine = await all('/api/v1/alerts', officerA, 3);
      assert.equal(mine.ids.length, 9);
      assert.ok(mine.items.every((a) => a.assignedUnitId === unitA));
      const bad = await call(api.url, 'GET', '/api/v1/alerts?cursor=garbage', { token: dispatcher });
      assert.equal(bad.status, 400);
      // A cursor of another list is refused, not read as an empty page.
      const violationCursor = (await call(api.url, 'GET', '/api/v1/violations?limit=1', { token: dispatcher })).body.nextCursor as string;
      const foreign = await call(api.url, 'GET', `/api/v1/alerts?cursor=${violationCursor}`, { token: dispatcher });
      assert.equal(foreign.status, 400);
      assert.match(foreign.body.detail, /pages violations, not alerts/);
      assert.equal((await call(api.url, 'GET', '/api/v1/alerts?status=NOPE', { token: dispatcher })).status, 400);
      assert.equal((await call(api.url, 'GET', '/api/v1/alerts')).status, 401);
    });

    test('violations: zone and time range filters, pagination, officer scope', async () => {
      const everything = await all('/api/v1/violations', dispatcher, 10);
      assert.equal(everything.ids.length, 25);
      assert.deepEqual(everything.items[0].box, [1, 2, 30, 40]);
      // What each violation is, from its person; a violation stored without a person has no label.
      type Item = { personId: string | null; label: string | null; falsePositive: boolean; alertId: string };
      const items = everything.items as Item[];
      const people = await stack.db.prisma.alertPerson.findMany({ select: { id: true, alertId: true } });
      const withPerson = items.filter((v) => v.personId !== null);
      assert.equal(withPerson.length, 2);
      for (const v of withPerson) assert.equal(v.personId, people.find((p) => p.alertId === v.alertId)?.id);
      assert.deepEqual(
        withPerson.map((v) => [v.label, v.falsePositive]).sort(),
        [['mask_incorrect', true], ['no_mask', false]],
      );
      assert.ok(items.filter((v) => v.personId === null).every((v) => v.label === null && v.falsePositive === false));
      const north = await all('/api/v1/violations?zone=north', dispatcher, 5);
      assert.equal(north.ids.length, 13);
      assert.ok(north.items.every((v) => v.cameraId === cams[0]!.id));
      const from = new Date(t0 + 2000).toISOString();
      const to = new Date(t0 + 5000).toISOString();
      const range = await all(`/api/v1/violations?from=${from}&to=${to}`, dispatcher, 2);
      assert.equal(range.ids.length, 6); // seconds 2, 3, 4: two each
      const mine = await all('/api/v1/violations', officerA, 50);
      assert.equal(mine.ids.length, 9);
    });

    test('violations: filter by the status of their alert (history search), paged across equal timestamps', async () => {
      const resolved = await all('/api/v1/violations?status=RESOLVED', dispatcher, 2);
      assert.equal(resolved.ids.length, 5);
      assert.equal(new Set(resolved.ids).size, 5);
      const resolvedAlerts = await stack.db.prisma.alert.findMany({ where: { status: 'RESOLVED' }, select: { id: true } });
      assert.deepEqual(new Set(resolved.items.map((v) => v.alertId)), new Set(resolvedAlerts.map((a) => a.id)));
      const open = await all(`/api/v1/violations?status=NEW&zone=north`, dispatcher, 1);
      assert.equal(open.ids.length, 10); // 13 in the north, 3 of them resolved (i = 0, 10, 20)
      const times = open.items.map((v) => Date.parse(v.capturedAt));
      assert.deepEqual(times, [...times].sort((x, y) => y - x));
      assert.equal((await call(api.url, 'GET', '/api/v1/violations?status=NOPE', { token: dispatcher })).status, 400);
    });

    test('snapshots: logged-in only (bearer header, never ?token=), no traversal, audited', async () => {
      const dir = path.join(stack.dataDir, 'snapshots', cams[0]!.id);
      await mkdir(dir, { recursive: true });
      const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
      await writeFile(path.join(dir, 'face-1.jpg'), jpeg);
      await writeFile(path.join(stack.dataDir, 'secret.jpg'), 'outside');
      await symlink(path.join(stack.dataDir, 'secret.jpg'), path.join(dir, 'link.jpg'));
      const url = `/api/v1/snapshots/${cams[0]!.id}/face-1.jpg`;
      // A crop is served only when an alert shows it; a file no alert shows is a 404 like a missing one.
      const now = new Date();
      await stack.db.prisma.alert.create({
        data: { cameraId: cams[0]!.id, trackId: 'snapshot-test', firstSeenAt: now, lastSeenAt: now, noMaskProbability: 0.9, snapshotPath: `snapshots/${cams[0]!.id}/face-1.jpg` },
      });
      await writeFile(path.join(dir, 'unshown.jpg'), jpeg);
      assert.equal((await call(api.url, 'GET', `/api/v1/snapshots/${cams[0]!.id}/unshown.jpg`, { token: dispatcher })).status, 404);

      assert.equal((await call(api.url, 'GET', url)).status, 401);
      assert.equal((await call(api.url, 'GET', `${url}?token=mwt_wrongwrongwrong`)).status, 401);
      const viaHeader = await fetch(api.url + url, { headers: { authorization: `Bearer ${dispatcher}` } });
      assert.equal(viaHeader.status, 200);
      assert.equal(viaHeader.headers.get('content-type'), 'image/jpeg');
      assert.ok(Buffer.from(await viaHeader.arrayBuffer()).equals(jpeg));
      const viaQuery = await fetch(`${api.url}${url}?token=${dispatcher}`);
      assert.equal(viaQuery.status, 401, 'a token in the URL is not accepted');
      await viaQuery.arrayBuffer();

      for (const evil of ['../secret.jpg', '..%2Fsecret.jpg', `${cams[0]!.id}/..%2F..%2Fsecret.jpg`, `${cams[0]!.id}/link.jpg`, '%2e%2e/secret.jpg', 'x/../../maskwatch.db']) {
        const res = await call(api.url, 'GET', `/api/v1/snapshots/${evil}`, { token: dispatcher });
        assert.ok(res.status === 404 || res.status === 400, `${evil} → ${res.status}`);
        assert.notEqual(res.body, 'outside');
      }
      const views = await stack.db.prisma.auditEvent.findMany({ where: { action: 'snapshot.view' } });
      assert.equal(views.length, 1);
      assert.ok(views.every((v) => v.subjectId === `${cams[0]!.id}/face-1.jpg` && v.actorType === 'USER'));
    });

    test('users: admin can create users over the API (audited); others cannot', async () => {
      const admin = (await loginAs(api, { username: 'boss', role: 'ADMIN' })).token;
      const created = await call(api.url, 'POST', '/api/v1/users', {
        token: admin,
        json: { username: 'new-officer', password: 'twelve chars plus', role: 'OFFICER', unit: 'B-2' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.role, 'OFFICER');
      const dup = await call(api.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'new-officer', password: 'twelve chars plus', role: 'ADMIN' } });
      assert.equal(dup.status, 409);
      const noUnit = await call(api.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'o2', password: 'twelve chars plus', role: 'OFFICER', unit: 'Z-9' } });
      assert.equal(noUnit.status, 400);
      assert.equal((await call(api.url, 'POST', '/api/v1/users', { token: dispatcher, json: { username: 'x', password: 'y', role: 'ADMIN' } })).status, 403);
      const audit = await stack.db.prisma.auditEvent.findMany({ where: { action: 'user.create', subjectId: created.body.id } });
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actorType, 'USER');
    });
  });
}
