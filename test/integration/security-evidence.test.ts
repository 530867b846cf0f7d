/**
 * Evidence per alert (issue 13, item 4) over real HTTP, with the real worker
 * and ONNX models on a real photo (group-faces.jpg: the left half holds two
 * unmasked people, the right half the others):
 *
 *   frame 1 (left half)  → two tracks start (a camera confirming 2 of 2);
 *   frame 2 (whole photo) → alert A1 with the two left people; the right
 *                           side's violators are unconfirmed;
 *   A1 dispatched to unit A, then dismissed (it keeps its people quiet);
 *   frame 3 (whole photo) → the right side's people are confirmed: alert A2
 *                           (unit B), while the left two stay A1's.
 *
 * Each alert's frame shows only its own people sharp; everything else in it is
 * blurred (unconfirmed violators, the other alert's people, bystanders, a
 * person marked false positive). Officers get only their unit's frames; every
 * refusal is the same 404; tokens only in the header; the raw stored frame is
 * not served; nothing rendered is kept, and retention leaves nothing behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { call, createTestStack, loginAs, type JsonBody, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { DATASETS, startStackAnalysis } from './worker-support.ts';
import { createRetentionHandler } from '../../src/queue/handlers/retention.ts';
import { DAY_MS } from '../../src/privacy/retention-policy.ts';
import { iou } from '../../src/vision/nms.ts';
import type { AlertEvent } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import type { Box } from '../../src/vision/types.ts';

const GROUP = path.join(DATASETS, 'scenes', 'group-faces.jpg');

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

async function raw(jpeg: Buffer): Promise<Raw> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean absolute difference between horizontal neighbours in the inner 60 % of a box (clear of drawn outlines). */
function detail(img: Raw, box: readonly number[]): number {
  const [bx, by, bw, bh] = box.map(Math.round) as [number, number, number, number];
  const x0 = Math.max(0, bx + Math.round(bw * 0.2));
  const x1 = Math.min(img.width - 1, bx + Math.round(bw * 0.8));
  const y0 = Math.max(0, by + Math.round(bh * 0.2));
  const y1 = Math.min(img.height - 1, by + Math.round(bh * 0.8));
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1 - 1; x++) {
      for (let c = 0; c < 3; c++) sum += Math.abs(img.data[(y * img.width + x) * 3 + c]! - img.data[(y * img.width + x + 1) * 3 + c]!);
      n += 3;
    }
  }
  return sum / n;
}

