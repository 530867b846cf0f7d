/**
 * Reads an evidence package from disk one entry at a time, for `maskwatch evidence verify`: each file is
 * hashed as it streams, and only the small files the check reads (the manifest, SHA256SUMS, the signature
 * and its key) are kept. A package of any size (an incident of hours holds thousands of frames) is checked
 * in a few MB.
 */
import { createHash } from 'node:crypto';
import yauzl from 'yauzl';
import { MANIFEST_FILE, PUBLIC_KEY_FILE, SIGNATURE_FILE, SUMS_FILE, type PackageEntry } from '../domain/evidence-package.ts';

const KEPT = new Set([MANIFEST_FILE, SUMS_FILE, SIGNATURE_FILE, PUBLIC_KEY_FILE]);
/** Far above any real manifest (about 100 bytes per file): a larger one is hashed, not read, and so refused. */
const KEPT_MAX_BYTES = 64 * 1024 * 1024;

export interface PackageEntries {
  entries: Map<string, PackageEntry>;
  /** Names the archive holds more than once: a ZIP reader would show only one of them. */
  duplicates: string[];
}

/** Throws when the file cannot be read or is not a ZIP (yauzl's message). */
export async function readPackageEntries(file: string): Promise<PackageEntries> {
  const zip = await yauzl.openPromise(file);
  const entries = new Map<string, PackageEntry>();
  const duplicates: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      if (name.endsWith('/')) continue;
      if (entries.has(name)) duplicates.push(name);
      const kept: Buffer[] | null = KEPT.has(name) && entry.uncompressedSize <= KEPT_MAX_BYTES ? [] : null;
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of await zip.openReadStreamPromise(entry)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
        kept?.push(chunk as Buffer);
      }
      entries.set(name, kept ? Buffer.concat(kept) : { sha256: hash.digest('hex'), bytes });
    }
  } finally {
    zip.close();
  }
  return { entries, duplicates };
}
