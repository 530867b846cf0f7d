import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { storedCropPath, storedFramePath } from '../../services/alert-view.ts';

/** Where a frame's snapshots go, relative to the data dir (what the DB stores). */
export function snapshotPaths(cameraId: string, frameId: string, faceIndexes: readonly number[]) {
  return {
    frame: storedFramePath(cameraId, frameId),
    faces: new Map(faceIndexes.map((i) => [i, storedCropPath(cameraId, frameId, i)])),
  };
}

/** Writes through a temp file + rename, so a reader (or a crash) never sees half a JPEG. */
export async function writeFileAtomic(file: string, data: Buffer): Promise<void> {
  // Owner-only: faces are biometric data.
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Deletes a file; already gone is fine (a retried job may have deleted it). */
export async function removeFile(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
