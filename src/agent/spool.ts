/**
 * Bounded on-disk queue of frames the server could not take yet: one file per
 * frame, capture time in the name, so frames survive an agent restart and are
 * sent oldest first. When full, the oldest frame is evicted (and counted).
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  compareEntries,
  evictionsToAdmit,
  parseSpoolEntryName,
  spoolEntryName,
  type SpoolEntry,
  type SpoolExtension,
} from './spool-policy.ts';

export interface SpooledFrame {
  entry: SpoolEntry;
  image: Buffer;
}

export interface FrameSpool {
  /** Stores a frame; returns the entries evicted to make room (oldest first). */
  push(image: Buffer, capturedAt: Date, ext: SpoolExtension): Promise<SpoolEntry[]>;
  /** The oldest frame, or null when empty. */
  peek(): Promise<SpooledFrame | null>;
  remove(entry: SpoolEntry): Promise<void>;
  size(): number;
  readonly dir: string;
  readonly max: number;
}

export async function openSpool(dir: string, max: number): Promise<FrameSpool> {
  evictionsToAdmit(0, max); // validates max
  await mkdir(dir, { recursive: true });
  const names = await readdir(dir);
  // Leftover temp files are half-written frames of a crashed agent: discard them.
  await Promise.all(names.filter((n) => n.endsWith('.tmp')).map((n) => rm(path.join(dir, n), { force: true })));
  const entries = names.map(parseSpoolEntryName).filter((e): e is SpoolEntry => e !== null).sort(compareEntries);
  let seq = entries.reduce((m, e) => Math.max(m, e.seq + 1), 0);

  async function evict(count: number): Promise<SpoolEntry[]> {
    const evicted = entries.splice(0, count);
    await Promise.all(evicted.map((e) => rm(path.join(dir, e.name), { force: true })));
    return evicted;
  }

  // A restart with a smaller --spool-max trims the oldest at once.
  if (entries.length > max) await evict(entries.length - max);

  return {
    dir,
    max,
    async push(image, capturedAt, ext) {
      const evicted = await evict(evictionsToAdmit(entries.length, max));
      const name = spoolEntryName(capturedAt, seq, ext);
      const entry: SpoolEntry = { name, capturedAt, seq, ext };
      seq = (seq + 1) % 1_000_000_000;
      const file = path.join(dir, name);
      // Write then rename: a crash never leaves a truncated frame under a valid name.
      await writeFile(file + '.tmp', image);
      await rename(file + '.tmp', file);
      // Keep the index sorted: a frame captured earlier than spooled ones (rare) goes in its place.
      let i = entries.length;
      while (i > 0 && compareEntries(entries[i - 1]!, entry) > 0) i -= 1;
      entries.splice(i, 0, entry);
      return evicted;
    },
    async peek() {
      while (entries.length > 0) {
        const entry = entries[0]!;
        try {
          return { entry, image: await readFile(path.join(dir, entry.name)) };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          entries.shift(); // deleted behind our back: skip it
        }
      }
      return null;
    },
    async remove(entry) {
      const i = entries.findIndex((e) => e.name === entry.name);
      if (i >= 0) entries.splice(i, 1);
      await rm(path.join(dir, entry.name), { force: true });
    },
    size: () => entries.length,
  };
}
