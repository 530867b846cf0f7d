/**
 * The evidence package, without a server: what it holds (a person marked false positive has no image in it;
 * a file retention deleted is listed as missing), that every change to a packaged file is caught, and that no
 * complete package leaves without its audit record (an export cut short is audited as incomplete).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { checkPackage, sha256Hex } from '../../src/domain/evidence-package.ts';
import { createEvidencePackageService, type EvidencePackageDeps } from '../../src/services/evidence-package.ts';
import type { AlertRecord } from '../../src/db/repositories/alerts.ts';
import type { AuditEntry } from '../../src/db/repositories/audit.ts';
import { tempDir } from '../helpers/env.ts';

const AT = new Date('2026-11-30T10:00:00Z');
const CAMERA = 'cam1';
const stored = (frameId: string, suffix: string) => `snapshots/${CAMERA}/${frameId}-${suffix}.jpg`;

function person(id: string, falsePositive: boolean) {
  return {
    id,
    label: 'no_mask',
    falsePositive,
    falsePositiveReason: falsePositive ? 'a poster, not a person' : null,
    bestShotPath: stored(`best-${id}`, '0'),
    lastFrameSnapshotPath: stored('f2', 'frame'),
    firstSeenAt: AT,
    lastSeenAt: new Date(AT.getTime() + 1000),
    boxX: 1,
    boxY: 2,
    boxW: 30,
    boxH: 30,
    noMaskProbability: 0.9,
    _count: { violations: 2 },
  };
}

const ALERT = {
  id: 'alert-1',
  cameraId: CAMERA,
  status: 'RESOLVED',
  createdAt: AT,
  firstSeenAt: AT,
  lastSeenAt: new Date(AT.getTime() + 1000),
  violationCount: 4,
  noMaskProbability: 0.9,
  snapshotPath: null,
  frameSnapshotPath: stored('f2', 'frame'),
  assignedUnitId: null,
  escalationLevel: 0,
  resolutionOutcome: 'WARNED',
  camera: { name: 'Plaza', latitude: 40.4, longitude: -3.7, address: 'Plaza Mayor 1', zone: 'Centro' },
  people: [person('p1', false), person('p2', true)],
} as unknown as AlertRecord;

/** Two sightings per person, in frames f1 and f2; person p1's crop of f1 was deleted by retention. */
const track = (personId: string) =>
  ['f1', 'f2'].map((frameId, k) => ({
    capturedAt: new Date(AT.getTime() + k * 1000),
    boxX: personId === 'p1' ? 10 : 100,
    boxY: 10,
    boxW: 30,
    boxH: 30,
    noMaskProbability: 0.9,
    faceSnapshotPath: stored(frameId, personId === 'p1' ? '0' : '1'),
    frameSnapshotPath: stored(frameId, 'frame'),
  }));

