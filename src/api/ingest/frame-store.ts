import { writeFile as writeFileCb, rename as renameCb } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Frame files under `${dataDir}/frames/<cameraId>/<frameId>.<ext>`. Written to a
 * temporary name and renamed, so a worker never sees a partly written frame.
 */
export interface FrameStore {
  /** Returns the path relative to the data dir (what goes into the job). */
  save(cameraId: string, frameId: string, ext: string, data: Buffer): Promise<string>;
  remove(relativePath: string): Promise<void>;
  absolute(relativePath: string): string;
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

// The callback API: measurably cheaper per frame than fs/promises' FileHandle objects at thousands of frames/s.
function writeThenRename(tmp: string, dest: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    // Owner-only: frames show everyone in view (SECURITY.md, "Files 0600, folders 0700").
    writeFileCb(tmp, data, { mode: 0o600 }, (err) => {
      if (err) return reject(err);
      renameCb(tmp, dest, (err2) => (err2 ? reject(err2) : resolve()));
    });
  });
}

export function createFrameStore(dataDir: string): FrameStore {
  const root = path.resolve(dataDir);
  const madeDirs = new Set<string>();
  return {
    async save(cameraId, frameId, ext, data) {
      // Ids come from our own database / randomUUID, but they become paths: check anyway.
      if (!SAFE_ID.test(cameraId) || !SAFE_ID.test(frameId) || !/^[a-z]{3,4}$/.test(ext)) {
        throw new Error(`unsafe frame path component: ${cameraId}/${frameId}.${ext}`);
      }
      const rel = `frames/${cameraId}/${frameId}.${ext}`;
      const dir = path.join(root, 'frames', cameraId);
      if (!madeDirs.has(dir)) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        madeDirs.add(dir);
      }
      const tmp = path.join(dir, `.${frameId}.tmp`);
      try {
        await writeThenRename(tmp, path.join(root, rel), data);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        // The folder may have been removed under us (retention cleanup): forget it and let the caller retry.
        madeDirs.delete(dir);
        throw err;
      }
      return rel;
    },
    async remove(rel) {
      await unlink(path.join(root, rel)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
    absolute(rel) {
      return path.join(root, rel);
    },
  };
}
