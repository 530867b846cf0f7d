import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { createWriteStream, existsSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.ts';
import { AssetError, DEFAULT_MANIFEST_PATH, DEFAULT_MODEL_CACHE_DIR, loadManifest, sha256File, type ModelEntry } from '../../vision/assets.ts';

const USAGE = `usage: maskwatch models:fetch [--cache-dir DIR] [--manifest FILE] [--offline]
For every model in models/manifest.json: copy it from MASKWATCH_ASSETS when it is there,
otherwise download it from its upstream URL, into the cache dir (default .cache/models,
env MASKWATCH_MODEL_CACHE); the sha256 is verified either way. --offline never downloads.
`;

type Progress = (msg: string) => void;

/** Copies or downloads one model into `cacheDir`, returning how it got there. */
export async function fetchModel(
  entry: ModelEntry,
  opts: { assetsDir: string | null; cacheDir: string; offline: boolean; progress: Progress },
): Promise<'cached' | 'copied' | 'downloaded'> {
  const target = path.join(opts.cacheDir, entry.path);
  if (existsSync(target) && (await sha256File(target)) === entry.sha256) return 'cached';
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.part-${process.pid}`;
  const source = opts.assetsDir ? path.join(opts.assetsDir, entry.path) : null;
  let how: 'copied' | 'downloaded';
  try {
    if (source && existsSync(source)) {
      opts.progress(`${entry.name}: copying from ${source}`);
      await copyFile(source, tmp);
      how = 'copied';
    } else {
      if (opts.offline) throw new AssetError(`${entry.name}: not in the assets folder and --offline given`);
      opts.progress(`${entry.name}: downloading ${entry.url}`);
      const res = await fetch(entry.url, { redirect: 'follow' });
      if (!res.ok || !res.body) throw new AssetError(`${entry.name}: download failed: HTTP ${res.status} from ${entry.url}`);
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(tmp));
      how = 'downloaded';
    }
    const actual = await sha256File(tmp);
    if (actual !== entry.sha256) throw new AssetError(`${entry.name}: sha256 ${actual} does not match the manifest (${entry.sha256})`);
    // Rename last so a half-written file is never taken for a good one.
    await rename(tmp, target);
    return how;
  } finally {
    await rm(tmp, { force: true });
  }
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { 'cache-dir': { type: 'string' }, manifest: { type: 'string' }, offline: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`maskwatch models:fetch: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfig();
  const cacheDir = path.resolve((values['cache-dir'] as string | undefined) ?? process.env.MASKWATCH_MODEL_CACHE ?? DEFAULT_MODEL_CACHE_DIR);
  const entries = loadManifest(path.resolve((values.manifest as string | undefined) ?? DEFAULT_MANIFEST_PATH));
  const assetsDir = existsSync(config.assetsDir) ? config.assetsDir : null;
  const progress: Progress = (msg) => process.stderr.write(`${msg}\n`);
  progress(`models:fetch: ${entries.length} models into ${cacheDir}${assetsDir ? ` (copying from ${assetsDir} where present)` : ''}`);
  let failed = 0;
  for (const [i, entry] of entries.entries()) {
    try {
      const how = await fetchModel(entry, { assetsDir, cacheDir, offline: Boolean(values.offline), progress });
      progress(`[${i + 1}/${entries.length}] ${entry.name}: ${how}, sha256 ok`);
    } catch (err) {
      failed += 1;
      progress(`[${i + 1}/${entries.length}] ${entry.name}: FAILED: ${(err as Error).message}`);
    }
  }
  progress(failed ? `models:fetch: ${failed} of ${entries.length} failed` : 'models:fetch: all models verified');
  return failed ? 1 : 0;
}
