/**
 * `maskwatch audit export|prune` as a real process against a real database: the trail as JSON Lines, oldest
 * first, across pages; filters; a prune that deletes only what it archived (and flushed) first; refusals
 * with a message and exit 1 that change nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestStack, type TestStack } from '../helpers/api.ts';
import { runCli } from '../helpers/cli.ts';
import { testProviders } from '../helpers/db.ts';

const DAY = 24 * 3600 * 1000;

const cli = (args: string[], env: Record<string, string>) => runCli(['audit', ...args], { env });

const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

for (const provider of testProviders()) {
  describe(`maskwatch audit export and prune (${provider})`, () => {
    let stack: TestStack;
    let env: Record<string, string>;
    let dir: string;
    let userId: string;
    // 2,500 events, one every 10 minutes ending 3 days ago (more than two of the CLI's 1,000-event pages).
    const N = 2500;
    const last = Date.now() - 3 * DAY;
    const at = (i: number) => new Date(last - (N - 1 - i) * 600_000);

    before(async () => {
      stack = await createTestStack(provider);
      env = { DATABASE_URL: stack.config.databaseUrl, MASKWATCH_DATA_DIR: stack.dataDir, LOG_LEVEL: 'warn' };
      dir = await mkdtemp(path.join(tmpdir(), 'mw-audit-cli-'));
      userId = (await stack.db.prisma.user.create({ data: { username: 'desk', passwordHash: 'x', role: 'DISPATCHER' } })).id;
      await stack.db.prisma.auditEvent.createMany({
        data: Array.from({ length: N }, (_, i) => ({
          at: at(i),
          actorType: 'USER',
          actorId: userId,
          actorRole: 'DISPATCHER',
          action: i % 2 ? 'alert.dispatch' : 'snapshot.view',
          subjectType: i % 2 ? 'Alert' : 'AlertFrame',
          subjectId: `subject-${i}`,
          details: JSON.stringify({ i }),
        })),
      });
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
      await stack.close();
    });

    test('export: every event once, oldest first, as GET /api/v1/audit gives it; audited', async () => {
      const res = await cli(['export', '--to', new Date(last + 1).toISOString()], env);
      assert.equal(res.code, 0, res.stderr);
      const events = lines(res.stdout);
      assert.equal(events.length, N);
      assert.deepEqual(
        events.map((e) => (e.details as { i: number }).i),
        Array.from({ length: N }, (_, i) => i),
        'oldest first, none twice or missing across pages',
      );
      assert.deepEqual(Object.keys(events[0]!).sort(), ['action', 'actorId', 'actorName', 'actorRole', 'actorType', 'at', 'details', 'id', 'subjectId', 'subjectType']);
      assert.deepEqual([events[0]!.actorName, events[0]!.at], ['desk', at(0).toISOString()]);
      assert.match(res.stderr, new RegExp(`exported ${N} audit events`));
      const recorded = await stack.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'audit.export' }, orderBy: { at: 'desc' } });
      assert.deepEqual([recorded.actorType, recorded.actorId, JSON.parse(recorded.details!).events], ['SYSTEM', 'cli', N]);
    });

    test('export filters (action prefix, time) into a new owner-only file; an existing file is refused', async () => {
      const out = path.join(dir, 'dispatches.jsonl');
      const from = at(100).toISOString();
      const to = at(200).toISOString();
      const res = await cli(['export', '--action', 'alert.', '--from', from, '--to', to, '--out', out], env);
      assert.equal(res.code, 0, res.stderr);
      const events = lines(await readFile(out, 'utf8'));
      assert.deepEqual(
        events.map((e) => (e.details as { i: number }).i),
        Array.from({ length: 50 }, (_, k) => 101 + 2 * k),
        'the odd (dispatch) events of [100, 200)',
      );
      assert.equal((await stat(out)).mode & 0o777, 0o600);
      const again = await cli(['export', '--out', out], env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already exists/);
      assert.equal(lines(await readFile(out, 'utf8')).length, 50, 'left as it was');
    });

    test('argument errors: a message, usage and exit 1, before touching the database', async () => {
      for (const args of [['export', '--from', 'yesterday'], ['export', '--action', 'DROP TABLE'], ['prune', '--before', '2026-01-01'], ['purge'], ['export', 'extra']]) {
        const res = await cli(args, { ...env, DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' });
        assert.equal(res.code, 1, args.join(' '));
        assert.match(res.stderr, /^maskwatch audit: .+\nusage:/, args.join(' '));
      }
    });

    test('prune: the last day is refused; otherwise what is deleted was archived first, and the rest stays', async () => {
      const total = () => stack.db.prisma.auditEvent.count({ where: { actorId: userId } });
      const recent = path.join(dir, 'recent.jsonl');
      const refused = await cli(['prune', '--before', new Date(Date.now() - DAY / 2).toISOString(), '--archive', recent], env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /only events older than a day can be pruned/);
      assert.equal(await total(), N);
      await assert.rejects(stat(recent), 'no empty archive left behind');

      const cut = at(1000);
      const archive = path.join(dir, 'archive.jsonl');
      await writeFile(archive, 'an older archive\n');
      assert.equal((await cli(['prune', '--before', cut.toISOString(), '--archive', archive], env)).code, 1, 'an existing archive is never overwritten');
      assert.equal(await total(), N);
      await rm(archive);

      const res = await cli(['prune', '--before', cut.toISOString(), '--archive', archive], env);
      assert.equal(res.code, 0, res.stderr);
      const archived = lines(await readFile(archive, 'utf8'));
      assert.deepEqual(
        archived.map((e) => (e.details as { i: number }).i),
        Array.from({ length: 1000 }, (_, i) => i),
      );
      assert.equal(await total(), N - 1000);
      assert.equal(await stack.db.prisma.auditEvent.count({ where: { at: { lt: cut } } }), 0, 'nothing older than the cut is left');
      assert.match(res.stdout, /^deleted 1000 audit events before .+; 1000 archived to /);
      const recorded = await stack.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'audit.prune' } });
      assert.deepEqual(JSON.parse(recorded.details!), { before: cut.toISOString(), archived: 1000, deleted: 1000, sealsPruned: 0 });

      const discard = await cli(['prune', '--before', at(1500).toISOString(), '--no-archive'], env);
      assert.equal(discard.code, 0, discard.stderr);
      assert.match(discard.stdout, /^deleted 500 audit events before .+ \(not archived\)/);
      assert.equal(await total(), N - 1500);
    });
  });
}
