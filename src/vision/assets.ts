import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../paths.ts';

/** Repository root (this file is src/vision/assets.ts). */
export const DEFAULT_MANIFEST_PATH = path.join(REPO_ROOT, 'models', 'manifest.json');
/** Where `npm run models:fetch` puts files when there is no assets folder (gitignored). */
export const DEFAULT_MODEL_CACHE_DIR = path.join(REPO_ROOT, '.cache', 'models');

export interface ModelEntry {
  name: string;
  /** Relative to the assets folder (and to the fetch cache). */
  path: string;
  url: string;
  bytes: number;
  sha256: string;
  license: string;
  usedBy: string;
}

export class AssetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssetError';
  }
}

export function parseManifest(json: string, source = 'manifest'): ModelEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new AssetError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  const models = (doc as { models?: unknown }).models;
  if (!Array.isArray(models)) throw new AssetError(`${source}: "models" must be an array`);
  return models.map((m: Record<string, unknown>, i) => {
    for (const key of ['name', 'path', 'url', 'sha256', 'license', 'usedBy'] as const) {
      if (typeof m[key] !== 'string' || m[key] === '') throw new AssetError(`${source}: models[${i}].${key} must be a non-empty string`);
    }
    if (!/^[0-9a-f]{64}$/.test(m.sha256 as string)) throw new AssetError(`${source}: models[${i}].sha256 is not a sha256 hex digest`);
    if (path.isAbsolute(m.path as string) || (m.path as string).split(/[\\/]/).includes('..')) {
      throw new AssetError(`${source}: models[${i}].path must stay inside the assets folder`);
    }
    if (!Number.isInteger(m.bytes) || (m.bytes as number) <= 0) throw new AssetError(`${source}: models[${i}].bytes must be a positive integer`);
    return m as unknown as ModelEntry;
  });
}

let manifestCache: { file: string; entries: ModelEntry[] } | undefined;

export function loadManifest(file = DEFAULT_MANIFEST_PATH): ModelEntry[] {
  if (manifestCache?.file === file) return manifestCache.entries;
  const entries = parseManifest(readFileSync(file, 'utf8'), file);
  manifestCache = { file, entries };
  return entries;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Files already hashed in this process, keyed by path + size + mtime (hashing a 3.6 MB file costs ~10 ms). */
const verified = new Map<string, string>();

/** Hashes `file` (once per process unless it changed) and throws if it differs from `expected`. */
export async function verifyFile(file: string, expected: string): Promise<void> {
  const st = await stat(file);
  const key = `${file}\0${st.size}\0${st.mtimeMs}`;
  let actual = verified.get(key);
  if (actual === undefined) {
    actual = await sha256File(file);
    verified.set(key, actual);
  }
  if (actual !== expected) {
    throw new AssetError(`${file}: sha256 ${actual} does not match the manifest (${expected}); the file is corrupt or a different version — re-run \`npm run models:fetch\``);
  }
}

/**
 * Path of a verified third-party model file. Looks in the assets folder
 * (MASKWATCH_ASSETS), then in the models:fetch cache.
 */
export async function resolveAsset(
  assetsDir: string,
  name: string,
  opts: { manifestPath?: string; cacheDir?: string } = {},
): Promise<string> {
  const entries = loadManifest(opts.manifestPath);
  const entry = entries.find((e) => e.name === name);
  if (!entry) throw new AssetError(`unknown model "${name}"; models/manifest.json lists: ${entries.map((e) => e.name).join(', ')}`);
  const candidates = [path.join(assetsDir, entry.path), path.join(opts.cacheDir ?? DEFAULT_MODEL_CACHE_DIR, entry.path)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new AssetError(
      `model "${name}" not found (looked in ${candidates.join(' and ')}): set MASKWATCH_ASSETS to the folder holding ${entry.path}, or run \`npm run models:fetch\``,
    );
  }
  await verifyFile(found, entry.sha256);
  return found;
}
