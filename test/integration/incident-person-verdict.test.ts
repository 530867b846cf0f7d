/**
 * A confirmed person's verdict (label, noMaskProbability) is that of their violating sightings. Later masked
 * sightings of the same track move when they were last seen, but do not turn "no mask" into a near-zero model
 * score or into "mask worn incorrectly" (seen in the dashboard before: a person who put a mask on read "Mask worn
 * incorrectly", model score 0 %). Their box moves with the frame it is drawn on: a frame that was not kept leaves
 * both (before, the evidence viewer drew a later frame's box on the kept frame). Real SQLite / PostgreSQL, the
 * real planner and repository. Once masked sightings outweigh the violating ones, the person says since when
 * (maskedSince).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { createIncidentRepository, type FaceRecord } from '../../src/db/repositories/incidents.ts';
import { DEFAULT_CONFIRMATION_THRESHOLD, type ConfirmationSettings } from '../../src/domain/people.ts';
import { planIncidentFrame } from '../../src/domain/incidents.ts';
import { testDatabase, testProviders, type TestDatabase } from '../helpers/db.ts';
import { tempDir, testLogger } from '../helpers/env.ts';

const WINDOW_MS = 120_000;
const T0 = Date.parse('2026-03-02T10:00:00Z');

const noMask = (x: number): FaceRecord => ({
  faceIndex: 0,
  box: [x, 100, 40, 48],
  faceScore: 0.92,
  probabilities: { mask: 0.02, no_mask: 0.96, mask_incorrect: 0.02 },
  violationAllowed: true,
  shotQuality: 0.5,
  faceSnapshotPath: `faces/${x}.jpg`,
});
/** The same person with a mask on: the head's usual sliver of mask_incorrect above its sliver of no_mask. */
const masked = (x: number): FaceRecord => ({
  ...noMask(x),
  probabilities: { mask: 0.9961, no_mask: 0.0001, mask_incorrect: 0.0038 },
  violationAllowed: false,
  shotQuality: 0,
  faceSnapshotPath: null,
});
const incorrect = (x: number): FaceRecord => ({
  ...noMask(x),
  probabilities: { mask: 0.03, no_mask: 0.02, mask_incorrect: 0.95 },
});

