import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sampleId, type Sample } from './datasets.ts';

export interface HashedSample extends Sample {
  md5: string;
}

export interface DedupeReport {
  input: number;
  kept: number;
  /** Extra copies dropped where all copies share one label (within a class, or across datasets). */
  duplicatesWithinClass: number;
  /** Copies of the same bytes found in more than one dataset (counted in duplicatesWithinClass too when labels agree). */
  crossDataset: number;
  /** Files whose identical bytes carry both labels: all copies dropped, the label is unknowable. */
  labelConflicts: number;
  removed: string[];
}

export async function hashSamples(samples: Sample[], onProgress?: (done: number) => void): Promise<HashedSample[]> {
  const out: HashedSample[] = [];
  for (const s of samples) {
    const md5 = createHash('md5').update(await readFile(s.path)).digest('hex');
    out.push({ ...s, md5 });
    onProgress?.(out.length);
  }
  return out;
}

/**
 * Exact-content dedupe. Keeps the first copy in input order (callers list
 * datasets in priority order, files sorted), drops the rest; drops every copy
 * of content that appears under both labels.
 */
export function dedupeByContent<T extends HashedSample>(items: T[]): { kept: T[]; report: DedupeReport } {
  const byHash = new Map<string, T[]>();
  for (const it of items) {
    const list = byHash.get(it.md5);
    if (list) list.push(it);
    else byHash.set(it.md5, [it]);
  }
  const keep = new Set<T>();
  const removed: string[] = [];
  let within = 0;
  let cross = 0;
  let conflicts = 0;
  for (const copies of byHash.values()) {
    if (copies.length === 1) {
      keep.add(copies[0]!);
      continue;
    }
    if (new Set(copies.map((c) => c.dataset)).size > 1) cross += copies.length - 1;
    if (new Set(copies.map((c) => c.label)).size > 1) {
      conflicts += copies.length;
      removed.push(...copies.map(sampleId));
      continue;
    }
    keep.add(copies[0]!);
    within += copies.length - 1;
    removed.push(...copies.slice(1).map(sampleId));
  }
  const kept = items.filter((it) => keep.has(it));
  return {
    kept,
    report: { input: items.length, kept: kept.length, duplicatesWithinClass: within, crossDataset: cross, labelConflicts: conflicts, removed },
  };
}
