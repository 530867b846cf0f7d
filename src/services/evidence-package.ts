/**
 * An incident's evidence package: one ZIP an admin hands to a prosecutor, a court or an inquiry, with what
 * MaskWatch shows of the incident and proof that nothing in it changed since.
 *
 * - `frames/`: every frame of the incident's people, rendered as the alert's frame view renders it (only
 *   the alert's people sharp, everyone else blurred; services/evidence.ts);
 * - `people/<n>/`: each person's best shot and the track's crops over time (n as the evidence viewer
 *   numbers them). A person marked false positive is a bystander: no image of them is packaged;
 * - `incident.json`: the alert as the API gives it, the camera, the hold, the dispatch timeline, each
 *   person's sightings pointing at their files, and the chain of custody (who viewed the evidence, earlier
 *   exports); what retention already deleted is listed as missing;
 * - `README.txt`, `manifest.json` (every file's SHA-256) and `SHA256SUMS` (the same for `sha256sum -c`);
 * - `manifest.sig`, the manifest's Ed25519 signature, and `signing-key.pem`, the key's public half: the
 *   receiving side checks the package's origin against the fingerprint the agency publishes.
 *
 * The ZIP is streamed as it is rendered, so a long incident never sits in memory. The export is audited as
 * `evidence.export` with the manifest's SHA-256 before the archive's last bytes leave: no complete package
 * exists that the trail does not record, and `maskwatch evidence verify` finds a package's manifest there.
 * A download cut short is audited too (`completed: false`).
 *
 * A case's package holds several incidents, each in its folder as its own package holds it, under one signed
 * manifest; each incident's audit trail records the export with the case reference.
 */
import { Readable } from 'node:stream';
import { Zip, ZipPassThrough } from 'fflate';
import type { AlertRepository, AlertRecord } from '../db/repositories/alerts.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { PeopleRepository } from '../db/repositories/incidents.ts';
import type { PrivacyRepository } from '../db/repositories/privacy.ts';
import type { EvidenceCustody } from './audit-log.ts';
import { casePackageFileName, type EvidenceCaseInput, type EvidenceSigningKey, type TimelineEntry } from '../contracts/api.ts';
import {
  CASE_PACKAGE_FORMAT,
  EVIDENCE_PACKAGE_FORMAT,
  MANIFEST_FILE,
  PUBLIC_KEY_FILE,
  SIGNATURE_ALGORITHM,
  SIGNATURE_FILE,
  SUMS_FILE,
  packageFile,
  sha256Sums,
  type CaseManifest,
  type EvidenceManifest,
  type IncidentManifest,
  type PackageFile,
} from '../domain/evidence-package.ts';
import { maySeeAlert, type Viewer } from '../auth/roles.ts';
import { readDataFile } from '../privacy/data-files.ts';
import { encryptedZip } from '../privacy/encrypted-zip.ts';
import type { EvidenceSigner } from '../system/evidence-signer.ts';
import { frameIdOfStoredFrame, toAlertEvent } from './alert-view.ts';
import { notFound } from './errors.ts';

export interface PackageExporter extends Viewer {
  id: string;
  username: string;
  clientIp: string;
}

export interface EvidencePackageDeps {
  alerts: Pick<AlertRepository, 'findWithCamera'>;
  people: Pick<PeopleRepository, 'track'>;
  privacy: Pick<PrivacyRepository, 'hold'>;
  audit: Pick<AuditRepository, 'record'>;
  /** The alert's dispatch timeline (services/alerts.ts). */
  timeline: (alertId: string, viewer: Viewer) => Promise<TimelineEntry[]>;
  /** Who viewed the alert's evidence and who exported it before (services/audit-log.ts custody). */
  custody: (alertId: string) => Promise<EvidenceCustody | null>;
  /** An alert's view of one of its frames, unaudited (services/evidence.ts renderedFrame). */
  renderFrame: (alertId: string, frameId: string) => Promise<Buffer | null>;
  /** Signs the manifest (system/evidence-signer.ts). */
  signer: () => Promise<EvidenceSigner>;
  dataDir: string;
  now?: () => Date;
}

type Source = { kind: 'frame'; frameId: string } | { kind: 'file'; stored: string };

