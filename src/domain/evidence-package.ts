/**
 * An incident's evidence package (chain of custody), as a pure description: the manifest that lists every
 * file with its SHA-256, the `SHA256SUMS` that lets anyone check them with `sha256sum -c` and no MaskWatch, and
 * the check of a package's files against both. services/evidence-package.ts writes packages; `maskwatch
 * evidence verify` checks them and finds the manifest's hash in the audit trail (`evidence.export`), which the
 * audit seals protect: a package changed after export no longer matches what was recorded.
 *
 * The manifest is also signed (Ed25519, `manifest.sig`, with the public key beside it in `signing-key.pem`), so
 * a receiving side without MaskWatch can check the package's origin too: against the key fingerprint the agency
 * publishes, with `openssl pkeyutl -verify` or `maskwatch evidence verify --public-key`.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

export const EVIDENCE_PACKAGE_FORMAT = 'maskwatch-evidence-package/1';
/** A case's package: several incidents, each in its own folder as an incident's package holds it, under one manifest. */
export const CASE_PACKAGE_FORMAT = 'maskwatch-evidence-case/1';
export const MANIFEST_FILE = 'manifest.json';
export const SUMS_FILE = 'SHA256SUMS';
/** The raw 64-byte Ed25519 signature of manifest.json as packaged (what `openssl pkeyutl -verify -rawin` reads). */
export const SIGNATURE_FILE = 'manifest.sig';
/** The signing key's public half (SPKI PEM). */
export const PUBLIC_KEY_FILE = 'signing-key.pem';
export const SIGNATURE_ALGORITHM = 'Ed25519';

export interface PackageFile {
  path: string;
  sha256: string;
  bytes: number;
}

interface ManifestBase {
  exportedAt: string;
  exportedBy: { id: string; username: string; role: string };
  /** Every file of the package but the manifest itself, SHA256SUMS and the signature files, in package order. */
  files: PackageFile[];
  /** The key that signed this manifest; absent in packages exported before signing. */
  signature?: { algorithm: typeof SIGNATURE_ALGORITHM; keyFingerprint: string };
}

/** One incident's package. */
export interface IncidentManifest extends ManifestBase {
  format: typeof EVIDENCE_PACKAGE_FORMAT;
  alertId: string;
}

/** A case's package: the agency's case reference and its incidents, in package order. */
export interface CaseManifest extends ManifestBase {
  format: typeof CASE_PACKAGE_FORMAT;
  reference: string;
  alertIds: string[];
}

export type EvidenceManifest = IncidentManifest | CaseManifest;

/** The incidents a package holds (the audit trail records its export once for each). */
export const manifestAlertIds = (m: EvidenceManifest): string[] => (m.format === CASE_PACKAGE_FORMAT ? m.alertIds : [m.alertId]);

export interface SignatureCheck {
  keyFingerprint: string;
  /** The signature matches manifest.json and was made with the packaged key, which is the one the manifest names. */
  valid: boolean;
}

/**
 * A packaged file as the check needs it: its bytes, or only their digest (a reader that hashes large files
 * as they stream keeps the bytes of the manifest, SHA256SUMS and the signature files only).
 */
export type PackageEntry = Uint8Array | { sha256: string; bytes: number };

const digestOf = (entry: PackageEntry) => (entry instanceof Uint8Array ? { sha256: sha256Hex(entry), bytes: entry.byteLength } : entry);
const bytesOf = (entry: PackageEntry | undefined) => (entry instanceof Uint8Array ? entry : undefined);

export interface PackageCheck {
  ok: boolean;
  manifest: EvidenceManifest | null;
  /** SHA-256 of manifest.json as packaged: what `evidence.export` recorded. */
  manifestSha256: string | null;
  /** Null when the package is not signed. */
  signature: SignatureCheck | null;
  problems: string[];
}

export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** A public key's fingerprint: the SHA-256 of its SPKI DER (`openssl pkey -pubin -outform DER | sha256sum`). */
export const publicKeyFingerprint = (key: KeyObject): string => sha256Hex(key.export({ type: 'spki', format: 'der' }));

export function packageFile(path: string, data: Uint8Array): PackageFile {
  return { path, sha256: sha256Hex(data), bytes: data.byteLength };
}

/** `sha256sum` format, two spaces: every file of the manifest, then the manifest. */
export function sha256Sums(manifest: PackageFile[], manifestFile: PackageFile): string {
  return [...manifest, manifestFile].map((f) => `${f.sha256}  ${f.path}\n`).join('');
}