for (const provider of testProviders()) {
  describe(`a person's verdict across masked sightings (${provider})`, () => {
    let tdb: TestDatabase;
    let db: Database;
    let cleanupDir: () => Promise<void>;

    before(async () => {
      const dir = await tempDir('person-verdict');
      cleanupDir = dir.cleanup;
      tdb = testDatabase(provider, dir.dir);
      db = await openDatabase(tdb.url, { logger: testLogger() });
    });
    after(async () => {
      await db?.close();
      await tdb?.cleanup();
      await cleanupDir?.();
    });

    /**
     * Records one camera's frames, one face each, 0.5 s apart (2 fps), and answers its one person after each. A
     * frame is kept as the worker keeps it (when a face of it violates) unless `kept` says otherwise.
     */
    async function track(confirmation: ConfirmationSettings, faces: FaceRecord[], kept = (_i: number, face: FaceRecord) => face.violationAllowed) {
      const camera = await db.prisma.camera.create({
        data: { name: `verdict ${Math.random()}`, latitude: 1, longitude: 2, apiKeyHash: `h-${Math.random()}`, apiKeyHint: 'abcd', ...confirmation },
      });
      const incidents = createIncidentRepository(db.prisma);
      const after: { label: string; noMaskProbability: number; lastSeenAt: Date; boxX: number; lastFrameSnapshotPath: string | null; maskedSince: Date | null }[] = [];
      for (const [i, face] of faces.entries()) {
        const frameId = `${camera.id}-${i}`;
        const at = new Date(T0 + i * 500);
        await incidents.recordFrame({
          cameraId: camera.id,
          frameId,
          capturedAt: at,
          receivedAt: at,
          frameSnapshotPath: kept(i, face) ? `frames/${i}.jpg` : null,
          faces: [face],
          windowMs: WINDOW_MS,
          decide: (state) =>
            planIncidentFrame({ frameId, at: at.getTime(), faces: [face], ...state, confirmation, threshold: DEFAULT_CONFIRMATION_THRESHOLD, windowMs: WINDOW_MS }),
        });
        const people = await db.prisma.alertPerson.findMany({ where: { cameraId: camera.id } });
        assert.ok(people.length <= 1, `one track is one person (frame ${i})`);
        if (people[0]) after.push(people[0]);
      }
      const violations = await db.prisma.violation.count({ where: { cameraId: camera.id } });
      return { after, violations };
    }

    it('a snapshot camera (1 of 1): masked frames keep "no mask" and its score; the box moves only with a kept frame where they violate', async () => {
      const { after, violations } = await track(
        { confirmFrames: 1, confirmWindow: 1 },
        [noMask(100), masked(104), masked(108), noMask(112), noMask(116)],
        (i, face) => face.violationAllowed || i === 2 /* another face violating */,
      );
      assert.equal(after.length, 5);
      for (const [i, p] of after.entries()) {
        assert.equal(p.label, 'no_mask', `label after frame ${i}`);
        assert.equal(p.noMaskProbability, 0.96, `score after frame ${i}`);
      }
      assert.deepEqual(
        after.map((p) => [p.lastSeenAt.getTime() - T0, p.boxX, p.lastFrameSnapshotPath]),
        [
          [0, 100, 'frames/0.jpg'],
          [500, 100, 'frames/0.jpg'],
          // Frame 2 was kept for another face; this person is blurred in it (not a violation), so their frame stays.
          [1000, 100, 'frames/0.jpg'],
          [1500, 112, 'frames/3.jpg'],
          [2000, 116, 'frames/4.jpg'],
        ],
        'last seen follows every sighting; box and frame together, as far as a frame was kept with them violating in it',
      );
      assert.equal(violations, 3, 'masked sightings are not violations');
      assert.deepEqual(
        after.map((p) => p.maskedSince && p.maskedSince.getTime() - T0),
        [null, 500, 500, null, null],
        'masked since the first masked still, until seen violating again',
      );
    });

    it('2 of 3: a track that ends masked keeps the verdict its violating frames confirmed', async () => {
      const { after } = await track({ confirmFrames: 2, confirmWindow: 3 }, [noMask(100), noMask(102), masked(104), masked(106), masked(108)]);
      assert.equal(after.length, 4, 'confirmed at the second frame');
      const confirmed = after[0]!;
      assert.equal(confirmed.label, 'no_mask');
      assert.ok(Math.abs(confirmed.noMaskProbability - 0.96) < 1e-9);
      for (const p of after.slice(1)) assert.deepEqual([p.label, p.noMaskProbability], [confirmed.label, confirmed.noMaskProbability]);
      assert.equal(after.at(-1)!.lastSeenAt.getTime() - T0, 2000);
      assert.deepEqual(
        after.map((p) => p.maskedSince && p.maskedSince.getTime() - T0),
        [null, null, 1000, 1000],
        'one masked frame is a flicker; two of three say since when',
      );
    });

    it('a later violating sighting still updates the verdict (a mask pulled down below the nose)', async () => {
      const { after } = await track({ confirmFrames: 1, confirmWindow: 1 }, [noMask(100), masked(104), incorrect(108)]);
      assert.deepEqual(
        after.map((p) => [p.label, p.maskedSince && p.maskedSince.getTime() - T0]),
        [
          ['no_mask', null],
          ['no_mask', 500],
          ['mask_incorrect', null],
        ],
      );
      assert.equal(after.at(-1)!.noMaskProbability, 0.02);
    });

    it('an edge camera (no frame is ever kept): the box follows every sighting', async () => {
      const { after } = await track({ confirmFrames: 1, confirmWindow: 1 }, [noMask(100), masked(104), noMask(108)], () => false);
      assert.deepEqual(
        after.map((p) => [p.boxX, p.lastFrameSnapshotPath]),
        [
          [100, null],
          [104, null],
          [108, null],
        ],
      );
    });
  });
}
