/**
 * An incident's evidence package over real HTTP, on SQLite and PostgreSQL, with the real worker and ONNX
 * models on a real photo (group-faces.jpg, a camera confirming 1 of 1: one alert with several people).
 * An admin downloads it: its frame is the alert's own view of the frame (bytes equal), each person's best
 * shot is the served one, a person marked false positive is not pictured, incident.json carries the alert
 * as the API gives it, the manifest is signed by the server's key, and the export is audited with the
 * manifest's hash. `maskwatch evidence verify` accepts the package (offline too, against the published key
 * from `maskwatch evidence key`), names a changed file, refuses a re-hashed forgery by its signature, and a
 * forgery re-signed with another key by the trusted key and the audit trail. A case's package holds two
 * incidents of two cameras, verifies online, and appears in each one's custody. Only admins may export.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { unzipSync, zipSync } from 'fflate';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { runCli } from '../helpers/cli.ts';
import { DATASETS, startStackAnalysis } from './worker-support.ts';
import { publicKeyFingerprint, sha256Hex, sha256Sums, type EvidenceManifest } from '../../src/domain/evidence-package.ts';
import type { AlertEvent } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const GROUP = path.join(DATASETS, 'scenes', 'group-faces.jpg');

for (const provider of testProviders()) {
  describe(`evidence package (${provider}; real worker, real models, real HTTP)`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let analysis: Awaited<ReturnType<typeof startStackAnalysis>>;
    let admin: { token: string; userId: string };
    let dispatcher: string;
    let officer: string;
    let alert: AlertEvent;
    let frameId: string;
    let zipped: Buffer;
    let files: Map<string, Uint8Array>;

    const get = (url: string, token?: string) => fetch(`${api.url}${url}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const packageUrl = (id: string) => `/api/v1/alerts/${id}/evidence-package`;
    const cliEnv = () => ({ DATABASE_URL: stack.config.databaseUrl, MASKWATCH_DATA_DIR: stack.dataDir, LOG_LEVEL: 'warn' });

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi();
      admin = await loginAs(api, { username: 'chief', role: 'ADMIN' });
      dispatcher = (await loginAs(api, { username: 'desk', role: 'DISPATCHER' })).token;
      await call(api.url, 'POST', '/api/v1/units', { token: admin.token, json: { callSign: 'P-1' } });
      officer = (await loginAs(api, { username: 'patrol', role: 'OFFICER', unitCallSign: 'P-1' })).token;
      const cam = await call(api.url, 'POST', '/api/v1/cameras', {
        token: admin.token,
        json: { name: 'Puerta del Sol', address: 'Puerta del Sol 1', zone: 'Centro', latitude: 40.4169, longitude: -3.7035, confirmFrames: 1, confirmWindow: 1 },
      });
      assert.equal(cam.status, 201, JSON.stringify(cam.body));
      analysis = await startStackAnalysis(stack);

      const res = await call(api.url, 'POST', '/api/v1/frames', {
        token: cam.body.apiKey,
        body: await readFile(GROUP),
        headers: { 'content-type': 'image/jpeg', 'x-captured-at': new Date(Date.now() - 5000).toISOString() },
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      frameId = res.body.frameId;
      await analysis.analysed(frameId);
      const list = await call(api.url, 'GET', `/api/v1/alerts?cameraId=${cam.body.id}`, { token: dispatcher });
      assert.equal(list.body.items.length, 1, 'one incident for the crowd');
      alert = list.body.items[0];
      assert.ok(alert.people.length >= 3, `several people: ${alert.people.length}`);

      // Person 2 is a false positive; the incident is held for a complaint.
      const marked = await call(api.url, 'POST', `/api/v1/alerts/${alert.id}/people/${alert.people[1]!.id}/false-positive`, { token: dispatcher, json: { reason: 'a reflection in the window' } });
      assert.equal(marked.status, 200, JSON.stringify(marked.body));
      assert.equal((await call(api.url, 'PUT', `/api/v1/alerts/${alert.id}/hold`, { token: admin.token, json: { reason: 'Complaint 2026-118' } })).status, 200);
      alert = (await call(api.url, 'GET', `/api/v1/alerts/${alert.id}`, { token: admin.token })).body;
    });

    after(async () => {
      await analysis?.close();
      await stack?.close();
    });

    test('an admin downloads the package: the alert\'s own view of its frame, its people\'s best shots, none of the false positive, incident.json, hashes', async () => {
      assert.equal((await get(`/api/v1/alerts/${alert.id}/frames/${frameId}`, dispatcher)).status, 200, 'the dispatcher views the frame before the export');
      const res = await get(packageUrl(alert.id), admin.token);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/zip');
      assert.equal(res.headers.get('content-disposition'), `attachment; filename="maskwatch-evidence-${alert.id}.zip"`);
      assert.equal(res.headers.get('cache-control'), 'private, no-store');
      zipped = Buffer.from(await res.arrayBuffer());
      files = new Map(Object.entries(unzipSync(zipped)));

      const frame = `frames/0001-${frameId}.jpg`;
      const shown = alert.people.filter((p) => !p.falsePositive);
      assert.deepEqual(
        [...files.keys()].sort(),
        [
          frame,
          'README.txt',
          'SHA256SUMS',
          'incident.json',
          'manifest.json',
          'manifest.sig',
          'signing-key.pem',
          ...alert.people.flatMap((p, i) => (p.falsePositive ? [] : [`people/${i + 1}/0001.jpg`, `people/${i + 1}/best-shot.jpg`])),
        ].sort(),
      );
      assert.equal(shown.length, alert.people.length - 1);
      const view = Buffer.from(await (await get(`/api/v1/alerts/${alert.id}/frames/${frameId}`, admin.token)).arrayBuffer());
      assert.ok(Buffer.from(files.get(frame)!).equals(view), "the packaged frame is the alert's view of it (only its people unblurred)");
      const best = Buffer.from(await (await get(alert.people[0]!.snapshotUrl!, admin.token)).arrayBuffer());
      assert.ok(Buffer.from(files.get('people/1/best-shot.jpg')!).equals(best), "person 1's best shot as served");

      const incident = JSON.parse(Buffer.from(files.get('incident.json')!).toString());
      assert.deepEqual(incident.alert, alert);
      assert.deepEqual(incident.camera.address, 'Puerta del Sol 1');
      assert.equal(incident.hold.reason, 'Complaint 2026-118');
      assert.deepEqual(incident.people[1].sightings.map((s: { crop: unknown }) => s.crop), [null]);
      assert.equal(incident.people[1].falsePositiveReason, 'a reflection in the window');
      assert.deepEqual(incident.people[0].sightings.map((s: { crop: string; frame: string }) => [s.crop, s.frame]), [['people/1/0001.jpg', frame]]);
      assert.deepEqual(incident.timeline.map((t: { action: string }) => t.action), ['alert.person_false_positive'], 'the dispatch timeline so far');
      assert.deepEqual(
        incident.custody.viewers.map((v: { actorName: string; actorRole: string; views: number }) => [v.actorName, v.actorRole, v.views]),
        [['desk', 'DISPATCHER', 1]],
        'the chain of custody: who viewed the evidence before the export',
      );
      assert.deepEqual(incident.custody.exports, [], 'the first export');

      const manifest = JSON.parse(Buffer.from(files.get('manifest.json')!).toString()) as EvidenceManifest;
      assert.deepEqual(manifest.exportedBy, { id: admin.userId, username: 'chief', role: 'ADMIN' });
      for (const f of manifest.files) assert.equal(sha256Hex(files.get(f.path)!), f.sha256, f.path);
      const key = await call(api.url, 'GET', '/api/v1/evidence-signing-key', { token: admin.token });
      assert.equal(key.status, 200);
      assert.deepEqual(manifest.signature, { algorithm: 'Ed25519', keyFingerprint: key.body.keyFingerprint });
      assert.equal(Buffer.from(files.get('signing-key.pem')!).toString(), key.body.publicKeyPem);
      const audit = await call(api.url, 'GET', `/api/v1/audit?action=evidence.export&subjectId=${alert.id}`, { token: admin.token });
      assert.equal(audit.body.items.length, 1);
      assert.equal(audit.body.items[0].actorId, admin.userId);
      assert.equal(audit.body.items[0].details.manifestSha256, sha256Hex(files.get('manifest.json')!));
      assert.equal(audit.body.items[0].details.completed, true);
      assert.equal(audit.body.items[0].details.keyFingerprint, key.body.keyFingerprint);

      // A second export records the first in its custody.
      const again = unzipSync(Buffer.from(await (await get(packageUrl(alert.id), admin.token)).arrayBuffer()));
      const custody = JSON.parse(Buffer.from(again['incident.json']!).toString()).custody;
      assert.deepEqual(custody.exports.map((e: { actorName: string; completed: boolean; manifestSha256: string }) => [e.actorName, e.completed, e.manifestSha256]), [
        ['chief', true, sha256Hex(files.get('manifest.json')!)],
      ]);
    });

    test('maskwatch evidence verify: accepts the package, names a changed file, refuses a re-hashed forgery the trail never recorded', async () => {
      const dir = stack.dataDir;
      const original = path.join(dir, 'package.zip');
      await writeFile(original, zipped);
      const ok = await runCli(['evidence', 'verify', original, '--json'], { env: cliEnv() });
      assert.equal(ok.code, 0, ok.stderr);
      const report = JSON.parse(ok.stdout);
      assert.equal(report.ok, true);
      assert.equal(report.alertId, alert.id);
      assert.equal(report.manifestSha256, sha256Hex(files.get('manifest.json')!));
      assert.equal(report.recorded.actorId, admin.userId);
      assert.deepEqual(report.problems, []);

      // The receiving side: the key the agency published (`evidence key`), the package alone.
      const published = await runCli(['evidence', 'key'], { env: cliEnv() });
      assert.equal(published.code, 0, published.stderr);
      const signingKey = (await call(api.url, 'GET', '/api/v1/evidence-signing-key', { token: admin.token })).body;
      assert.equal(published.stdout, signingKey.publicKeyPem, 'the CLI and the API give the same key (the secret key\'s)');
      assert.match(published.stderr, new RegExp(`fingerprint ${signingKey.keyFingerprint}`));
      const pem = path.join(dir, 'published.pem');
      await writeFile(pem, published.stdout);
      const received = await runCli(['evidence', 'verify', original, '--offline', '--public-key', pem, '--json']);
      assert.equal(received.code, 0, received.stderr);
      assert.deepEqual(JSON.parse(received.stdout).signature, { keyFingerprint: signingKey.keyFingerprint, valid: true });

      // One pixel's worth of change in the frame.
      const frame = [...files.keys()].find((k) => k.startsWith('frames/'))!;
      const changed = new Map(files);
      const bytes = Buffer.from(files.get(frame)!);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0xff, bytes.length - 10);
      changed.set(frame, bytes);
      const tampered = path.join(dir, 'tampered.zip');
      await writeFile(tampered, zipSync(Object.fromEntries(changed)));
      const bad = await runCli(['evidence', 'verify', tampered], { env: cliEnv() });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, new RegExp(`PROBLEM: ${frame}: changed since export`));

      // A forger re-hashes the manifest and SHA256SUMS: the signature no longer matches.
      const manifest = JSON.parse(Buffer.from(files.get('manifest.json')!).toString()) as EvidenceManifest;
      manifest.files = manifest.files.map((f) => (f.path === frame ? { ...f, sha256: sha256Hex(bytes) } : f));
      const forge = async (name: string) => {
        const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
        changed.set('manifest.json', manifestBytes);
        changed.set('SHA256SUMS', Buffer.from(sha256Sums(manifest.files, { path: 'manifest.json', sha256: sha256Hex(manifestBytes), bytes: manifestBytes.length })));
        return { file: path.join(dir, name), manifestBytes };
      };
      const rehashed = await forge('rehashed.zip');
      await writeFile(rehashed.file, zipSync(Object.fromEntries(changed)));
      const unsigned = await runCli(['evidence', 'verify', rehashed.file, '--offline', '--json']);
      assert.equal(unsigned.code, 1);
      assert.deepEqual(JSON.parse(unsigned.stdout).problems, ['manifest.sig is not a signature of manifest.json by that key']);

      // … and re-signs it with a key of their own: consistent on its own, not the published key, unknown to the audit trail.
      const theirs = generateKeyPairSync('ed25519');
      manifest.signature = { algorithm: 'Ed25519', keyFingerprint: publicKeyFingerprint(theirs.publicKey) };
      const resigned = await forge('forged.zip');
      changed.set('manifest.sig', sign(null, resigned.manifestBytes, theirs.privateKey));
      changed.set('signing-key.pem', Buffer.from(theirs.publicKey.export({ type: 'spki', format: 'pem' }) as string));
      await writeFile(resigned.file, zipSync(Object.fromEntries(changed)));
      const offline = await runCli(['evidence', 'verify', resigned.file, '--offline']);
      assert.equal(offline.code, 0, `the files agree with the forged manifest and signature: ${offline.stderr}`);
      const against = await runCli(['evidence', 'verify', resigned.file, '--offline', '--public-key', pem, '--json']);
      assert.equal(against.code, 1);
      assert.deepEqual(JSON.parse(against.stdout).problems, [`signed with key ${manifest.signature.keyFingerprint}, not the trusted key ${signingKey.keyFingerprint}`]);
      const online = await runCli(['evidence', 'verify', resigned.file, '--json'], { env: cliEnv() });
      assert.equal(online.code, 1);
      assert.deepEqual(JSON.parse(online.stdout).problems, ['the audit trail records no export of this manifest (made on another server, or manifest.json was replaced)']);
      const notKey = await runCli(['evidence', 'verify', original, '--offline', '--public-key', original]);
      assert.equal(notKey.code, 1);
      assert.match(notKey.stderr, /--public-key .* is not an Ed25519 public key/);

      const notZip = await runCli(['evidence', 'verify', path.join(dir, 'nope.zip')], { env: cliEnv() });
      assert.equal(notZip.code, 1);
      assert.match(notZip.stderr, /cannot read .*nope\.zip/);
    });

    test("a case's package: two incidents of two cameras under one reference, verified online, in each one's custody; bad input is a 400 before anything is audited", async () => {
      const cam = await call(api.url, 'POST', '/api/v1/cameras', { token: admin.token, json: { name: 'Callao', zone: 'Centro', latitude: 40.42, longitude: -3.706, confirmFrames: 1, confirmWindow: 1 } });
      assert.equal(cam.status, 201, JSON.stringify(cam.body));
      const res = await call(api.url, 'POST', '/api/v1/frames', { token: cam.body.apiKey, body: await readFile(GROUP), headers: { 'content-type': 'image/jpeg' } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      await analysis.analysed(res.body.frameId);
      const later = (await call(api.url, 'GET', `/api/v1/alerts?cameraId=${cam.body.id}`, { token: admin.token })).body.items[0] as AlertEvent;
      assert.ok(later, 'the second camera raised an alert');

      const exportCase = (json: unknown, token = admin.token) =>
        fetch(`${api.url}/api/v1/evidence-packages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
      const pkg = await exportCase({ reference: 'DP-2026/0412', alertIds: [later.id, alert.id] });
      assert.equal(pkg.status, 200);
      assert.equal(pkg.headers.get('content-type'), 'application/zip');
      assert.equal(pkg.headers.get('content-disposition'), 'attachment; filename="maskwatch-case-DP-2026-0412.zip"');
      assert.equal(pkg.headers.get('cache-control'), 'private, no-store');
      const bytes = Buffer.from(await pkg.arrayBuffer());
      const caseFiles = unzipSync(bytes);
      const theCase = JSON.parse(Buffer.from(caseFiles['case.json']!).toString());
      assert.deepEqual(
        theCase.incidents.map((i: { alertId: string; folder: string; camera: { name: string } }) => [i.alertId, i.folder, i.camera.name]),
        [
          [alert.id, `incidents/001-${alert.id}/`, 'Puerta del Sol'],
          [later.id, `incidents/002-${later.id}/`, 'Callao'],
        ],
        'oldest first',
      );
      const firstIncident = JSON.parse(Buffer.from(caseFiles[`incidents/001-${alert.id}/incident.json`]!).toString());
      assert.deepEqual(firstIncident.alert, alert);
      assert.ok(caseFiles[`incidents/002-${later.id}/people/1/best-shot.jpg`], "the second incident's people");

      const file = path.join(stack.dataDir, 'case.zip');
      await writeFile(file, bytes);
      const verified = await runCli(['evidence', 'verify', file, '--json'], { env: cliEnv() });
      assert.equal(verified.code, 0, verified.stderr);
      const report = JSON.parse(verified.stdout);
      assert.deepEqual([report.ok, report.alertId, report.reference, report.alertIds], [true, null, 'DP-2026/0412', [alert.id, later.id]]);
      assert.equal(report.recorded.actorId, admin.userId);
      const text = await runCli(['evidence', 'verify', file], { env: cliEnv() });
      assert.match(text.stdout, /evidence package of case DP-2026\/0412 \(2 incidents\)/);

      // Each incident's trail records the case; its next package's custody names it.
      for (const id of [alert.id, later.id]) {
        const events = (await call(api.url, 'GET', `/api/v1/audit?action=evidence.export&subjectId=${id}`, { token: admin.token })).body.items;
        assert.deepEqual(events[0].details.case, { reference: 'DP-2026/0412', alertIds: [alert.id, later.id] });
        assert.equal(events[0].details.manifestSha256, report.manifestSha256);
      }
      const again = unzipSync(Buffer.from(await (await get(packageUrl(later.id), admin.token)).arrayBuffer()));
      const custody = JSON.parse(Buffer.from(again['incident.json']!).toString()).custody;
      assert.deepEqual(custody.exports.map((e: { caseReference: string | null }) => e.caseReference), ['DP-2026/0412']);

      // Bad input and refusals: a problem before anything is packaged or audited.
      const count = () => stack.db.prisma.auditEvent.count({ where: { action: 'evidence.export' } });
      const before = await count();
      for (const [body, why] of [
        [{ reference: 'C-1', alertIds: [] }, 'no incident'],
        [{ reference: 'C-1', alertIds: [alert.id, alert.id] }, 'the same incident twice'],
        [{ reference: '   ', alertIds: [alert.id] }, 'a blank reference'],
        [{ reference: 'C-1\n2', alertIds: [alert.id] }, 'a line break in the reference'],
        [{ reference: 'x'.repeat(101), alertIds: [alert.id] }, 'a reference too long'],
        [{ reference: 'C-1', alertIds: ['not-a-uuid'] }, 'not an id'],
        [{ reference: 'C-1', alertIds: Array.from({ length: 101 }, () => randomUUID()) }, 'over 100 incidents'],
        [{ alertIds: [alert.id] }, 'no reference'],
      ] as const) {
        const bad = await exportCase(body);
        assert.equal(bad.status, 400, why);
        assert.match(bad.headers.get('content-type') ?? '', /^application\/problem\+json/, why);
      }
      const unknown = randomUUID();
      const missing = await exportCase({ reference: 'C-1', alertIds: [alert.id, unknown] });
      assert.equal(missing.status, 404);
      const problem = await missing.json();
      assert.equal(problem.type, 'https://maskwatch.dev/problems/alert-not-found');
      assert.match(problem.detail, new RegExp(unknown));
      assert.equal((await exportCase({ reference: 'C-1', alertIds: [alert.id] }, dispatcher)).status, 403);
      assert.equal((await exportCase({ reference: 'C-1', alertIds: [alert.id] }, officer)).status, 403);
      assert.equal(await count(), before, 'no refusal is audited');
    });

    test('an encrypted case package: AES-256 around the signed package, opened by 7-Zip and by evidence verify with the passphrase only; audited as encrypted', async () => {
      const passphrase = 'KQ7T M2XD 9HFA WR4C ZN6P B8EY';
      const exportCase = (json: unknown) =>
        fetch(`${api.url}/api/v1/evidence-packages`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
      const pkg = await exportCase({ reference: 'DP-2026/0500', alertIds: [alert.id], passphrase });
      assert.equal(pkg.status, 200);
      assert.equal(pkg.headers.get('content-type'), 'application/zip');
      assert.equal(pkg.headers.get('content-disposition'), 'attachment; filename="maskwatch-case-DP-2026-0500-encrypted.zip"');
      const file = path.join(stack.dataDir, 'encrypted-case.zip');
      await writeFile(file, Buffer.from(await pkg.arrayBuffer()));
      assert.doesNotMatch((await readFile(file)).toString('latin1'), /manifest\.json|case\.json|incident\.json/, 'no name of the package inside shows');

      // The receiving side: 7-Zip with the passphrase gives the signed package, which checks as ever.
      const out = path.join(stack.dataDir, 'opened');
      execFileSync('7z', ['x', `-p${passphrase}`, `-o${out}`, file], { stdio: 'pipe' });
      const inner = path.join(out, 'maskwatch-case-DP-2026-0500.zip');
      const opened = await runCli(['evidence', 'verify', inner, '--json'], { env: cliEnv() });
      assert.equal(opened.code, 0, opened.stderr);
      const report = JSON.parse(opened.stdout);
      assert.deepEqual([report.ok, report.encrypted, report.reference], [true, false, 'DP-2026/0500']);

      // Or evidence verify on the encrypted file itself, with the passphrase piped in.
      const direct = await runCli(['evidence', 'verify', file, '--passphrase-stdin', '--json'], { env: cliEnv(), stdin: `${passphrase}\n` });
      assert.equal(direct.code, 0, direct.stderr);
      assert.deepEqual(
        (({ ok, encrypted, manifestSha256 }) => ({ ok, encrypted, manifestSha256 }))(JSON.parse(direct.stdout)),
        { ok: true, encrypted: true, manifestSha256: report.manifestSha256 },
      );
      const none = await runCli(['evidence', 'verify', file], { env: cliEnv() });
      assert.equal(none.code, 1);
      assert.match(none.stderr, /is an encrypted package: pipe its passphrase with --passphrase-stdin/);
      const wrong = await runCli(['evidence', 'verify', file, '--passphrase-stdin'], { env: cliEnv(), stdin: 'another passphrase entirely' });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /wrong passphrase|authentication code/);

      const events = (await call(api.url, 'GET', `/api/v1/audit?action=evidence.export&subjectId=${alert.id}`, { token: admin.token })).body.items;
      assert.equal(events[0].details.encrypted, true);
      assert.equal(events[0].details.manifestSha256, report.manifestSha256);
      assert.doesNotMatch(JSON.stringify(events[0]), /KQ7T/, 'the passphrase is not recorded');
      const short = await exportCase({ reference: 'C-2', alertIds: [alert.id], passphrase: 'too short' });
      assert.equal(short.status, 400);
      assert.match(short.headers.get('content-type') ?? '', /^application\/problem\+json/);
    });

    test('only admins export or read the signing key; an unknown alert is a 404 problem; nothing is audited for a refusal', async () => {
      const count = () => stack.db.prisma.auditEvent.count({ where: { action: 'evidence.export' } });
      const before = await count();
      for (const token of [undefined, dispatcher, officer]) assert.equal((await get('/api/v1/evidence-signing-key', token)).status, token ? 403 : 401);
      assert.equal((await get(packageUrl(alert.id))).status, 401);
      assert.equal((await get(packageUrl(alert.id), dispatcher)).status, 403);
      assert.equal((await get(packageUrl(alert.id), officer)).status, 403);
      const missing = await get(packageUrl(randomUUID()), admin.token);
      assert.equal(missing.status, 404);
      assert.match(missing.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal((await missing.json()).type, 'https://maskwatch.dev/problems/alert-not-found');
      assert.equal(await count(), before);
    });
  });
}