function parseManifest(entry: PackageEntry | undefined): EvidenceManifest | string {
  if (!entry) return `${MANIFEST_FILE} is missing`;
  const data = bytesOf(entry);
  if (!data) return `${MANIFEST_FILE} is too large to be a manifest`;
  let m: Partial<Omit<IncidentManifest, 'format'> & Omit<CaseManifest, 'format'>> & { format?: unknown };
  try {
    m = JSON.parse(Buffer.from(data).toString('utf8')) as typeof m;
  } catch {
    return `${MANIFEST_FILE} is not JSON`;
  }
  if (m?.format !== EVIDENCE_PACKAGE_FORMAT && m?.format !== CASE_PACKAGE_FORMAT) return `${MANIFEST_FILE} is not a ${EVIDENCE_PACKAGE_FORMAT} or ${CASE_PACKAGE_FORMAT} manifest`;
  const fileOk = (f: Partial<PackageFile>) => typeof f?.path === 'string' && /^[0-9a-f]{64}$/.test(f.sha256 ?? '') && Number.isInteger(f.bytes);
  const incidentsOk =
    m.format === CASE_PACKAGE_FORMAT
      ? typeof m.reference === 'string' && Array.isArray(m.alertIds) && m.alertIds.length > 0 && m.alertIds.every((id) => typeof id === 'string')
      : typeof m.alertId === 'string';
  if (!incidentsOk || typeof m.exportedAt !== 'string' || !Array.isArray(m.files) || !m.files.every(fileOk)) {
    return `${MANIFEST_FILE} lacks its ${m.format === CASE_PACKAGE_FORMAT ? 'case reference and alerts' : 'alert'}, export time or file list`;
  }
  if (m.signature !== undefined && (m.signature?.algorithm !== SIGNATURE_ALGORITHM || !/^[0-9a-f]{64}$/.test(m.signature.keyFingerprint ?? ''))) {
    return `${MANIFEST_FILE} names a signature that is not ${SIGNATURE_ALGORITHM} with a SHA-256 key fingerprint`;
  }
  return m as unknown as EvidenceManifest;
}

/** Problems of a signed manifest's signature: its files, the key it names, and the signature itself. */
function signatureProblems(entries: ReadonlyMap<string, PackageEntry>, manifestData: Uint8Array, keyFingerprint: string): string[] {
  const signature = bytesOf(entries.get(SIGNATURE_FILE));
  const keyPem = bytesOf(entries.get(PUBLIC_KEY_FILE));
  const absent = [SIGNATURE_FILE, PUBLIC_KEY_FILE].filter((f) => !entries.has(f));
  if (!signature || !keyPem) return absent.map((f) => `${f} is missing (the manifest says the package is signed)`);
  let key: KeyObject;
  try {
    key = createPublicKey(Buffer.from(keyPem));
  } catch {
    return [`${PUBLIC_KEY_FILE} is not a public key`];
  }
  if (key.asymmetricKeyType !== 'ed25519') return [`${PUBLIC_KEY_FILE} is not an ${SIGNATURE_ALGORITHM} key`];
  if (publicKeyFingerprint(key) !== keyFingerprint) return [`${PUBLIC_KEY_FILE} is not the key the manifest names (${keyFingerprint})`];
  return verify(null, manifestData, key, signature) ? [] : [`${SIGNATURE_FILE} is not a signature of ${MANIFEST_FILE} by that key`];
}

/**
 * Checks a package's files (name → bytes) against its manifest, SHA256SUMS and signature; every difference
 * is a problem. With `trustedKeyFingerprint` (the agency's published key), the package must be signed by it.
 */
export function checkPackage(entries: ReadonlyMap<string, PackageEntry>, opts: { trustedKeyFingerprint?: string } = {}): PackageCheck {
  const parsed = parseManifest(entries.get(MANIFEST_FILE));
  if (typeof parsed === 'string') return { ok: false, manifest: null, manifestSha256: null, signature: null, problems: [parsed] };
  const manifestData = bytesOf(entries.get(MANIFEST_FILE))!;
  const problems: string[] = [];
  const manifestSha256 = sha256Hex(manifestData);
  const expected = new Map(parsed.files.map((f) => [f.path, f]));
  for (const f of parsed.files) {
    const entry = entries.get(f.path);
    const digest = entry && digestOf(entry);
    if (!digest) problems.push(`${f.path}: listed in the manifest, missing from the package`);
    else if (digest.bytes !== f.bytes || digest.sha256 !== f.sha256) problems.push(`${f.path}: changed since export (its SHA-256 differs from the manifest's)`);
  }
  const packagingFiles = new Set([MANIFEST_FILE, SUMS_FILE, ...(parsed.signature ? [SIGNATURE_FILE, PUBLIC_KEY_FILE] : [])]);
  for (const name of entries.keys()) {
    if (!packagingFiles.has(name) && !expected.has(name) && !name.endsWith('/')) problems.push(`${name}: not in the manifest (added after export)`);
  }
  const sums = bytesOf(entries.get(SUMS_FILE));
  const wanted = sha256Sums(parsed.files, { path: MANIFEST_FILE, sha256: manifestSha256, bytes: manifestData.byteLength });
  if (!sums) problems.push(`${SUMS_FILE} is missing`);
  else if (Buffer.from(sums).toString('utf8') !== wanted) problems.push(`${SUMS_FILE} does not match the manifest`);
  let signature: SignatureCheck | null = null;
  if (parsed.signature) {
    const signed = signatureProblems(entries, manifestData, parsed.signature.keyFingerprint);
    problems.push(...signed);
    signature = { keyFingerprint: parsed.signature.keyFingerprint, valid: signed.length === 0 };
  }
  const trusted = opts.trustedKeyFingerprint;
  if (trusted && !signature) problems.push('the package is not signed, and a signature by the trusted key was required');
  else if (trusted && signature?.keyFingerprint !== trusted) problems.push(`signed with key ${signature!.keyFingerprint}, not the trusted key ${trusted}`);
  return { ok: problems.length === 0, manifest: parsed, manifestSha256, signature, problems };
}
