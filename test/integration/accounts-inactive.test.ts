/**
 * Inactive accounts (MASKWATCH_DISABLE_INACTIVE_DAYS) on SQLite and
 * PostgreSQL: sign-ins and renewals record use; the worker's hourly retention
 * run disables accounts unused for the set days, ends their sessions, audits
 * each, and never disables the last enabled admin. The run's clock is
 * injected: "100 days later" is a date, not a wait.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { createRetentionHandler } from '../../src/queue/handlers/retention.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const DAY = 86_400_000;

for (const provider of testProviders()) {
  describe(`inactive accounts (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi();
    });
    after(async () => {
      await stack?.close();
    });

    const run = (now: Date, days: number) =>
      createRetentionHandler({ prisma: stack.db.prisma, dataDir: stack.dataDir, retentionDays: 30, logger: stack.logger, now: () => now, disableInactiveDays: days })();
    const enabled = async (username: string) => !(await stack.db.prisma.user.findUniqueOrThrow({ where: { username } })).disabled;

    test('sign-ins and renewals record use; the admin list shows it', async () => {
      const before = Date.now();
      const { token } = await loginAs(api, { username: 'chief', role: 'ADMIN' });
      const row = await stack.db.prisma.user.findUniqueOrThrow({ where: { username: 'chief' } });
      assert.ok(row.lastSignInAt && row.lastSignInAt.getTime() >= before - 1000, 'a login records its time');
      await stack.db.prisma.user.update({ where: { id: row.id }, data: { lastSignInAt: new Date(before - 30 * DAY) } });
      const renewed = await call(api.url, 'POST', '/api/v1/auth/refresh', { token });
      assert.equal(renewed.status, 200);
      const listed = await call(api.url, 'GET', '/api/v1/users', { token: renewed.body.token });
      const chief = listed.body.items.find((u: { username: string }) => u.username === 'chief');
      assert.ok(Date.parse(chief.lastSignInAt) >= before - 1000, 'a renewal counts as use');
    });

    test('the run disables accounts unused for the set days, ends their sessions and audits each; recent ones stay', async () => {
      const now = new Date();
      const stale = await loginAs(api, { username: 'stale', role: 'DISPATCHER' });
      await loginAs(api, { username: 'recent', role: 'DISPATCHER' });
      // Created long ago, never signed in.
      await api.app.auth.createUser({ username: 'never', password: 'correct horse battery staple', role: 'DISPATCHER' }, { type: 'SYSTEM' });
      await stack.db.prisma.user.update({ where: { username: 'never' }, data: { createdAt: new Date(now.getTime() - 120 * DAY) } });
      // The stale one's browser is still open (its session lives), but nobody signed in for 100 days.
      await stack.db.prisma.user.update({ where: { username: 'stale' }, data: { lastSignInAt: new Date(now.getTime() - 100 * DAY) } });
      await stack.db.prisma.user.update({ where: { username: 'recent' }, data: { lastSignInAt: new Date(now.getTime() - 89 * DAY) } });

      await run(now, 0);
      assert.ok(await enabled('stale'), '0 days: never');

      await run(now, 90);
      assert.deepEqual(await Promise.all(['stale', 'never', 'recent', 'chief'].map(enabled)), [false, false, true, true]);
      assert.equal((await call(api.url, 'GET', '/api/v1/auth/me', { token: stale.token })).status, 401, 'its session ended');
      assert.equal(await stack.db.prisma.session.count({ where: { userId: stale.userId, revokedAt: null } }), 0);

      const events = await stack.db.prisma.auditEvent.findMany({ where: { action: 'user.disable_inactive' } });
      assert.deepEqual(events.map((e) => [e.actorType, JSON.parse(e.details ?? '{}').username]).sort(), [['SYSTEM', 'never'], ['SYSTEM', 'stale']]);
      const staleEvent = JSON.parse(events.find((e) => e.subjectId === stale.userId)!.details!) as Record<string, unknown>;
      assert.equal(staleEvent.inactiveDays, 90);
      assert.equal(staleEvent.sessionsRevoked, 1);
      assert.equal(staleEvent.lastSignInAt, new Date(now.getTime() - 100 * DAY).toISOString());

      // Nothing happens twice.
      await run(new Date(now.getTime() + DAY / 2), 90);
      assert.equal(await stack.db.prisma.auditEvent.count({ where: { action: 'user.disable_inactive' } }), 2);
    });

    test('the last enabled admin is never disabled, however long unused', async () => {
      const t0 = Date.now();
      await loginAs(api, { username: 'admin2', role: 'ADMIN' });
      await stack.db.prisma.user.updateMany({ where: { role: 'ADMIN' }, data: { lastSignInAt: new Date(t0) } });
      await run(new Date(t0 + 400 * DAY), 90);
      const admins = await stack.db.prisma.user.findMany({ where: { role: 'ADMIN' } });
      assert.equal(admins.length, 2);
      assert.equal(admins.filter((a) => !a.disabled).length, 1, 'one of the two stays enabled');
    });
  });
}
