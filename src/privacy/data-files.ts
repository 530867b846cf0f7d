import { readFile, readdir, realpath, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Deleting personal-data files under the data dir. Paths come from the
 * database (relative, e.g. snapshots/<cameraId>/<frameId>-0.jpg); each is
 * resolved and checked to stay inside the data dir before anything is deleted,
 * so a corrupted or hostile row can never remove a file elsewhere.
 */
export function resolveInside(dataDir: string, relative: string): string | null {
  if (!relative || relative.includes('\0') || path.isAbsolute(relative)) return null;
  const root = path.resolve(dataDir);
  const full = path.resolve(root, relative);
  return full.startsWith(root + path.sep) ? full : null;
}

/** Deletes one file named by a relative path; true if it existed. Unsafe paths are refused (false). */
export async function deleteDataFile(dataDir: string, relative: string): Promise<boolean> {
  const full = resolveInside(dataDir, relative);
  if (!full) return false;
  try {
    await unlink(full);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Reads one file named by a relative path; null when it is missing, not a plain file, or resolves
 * (through a symlink) outside the data dir — the caller answers all of these alike.
 */
export async function readDataFile(dataDir: string, relative: string): Promise<Buffer | null> {
  const full = resolveInside(dataDir, relative);
  if (!full) return null;
  try {
    const real = await realpath(full);
    const root = await realpath(path.resolve(dataDir));
    if (!real.startsWith(root + path.sep) || !(await stat(real)).isFile()) return null;
    return await readFile(real);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Removes `${dataDir}/${folder}/${cameraId}` recursively (a camera's frames or snapshots). */
export async function deleteCameraFolder(dataDir: string, folder: 'frames' | 'snapshots', cameraId: string): Promise<void> {
  if (!SAFE_ID.test(cameraId)) throw new Error(`unsafe camera id: ${JSON.stringify(cameraId)}`);
  await rm(path.join(path.resolve(dataDir), folder, cameraId), { recursive: true, force: true });
}

/**
 * Deletes files under `${dataDir}/${folder}` last modified before `cutoff` (two
 * levels: <cameraId>/<file>). Catches what no row points to any more: frames
 * left by a crash, snapshots of a violation insert that failed. `keep` (paths relative to the data dir,
 * like the rows') stays whatever its age: evidence on hold. Returns the count.
 */
export async function sweepOldFiles(dataDir: string, folder: 'frames' | 'snapshots', cutoff: Date, keep: ReadonlySet<string> = new Set()): Promise<number> {
  const root = path.join(path.resolve(dataDir), folder);
  let removed = 0;
  let cameras: string[];
  try {
    cameras = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  for (const camera of cameras) {
    const dir = path.join(root, camera);
    let files: string[];
    try {
      files = await readdir(dir);
    } catch {
      continue; // not a folder, or removed meanwhile
    }
    for (const name of files) {
      if (keep.has(`${folder}/${camera}/${name}`)) continue;
      const file = path.join(dir, name);
      try {
        const s = await stat(file);
        if (s.isFile() && s.mtime < cutoff) {
          await unlink(file);
          removed += 1;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  return removed;
}
