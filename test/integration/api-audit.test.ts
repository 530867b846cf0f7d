import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestStack, loginAs, type JsonBody, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

for (const provider of testProviders()) {
  describe(`audit trail API (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let admin: string;
    let adminId: string;
    let dispatcher: string;
    let dispatcherId: string;
    let cameraId: string;
    const alertId = 'a1b2c3d4-0000-4000-8000-000000000001';
    const t0 = Date.parse('2026-03-01T10:00:00.000Z');

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi();
      ({ token: admin, userId: adminId } = await loginAs(api, { username: 'chief', role: 'ADMIN' }));
      ({ token: dispatcher, userId: dispatcherId } = await loginAs(api, { username: 'desk', role: 'DISPATCHER' }));
      const { prisma } = stack.db;
      cameraId = (await prisma.camera.create({ data: { name: 'Plaza Mayor', latitude: 0, longitude: 0, apiKeyHash: `h-${provider}`, apiKeyHint: 'xxxx' } })).id;
      // A shift's worth of events, one minute apart: a view of the alert's frame, a dispatch, a camera's upload, the system's retention.
      const events = [
        { actorType: 'USER', actorId: dispatcherId, actorRole: 'DISPATCHER', action: 'snapshot.view', subjectType: 'AlertFrame', subjectId: `${alertId}/frame-1`, details: JSON.stringify({ clientIp: '10.0.0.7' }) },
        { actorType: 'USER', actorId: dispatcherId, actorRole: 'DISPATCHER', action: 'alert.dispatch', subjectType: 'Alert', subjectId: alertId, details: JSON.stringify({ unit: 'P-11' }) },
        { actorType: 'CAMERA', actorId: cameraId, actorRole: null, action: 'camera.purge', subjectType: 'Camera', subjectId: cameraId, details: null },
        { actorType: 'SYSTEM', actorId: null, actorRole: null, action: 'retention.enforce', subjectType: 'Retention', subjectId: null, details: 'not json' },
      ];
      for (const [i, e] of events.entries()) await prisma.auditEvent.create({ data: { ...e, at: new Date(t0 + i * 60_000) } });
    });
    after(() => stack.close());

    const get = (query: string, token = admin) => call(api.url, 'GET', `/api/v1/audit${query}`, { token });
    const inShift = `from=${new Date(t0).toISOString()}&to=${new Date(t0 + 3_600_000).toISOString()}`;

    test('admins only: 401 without a token, 403 for a dispatcher', async () => {
      assert.equal((await call(api.url, 'GET', '/api/v1/audit')).status, 401);
      const refused = await get('', dispatcher);
      assert.equal(refused.status, 403);
      assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
    });

    test('events newest first, with the actor named and the details as JSON', async () => {
      const res = await get(`?${inShift}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const items = res.body.items as JsonBody[];
      assert.deepEqual(
        items.map((e) => e.action),
        ['retention.enforce', 'camera.purge', 'alert.dispatch', 'snapshot.view'],
      );
      const [system, camera, dispatch, view] = items;
      assert.deepEqual([system.actorType, system.actorName, system.details], ['SYSTEM', null, { text: 'not json' }]);
      assert.deepEqual([camera.actorType, camera.actorId, camera.actorName, camera.details], ['CAMERA', cameraId, 'Plaza Mayor', null]);
      assert.deepEqual([dispatch.actorName, dispatch.actorRole, dispatch.subjectId, dispatch.details], ['desk', 'DISPATCHER', alertId, { unit: 'P-11' }]);
      assert.equal(view.at, new Date(t0).toISOString());
      assert.equal(res.body.nextCursor, null);
    });

    test('filters: actor, action prefix, subject id prefix (an alert finds the views of its frames)', async () => {
      const byDispatcher = await get(`?${inShift}&actorId=${dispatcherId}`);
      assert.deepEqual(byDispatcher.body.items.map((e: JsonBody) => e.action), ['alert.dispatch', 'snapshot.view']);
      const views = await get(`?${inShift}&action=snapshot.`);
      assert.deepEqual(views.body.items.map((e: JsonBody) => e.subjectId), [`${alertId}/frame-1`]);
      const ofAlert = await get(`?subjectId=${alertId}`);
      assert.deepEqual(ofAlert.body.items.map((e: JsonBody) => e.action), ['alert.dispatch', 'snapshot.view']);
      // A subject id is any text, matched as a prefix: SQL in it is data, never SQL.
      const sql = await get(`?subjectId=${encodeURIComponent("x'; DROP TABLE \"AuditEvent\"; --")}`);
      assert.deepEqual([sql.status, sql.body.items], [200, []]);
      const cameras = await get(`?subjectType=Camera`);
      assert.deepEqual(cameras.body.items.map((e: JsonBody) => e.subjectId), [cameraId]);
    });

    test('bad filters are 400 problems', async () => {
      for (const q of [`?from=${new Date(t0 + 1000).toISOString()}&to=${new Date(t0).toISOString()}`, '?action=DROP TABLE', '?from=yesterday', '?cursor=nope', '?what=1']) {
        const res = await get(q);
        assert.equal(res.status, 400, q);
        assert.equal(typeof res.body.title, 'string', q);
      }
    });

    test('keyset pages cover the trail once; each search (not each page) is itself audited', async () => {
      const views = () => stack.db.prisma.auditEvent.count({ where: { action: 'audit.view', actorId: adminId } });
      const before = await views();
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await get(`?${inShift}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        seen.push(...res.body.items.map((e: JsonBody) => e.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      assert.equal(seen.length, 4);
      assert.equal(new Set(seen).size, 4);
      assert.equal((await views()) - before, 1, 'one audit.view for the search, none for its later pages');
      // The search is in the trail with its filters (nested details come back whole).
      const [thisSearch, paged] = (await get('?action=audit.view&limit=2')).body.items as JsonBody[];
      assert.deepEqual([thisSearch.actorName, thisSearch.actorRole, thisSearch.details.filters], ['chief', 'ADMIN', { action: 'audit.view' }]);
      assert.deepEqual(Object.keys(paged.details.filters).sort(), ['from', 'to']);
    });
  });
}