for (const provider of testProviders()) {
  describe(`evidence per alert (${provider}; real worker, real models, real HTTP)`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let analysis: Awaited<ReturnType<typeof startStackAnalysis>>;
    let admin: string;
    let dispatcher: string;
    let officerA: string;
    let officerB: string;
    let unitA: string;
    let unitB: string;
    let camera: { id: string; apiKey: string };
    let group: Buffer;
    let original: Raw;
    /** Every face of the photo, as the engine sees it. */
    let faces: { box: Box; violation: boolean }[];
    const frames: string[] = [];
    let a1: AlertEvent;
    let a2: AlertEvent;

    const get = (url: string, token: string) => fetch(`${api.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
    const frameUrl = (alertId: string, frameId: string) => `/api/v1/alerts/${alertId}/frames/${frameId}`;

    async function postAndProcess(image: Buffer, capturedAt: Date): Promise<string> {
      const res = await call(api.url, 'POST', '/api/v1/frames', {
        token: camera.apiKey,
        body: image,
        headers: { 'content-type': 'image/jpeg', 'x-captured-at': capturedAt.toISOString() },
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      await analysis.analysed(res.body.frameId as string);
      return res.body.frameId as string;
    }

    async function alerts(): Promise<AlertEvent[]> {
      const res = await call(api.url, 'GET', `/api/v1/alerts?cameraId=${camera.id}`, { token: dispatcher });
      assert.equal(res.status, 200);
      return res.body.items;
    }

    /** Detail before → after of each face, per checked view (printed as test diagnostics). */
    const measured: string[] = [];

    /** Fetches an alert's frame as the dispatcher and checks: its people sharp, every other face of the photo blurred. */
    async function assertOnlyPeopleSharp(alert: AlertEvent, frameId: string, what: string, people = alert.people.filter((p) => !p.falsePositive)) {
      const res = await get(frameUrl(alert.id, frameId), dispatcher);
      assert.equal(res.status, 200, `${what}: ${res.status}`);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      assert.equal(res.headers.get('cache-control'), 'private, no-store');
      const served = await raw(Buffer.from(await res.arrayBuffer()));
      assert.deepEqual([served.width, served.height], [original.width, original.height]);
      let sharpCount = 0;
      for (const f of faces) {
        const mine = people.some((p) => iou(p.box, f.box) > 0.5);
        const before = detail(original, f.box);
        const now = detail(served, f.box);
        measured.push(`${what}: ${mine ? 'person' : 'other'} [${f.box.map(Math.round)}] detail ${before.toFixed(1)} → ${now.toFixed(1)}`);
        if (mine) {
          sharpCount++;
          assert.ok(now > before * 0.6, `${what}: the alert's person at [${f.box.map(Math.round)}] lost its detail (${before.toFixed(1)} → ${now.toFixed(1)})`);
        } else {
          assert.ok(now < before * 0.35, `${what}: face at [${f.box.map(Math.round)}] (not this alert's) is not blurred (${before.toFixed(1)} → ${now.toFixed(1)})`);
        }
      }
      assert.equal(sharpCount, people.length, `${what}: every person of the alert is in the photo`);
    }

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi();
      admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
      dispatcher = (await loginAs(api, { username: 'desk', role: 'DISPATCHER' })).token;
      unitA = (await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'E-A' } })).body.id;
      unitB = (await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'E-B' } })).body.id;
      officerA = (await loginAs(api, { username: 'officer-a', role: 'OFFICER', unitCallSign: 'E-A' })).token;
      officerB = (await loginAs(api, { username: 'officer-b', role: 'OFFICER', unitCallSign: 'E-B' })).token;
      const cam = await call(api.url, 'POST', '/api/v1/cameras', {
        token: admin,
        json: { name: 'Evidence cam', latitude: 1, longitude: 1, confirmFrames: 2, confirmWindow: 2 },
      });
      assert.equal(cam.status, 201, JSON.stringify(cam.body));
      camera = { id: cam.body.id, apiKey: cam.body.apiKey };
      analysis = await startStackAnalysis(stack);

      group = await readFile(GROUP);
      original = await raw(group);
      faces = (await analysis.engine.analyzeFrame(group)).faces.map((f) => ({ box: f.box, violation: f.violation }));
      assert.ok(faces.filter((f) => f.violation).length >= 3, `the photo has ≥ 3 violators: ${JSON.stringify(faces)}`);
    });

    after(async () => {
      for (const line of measured) console.log(line);
      await analysis?.close();
      await stack?.close();
    });

    test("an alert's frame blurs unconfirmed violators and bystanders; its people stay sharp", async () => {
      const meta = await sharp(group).metadata();
      const half = Math.floor(meta.width! / 2);
      const leftHalf = await sharp(group)
        .composite([{ input: { create: { width: meta.width! - half, height: meta.height!, channels: 3, background: '#000' } }, left: half, top: 0 }])
        .jpeg({ quality: 92 })
        .toBuffer();
      const t0 = Date.now() - 20_000;
      frames.push(await postAndProcess(leftHalf, new Date(t0)));
      assert.deepEqual(await alerts(), [], 'one frame confirms nobody (2 of 2)');
      frames.push(await postAndProcess(group, new Date(t0 + 1000)));
      const list = await alerts();
      assert.equal(list.length, 1);
      a1 = list[0]!;
      assert.equal(a1.people.length, 2, 'the two left people');
      for (const p of a1.people) assert.ok(p.box[0] + p.box[2] <= half + 2, `left person: ${p.box}`);
      // The payload points at the alert's own view of the frame, never at the stored file.
      assert.equal(a1.frameSnapshotUrl, frameUrl(a1.id, frames[1]!));
      for (const p of a1.people) assert.equal(p.frameSnapshotUrl, frameUrl(a1.id, frames[1]!));
      assert.ok(faces.some((f) => f.violation && f.box[0] >= half), 'an unconfirmed violator on the right');
      await assertOnlyPeopleSharp(a1, frames[1]!, 'A1, frame 2');
      // Every person's track item points at this alert's view too.
      const track = await call(api.url, 'GET', `/api/v1/alerts/${a1.id}/people/${a1.people[0]!.id}/track`, { token: dispatcher });
      assert.deepEqual(track.body.items.map((t: { frameSnapshotUrl: string }) => t.frameSnapshotUrl), [frameUrl(a1.id, frames[0]!), frameUrl(a1.id, frames[1]!)]);
    });

    test("two alerts in one frame: each shows only its own people; the other alert's are blurred", async () => {
      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${a1.id}/dispatch`, { token: dispatcher, json: { unitId: unitA } })).status, 200);
      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${a1.id}/dismiss`, { token: dispatcher, json: { reason: 'test: keep its people quiet' } })).status, 200);
      frames.push(await postAndProcess(group, new Date(Date.now() - 18_000)));
      const list = await alerts();
      assert.equal(list.length, 2, 'a second alert for the people confirmed after A1 was dismissed');
      a1 = list.find((a) => a.id === a1.id)!;
      a2 = list.find((a) => a.id !== a1.id)!;
      assert.equal(a1.people.length, 2);
      assert.ok(a2.people.length >= 1);
      assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${a2.id}/dispatch`, { token: dispatcher, json: { unitId: unitB } })).status, 200);
      assert.equal(a2.frameSnapshotUrl, frameUrl(a2.id, frames[2]!));
      assert.equal(a1.people[0]!.frameSnapshotUrl, frameUrl(a1.id, frames[2]!));
      await assertOnlyPeopleSharp(a2, frames[2]!, 'A2, frame 3');
      await assertOnlyPeopleSharp(a1, frames[2]!, 'A1, frame 3');
      // A2's people were seen violating in frame 2 as well (before they were confirmed): A2 shows that frame, with A1's people blurred.
      await assertOnlyPeopleSharp(a2, frames[1]!, 'A2, frame 2');
    });

    test("officers get only their unit's frames; every refusal is the same 404; dispatchers see all; no token in the URL", async () => {
      assert.equal((await get(frameUrl(a1.id, frames[2]!), officerA)).status, 200);
      assert.equal((await get(frameUrl(a2.id, frames[2]!), officerB)).status, 200);
      assert.equal((await get(frameUrl(a2.id, frames[2]!), dispatcher)).status, 200);
      assert.equal((await get(frameUrl(a1.id, frames[2]!), admin)).status, 200);

      const refusal = async (url: string, token: string) => {
        const res = await get(url, token);
        return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
      };
      const expected = await refusal(frameUrl(randomUUID(), frames[2]!), officerA);
      assert.equal(expected.status, 404);
      assert.match(expected.type ?? '', /^application\/problem\+json/);
      const cases: [string, string, string][] = [
        ["unit B's alert, officer A", frameUrl(a2.id, frames[2]!), officerA],
        ["unit A's alert, officer B", frameUrl(a1.id, frames[2]!), officerB],
        ['no such frame of an own alert', frameUrl(a1.id, randomUUID()), officerA],
        ['a frame of the camera this alert does not show', frameUrl(a2.id, frames[0]!), officerB],
        ['no such alert, dispatcher', frameUrl(randomUUID(), frames[2]!), dispatcher],
      ];
      for (const [what, url, token] of cases) assert.deepEqual(await refusal(url, token), expected, what);

      // Only the Authorization header carries a token (URLs end up in proxy logs).
      const viaQuery = await fetch(`${api.url}${frameUrl(a1.id, frames[2]!)}?token=${dispatcher}`);
      assert.equal(viaQuery.status, 401);
      // The stored frame itself is never served raw.
      for (const token of [dispatcher, admin, officerA]) {
        assert.equal((await get(`/api/v1/snapshots/${camera.id}/${frames[2]}-frame.jpg`, token)).status, 404);
      }
      // The people's crops are served as before.
      assert.equal((await get(a1.people[0]!.snapshotUrl!, officerA)).status, 200);
      assert.equal((await get(a1.people[0]!.snapshotUrl!, officerB)).status, 404);
    });

    test('each view is audited with who, which frame and the client IP; a refusal is not', async () => {
      const subjectId = `${a2.id}/${frames[2]}`;
      const count = () => stack.db.prisma.auditEvent.count({ where: { action: 'snapshot.view', subjectType: 'AlertFrame', subjectId } });
      const before = await count();
      assert.equal((await get(frameUrl(a2.id, frames[2]!), officerB)).status, 200);
      assert.equal((await get(frameUrl(a2.id, frames[2]!), officerA)).status, 404);
      assert.equal(await count(), before + 1);
      const event = await stack.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'snapshot.view', subjectId }, orderBy: { at: 'desc' } });
      assert.equal(event.actorRole, 'OFFICER');
      assert.equal(JSON.parse(event.details!).clientIp, '127.0.0.1');
    });

    test('a person marked false positive is blurred in the next view of the frame', async () => {
      const marked = a1.people[0]!;
      const res = await call(api.url, 'POST', `/api/v1/alerts/${a1.id}/people/${marked.id}/false-positive`, { token: dispatcher, json: { reason: 'poster' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      a1 = res.body;
      await assertOnlyPeopleSharp(a1, frames[2]!, 'A1 after a false positive', a1.people.filter((p) => p.id !== marked.id));
      // The unit's officer no longer gets the marked person's crops; the dispatcher keeps them for review.
      const track = await call(api.url, 'GET', `/api/v1/alerts/${a1.id}/people/${marked.id}/track`, { token: dispatcher });
      assert.equal(track.status, 200);
      const crops = [marked.snapshotUrl!, ...track.body.items.map((t: { snapshotUrl: string }) => t.snapshotUrl)];
      for (const url of crops) {
        assert.equal((await get(url, officerA)).status, 404, `officer, ${url}`);
        assert.equal((await get(url, dispatcher)).status, 200, `dispatcher, ${url}`);
      }
      const kept = a1.people.find((p) => p.id !== marked.id)!;
      assert.equal((await get(kept.snapshotUrl!, officerA)).status, 200, 'the other person stays visible to the officer');
      assert.ok(!crops.includes(a1.snapshotUrl!), "the alert's own snapshot is now a remaining person's");
      assert.equal((await get(a1.snapshotUrl!, officerA)).status, 200);
    });

    const evidenceAccess = (alertId: string, token = admin) => call(api.url, 'GET', `/api/v1/alerts/${alertId}/evidence-access`, { token });
    const cropSubject = (url: string) => url.slice('/api/v1/snapshots/'.length);

    test("evidence access: who viewed an alert's frames and crops (none of the other alert's); admins only; reading it is audited", async () => {
      const before = await evidenceAccess(a2.id);
      assert.equal(before.status, 200, JSON.stringify(before.body));
      const person = a2.people[0]!;
      assert.equal((await get(frameUrl(a2.id, frames[2]!), officerB)).status, 200);
      assert.equal((await get(person.snapshotUrl!, officerB)).status, 200);
      assert.equal((await get(frameUrl(a1.id, frames[2]!), dispatcher)).status, 200, "A1's evidence, not A2's");
      const res = await evidenceAccess(a2.id);
      assert.equal(res.status, 200);
      assert.equal(res.body.items.length, before.body.items.length + 2);
      assert.equal(res.body.truncated, false);
      const newest = res.body.items.slice(0, 2) as JsonBody[];
      const seen = (type: string) => newest.find((e) => e.subjectType === type)!;
      assert.deepEqual(
        [seen('AlertFrame').actorName, seen('AlertFrame').actorRole, seen('AlertFrame').subjectId, seen('AlertFrame').details.clientIp],
        ['officer-b', 'OFFICER', `${a2.id}/${frames[2]}`, '127.0.0.1'],
      );
      assert.deepEqual([seen('Snapshot').actorName, seen('Snapshot').subjectId], ['officer-b', cropSubject(person.snapshotUrl!)]);
      // Only A2's evidence: its frames, and crops of its people's tracks.
      const a2Crops = new Set<string>();
      for (const p of a2.people) {
        const track = await call(api.url, 'GET', `/api/v1/alerts/${a2.id}/people/${p.id}/track`, { token: dispatcher });
        for (const t of track.body.items as { snapshotUrl: string | null }[]) if (t.snapshotUrl) a2Crops.add(cropSubject(t.snapshotUrl));
        a2Crops.add(cropSubject(p.snapshotUrl!));
      }
      for (const e of res.body.items as JsonBody[]) {
        assert.equal(e.action, 'snapshot.view');
        if (e.subjectType === 'AlertFrame') assert.ok(e.subjectId.startsWith(`${a2.id}/`), e.subjectId);
        else assert.ok(a2Crops.has(e.subjectId), `a crop of A2: ${e.subjectId}`);
      }
      // The summary counts every view by viewer: officer B's two, and the dispatcher's views of A2's frames earlier.
      const viewer = (body: JsonBody, name: string) => (body.viewers as JsonBody[]).find((v) => v.actorName === name);
      assert.equal(viewer(res.body, 'officer-b')!.views, (viewer(before.body, 'officer-b')?.views ?? 0) + 2);
      assert.equal(viewer(res.body, 'desk')!.views, viewer(before.body, 'desk')!.views, "the dispatcher's view of A1 is not A2's");
      assert.equal(viewer(res.body, 'officer-a'), undefined, 'officer A never saw A2');
      // Admins only; an unknown alert is a 404 problem; each reading is audited on the alert.
      assert.equal((await evidenceAccess(a2.id, dispatcher)).status, 403);
      assert.equal((await call(api.url, 'GET', `/api/v1/alerts/${a2.id}/evidence-access`)).status, 401);
      const missing = await evidenceAccess(randomUUID());
      assert.equal(missing.status, 404);
      assert.equal(typeof missing.body.title, 'string');
      const readings = await stack.db.prisma.auditEvent.count({ where: { action: 'audit.view', subjectType: 'Alert', subjectId: a2.id } });
      assert.equal(readings, 2, 'the two readings by the admin');
    });

    test('nothing rendered is kept; retention deletes the stored frames and crops, and the views answer 404', async () => {
      const files = () => readdir(path.join(stack.dataDir, 'snapshots', camera.id)).catch(() => [] as string[]);
      const stored = await files();
      // Only what the worker wrote: one stored frame per violating frame and one crop per violating face.
      assert.deepEqual(stored.filter((f) => f.endsWith('-frame.jpg')).sort(), frames.map((f) => `${f}-frame.jpg`).sort());
      assert.ok(stored.every((f) => /-(frame|\d+)\.jpg$/.test(f)), `unexpected files: ${stored.join(', ')}`);
      const handle = createRetentionHandler({
        prisma: stack.db.prisma,
        dataDir: stack.dataDir,
        retentionDays: 30,
        logger: stack.logger,
        now: () => new Date(Date.now() + 31 * DAY_MS),
      });
      const custody = (await evidenceAccess(a1.id)).body;
      assert.ok(custody.items.some((e: JsonBody) => e.subjectType === 'Snapshot') && custody.items.some((e: JsonBody) => e.subjectType === 'AlertFrame'));
      await handle();
      assert.deepEqual(await files(), [], 'every stored frame and crop of the camera is gone');
      // That run also deleted the sessions that will have expired by then: log in again.
      const login = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'desk', password: 'correct horse battery staple' } });
      assert.equal(login.status, 200);
      dispatcher = login.body.token;
      admin = (await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: 'correct horse battery staple' } })).body.token;
      // The chain of custody outlives the images: every view of A1's frames and crops is still listed.
      const kept = (await evidenceAccess(a1.id)).body;
      assert.deepEqual(
        kept.items.map((e: JsonBody) => e.id),
        custody.items.map((e: JsonBody) => e.id),
      );
      const expected = await get(frameUrl(randomUUID(), frames[2]!), dispatcher);
      const expectedBody = await expected.text();
      for (const url of [frameUrl(a1.id, frames[2]!), frameUrl(a2.id, frames[2]!), frameUrl(a2.id, frames[1]!)]) {
        const res = await get(url, dispatcher);
        assert.equal(res.status, 404, url);
        assert.equal(await res.text(), expectedBody);
      }
      const after = await alerts();
      for (const a of after) {
        assert.equal(a.frameSnapshotUrl, null);
        for (const p of a.people) assert.equal(p.frameSnapshotUrl, null);
      }
    });
  });
}
