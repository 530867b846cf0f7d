/**
 * A frame's incident transaction serialises frames of one camera by the database's
 * own row lock (Camera.groupingVersion), not by a Redis lease: while the camera's
 * row is locked, a worker's recordFrame waits inside PostgreSQL; two workers with
 * frames of one person then record one after the other, and the second sees the
 * first's track, so the person is one person of one alert.
 * (SQLite serialises writers with BEGIN IMMEDIATE across processes; better-sqlite3
 * is synchronous, so that is exercised by the multi-process worker tests instead.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { createIncidentRepository, type FaceRecord, type FrameState } from '../../src/db/repositories/incidents.ts';
import { planIncidentFrame } from '../../src/domain/incidents.ts';
import { testDatabase, type TestDatabase } from '../helpers/db.ts';
import { POSTGRES_URL, tempDir, testLogger } from '../helpers/env.ts';

const WINDOW_MS = 60_000;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('incident recording of one camera is serialised by the database (PostgreSQL row lock)', () => {
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

  it('workers wait for the camera lock, and the later frame joins the earlier one’s person', async () => {
    // A snapshot camera (1 of 1): every violating frame confirms its person.
    const camera = await a.prisma.camera.create({
      data: { name: 'lock cam', latitude: 1, longitude: 2, apiKeyHash: `h-${Date.now()}`, apiKeyHint: 'abcd', confirmFrames: 1, confirmWindow: 1 },
    });
    const at = new Date(Date.now() - 60_000);
    const face: FaceRecord = {
      faceIndex: 0,
      box: [100, 100, 50, 50],
      faceScore: 0.9,
      probabilities: { mask: 0.02, no_mask: 0.97, mask_incorrect: 0.01 },
      violationAllowed: true,
      shotQuality: 0.5,
      faceSnapshotPath: 'faces/lock.jpg',
    };
    const seen: Record<string, FrameState> = {};
    const record = (db: Database, frameId: string, capturedAt: Date) =>
      createIncidentRepository(db.prisma).recordFrame({
        cameraId: camera.id,
        frameId,
        capturedAt,
        receivedAt: capturedAt,
        frameSnapshotPath: null,
        faces: [face],
        windowMs: WINDOW_MS,
        decide(state) {
          seen[frameId] = state;
          return planIncidentFrame({
            frameId,
            at: capturedAt.getTime(),
            faces: [face],
            ...state,
            confirmation: { confirmFrames: 1, confirmWindow: 1 },
            threshold: 0.5,
            windowMs: WINDOW_MS,
          });
        },
      });

    // Another session holds the camera's row, as a worker inside its transaction would.
    const holder = new pg.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
    await holder.query(`SET search_path TO "${new URL(tdb.url).searchParams.get('schema')}"`);
    const probe = new pg.Client({ connectionString: POSTGRES_URL });
    await probe.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('UPDATE "Camera" SET "groupingVersion" = "groupingVersion" + 1 WHERE id = $1', [camera.id]);
      const first = record(a, 'frame-1', at);
      const second = record(b, 'frame-2', new Date(at.getTime() + 500));
      await waitFor('both recordings to wait on the camera row lock', async () => {
        const r = await probe.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%groupingVersion%'");
        return (r.rows[0] as { n: number }).n >= 2;
      });
      assert.deepEqual(Object.keys(seen), [], 'no worker decided while the camera row was held');
      await holder.query('COMMIT');
      const results = await Promise.all([first, second]);

      // Whichever got the lock first opened the incident; the other saw its track and updated that person.
      const created = results.flatMap((r) => r.createdAlertIds);
      assert.equal(created.length, 1, 'the same person is not raised twice');
      const later = results.find((r) => r.createdAlertIds.length === 0)!;
      assert.deepEqual(later.updatedAlertIds, created);
      const laterFrame = results[0] === later ? 'frame-1' : 'frame-2';
      assert.equal(seen[laterFrame]!.history.length, 1, "the later decision saw the earlier frame's sighting");
      assert.equal(seen[laterFrame]!.people.length, 1, "the later decision saw the earlier frame's person");

      const alerts = await a.prisma.alert.findMany({ where: { cameraId: camera.id }, include: { people: true } });
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.people.length, 1);
      assert.equal(await a.prisma.violation.count({ where: { alertId: alerts[0]!.id } }), 2);
      const cam = await a.prisma.camera.findUniqueOrThrow({ where: { id: camera.id } });
      assert.equal(cam.groupingVersion, 3, 'the holder and each recording bumped the fencing counter once');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
      await probe.end();
    }
  });
});