/** One file to package: where it goes and where its bytes come from. */
interface Planned {
  path: string;
  source: Source;
}

const pad = (n: number) => String(n).padStart(4, '0');

/** The package's README: what it holds (`layout`), and how to check it without MaskWatch. */
const readme = (title: string, layout: string, keyFingerprint: string) => `MaskWatch evidence package
${title}

${layout}
manifest.json    every file's SHA-256, as exported
SHA256SUMS       the same hashes, to check without MaskWatch:  sha256sum -c SHA256SUMS
manifest.sig     the ${SIGNATURE_ALGORITHM} signature of manifest.json by the exporting MaskWatch server
signing-key.pem  that server's public key, SHA-256 fingerprint
                 ${keyFingerprint}

To check where the package comes from, compare that fingerprint with the one the agency publishes, then:
  openssl pkey -pubin -in signing-key.pem -outform DER | sha256sum
  openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin -in manifest.json -sigfile manifest.sig

MaskWatch also recorded the SHA-256 of manifest.json in its sealed audit trail (evidence.export);
"maskwatch evidence verify <this zip>" on the server checks every file, the signature and that record.
`;

const INCIDENT_LAYOUT = `incident.json    the incident as MaskWatch recorded it: camera, people, sightings, dispatch timeline, hold,
                 and its custody: who viewed its evidence before this export, and earlier exports
frames/          the incident's frames; only the incident's people are unblurred, every other face is blurred
people/N/        person N's best shot and the face crops of their track, oldest first`;

const CASE_LAYOUT = `case.json        the case reference and its incidents, oldest first, with the folder of each
incidents/NNN-ID/ one incident (alert ID), as its own evidence package holds it:
  incident.json  the incident as MaskWatch recorded it: camera, people, sightings, dispatch timeline, hold,
                 and its custody: who viewed its evidence before this export, and earlier exports
  frames/        the incident's frames; only the incident's people are unblurred, every other face is blurred
  people/N/      person N's best shot and the face crops of their track, oldest first`;

/** What the package holds (its files, in package order), and the people and frames incident.json lists. */
async function plan(deps: EvidencePackageDeps, alert: AlertRecord) {
  const files: Planned[] = [];
  /** Frame id → when it was captured: the frames are packaged in that order. */
  const frameTimes = new Map<string, number>();
  const frameFile = (storedPath: string | null, at: Date): string | null => {
    const frameId = frameIdOfStoredFrame(storedPath);
    if (frameId && !frameTimes.has(frameId)) frameTimes.set(frameId, at.getTime());
    return frameId;
  };
  const people = [];
  for (const [i, person] of alert.people.entries()) {
    const n = i + 1;
    const sightings = (await deps.people.track(alert.id, person.id)) ?? [];
    const shown = !person.falsePositive;
    const crops = sightings.map((s, k) => (shown && s.faceSnapshotPath ? { path: `people/${n}/${pad(k + 1)}.jpg`, stored: s.faceSnapshotPath } : null));
    const bestShot = shown && person.bestShotPath ? `people/${n}/best-shot.jpg` : null;
    if (bestShot) files.push({ path: bestShot, source: { kind: 'file', stored: person.bestShotPath! } });
    for (const c of crops) if (c) files.push({ path: c.path, source: { kind: 'file', stored: c.stored } });
    people.push({
      number: n,
      id: person.id,
      label: person.label,
      falsePositive: person.falsePositive,
      falsePositiveReason: person.falsePositiveReason,
      firstSeenAt: person.firstSeenAt.toISOString(),
      lastSeenAt: person.lastSeenAt.toISOString(),
      maskedSince: person.maskedSince?.toISOString() ?? null,
      bestShot,
      sightings: sightings.map((s, k) => ({
        capturedAt: s.capturedAt.toISOString(),
        box: [s.boxX, s.boxY, s.boxW, s.boxH],
        noMaskProbability: s.noMaskProbability,
        crop: crops[k]?.path ?? null,
        frameId: shown ? frameFile(s.frameSnapshotPath, s.capturedAt) : null,
      })),
    });
  }
  frameFile(alert.frameSnapshotPath, alert.lastSeenAt);
  const frameFiles = new Map<string, string>();
  for (const [k, [frameId]] of [...frameTimes].sort((a, b) => a[1] - b[1]).entries()) {
    const path = `frames/${pad(k + 1)}-${frameId}.jpg`;
    frameFiles.set(frameId, path);
    files.push({ path, source: { kind: 'frame', frameId } });
  }
  return { files, people, frameFiles };
}

