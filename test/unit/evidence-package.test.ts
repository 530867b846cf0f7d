/**
 * The evidence package, without a server: what it holds (a person marked false positive has no image in it;
 * a file retention deleted is listed as missing), that every change to a packaged file is caught, that its
 * signature proves its origin (checked by OpenSSL too, as README.txt tells a receiving side), that the
 * verifier reads a package of any size one entry at a time, and that no
 * complete package leaves without its audit record (an export cut short is audited as incomplete).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync, Zip, ZipPassThrough, zipSync } from 'fflate';
import { checkPackage, manifestAlertIds, publicKeyFingerprint, sha256Hex, sha256Sums, type PackageFile } from '../../src/domain/evidence-package.ts';
import { evidenceSigner, evidenceSignerFromSeed } from '../../src/system/evidence-signer.ts';
import { readPackageEntries } from '../../src/cli/package-reader.ts';
import { deriveKey } from '../../src/auth/secret-box.ts';
import { createEvidencePackageService, type EvidencePackageDeps } from '../../src/services/evidence-package.ts';
import type { AlertRecord } from '../../src/db/repositories/alerts.ts';
import type { AuditEntry } from '../../src/db/repositories/audit.ts';
import { tempDir } from '../helpers/env.ts';

const AT = new Date('2026-11-30T10:00:00Z');
const SIGNER = evidenceSignerFromSeed(Buffer.alloc(32, 7));
const CUSTODY = {
  viewers: [{ actorType: 'USER' as const, actorId: 'd1', actorRole: 'DISPATCHER', actorName: 'desk', views: 3, firstAt: AT.toISOString(), lastAt: AT.toISOString() }],
  exports: [{ at: AT.toISOString(), actorId: 'admin-id', actorName: 'chief', completed: true, manifestSha256: 'a'.repeat(64), caseReference: null }],
};
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
    // The bystander-to-be wore a mask by their last frame; the accused did not.
    maskedSince: falsePositive ? new Date(AT.getTime() + 1000) : null,
    boxX: 1,
    boxY: 2,
    boxW: 30,
    boxH: 30,
    noMaskProbability: 0.9,
    _count: { violations: 2 },
  };
}

const ALERT: AlertRecord = {
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
/** An earlier incident at the same camera, with person p1 only: a case packages it first. */
const EARLIER = { ...ALERT, id: 'alert-0', createdAt: new Date(AT.getTime() - 86_400_000), people: [ALERT.people[0]!] } as AlertRecord;

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
      alerts: { findWithCamera: async (id) => [ALERT, EARLIER].find((a) => a.id === id) ?? null },
      people: { track: async (_alertId, personId) => track(personId) },
      privacy: { hold: async () => ({ alertId: ALERT.id, cameraId: CAMERA, cameraName: 'Plaza', heldAt: AT, heldBy: 'admin-id', reason: 'Complaint 118', reviewAt: null }) },
      audit: { record: audit },
      timeline: async () => [],
      renderFrame: async (_alertId, frameId) => Buffer.from(`rendered ${frameId}`),
      signer: async () => SIGNER,
      custody: async () => CUSTODY,
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
      'manifest.sig',
      'signing-key.pem',
    ]);
    assert.equal(Buffer.from(files.get('frames/0001-f1.jpg')!).toString(), 'rendered f1');
    assert.equal(Buffer.from(files.get('people/1/0002.jpg')!).toString(), `bytes of ${stored('f2', '0')}`);

    const incident = JSON.parse(Buffer.from(files.get('incident.json')!).toString());
    assert.equal(incident.alert.id, ALERT.id);
    assert.deepEqual(incident.camera, { id: CAMERA, ...ALERT.camera });
    assert.deepEqual(incident.custody, CUSTODY, 'who viewed the evidence and earlier exports');
    assert.deepEqual(incident.hold, { heldAt: AT.toISOString(), heldBy: 'admin-id', reason: 'Complaint 118', reviewAt: null });
    const [p1, p2] = incident.people;
    assert.equal(p1.bestShot, 'people/1/best-shot.jpg');
    assert.deepEqual([p1.maskedSince, p2.maskedSince], [null, new Date(AT.getTime() + 1000).toISOString()], 'who put a mask on, and when');
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
    assert.deepEqual(check.signature, { keyFingerprint: SIGNER.keyFingerprint, valid: true });
    assert.deepEqual(check.manifest!.signature, { algorithm: 'Ed25519', keyFingerprint: SIGNER.keyFingerprint });
    assert.equal(Buffer.from(files.get('signing-key.pem')!).toString(), SIGNER.publicKeyPem);
    assert.match(Buffer.from(files.get('README.txt')!).toString(), new RegExp(SIGNER.keyFingerprint));
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
      details: { clientIp: '10.0.0.9', completed: true, manifestSha256: check.manifestSha256, keyFingerprint: SIGNER.keyFingerprint, files: 6, bytes: check.manifest!.files.reduce((s, f) => s + f.bytes, 0), frames: 2, people: 2, missing: 1 },
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
    // A forger who rewrites the manifest to match a changed file still has to match SHA256SUMS, the signature and the audit trail.
    const forged = zipped((m) => {
      const manifest = JSON.parse(Buffer.from(m.get('manifest.json')!).toString());
      manifest.files[0].sha256 = sha256Hex('forged');
      manifest.files[0].bytes = 6;
      m.set(manifest.files[0].path, Buffer.from('forged'));
      m.set('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
    });
    assert.deepEqual(forged.problems, ['SHA256SUMS does not match the manifest', 'manifest.sig is not a signature of manifest.json by that key']);
    assert.notEqual(forged.manifestSha256, checkPackage(files).manifestSha256, 'the manifest hash the audit trail recorded no longer matches');
    assert.deepEqual(checkPackage(new Map()).problems, ['manifest.json is missing']);
    assert.deepEqual(checkPackage(new Map([['manifest.json', Buffer.from('{"format":"other"}')]])).problems, ['manifest.json is not a maskwatch-evidence-package/1 or maskwatch-evidence-case/1 manifest']);
  });

  test('the signature proves the origin: a consistent forgery fails it, another key fails the trusted one, OpenSSL agrees', async () => {
    const files = await download([]);
    const repack = (change: (m: Map<string, Uint8Array>) => void) => {
      const copy = new Map(files);
      change(copy);
      return copy;
    };
    /** Changes a file and rewrites the manifest and SHA256SUMS to match, as a careful forger would. */
    const forge = (m: Map<string, Uint8Array>, resign?: { key: ReturnType<typeof generateKeyPairSync>; fingerprint: string; pem: string }) => {
      const manifest = JSON.parse(Buffer.from(m.get('manifest.json')!).toString());
      m.set(manifest.files[0].path, Buffer.from('forged'));
      manifest.files[0] = { path: manifest.files[0].path, sha256: sha256Hex('forged'), bytes: 6 };
      if (resign) manifest.signature.keyFingerprint = resign.fingerprint;
      const data = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
      m.set('manifest.json', data);
      m.set('SHA256SUMS', Buffer.from(sha256Sums(manifest.files as PackageFile[], { path: 'manifest.json', sha256: sha256Hex(data), bytes: data.byteLength })));
      if (resign) {
        m.set('manifest.sig', sign(null, data, resign.key.privateKey));
        m.set('signing-key.pem', Buffer.from(resign.pem));
      }
    };
    const trusted = { trustedKeyFingerprint: SIGNER.keyFingerprint };
    assert.deepEqual(checkPackage(files, trusted).problems, []);
    assert.deepEqual(checkPackage(repack((m) => forge(m))).problems, ['manifest.sig is not a signature of manifest.json by that key']);

    const key = generateKeyPairSync('ed25519');
    const other = { key, fingerprint: publicKeyFingerprint(key.publicKey), pem: key.publicKey.export({ type: 'spki', format: 'pem' }) as string };
    const resigned = repack((m) => forge(m, other));
    assert.deepEqual(checkPackage(resigned).problems, [], 'consistent in itself: only a trusted key tells it apart');
    assert.deepEqual(checkPackage(resigned, trusted).problems, [`signed with key ${other.fingerprint}, not the trusted key ${SIGNER.keyFingerprint}`]);
    assert.deepEqual(checkPackage(repack((m) => m.set('signing-key.pem', Buffer.from(other.pem)))).problems, [`signing-key.pem is not the key the manifest names (${SIGNER.keyFingerprint})`]);
    assert.deepEqual(checkPackage(repack((m) => m.delete('manifest.sig'))).problems, ['manifest.sig is missing (the manifest says the package is signed)']);
    assert.deepEqual(checkPackage(repack((m) => m.set('signing-key.pem', Buffer.from('not a key')))).problems, ['signing-key.pem is not a public key']);

    // A package made before signing: its files still check, but a trusted key cannot be satisfied.
    const unsigned = repack((m) => {
      const manifest = JSON.parse(Buffer.from(m.get('manifest.json')!).toString());
      delete manifest.signature;
      const data = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
      m.set('manifest.json', data);
      m.set('SHA256SUMS', Buffer.from(sha256Sums(manifest.files as PackageFile[], { path: 'manifest.json', sha256: sha256Hex(data), bytes: data.byteLength })));
      m.delete('manifest.sig');
      m.delete('signing-key.pem');
    });
    assert.equal(checkPackage(unsigned).signature, null);
    assert.deepEqual(checkPackage(unsigned).problems, []);
    assert.deepEqual(checkPackage(unsigned, trusted).problems, ['the package is not signed, and a signature by the trusted key was required']);

    // The receiving side's check without MaskWatch, exactly as README.txt gives it.
    const out = await tempDir('evidence-openssl');
    try {
      for (const name of ['manifest.json', 'manifest.sig', 'signing-key.pem']) await writeFile(path.join(out.dir, name), files.get(name)!);
      const openssl = (...args: string[]) => spawnSync('openssl', args, { cwd: out.dir, encoding: 'utf8', timeout: 10_000 });
      const verified = openssl('pkeyutl', '-verify', '-pubin', '-inkey', 'signing-key.pem', '-rawin', '-in', 'manifest.json', '-sigfile', 'manifest.sig');
      assert.equal(verified.status, 0, verified.stderr);
      assert.match(verified.stdout, /Signature Verified Successfully/);
      const der = spawnSync('openssl', ['pkey', '-pubin', '-in', 'signing-key.pem', '-outform', 'DER'], { cwd: out.dir, timeout: 10_000 });
      assert.equal(sha256Hex(der.stdout), SIGNER.keyFingerprint, 'the fingerprint README.txt tells how to compute');
      await writeFile(path.join(out.dir, 'manifest.json'), Buffer.from(files.get('manifest.json')!).toString().replace('chief', 'chiff'));
      assert.equal(openssl('pkeyutl', '-verify', '-pubin', '-inkey', 'signing-key.pem', '-rawin', '-in', 'manifest.json', '-sigfile', 'manifest.sig').status, 1);
    } finally {
      await out.cleanup();
    }
  });

  test('read from disk one entry at a time: large files hashed, not kept; stored or deflated; a name twice is reported', async () => {
    const files = await download([]);
    const big = Buffer.alloc(3 * 1024 * 1024, 1);
    const out = await tempDir('evidence-reader');
    try {
      const deflated = path.join(out.dir, 'deflated.zip');
      await writeFile(deflated, zipSync(Object.fromEntries(files))); // as a ZIP tool re-packs it
      const read = await readPackageEntries(deflated);
      assert.deepEqual(read.duplicates, []);
      assert.deepEqual(checkPackage(read.entries, { trustedKeyFingerprint: SIGNER.keyFingerprint }).problems, []);
      assert.deepEqual(read.entries.get('frames/0001-f1.jpg'), { sha256: sha256Hex('rendered f1'), bytes: 11 }, 'a packaged image is hashed, not kept');
      assert.ok(read.entries.get('manifest.json') instanceof Uint8Array, 'the manifest is kept to be read');

      // Stored entries with data descriptors (the server's own form), a large one, and the same name twice.
      const chunks: Uint8Array[] = [];
      const zip = new Zip((err, chunk) => {
        if (err) throw err;
        chunks.push(chunk);
      });
      for (const [name, data] of [...files, ['frames/0001-f1.jpg', big] as const, ['people/1/big.jpg', big] as const]) {
        const entry = new ZipPassThrough(name);
        zip.add(entry);
        entry.push(data, true);
      }
      zip.end();
      const stored = path.join(out.dir, 'stored.zip');
      await writeFile(stored, Buffer.concat(chunks));
      const twice = await readPackageEntries(stored);
      assert.deepEqual(twice.duplicates, ['frames/0001-f1.jpg']);
      assert.deepEqual(twice.entries.get('people/1/big.jpg'), { sha256: sha256Hex(big), bytes: big.length });
      assert.deepEqual(checkPackage(twice.entries).problems, [
        "frames/0001-f1.jpg: changed since export (its SHA-256 differs from the manifest's)",
        'people/1/big.jpg: not in the manifest (added after export)',
      ]);
      await assert.rejects(readPackageEntries(path.join(out.dir, 'none.zip')), { code: 'ENOENT' });
      await writeFile(path.join(out.dir, 'not.zip'), 'not a zip');
      await assert.rejects(readPackageEntries(path.join(out.dir, 'not.zip')), /central directory/);
    } finally {
      await out.cleanup();
    }
  });

  test("the signing key is the secret key's, the same on every instance, and another secret key's differs", async () => {
    const secret = Buffer.alloc(32, 1);
    const signer = await evidenceSigner(async (purpose) => deriveKey(secret, purpose))();
    assert.equal(signer.keyFingerprint, evidenceSignerFromSeed(deriveKey(secret, 'evidence signing')).keyFingerprint);
    assert.notEqual(signer.keyFingerprint, (await evidenceSigner(async (purpose) => deriveKey(Buffer.alloc(32, 2), purpose))()).keyFingerprint);
    assert.notDeepEqual(deriveKey(secret, 'evidence signing'), deriveKey(secret, 'audit seals'), 'no key shared with another use');
    let calls = 0;
    const flaky = evidenceSigner(async (purpose) => {
      if (++calls === 1) throw new Error('data dir not mounted yet');
      return deriveKey(secret, purpose);
    });
    await assert.rejects(flaky(), /not mounted/);
    assert.equal((await flaky()).keyFingerprint, signer.keyFingerprint, 'a failure is not remembered');
  });

  async function unzipped(stream: AsyncIterable<unknown>): Promise<Map<string, Uint8Array>> {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
    return new Map(Object.entries(unzipSync(Buffer.concat(chunks))));
  }

  test("a case's package holds each incident, oldest first, in its own folder as its own package would, under one signed manifest", async () => {
    const audit: AuditEntry[] = [];
    const pkg = await service(async (e) => void audit.push(e)).openCase({ reference: ' Case 2026/0412 (Sol) ', alertIds: [ALERT.id, EARLIER.id] }, exporter);
    assert.equal(pkg.filename, 'maskwatch-case-Case-2026-0412-Sol.zip');
    const files = await unzipped(pkg.stream);
    const alone = await download([]);
    const first = 'incidents/001-alert-0/';
    const second = 'incidents/002-alert-1/';
    // The later incident's folder holds what its own package holds, byte for byte but for the custody and packaging files.
    for (const [name, data] of alone) {
      if (['README.txt', 'manifest.json', 'SHA256SUMS', 'manifest.sig', 'signing-key.pem'].includes(name)) continue;
      assert.deepEqual(files.get(second + name), data, `${second}${name} as the incident's own package holds it`);
    }
    assert.deepEqual(
      [...files.keys()].filter((n) => n.startsWith(first)),
      ['people/1/best-shot.jpg', 'people/1/0002.jpg', 'frames/0001-f1.jpg', 'frames/0002-f2.jpg', 'incident.json'].map((n) => first + n),
    );
    assert.deepEqual([...files.keys()].slice(-6), ['case.json', 'README.txt', 'manifest.json', 'SHA256SUMS', 'manifest.sig', 'signing-key.pem']);
    const theCase = JSON.parse(Buffer.from(files.get('case.json')!).toString());
    assert.equal(theCase.format, 'maskwatch-evidence-case/1');
    assert.equal(theCase.reference, 'Case 2026/0412 (Sol)');
    assert.deepEqual(
      theCase.incidents.map((i: { number: number; alertId: string; folder: string; people: number }) => [i.number, i.alertId, i.folder, i.people]),
      [[1, 'alert-0', first, 1], [2, 'alert-1', second, 2]],
    );
    assert.match(Buffer.from(files.get('README.txt')!).toString(), /Case Case 2026\/0412 \(Sol\): 2 incidents/);

    const check = checkPackage(files);
    assert.deepEqual(check.problems, []);
    assert.equal(check.signature?.valid, true);
    assert.equal(check.manifest!.format, 'maskwatch-evidence-case/1');
    assert.deepEqual(manifestAlertIds(check.manifest!), ['alert-0', 'alert-1']);
    assert.equal(check.manifest!.files.length, [...files.keys()].length - 4);
    // Each incident's trail records the case export, with the manifest that proves it and its own counts.
    assert.deepEqual(
      audit.map((e) => [e.subjectId, e.details]),
      ['alert-0', 'alert-1'].map((id, i) => [
        id,
        {
          clientIp: '10.0.0.9',
          completed: true,
          manifestSha256: check.manifestSha256,
          keyFingerprint: SIGNER.keyFingerprint,
          files: check.manifest!.files.length,
          bytes: check.manifest!.files.reduce((s, f) => s + f.bytes, 0),
          frames: 2,
          people: i + 1,
          missing: 1,
          case: { reference: 'Case 2026/0412 (Sol)', alertIds: ['alert-0', 'alert-1'] },
        },
      ]),
    );
    // A file moved from one incident's folder to the other's is caught like any change.
    const moved = new Map(files);
    moved.set(`${first}frames/0001-f1.jpg`, files.get(`${second}frames/0002-f2.jpg`)!);
    assert.deepEqual(checkPackage(moved).problems, [`${first}frames/0001-f1.jpg: changed since export (its SHA-256 differs from the manifest's)`]);
    const noCase = JSON.parse(Buffer.from(files.get('manifest.json')!).toString());
    delete noCase.alertIds;
    assert.deepEqual(checkPackage(new Map([['manifest.json', Buffer.from(JSON.stringify(noCase))]])).problems, ['manifest.json lacks its case reference and alerts, export time or file list']);
  });

  test("a case with an alert that does not exist, or that the exporter may not see, is 404 naming it, before anything is read or audited", async () => {
    const audit: AuditEntry[] = [];
    const svc = service(async (e) => void audit.push(e), { renderFrame: async () => assert.fail('nothing is rendered') });
    await assert.rejects(svc.openCase({ reference: 'C-1', alertIds: [ALERT.id, 'nope'] }, exporter), { kind: 'NOT_FOUND', code: 'alert-not-found', message: /alert nope/ });
    await assert.rejects(svc.openCase({ reference: 'C-1', alertIds: [ALERT.id] }, { ...exporter, role: 'DISPATCHER', zones: ['Norte'] }), { kind: 'NOT_FOUND' });
    assert.deepEqual(audit, []);
    const cut = await svc.openCase({ reference: '***', alertIds: [ALERT.id, EARLIER.id] }, exporter);
    assert.equal(cut.filename, 'maskwatch-case-case.zip', 'a reference with no file-name character');
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
