/**
 * Evidence holds over real HTTP and the real retention run, on SQLite and PostgreSQL: an admin keeps one
 * alert's evidence past retention with a reason; the run keeps its files (a frame it shares with another
 * alert included) and the faces its frame is blurred by, while everything else old goes as before; a camera
 * with a held alert cannot be purged; released, the evidence goes at the next run. Audited throughout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { createRetentionHandler } from '../../src/queue/handlers/retention.ts';
import { DAY_MS } from '../../src/privacy/retention-policy.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const ASSETS = process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared');
const JPEG = await readFile(path.join(ASSETS, 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));
const problemType = (slug: string) => `https://maskwatch.dev/problems/${slug}`;

for (const provider of testProviders()) {
  describe(`evidence holds (${provider})`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let admin: { token: string; userId: string };
    let cameraId: string;
    const at = new Date(Date.now() - 45 * DAY_MS);

    const exists = (rel: string) => existsSync(path.join(stack.dataDir, rel));
    async function file(rel: string): Promise<string> {
      await mkdir(path.dirname(path.join(stack.dataDir, rel)), { recursive: true });
      await writeFile(path.join(stack.dataDir, rel), JPEG);
      await utimes(path.join(stack.dataDir, rel), at, at);
      return rel;
    }
    /** An alert of one person seen in `frameId` 45 days ago, with its crop, best shot and the frame on disk. */
    async function oldAlert(frameId: string, faceIndex: number) {
      const frame = await file(`snapshots/${cameraId}/${frameId}-frame.jpg`);
      const face = await file(`snapshots/${cameraId}/${frameId}-${faceIndex}.jpg`);
      const best = await file(`snapshots/${cameraId}/${randomUUID()}-best.jpg`);
      const p = stack.db.prisma;
      const alert = await p.alert.create({ data: { cameraId, trackId: randomUUID(), firstSeenAt: at, lastSeenAt: at, violationCount: 1, noMaskProbability: 0.9, snapshotPath: face, frameSnapshotPath: frame } });
      const person = await p.alertPerson.create({
        data: { alertId: alert.id, cameraId, trackKey: randomUUID(), label: 'no_mask', boxX: 10, boxY: 10, boxW: 30, boxH: 30, noMaskProbability: 0.9, bestShotPath: best, lastFrameSnapshotPath: frame, firstSeenAt: at, lastSeenAt: at },
      });
      await p.violation.create({
        data: { cameraId, frameId, faceIndex, capturedAt: at, receivedAt: at, boxX: 10 + faceIndex * 50, boxY: 10, boxW: 30, boxH: 30, faceScore: 0.9, noMaskProbability: 0.9, faceSnapshotPath: face, frameSnapshotPath: frame, alertId: alert.id, personId: person.id },
      });
      return { id: alert.id, files: [frame, face, best] };
    }

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi();
      admin = await loginAs(api, { username: 'chief', role: 'ADMIN' });
      cameraId = (await stack.db.prisma.camera.create({ data: { name: 'Plaza Mayor', latitude: 40.4, longitude: -3.7, apiKeyHash: randomUUID(), apiKeyHint: 'xxxx' } })).id;
    });
    after(() => stack?.close());

    test('held: retention keeps the alert\'s images and the faces its frame blurs, and still deletes the rest; released: they go', async () => {
      const p = stack.db.prisma;
      const frameId = randomUUID();
      const held = await oldAlert(frameId, 0);
      // Another alert of the same frame (not held), a bystander of that frame, and an unrelated old alert.
      const sameFrame = await oldAlert(frameId, 1);
      await p.trackSighting.create({
        data: { cameraId, frameId, faceIndex: 2, trackKey: 'bystander', capturedAt: at, receivedAt: at, boxX: 200, boxY: 10, boxW: 30, boxH: 30, faceScore: 0.9, maskProbability: 0.95, noMaskProbability: 0.04, maskIncorrectProbability: 0.01, violating: false, shotQuality: 1 },
      });
      const other = await oldAlert(randomUUID(), 0);

      const res = await call(api.url, 'PUT', `/api/v1/alerts/${held.id}/hold`, { token: admin.token, json: { reason: 'Complaint 2026-118: the person contests the stop' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual({ ...res.body, heldAt: typeof res.body.heldAt, reviewAt: typeof res.body.reviewAt }, {
        alertId: held.id, cameraId, cameraName: 'Plaza Mayor', heldAt: 'string', heldBy: admin.userId, heldByName: 'chief', reason: 'Complaint 2026-118: the person contests the stop',
        reviewAt: 'string', reviewDue: false,
      });
      assert.deepEqual((await call(api.url, 'GET', '/api/v1/evidence-holds', { token: admin.token })).body.items.map((h: { alertId: string }) => h.alertId), [held.id]);

      const retention = createRetentionHandler({ prisma: p, dataDir: stack.dataDir, retentionDays: 30, logger: stack.logger });
      await retention();
      for (const rel of held.files) assert.ok(exists(rel), `${rel} of the held alert is kept`);
      // The shared frame stays (the held alert shows it), but the other alert of it loses its own images.
      assert.equal(exists(sameFrame.files[1]!), false);
      assert.equal(exists(sameFrame.files[2]!), false);
      assert.equal((await p.alert.findUniqueOrThrow({ where: { id: sameFrame.id } })).snapshotPath, null);
      for (const rel of other.files) assert.equal(exists(rel), false, `${rel} of an alert not held is deleted`);
      const kept = await p.alert.findUniqueOrThrow({ where: { id: held.id }, include: { people: true, violations: true } });
      assert.equal(kept.frameSnapshotPath, held.files[0]);
      assert.equal(kept.people[0]!.bestShotPath, held.files[2]);
      assert.equal(kept.violations[0]!.faceSnapshotPath, held.files[1]);
      // The bystander's record stays: the held frame is still shown with that face blurred.
      assert.equal(await p.trackSighting.count({ where: { frameId } }), 1);
      const view = await call(api.url, 'GET', `/api/v1/alerts/${held.id}/frames/${frameId}`, { token: admin.token });
      assert.equal(view.status, 200);
      assert.equal(view.headers.get('content-type'), 'image/jpeg');

      // A camera with held evidence cannot be purged.
      const purge = await call(api.url, 'POST', `/api/v1/cameras/${cameraId}/purge`, { token: admin.token });
      assert.equal(purge.status, 409);
      assert.equal(purge.body.type, problemType('evidence-on-hold'));
      assert.match(purge.body.detail, /1 alert of Plaza Mayor is on evidence hold/);

      assert.equal((await call(api.url, 'DELETE', `/api/v1/alerts/${held.id}/hold`, { token: admin.token })).status, 204);
      assert.equal((await call(api.url, 'DELETE', `/api/v1/alerts/${held.id}/hold`, { token: admin.token })).body.type, problemType('hold-not-found'));
      await retention();
      for (const rel of held.files) assert.equal(exists(rel), false, `${rel} goes once released`);
      assert.equal(await p.trackSighting.count({ where: { frameId } }), 0);
      assert.equal((await call(api.url, 'GET', `/api/v1/alerts/${held.id}/frames/${frameId}`, { token: admin.token })).status, 404);

      const audited = await p.auditEvent.findMany({ where: { subjectId: held.id, action: { startsWith: 'evidence.' } }, orderBy: { at: 'asc' } });
      assert.deepEqual(audited.map((e) => [e.action, e.actorId, (JSON.parse(e.details!) as { reason: string }).reason]), [
        ['evidence.hold', admin.userId, 'Complaint 2026-118: the person contests the stop'],
        ['evidence.release', admin.userId, 'Complaint 2026-118: the person contests the stop'],
      ]);
    });

    test('a second hold replaces the reason (both audited); refusals: an unknown alert, an empty reason, not an admin', async () => {
      const alert = await oldAlert(randomUUID(), 0);
      const first = await call(api.url, 'PUT', `/api/v1/alerts/${alert.id}/hold`, { token: admin.token, json: { reason: 'Inquiry A' } });
      const again = await call(api.url, 'PUT', `/api/v1/alerts/${alert.id}/hold`, { token: admin.token, json: { reason: 'Inquiry B, court order 77' } });
      assert.equal(again.body.reason, 'Inquiry B, court order 77');
      const last = await stack.db.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: alert.id, action: 'evidence.hold' }, orderBy: { at: 'desc' } });
      assert.deepEqual(JSON.parse(last.details!), {
        reason: 'Inquiry B, court order 77',
        reviewAt: again.body.reviewAt,
        replacedReason: 'Inquiry A',
        replacedReviewAt: first.body.reviewAt,
        clientIp: '127.0.0.1',
      });

      const unknown = await call(api.url, 'PUT', `/api/v1/alerts/${randomUUID()}/hold`, { token: admin.token, json: { reason: 'Inquiry C' } });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.type, problemType('alert-not-found'));
      assert.equal((await call(api.url, 'PUT', `/api/v1/alerts/${alert.id}/hold`, { token: admin.token, json: { reason: '   ' } })).status, 400);
      const dispatcher = await loginAs(api, { username: 'disp', role: 'DISPATCHER' });
      assert.equal((await call(api.url, 'PUT', `/api/v1/alerts/${alert.id}/hold`, { token: dispatcher.token, json: { reason: 'mine' } })).status, 403);
      assert.equal((await call(api.url, 'GET', '/api/v1/evidence-holds', { token: dispatcher.token })).status, 403);
    });

    test('a hold is due for review at its date (listed, counted by the metric) until kept with a new date; nothing is released by itself', async () => {
      const p = stack.db.prisma;
      const alert = await oldAlert(randomUUID(), 0);
      const t0 = Date.now();
      const byDefault = await call(api.url, 'PUT', `/api/v1/alerts/${alert.id}/hold`, { token: admin.token, json: { reason: 'Inquiry D' } });
      assert.equal(byDefault.status, 200, JSON.stringify(byDefault.body));
      const reviewIn = new Date(byDefault.body.reviewAt).getTime() - t0;
      assert.ok(reviewIn >= 90 * DAY_MS && reviewIn < 90 * DAY_MS + 60_000, `review in 90 days by default (MASKWATCH_EVIDENCE_HOLD_REVIEW_DAYS): ${reviewIn} ms`);
      const list = await call(api.url, 'GET', '/api/v1/evidence-holds', { token: admin.token });
      assert.equal(list.body.reviewDays, 90);
      const metric = async () =>
        (await (await fetch(`${api.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('maskwatch_evidence_holds{')).sort();
      const counts = async () => {
        const holds = await p.alert.findMany({ where: { heldAt: { not: null } }, select: { holdReviewAt: true } });
        const due = holds.filter((h) => !h.holdReviewAt || h.holdReviewAt.getTime() <= Date.now()).length;
        return [`maskwatch_evidence_holds{review="due"} ${due}`, `maskwatch_evidence_holds{review="not_due"} ${holds.length - due}`];
      };
      assert.deepEqual(await metric(), await counts());
      const dueBefore = (await counts())[0];

      // Its review date passes (the clock of the database row: the review was set for yesterday).
      await p.alert.update({ where: { id: alert.id }, data: { holdReviewAt: new Date(Date.now() - DAY_MS) } });
      const due = (await call(api.url, 'GET', '/api/v1/evidence-holds', { token: admin.token })).body.items.find((h: { alertId: string }) => h.alertId === alert.id);
      assert.equal(due.reviewDue, true);
      assert.notDeepEqual((await metric())[0], dueBefore, 'one more hold due');
      assert.deepEqual(await metric(), await counts());
      const retention = createRetentionHandler({ prisma: p, dataDir: stack.dataDir, retentionDays: 30, logger: stack.logger });
      await retention();
      for (const rel of alert.files) assert.ok(exists(rel), `${rel}: a hold due for review still keeps its evidence`);

      // The review keeps it: a new reason and date.
      const reviewAt = new Date(Date.now() + 30 * DAY_MS).toISOString();
      const kept = await call(api.url, 'PUT', `/api/v1/alerts/${alert.id}/hold`, { token: admin.token, json: { reason: 'Inquiry D, still open', reviewAt } });
      assert.deepEqual([kept.status, kept.body.reviewAt, kept.body.reviewDue, kept.body.heldAt], [200, reviewAt, false, byDefault.body.heldAt], 'kept: a new date; still held since the first hold');
      assert.deepEqual(await metric(), await counts());

      for (const bad of [new Date(Date.now() - 60_000).toISOString(), new Date(Date.now() + 4 * 365 * DAY_MS).toISOString(), 'next week']) {
        const res = await call(api.url, 'PUT', `/api/v1/alerts/${alert.id}/hold`, { token: admin.token, json: { reason: 'Inquiry D', reviewAt: bad } });
        assert.equal(res.status, 400, `reviewAt ${bad}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      }
      assert.equal((await p.alert.findUniqueOrThrow({ where: { id: alert.id } })).holdReviewAt?.toISOString(), reviewAt, 'a refused review changes nothing');
    });
  });
}