/** A file to package. */
interface Entry {
  path: string;
  data: Uint8Array;
}

/** What one incident's export put in the package, for its audit event. */
interface IncidentCounts {
  frames: number;
  people: number;
  missing: number;
}

/**
 * One incident's files, each path under `folder` ('' for an incident's own package), then its incident.json,
 * whose paths are relative to that folder: a case's incident folder reads like an incident's package.
 */
async function* incidentEntries(deps: EvidencePackageDeps, alert: AlertRecord, exporter: PackageExporter, folder: string, counts: IncidentCounts): AsyncGenerator<Entry> {
  const [planned, hold, timeline, custody] = await Promise.all([plan(deps, alert), deps.privacy.hold(alert.id), deps.timeline(alert.id, exporter), deps.custody(alert.id)]);
  const missing: string[] = [];
  for (const f of planned.files) {
    const data = f.source.kind === 'frame' ? await deps.renderFrame(alert.id, f.source.frameId) : await readDataFile(deps.dataDir, f.source.stored);
    if (!data) missing.push(f.path);
    else yield { path: folder + f.path, data };
  }
  const gone = new Set(missing);
  const kept = (p: string | null) => (p && !gone.has(p) ? p : null);
  const frames = [...planned.frameFiles].filter(([, path]) => !gone.has(path)).map(([frameId, file]) => ({ frameId, file }));
  const incident = {
    format: EVIDENCE_PACKAGE_FORMAT,
    alert: toAlertEvent(alert),
    camera: { id: alert.cameraId, ...alert.camera },
    hold: hold && { heldAt: hold.heldAt.toISOString(), heldBy: hold.heldBy, reason: hold.reason, reviewAt: hold.reviewAt?.toISOString() ?? null },
    timeline,
    custody,
    people: planned.people.map((p) => ({
      ...p,
      bestShot: kept(p.bestShot),
      sightings: p.sightings.map(({ frameId, ...s }) => ({ ...s, crop: kept(s.crop), frame: kept(frameId ? (planned.frameFiles.get(frameId) ?? null) : null) })),
    })),
    frames,
    missing: { files: missing, why: 'deleted by retention (or never stored) before the export' },
  };
  Object.assign(counts, { frames: frames.length, people: alert.people.length, missing: missing.length });
  yield { path: `${folder}incident.json`, data: json(incident) };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2) + '\n');

/** What the package's audit events record: the manifest that proves it, and its size. */
interface ExportFacts {
  manifestSha256: string;
  keyFingerprint: string;
  files: number;
  bytes: number;
}

interface SignedZip {
  exportedAt: Date;
  signer: EvidenceSigner;
  /** The package's files in order; README.txt and the manifest files follow them. */
  entries: AsyncIterable<Entry>;
  readme: string;
  /** The manifest for the listed files (the signature's key is added). */
  manifest: (files: PackageFile[]) => Omit<IncidentManifest, 'signature'> | Omit<CaseManifest, 'signature'>;
  /** Audits the export; awaited before the archive's central directory leaves. */
  recordExport: (facts: ExportFacts) => Promise<unknown>;
  /** Audits a download that did not complete (`files` listed so far). */
  recordAbandoned: (files: number) => Promise<unknown>;
}

/**
 * A signed package as a ZIP stream: the entries, README.txt, the manifest, SHA256SUMS and the signature files.
 * Recorded before the archive's central directory leaves, without which the ZIP cannot be opened: no complete
 * package exists that the audit trail does not record.
 */