describe('evidence package', () => {
  let dir: { dir: string; cleanup(): Promise<void> };
  before(async () => {
    dir = await tempDir('evidence-package');
    await mkdir(path.join(dir.dir, 'snapshots', CAMERA), { recursive: true });
    for (const rel of [stored('best-p1', '0'), stored('best-p2', '0'), stored('f2', '0'), stored('f1', '1'), stored('f2', '1')]) {
      await writeFile(path.join(dir.dir, rel), `bytes of ${rel}`);
    }
  });
  after(() => dir?.cleanup());

  function service(audit: (e: AuditEntry) => Promise<void>, more: Partial<EvidencePackageDeps> = {}) {
    return createEvidencePackageService({
      alerts: { findWithCamera: async (id) => (id === ALERT.id ? ALERT : null) },
      people: { track: async (_alertId, personId) => track(personId) },
      privacy: { hold: async () => ({ alertId: ALERT.id, cameraId: CAMERA, cameraName: 'Plaza', heldAt: AT, heldBy: 'admin-id', reason: 'Complaint 118', reviewAt: null }) },
      audit: { record: audit },
      timeline: async () => [],
      renderFrame: async (_alertId, frameId) => Buffer.from(`rendered ${frameId}`),
      dataDir: dir.dir,
      now: () => AT,
      ...more,
    });
  }
  const exporter = { id: 'admin-id', username: 'chief', role: 'ADMIN' as const, unitId: null, zones: [], clientIp: '10.0.0.9' };

  async function download(audit: AuditEntry[]): Promise<Map<string, Uint8Array>> {
    const pkg = await service(async (e) => void audit.push(e)).open(ALERT.id, exporter);
    assert.equal(pkg.filename, 'maskwatch-evidence-alert-1.zip');
    const chunks: Buffer[] = [];
    for await (const c of pkg.stream) chunks.push(Buffer.from(c as Uint8Array));
    return new Map(Object.entries(unzipSync(Buffer.concat(chunks))));
  }

  test('holds the frames, the best shot and crops of each person not marked false positive, and lists what retention deleted', async () => {
    const audit: AuditEntry[] = [];
    const files = await download(audit);
    assert.deepEqual([...files.keys()], [
      'people/1/best-shot.jpg',
      'people/1/0002.jpg',
      'frames/0001-f1.jpg',
      'frames/0002-f2.jpg',
      'incident.json',
      'README.txt',
      'manifest.json',
      'SHA256SUMS',
    ]);
    assert.equal(Buffer.from(files.get('frames/0001-f1.jpg')!).toString(), 'rendered f1');
    assert.equal(Buffer.from(files.get('people/1/0002.jpg')!).toString(), `bytes of ${stored('f2', '0')}`);

    const incident = JSON.parse(Buffer.from(files.get('incident.json')!).toString());
    assert.equal(incident.alert.id, ALERT.id);
    assert.deepEqual(incident.camera, { id: CAMERA, ...ALERT.camera });
    assert.deepEqual(incident.hold, { heldAt: AT.toISOString(), heldBy: 'admin-id', reason: 'Complaint 118', reviewAt: null });
    const [p1, p2] = incident.people;
    assert.equal(p1.bestShot, 'people/1/best-shot.jpg');
    assert.deepEqual(
      p1.sightings.map((s: { crop: string | null; frame: string | null }) => [s.crop, s.frame]),
      [[null, 'frames/0001-f1.jpg'], ['people/1/0002.jpg', 'frames/0002-f2.jpg']],
    );
    // A false positive is a bystander: recorded, never pictured.
    assert.deepEqual([p2.falsePositive, p2.falsePositiveReason, p2.bestShot], [true, 'a poster, not a person', null]);
    assert.ok(p2.sightings.every((s: { crop: string | null; frame: string | null }) => s.crop === null && s.frame === null));
    assert.deepEqual(incident.missing.files, ['people/1/0001.jpg']);

    const check = checkPackage(files);
    assert.deepEqual(check.problems, []);
    assert.equal(check.manifestSha256, sha256Hex(files.get('manifest.json')!));
    assert.deepEqual(check.manifest!.exportedBy, { id: 'admin-id', username: 'chief', role: 'ADMIN' });
    assert.match(Buffer.from(files.get('SHA256SUMS')!).toString(), new RegExp(`^${sha256Hex(files.get('people/1/best-shot.jpg')!)}  people/1/best-shot.jpg\n`));

    assert.equal(audit.length, 1);
    assert.deepEqual(audit[0], {
      actorType: 'USER',
      actorId: 'admin-id',
      actorRole: 'ADMIN',
      action: 'evidence.export',
      subjectType: 'Alert',
      subjectId: ALERT.id,
      details: { clientIp: '10.0.0.9', completed: true, manifestSha256: check.manifestSha256, files: 6, bytes: check.manifest!.files.reduce((s, f) => s + f.bytes, 0), frames: 2, people: 2, missing: 1 },
    });
  });

  test('a changed, added, removed or re-listed file is a problem', async () => {
    const files = await download([]);
    const zipped = (change: (m: Map<string, Uint8Array>) => void) => {
      const copy = new Map(files);
      change(copy);
      return checkPackage(new Map(Object.entries(unzipSync(zipSync(Object.fromEntries(copy))))));
    };
    assert.deepEqual(zipped(() => {}).problems, []);
    assert.deepEqual(zipped((m) => m.set('frames/0001-f1.jpg', Buffer.from('rendered f9'))).problems, ["frames/0001-f1.jpg: changed since export (its SHA-256 differs from the manifest's)"]);
    assert.deepEqual(zipped((m) => m.set('people/1/extra.jpg', Buffer.from('x'))).problems, ['people/1/extra.jpg: not in the manifest (added after export)']);
    assert.deepEqual(zipped((m) => m.delete('people/1/best-shot.jpg')).problems, ['people/1/best-shot.jpg: listed in the manifest, missing from the package']);
    // A forger who rewrites the manifest to match a changed file still has to match SHA256SUMS (and the audit trail).
    const forged = zipped((m) => {
      const manifest = JSON.parse(Buffer.from(m.get('manifest.json')!).toString());
      manifest.files[0].sha256 = sha256Hex('forged');
      manifest.files[0].bytes = 6;
      m.set(manifest.files[0].path, Buffer.from('forged'));
      m.set('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
    });
    assert.deepEqual(forged.problems, ['SHA256SUMS does not match the manifest']);
    assert.notEqual(forged.manifestSha256, checkPackage(files).manifestSha256, 'the manifest hash the audit trail recorded no longer matches');
    assert.deepEqual(checkPackage(new Map()).problems, ['manifest.json is missing']);
    assert.deepEqual(checkPackage(new Map([['manifest.json', Buffer.from('{"format":"other"}')]])).problems, ['manifest.json is not a maskwatch-evidence-package/1 manifest']);
  });

  test('an alert the exporter may not see, or none, is 404 before anything is read', async () => {
    const audit: AuditEntry[] = [];
    const svc = service(async (e) => void audit.push(e));
    await assert.rejects(svc.open('nope', exporter), { name: 'ServiceError', kind: 'NOT_FOUND', code: 'alert-not-found' });
    await assert.rejects(svc.open(ALERT.id, { ...exporter, role: 'DISPATCHER', zones: ['Norte'] }), { kind: 'NOT_FOUND' });
    assert.deepEqual(audit, []);
  });

  test('the archive cannot complete without its audit record; an export cut short is audited as incomplete', async () => {
    const failing = await service(async (e) => {
      if ((e.details as { completed: boolean }).completed) throw new Error('database down');
    }).open(ALERT.id, exporter);
    const chunks: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of failing.stream) chunks.push(Buffer.from(c as Uint8Array));
      })(),
      /database down/,
    );
    assert.throws(() => unzipSync(Buffer.concat(chunks)), 'what left before the failure is not an archive');

    const audit: AuditEntry[] = [];
    let recorded!: () => void;
    const done = new Promise<void>((resolve) => (recorded = resolve));
    const cut = await service(async (e) => {
      audit.push(e);
      recorded();
    }).open(ALERT.id, exporter);
    for await (const _ of cut.stream) break; // the reader goes away after the first chunk
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('no audit record of the cut export within 5 s')), 5000).unref())]);
    assert.deepEqual(audit.map((e) => e.details), [{ clientIp: '10.0.0.9', completed: false, files: 1 }]);
  });
});
