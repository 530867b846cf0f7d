/**
 * `maskwatch simulate --server URL --cameras N --fps F --images DIR`: N virtual
 * cameras for demos and load tests; cameras are registered through the admin
 * API (--admin-user/--admin-password) or taken from a keys file (--keys).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { numberOption, serverOption } from './agent.ts';

const USAGE = `usage: maskwatch simulate --server URL --images DIR [options]
  --cameras N         virtual cameras (default 10)
  --fps F             frames per second per camera (default 2)
  --images DIR        folder of JPEG/PNG/WebP images, loaded in memory (at most --max-images)
  --duration S        stop after S seconds (default: until Ctrl-C)
  --admin-user U      register N cameras through the admin API as U (password: --admin-password
  --admin-password P    or env MASKWATCH_ADMIN_PASSWORD)
  --keys FILE         or use existing camera API keys, one per line (cameras = min(N, keys))
  --keys-out FILE     write the keys of the cameras created (reuse them with --keys)
  --spool-max N       per-camera spool size (default 100)
  --max-images N      images loaded from DIR (default 200)
`;

export async function run(argv: string[]): Promise<number> {
  let o;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        server: { type: 'string' },
        cameras: { type: 'string' },
        fps: { type: 'string' },
        images: { type: 'string' },
        duration: { type: 'string' },
        'admin-user': { type: 'string' },
        'admin-password': { type: 'string' },
        keys: { type: 'string' },
        'keys-out': { type: 'string' },
        'spool-max': { type: 'string' },
        'max-images': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (!values.images) throw new Error('--images DIR is required');
    const adminPassword = values['admin-password'] ?? process.env.MASKWATCH_ADMIN_PASSWORD;
    if (!values.keys && !(values['admin-user'] && adminPassword)) {
      throw new Error('give either --keys FILE or --admin-user U with --admin-password P (or MASKWATCH_ADMIN_PASSWORD)');
    }
    o = {
      server: serverOption(values.server ?? process.env.MASKWATCH_SERVER),
      cameras: numberOption('--cameras', values.cameras, 10, 1, 10_000, true),
      fps: numberOption('--fps', values.fps, 2, 0.01, 60),
      images: values.images,
      durationMs: values.duration === undefined ? undefined : numberOption('--duration', values.duration, 0, 1, 7 * 86_400) * 1000,
      adminUser: values['admin-user'],
      adminPassword,
      keys: values.keys,
      keysOut: values['keys-out'],
      spoolMax: numberOption('--spool-max', values['spool-max'], 100, 1, 1_000_000, true),
      maxImages: numberOption('--max-images', values['max-images'], 200, 1, 100_000, true),
    };
  } catch (err) {
    process.stderr.write(`maskwatch simulate: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  // Loaded only now: --help and argument errors answer at once.
  const [{ createCamera, login, parseKeysFile, virtualCamera }, { runSimulation }, { listImages }, { createLogger }] = await Promise.all([
    import('../../agent/admin-client.ts'),
    import('../../agent/simulator.ts'),
    import('../../agent/sources.ts'),
    import('../../system/logger.ts'),
  ]);
  const logger = createLogger({ logLevel: process.env.LOG_LEVEL || 'info' }, { service: 'simulate' });
  const files = (await listImages(o.images)).slice(0, o.maxImages);
  const images = await Promise.all(files.map((f) => readFile(f)));

  let keys: string[];
  if (o.keys) {
    keys = parseKeysFile(await readFile(o.keys, 'utf8')).slice(0, o.cameras);
    if (keys.length === 0) throw new Error(`no keys in ${o.keys}`);
  } else {
    const token = await login(o.server, o.adminUser!, o.adminPassword!);
    const runId = Date.now().toString(36);
    keys = [];
    for (let i = 0; i < o.cameras; i++) keys.push((await createCamera(o.server, token, virtualCamera(i, undefined, runId))).apiKey);
    logger.info({ cameras: keys.length }, 'cameras registered');
    if (o.keysOut) await writeFile(o.keysOut, keys.join('\n') + '\n', { mode: 0o600 });
  }

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const spoolDir = await mkdtemp(path.join(os.tmpdir(), 'maskwatch-sim-'));
  try {
    const totals = await runSimulation({
      server: o.server,
      apiKeys: keys,
      images,
      fps: o.fps,
      durationMs: o.durationMs,
      spoolDir,
      spoolMax: o.spoolMax,
      logger,
      signal: stop.signal,
    });
    process.stdout.write(JSON.stringify({ msg: 'simulation totals', ...totals }) + '\n');
    return totals.unauthorized > 0 ? 2 : 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // Simulated frames not sent by the end are not worth keeping.
    await rm(spoolDir, { recursive: true, force: true });
  }
}
