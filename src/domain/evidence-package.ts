/**
 * An incident's evidence package (chain of custody), as a pure description: the manifest that lists every
 * file with its SHA-256, the `SHA256SUMS` that lets anyone check them with `sha256sum -c` and no MaskWatch, and
 * the check of a package's files against both. services/evidence-package.ts writes packages; `maskwatch
 * evidence verify` checks them and finds the manifest's hash in the audit trail (`evidence.export`), which the
 * audit seals protect: a package changed after export no longer matches what was recorded.
 */
import { createHash } from 'node:crypto';

export const EVIDENCE_PACKAGE_FORMAT = 'maskwatch-evidence-package/1';
export const MANIFEST_FILE = 'manifest.json';
export const SUMS_FILE = 'SHA256SUMS';

export interface PackageFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface EvidenceManifest {
  format: typeof EVIDENCE_PACKAGE_FORMAT;
  alertId: string;
  exportedAt: string;
  exportedBy: { id: string; username: string; role: string };
  /** Every file of the package but the manifest itself and SHA256SUMS, in package order. */
  files: PackageFile[];
}

export interface PackageCheck {
  ok: boolean;
  manifest: EvidenceManifest | null;
  /** SHA-256 of manifest.json as packaged: what `evidence.export` recorded. */
  manifestSha256: string | null;
  problems: string[];
}

export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

export function packageFile(path: string, data: Uint8Array): PackageFile {
  return { path, sha256: sha256Hex(data), bytes: data.byteLength };
}

/** `sha256sum` format, two spaces: every file of the manifest, then the manifest. */
export function sha256Sums(manifest: PackageFile[], manifestFile: PackageFile): string {
  return [...manifest, manifestFile].map((f) => `${f.sha256}  ${f.path}\n`).join('');
}

function parseManifest(data: Uint8Array | undefined): EvidenceManifest | string {
  if (!data) return `${MANIFEST_FILE} is missing`;
  let m: Partial<EvidenceManifest>;
  try {
    m = JSON.parse(Buffer.from(data).toString('utf8')) as Partial<EvidenceManifest>;
  } catch {
    return `${MANIFEST_FILE} is not JSON`;
  }
  if (m?.format !== EVIDENCE_PACKAGE_FORMAT) return `${MANIFEST_FILE} is not a ${EVIDENCE_PACKAGE_FORMAT} manifest`;
  const fileOk = (f: Partial<PackageFile>) => typeof f?.path === 'string' && /^[0-9a-f]{64}$/.test(f.sha256 ?? '') && Number.isInteger(f.bytes);
  if (typeof m.alertId !== 'string' || typeof m.exportedAt !== 'string' || !Array.isArray(m.files) || !m.files.every(fileOk)) {
    return `${MANIFEST_FILE} lacks its alert, export time or file list`;
  }
  return m as EvidenceManifest;
}

/** Checks a package's files (name → bytes) against its manifest and SHA256SUMS; every difference is a problem. */
export function checkPackage(entries: ReadonlyMap<string, Uint8Array>): PackageCheck {
  const manifestData = entries.get(MANIFEST_FILE);
  const parsed = parseManifest(manifestData);
  if (typeof parsed === 'string') return { ok: false, manifest: null, manifestSha256: null, problems: [parsed] };
  const problems: string[] = [];
  const manifestSha256 = sha256Hex(manifestData!);
  const expected = new Map(parsed.files.map((f) => [f.path, f]));
  for (const f of parsed.files) {
    const data = entries.get(f.path);
    if (!data) problems.push(`${f.path}: listed in the manifest, missing from the package`);
    else if (data.byteLength !== f.bytes || sha256Hex(data) !== f.sha256) problems.push(`${f.path}: changed since export (its SHA-256 differs from the manifest's)`);
  }
  for (const name of entries.keys()) {
    if (name !== MANIFEST_FILE && name !== SUMS_FILE && !expected.has(name) && !name.endsWith('/')) problems.push(`${name}: not in the manifest (added after export)`);
  }
  const sums = entries.get(SUMS_FILE);
  const wanted = sha256Sums(parsed.files, { path: MANIFEST_FILE, sha256: manifestSha256, bytes: manifestData!.byteLength });
  if (!sums) problems.push(`${SUMS_FILE} is missing`);
  else if (Buffer.from(sums).toString('utf8') !== wanted) problems.push(`${SUMS_FILE} does not match the manifest`);
  return { ok: problems.length === 0, manifest: parsed, manifestSha256, problems };
}
