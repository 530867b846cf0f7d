/**
 * The grouping transaction serialises frames of one camera by the database's own
 * row lock (Camera.groupingVersion), not by a Redis lease: while one worker is
 * deciding, a second worker's grouping of the same camera waits inside
 * PostgreSQL, then sees the first one's sighting and attaches to its alert.
 * (SQLite serialises writers with BEGIN IMMEDIATE across processes; better-sqlite3
 * is synchronous, so that is exercised by the multi-process worker tests instead.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { createAlertRepository, type FrameViolationRecord } from '../../src/db/repositories/alerts.ts';
import { historyWindow, planGrouping, type Sighting } from '../../src/domain/grouping.ts';
import { testDatabase, type TestDatabase } from '../helpers/db.ts';
import { POSTGRES_URL, tempDir, testLogger } from '../helpers/env.ts';

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('grouping of one camera is serialised by the database (PostgreSQL row lock)', () => {
  let tdb: TestDatabase;
  let a: Database;
  let b: Database;
  let cleanupDir: () => Promise<void>;

  before(async () => {
    const dir = await tempDir('grouping-lock');
    cleanupDir = dir.cleanup;
    tdb = testDatabase('postgresql', dir.dir);
    a = await openDatabase(tdb.url, { logger: testLogger() });
    b = await openDatabase(tdb.url, { logger: testLogger(), migrate: false });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await tdb?.cleanup();
    await cleanupDir?.();
  });

  it('a second worker waits for the first and attaches to its alert', async () => {
    const camera = await a.prisma.camera.create({
      data: { name: 'lock cam', latitude: 1, longitude: 2, apiKeyHash: `h-${Date.now()}`, apiKeyHint: 'abcd' },
    });
    const at = new Date(Date.now() - 60_000);
    const face: FrameViolationRecord = { faceIndex: 0, box: [100, 100, 50, 50], faceScore: 0.9, noMaskProbability: 0.95, faceSnapshotPath: null };
    const seen: Record<string, readonly Sighting[]> = {};
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((r) => (releaseFirst = r));
    let firstDeciding!: () => void;
    const firstIsDeciding = new Promise<void>((r) => (firstDeciding = r));

    const record = (db: Database, frameId: string, capturedAt: Date, hold: boolean) =>
      createAlertRepository(db.prisma).recordFrame({
        cameraId: camera.id,
        frameId,
        capturedAt,
        receivedAt: capturedAt,
        frameSnapshotPath: null,
        violations: [face],
        historyWindow: historyWindow(capturedAt, 60),
        async decide(todo, history) {
          seen[frameId] = history;
          if (hold) {
            firstDeciding();
            await firstHolds;
          }
          return planGrouping({ frameId, capturedAt, violations: todo, history, cooldownSeconds: 60 });
        },
      });

    const first = record(a, 'frame-1', at, true);
    await firstIsDeciding;
    const second = record(b, 'frame-2', new Date(at.getTime() + 500), false);
    // The second transaction is blocked on the camera row, inside PostgreSQL.
    const probe = new pg.Client({ connectionString: POSTGRES_URL });
    await probe.connect();
    try {
      await waitFor('the second grouping to wait on the camera row lock', async () => {
        const r = await probe.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%groupingVersion%'");
        return (r.rows[0] as { n: number }).n >= 1;
      });
    } finally {
      await probe.end();
    }
    assert.equal(seen['frame-2'], undefined, 'the second worker has not decided while the first holds the camera');
    releaseFirst();
    const [r1, r2] = await Promise.all([first, second]);

    assert.equal(r1.createdAlertIds.length, 1);
    assert.equal(r2.createdAlertIds.length, 0, 'the same person is not raised twice');
    assert.deepEqual(r2.updatedAlertIds, r1.createdAlertIds);
    assert.equal(seen['frame-2']!.length, 1, "the second decision saw the first frame's sighting");
    const alerts = await a.prisma.alert.findMany({ where: { cameraId: camera.id } });
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.violationCount, 2);
    const cam = await a.prisma.camera.findUniqueOrThrow({ where: { id: camera.id } });
    assert.equal(cam.groupingVersion, 2, 'each grouping bumped the fencing counter once');
  });
});