function signedZip(p: SignedZip): Readable {
  const chunks: Uint8Array[] = [];
  let zipError: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) zipError = err;
    else chunks.push(chunk);
  });
  const listed: PackageFile[] = [];
  function add(path: string, data: Uint8Array, list = true): PackageFile {
    const file = new ZipPassThrough(path);
    file.mtime = p.exportedAt;
    zip.add(file);
    file.push(data, true);
    const entry = packageFile(path, data);
    if (list) listed.push(entry);
    return entry;
  }
  function* drain(): Generator<Uint8Array> {
    if (zipError) throw zipError;
    yield* chunks.splice(0);
  }
  async function* generate(): AsyncGenerator<Uint8Array> {
    let completed = false;
    try {
      for await (const e of p.entries) {
        add(e.path, e.data);
        yield* drain();
      }
      add('README.txt', Buffer.from(p.readme));
      const keyFingerprint = p.signer.keyFingerprint;
      const manifestData = json({ ...p.manifest(listed), signature: { algorithm: SIGNATURE_ALGORITHM, keyFingerprint } } satisfies EvidenceManifest);
      const manifestFile = add(MANIFEST_FILE, manifestData, false);
      add(SUMS_FILE, Buffer.from(sha256Sums(listed, manifestFile)), false);
      add(SIGNATURE_FILE, p.signer.sign(manifestData), false);
      add(PUBLIC_KEY_FILE, Buffer.from(p.signer.publicKeyPem), false);
      yield* drain();
      await p.recordExport({ manifestSha256: manifestFile.sha256, keyFingerprint, files: listed.length, bytes: listed.reduce((s, f) => s + f.bytes, 0) });
      completed = true;
      zip.end();
      yield* drain();
    } finally {
      if (!completed) await p.recordAbandoned(listed.length);
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

export function createEvidencePackageService(deps: EvidencePackageDeps) {
  const now = deps.now ?? (() => new Date());

  /** The alert with its camera; 404 when there is none or the exporter may not see it. */
  async function visibleAlert(alertId: string, exporter: PackageExporter): Promise<AlertRecord> {
    const found = await deps.alerts.findWithCamera(alertId);
    if (!found || !maySeeAlert(exporter, { assignedUnitId: found.assignedUnitId, zone: found.camera.zone })) throw notFound(`alert ${alertId}`, 'alert-not-found');
    return found;
  }

  const audit = (exporter: PackageExporter, alertId: string, details: Record<string, unknown>) =>
    deps.audit.record({
      actorType: 'USER',
      actorId: exporter.id,
      actorRole: exporter.role,
      action: 'evidence.export',
      subjectType: 'Alert',
      subjectId: alertId,
      details: { clientIp: exporter.clientIp, ...details },
    });

  const exportedByOf = (exporter: PackageExporter) => ({ id: exporter.id, username: exporter.username, role: exporter.role });

  return {
    /** The public half of the key that signs packages, for the agency to publish to whoever receives them. */
    async signingKey(): Promise<EvidenceSigningKey> {
      const { keyFingerprint, publicKeyPem } = await deps.signer();
      return { algorithm: SIGNATURE_ALGORITHM, keyFingerprint, publicKeyPem };
    },

    /**
     * The incident's evidence package as a ZIP stream (see above); 404 when there is no such alert or the
     * exporter may not see it. Nothing is read or rendered until the stream is consumed.
     */
    async open(alertId: string, exporter: PackageExporter): Promise<{ filename: string; stream: Readable }> {
      const alert = await visibleAlert(alertId, exporter);
      const exportedAt = now();
      const signer = await deps.signer();
      const counts: IncidentCounts = { frames: 0, people: 0, missing: 0 };
      const stream = signedZip({
        exportedAt,
        signer,
        entries: incidentEntries(deps, alert, exporter, '', counts),
        readme: readme(`Incident (alert) ${alertId}, exported ${exportedAt.toISOString()} by ${exporter.username} (${exporter.role}).`, INCIDENT_LAYOUT, signer.keyFingerprint),
        manifest: (files) => ({ format: EVIDENCE_PACKAGE_FORMAT, alertId, exportedAt: exportedAt.toISOString(), exportedBy: exportedByOf(exporter), files }),
        recordExport: (facts) => audit(exporter, alertId, { completed: true, ...facts, ...counts }),
        recordAbandoned: (files) => audit(exporter, alertId, { completed: false, files }),
      });
      return { filename: `maskwatch-evidence-${alertId}.zip`, stream };
    },

    /**
     * A case's evidence package: several incidents (oldest first), each in its folder `incidents/NNN-<alertId>/`
     * as its own package holds it, with `case.json`, under one signed manifest. Each incident's audit trail
     * records the export (`evidence.export` with the case), so each one's custody shows it. 404 naming the
     * first alert that does not exist or the exporter may not see, before anything is read.
     */
    async openCase(input: EvidenceCaseInput, exporter: PackageExporter): Promise<{ filename: string; stream: Readable }> {
      const alerts = (await Promise.all(input.alertIds.map((id) => visibleAlert(id, exporter)))).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
      const exportedAt = now();
      const signer = await deps.signer();
      const reference = input.reference.trim();
      const alertIds = alerts.map((a) => a.id);
      const folders = alerts.map((a, i) => `incidents/${String(i + 1).padStart(3, '0')}-${a.id}/`);
      const counts = alerts.map((): IncidentCounts => ({ frames: 0, people: 0, missing: 0 }));
      const exportedBy = exportedByOf(exporter);
      async function* entries(): AsyncGenerator<Entry> {
        for (const [i, alert] of alerts.entries()) yield* incidentEntries(deps, alert, exporter, folders[i]!, counts[i]!);
        const incidents = alerts.map((a, i) => ({
          number: i + 1,
          alertId: a.id,
          folder: folders[i],
          status: a.status,
          createdAt: a.createdAt.toISOString(),
          lastSeenAt: a.lastSeenAt.toISOString(),
          camera: { id: a.cameraId, name: a.camera.name, address: a.camera.address, zone: a.camera.zone },
          people: a.people.length,
        }));
        yield { path: 'case.json', data: json({ format: CASE_PACKAGE_FORMAT, reference, exportedAt: exportedAt.toISOString(), exportedBy, incidents }) };
      }
      const theCase = { reference, alertIds };
      const encrypted = input.passphrase !== undefined;
      // Said of an encrypted export only: the events of plain ones keep the shape they always had.
      const sealing = encrypted ? { encrypted: true } : {};
      const zip = signedZip({
        exportedAt,
        signer,
        entries: entries(),
        readme: readme(
          `Case ${reference}: ${alerts.length} incident${alerts.length === 1 ? '' : 's'}, exported ${exportedAt.toISOString()} by ${exporter.username} (${exporter.role}).`,
          CASE_LAYOUT,
          signer.keyFingerprint,
        ),
        manifest: (files) => ({ format: CASE_PACKAGE_FORMAT, reference, alertIds, exportedAt: exportedAt.toISOString(), exportedBy, files }),
        recordExport: async (facts) => {
          for (const [i, id] of alertIds.entries()) await audit(exporter, id, { completed: true, ...facts, ...counts[i], case: theCase, ...sealing });
        },
        recordAbandoned: async (files) => {
          for (const id of alertIds) await audit(exporter, id, { completed: false, files, case: theCase, ...sealing });
        },
      });
      if (!encrypted) return { filename: casePackageFileName(reference), stream: zip };
      // The signed package, unchanged, as the one file of an AES-256 ZIP: what leaves on a stick shows nothing without the passphrase.
      const sealed = encryptedZip(zip, { name: casePackageFileName(reference), passphrase: input.passphrase!, mtime: exportedAt });
      return { filename: casePackageFileName(reference, true), stream: Readable.from(sealed, { objectMode: false }) };
    },
  };
}

export type EvidencePackageService = ReturnType<typeof createEvidencePackageService>;

/** The `evidence.export` event that recorded a manifest, as `maskwatch evidence verify` reports it. */
export interface ExportRecord {
  eventId: string;
  at: string;
  actorId: string | null;
  actorRole: string | null;
}

/** Finds the completed export of `alertId` whose manifest had this SHA-256; null when the trail has none. */
export async function findExportRecord(audit: Pick<AuditRepository, 'list'>, alertId: string, manifestSha256: string): Promise<ExportRecord | null> {
  const events = await audit.list({ subjectType: 'Alert', subjectId: alertId, action: 'evidence.export', limit: 10_000 });
  const hashOf = (details: string | null) => {
    try {
      return (JSON.parse(details ?? '{}') as { manifestSha256?: unknown }).manifestSha256;
    } catch {
      return undefined;
    }
  };
  const hit = events.find((e) => hashOf(e.details) === manifestSha256);
  return hit ? { eventId: hit.id, at: hit.at.toISOString(), actorId: hit.actorId, actorRole: hit.actorRole } : null;
}
