/**
 * Tamper evidence of the audit trail against a real database (SQLite and PostgreSQL): seals chained over
 * 2,500 events (several pages), then every kind of after-the-fact change — an event edited, deleted,
 * slipped in with an old time, a seal recomputed without the key, a seal removed — found by
 * `verify`; a prune keeps the chain verifiable; `maskwatch audit seal|verify` as a real process, and
 * GET /api/v1/audit/integrity for admins only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { runCli } from '../helpers/cli.ts';
import { testProviders } from '../helpers/db.ts';
import { createAuditRepository } from '../../src/db/repositories/audit.ts';
import { createAuditSealService, SEAL_MARGIN_MS, type AuditSealService } from '../../src/services/audit-seals.ts';
import { createAuditLogService } from '../../src/services/audit-log.ts';
import { createEvidenceRepository } from '../../src/db/repositories/evidence.ts';
import { createUserRepository } from '../../src/db/repositories/users.ts';
import { createCameraRepository } from '../../src/db/repositories/cameras.ts';
import { createRetentionHandler } from '../../src/queue/handlers/retention.ts';

const DAY = 24 * 3600 * 1000;
const KEY = Buffer.alloc(32, 9);
const OPERATOR = { actorType: 'SYSTEM', actorId: 'test' } as const;

for (const provider of testProviders()) {
  describe(`audit trail seals (${provider})`, () => {
    let stack: TestStack;
    let seals: AuditSealService;
    // A clock the test moves: 2,500 events end 3 days before it.
    let now = new Date();
    const N = 2500;
    const start = now.getTime() - 3 * DAY - N * 60_000;
    const at = (i: number) => new Date(start + i * 60_000);

    before(async () => {
      stack = await createTestStack(provider);
      await stack.db.prisma.auditEvent.createMany({
        data: Array.from({ length: N }, (_, i) => ({
          at: at(i),
          actorType: 'USER',
          actorId: 'u1',
          actorRole: 'DISPATCHER',
          action: 'alert.dispatch',
          subjectType: 'Alert',
          subjectId: `alert-${i}`,
          details: JSON.stringify({ i }),
        })),
      });
      seals = createAuditSealService({ audit: createAuditRepository(stack.db.prisma), key: async () => KEY, now: () => now });
    });
    after(async () => {
      await stack?.close();
    });

    const eventAt = (i: number) => stack.db.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: `alert-${i}` } });

    test('seals chain over the trail in pages; a clean trail verifies; new events wait for the next seal', async () => {
      const first = await seals.seal();
      assert.deepEqual(first && [first.seq, first.count, first.toAt.toISOString()], [1, N, at(N - 1).toISOString()]);
      assert.equal(await seals.seal(), null, 'nothing new to seal');

      // Two events: one old enough to seal, one inside the margin (a write may still be in flight).
      await stack.db.prisma.auditEvent.createMany({
        data: [
          { at: new Date(now.getTime() - SEAL_MARGIN_MS - 1000), actorType: 'SYSTEM', action: 'retention.enforce', subjectType: 'Privacy', details: '{}' },
          { at: new Date(now.getTime() - 1000), actorType: 'SYSTEM', action: 'retention.enforce', subjectType: 'Privacy', details: '{}' },
        ],
      });
      const second = await seals.seal();
      assert.deepEqual(second && [second.seq, second.count], [2, 1]);

      const report = await seals.verify(OPERATOR);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.deepEqual([report.seals, report.sealedEvents, report.unsealedEvents, report.lastSeal?.seq], [2, N + 1, 1, 2]);
      const stored = await stack.db.prisma.auditSeal.findMany({ orderBy: { seq: 'asc' } });
      assert.ok(stored.every((s) => /^[0-9a-f]{64}$/.test(s.hash) && /^[0-9a-f]{64}$/.test(s.mac)));
      assert.ok(await stack.db.prisma.auditEvent.findFirst({ where: { action: 'audit.verify', actorId: 'test' } }), 'verifying is audited');
    });

    test('an event edited, deleted or slipped in with an old time is found, naming its seal', async () => {
      const victim = await eventAt(1234);
      await stack.db.prisma.auditEvent.update({ where: { id: victim.id }, data: { details: JSON.stringify({ i: 1234, edited: true }) } });
      let report = await seals.verify(OPERATOR);
      assert.equal(report.ok, false);
      assert.deepEqual(report.problems.map((p) => [p.seq, p.kind]), [[1, 'content']]);
      await stack.db.prisma.auditEvent.update({ where: { id: victim.id }, data: { details: victim.details } });
      assert.equal((await seals.verify(OPERATOR)).ok, true, 'restored: intact again');

      await stack.db.prisma.auditEvent.delete({ where: { id: victim.id } });
      report = await seals.verify(OPERATOR);
      assert.deepEqual(report.problems.map((p) => [p.seq, p.kind]), [[1, 'count']]);
      assert.match(report.problems[0]!.detail, new RegExp(`covers ${N} events .*; ${N - 1} are there now`));
      await stack.db.prisma.auditEvent.create({ data: victim });
      assert.equal((await seals.verify(OPERATOR)).ok, true);

      const forged = await stack.db.prisma.auditEvent.create({
        data: { at: at(10), actorType: 'USER', actorId: 'u2', action: 'snapshot.view', subjectType: 'Snapshot', subjectId: 'someone-else' },
      });
      report = await seals.verify(OPERATOR);
      assert.deepEqual(report.problems.map((p) => [p.seq, p.kind]), [[1, 'count']]);
      await stack.db.prisma.auditEvent.delete({ where: { id: forged.id } });
      assert.equal((await seals.verify(OPERATOR)).ok, true);
    });

    test('a seal recomputed without the key, or removed, is found', async () => {
      // Someone with the database but not the key edits an event and recomputes the seal's hash as the code would.
      const seal = await stack.db.prisma.auditSeal.findUniqueOrThrow({ where: { seq: 2 } });
      await stack.db.prisma.auditSeal.update({ where: { seq: 2 }, data: { hash: createHash('sha256').update('recomputed').digest('hex') } });
      let report = await seals.verify(OPERATOR);
      assert.ok(report.problems.some((p) => p.seq === 2 && p.kind === 'signature'), JSON.stringify(report.problems));
      await stack.db.prisma.auditSeal.update({ where: { seq: 2 }, data: { hash: seal.hash } });

      const other = createAuditSealService({ audit: createAuditRepository(stack.db.prisma), key: async () => Buffer.alloc(32, 1), now: () => now });
      report = await other.verify(OPERATOR);
      assert.deepEqual(report.problems.map((p) => [p.seq, p.kind]), [[1, 'signature'], [2, 'signature']], 'another key: no seal is genuine');

      const first = await stack.db.prisma.auditSeal.findUniqueOrThrow({ where: { seq: 1 } });
      await stack.db.prisma.auditSeal.delete({ where: { seq: 1 } });
      report = await seals.verify(OPERATOR);
      assert.ok(report.problems.some((p) => p.seq === 2 && p.kind === 'missing'), JSON.stringify(report.problems));
      await stack.db.prisma.auditSeal.create({ data: first });
      assert.equal((await seals.verify(OPERATOR)).ok, true);
    });

    test("the worker's retention run seals what is new, and goes on when sealing fails", async () => {
      const log = { info: [] as unknown[], error: [] as unknown[] };
      const logger = { info: (o: unknown) => log.info.push(o), error: (o: unknown) => log.error.push(o), warn: () => undefined, debug: () => undefined, child: () => logger };
      // An event written now; the run comes later than the margin (the clock moves, no event is dated ahead).
      await stack.db.prisma.auditEvent.create({ data: { actorType: 'SYSTEM', action: 'camera.create', subjectType: 'Camera', subjectId: 'by-the-worker' } });
      now = new Date(Date.now() + 2 * SEAL_MARGIN_MS);
      const seq = (await stack.db.prisma.auditSeal.count()) + 1;
      const retention = (key: () => Promise<Buffer>) =>
        createRetentionHandler({ prisma: stack.db.prisma, dataDir: stack.dataDir, retentionDays: 30, logger: logger as unknown as Logger, now: () => now, auditSealKey: key });
      const report = await retention(async () => {
        throw new Error('secret key unreadable');
      })();
      assert.equal(typeof report.violationsAnonymised, 'number', 'retention ran and reported');
      assert.equal(log.error.length, 1, 'the sealing failure is logged');
      assert.equal(await stack.db.prisma.auditSeal.count({ where: { seq } }), 0);
      await retention(async () => KEY)();
      const sealed = await stack.db.prisma.auditSeal.findUniqueOrThrow({ where: { seq } });
      assert.ok(sealed.count >= 1, 'the new event is sealed');
      assert.equal((await seals.verify(OPERATOR)).ok, true);
    });

    test('a prune keeps the chain verifiable: its seals are marked, the rest still recomputed', async () => {
      const auditLog = createAuditLogService({
        audit: createAuditRepository(stack.db.prisma),
        evidence: createEvidenceRepository(stack.db.prisma),
        users: createUserRepository(stack.db.prisma),
        cameras: createCameraRepository(stack.db.prisma),
        now: () => now,
      });
      const pruned = await auditLog.prune(OPERATOR, at(1000), null);
      assert.equal(pruned.deleted, 1000);
      const report = await seals.verify(OPERATOR);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      const kept = await stack.db.prisma.auditSeal.aggregate({ where: { prunedAt: null }, _sum: { count: true } });
      assert.deepEqual([report.prunedSeals, report.sealedEvents], [1, kept._sum.count], 'the first seal (its events archived) is skipped, the others recomputed');
      // Later events are still protected.
      now = new Date(now.getTime() + 2 * SEAL_MARGIN_MS);
      assert.ok(await seals.seal());
      const later = await stack.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'audit.prune' } });
      await stack.db.prisma.auditEvent.update({ where: { id: later.id }, data: { details: '{"deleted":0}' } });
      assert.equal((await seals.verify(OPERATOR)).ok, false);
      await stack.db.prisma.auditEvent.update({ where: { id: later.id }, data: { details: later.details } });
    });
  });
}

describe('maskwatch audit seal|verify and GET /api/v1/audit/integrity (sqlite)', () => {
  let stack: TestStack;
  let env: Record<string, string>;

  before(async () => {
    stack = await createTestStack('sqlite');
    env = { DATABASE_URL: stack.config.databaseUrl, MASKWATCH_DATA_DIR: stack.dataDir, LOG_LEVEL: 'warn' };
    await stack.db.prisma.auditEvent.createMany({
      data: Array.from({ length: 20 }, (_, i) => ({ at: new Date(Date.now() - DAY + i * 1000), actorType: 'SYSTEM', action: 'camera.create', subjectType: 'Camera', subjectId: `c${i}` })),
    });
  });
  after(async () => {
    await stack?.close();
  });

  test('seal, verify (exit 0), tamper, verify (exit 1 naming the seal); the API answers admins only', async () => {
    const sealed = await runCli(['audit', 'seal'], { env });
    assert.equal(sealed.code, 0, sealed.stderr);
    assert.match(sealed.stdout, /^sealed 20 audit events as seal 1 /);
    const ok = await runCli(['audit', 'verify'], { env });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /audit trail: intact: 1 seals, 20 sealed events recomputed/);
    assert.match(ok.stdout, /last seal: 1, made .* hash [0-9a-f]{64}/);

    // The API, with the same data dir (so the same secret key file the CLI created).
    const api = await stack.startApi();
    const { token: admin } = await loginAs(api, { username: 'chief', role: 'ADMIN' });
    const { token: dispatcher } = await loginAs(api, { username: 'desk', role: 'DISPATCHER' });
    const report = await call(api.url, 'GET', '/api/v1/audit/integrity', { token: admin });
    assert.equal(report.status, 200);
    assert.equal(report.body.ok, true);
    assert.equal(report.body.seals, 1);
    assert.equal((await call(api.url, 'GET', '/api/v1/audit/integrity', { token: dispatcher })).status, 403);
    assert.equal((await call(api.url, 'GET', '/api/v1/audit/integrity')).status, 401);

    await stack.db.prisma.auditEvent.updateMany({ where: { subjectId: 'c7' }, data: { subjectId: 'c7-renamed' } });
    const bad = await runCli(['audit', 'verify', '--json'], { env });
    assert.equal(bad.code, 1);
    const json = JSON.parse(bad.stdout) as { ok: boolean; problems: { seq: number; kind: string }[] };
    assert.deepEqual([json.ok, json.problems.map((p) => [p.seq, p.kind])], [false, [[1, 'content']]]);
    assert.equal((await call(api.url, 'GET', '/api/v1/audit/integrity', { token: admin })).body.ok, false);
    const usage = await runCli(['audit', 'verify', 'extra'], { env });
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /unexpected argument "extra"/);
  });
});
