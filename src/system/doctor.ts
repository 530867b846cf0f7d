/**
 * `maskwatch doctor`: reads a deployment as its configuration describes it and checks it against what
 * docs/operations.md requires — the database and its migrations, Redis's persistence and eviction, the
 * clocks, the workers and the running instances (one release, one secret key, the same settings), the data
 * folder and the secret key, how browsers reach it, the sign-on provider, the webhook targets, and the vision
 * models on this host. It changes
 * nothing: no database, schema, table, key or folder is created (the first start does that).
 * The conclusions are domain/deployment-checks.ts's.
 */
import { randomBytes } from 'node:crypto';
import { stat, statfs, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import sharp from 'sharp';
import type { Config } from '../config/config.ts';
import { visionEngineOptions } from '../config/vision-engine.ts';
import { migrationStatus, MigrationError } from '../db/migrator.ts';
import { parseDatabaseUrl, redactUrl } from '../db/url.ts';
import { QUEUES } from '../queue/jobs.ts';
import { SECRET_KEY_FILE } from '../auth/secret-box.ts';
import {
  clockCheck,
  dataDirModeCheck,
  diskSpaceCheck,
  fail,
  instancesCheck,
  networkCheck,
  ok,
  parseRedisInfo,
  redisSettingsChecks,
  skipped,
  warn,
  webhooksCheck,
  type CheckResult,
  type WebhookProbe,
} from '../domain/deployment-checks.ts';
import { checkRedis, oneShotRedisOptions, redactRedisUrl } from './redis-check.ts';
import { evidenceSigner } from './evidence-signer.ts';
import { listInstances, releaseFacts, sharedSettings } from './instance-beacon.ts';
import { secretKeys } from './secret-key.ts';

export interface DoctorOptions {
  config: Config;
  /** Load the vision engine and analyse a test frame (hashes and loads every model: a few seconds). */
  vision: boolean;
  /** This host's clock, in ms (tests shift it to see a skew). */
  now?: () => number;
  /** Reports each check as it finishes (the CLI's progress). */
  onResult?: (result: CheckResult) => void;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/** The other side's clock minus ours, taking our reading at the middle of the round trip. */
async function skewMs(now: () => number, read: () => Promise<number>): Promise<number> {
  const before = now();
  const theirs = await read();
  return theirs - (before + now()) / 2;
}

async function databaseChecks(config: Config, now: () => number): Promise<CheckResult[]> {
  const target = parseDatabaseUrl(config.databaseUrl);
  const label = target.provider === 'sqlite' ? `SQLite ${target.filename}` : `PostgreSQL ${redactUrl(config.databaseUrl)}`;
  let status;
  try {
    status = await migrationStatus(target);
  } catch (err) {
    if (err instanceof MigrationError) return [fail('database', `${label}: ${message(err)}`, 'see docs/operations.md § Upgrading')];
    return [fail('database', `${label} is not reachable: ${message(err)}`, 'check DATABASE_URL, and that the database server runs and accepts this host')];
  }
  const results: CheckResult[] = [];
  const { pending, unknown } = status.plan;
  if (!status.exists) results.push(warn('database', `${label}: no MaskWatch tables yet`, 'the first `maskwatch start`, `api` or `worker` creates them'));
  else if (unknown.length > 0) {
    results.push(fail('database', `${label} holds migrations this release does not have (${unknown.join(', ')}): a newer release upgraded it`, 'run the release the database was upgraded to (docs/operations.md § Upgrading)'));
  } else if (pending.length > 0) {
    results.push(
      warn('database', `${label}: ${status.applied} migrations applied, ${pending.length} to apply (${pending.map((m) => m.name).join(', ')})`, 'the next start applies them: back up first (docs/operations.md § Upgrading)'),
    );
  } else results.push(ok('database', `${label}: ${status.applied} migrations applied, none pending`));

  if (target.provider === 'postgresql') {
    const client = new pg.Client({ connectionString: target.connectionString });
    try {
      await client.connect();
      const skew = await skewMs(now, async () => Number((await client.query<{ ms: string }>('SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms')).rows[0]!.ms));
      results.push(clockCheck('database clock', 'the database server', skew));
    } catch (err) {
      results.push(skipped('database clock', `not read: ${message(err)}`));
    } finally {
      await client.end().catch(() => {});
    }
  }
  return results;
}

async function redisChecks(config: Config, now: () => number): Promise<CheckResult[]> {
  const where = redactRedisUrl(config.redisUrl);
  try {
    await checkRedis(config.redisUrl);
  } catch (err) {
    return [fail('redis', message(err), 'start Redis as docs/operations.md says, or point REDIS_URL at it')];
  }
  const client = new Redis(oneShotRedisOptions(config.redisUrl, 5000));
  client.on('error', () => {}); // every command's failure is reported where it is awaited
  const results: CheckResult[] = [ok('redis', `reachable at ${where}`)];
  try {
    await client.connect();
    results.push(...redisSettingsChecks(parseRedisInfo(await client.info())));
    const skew = await skewMs(now, async () => {
      const [seconds, micros] = await client.time();
      return Number(seconds) * 1000 + Number(micros) / 1000;
    });
    results.push(clockCheck('redis clock', 'the Redis server', skew));
    results.push(instancesCheck(await listInstances(client, config.queuePrefix), await ownRelease(config)));
    const queue = new Queue(QUEUES.frames, { connection: client as unknown as ConnectionOptions, prefix: config.queuePrefix });
    try {
      const workers = await queue.getWorkersCount();
      results.push(
        workers > 0
          ? ok('workers', `${workers} worker connection${workers === 1 ? '' : 's'} on the frames queue`)
          : warn('workers', 'no worker is taking frames: accepted frames wait in Redis', 'start `maskwatch worker` (or `maskwatch start`) with this REDIS_URL and MASKWATCH_QUEUE_PREFIX'),
      );
    } finally {
      await queue.close();
    }
  } catch (err) {
    results.push(fail('redis', `${where}: ${message(err)}`, 'check REDIS_URL and the Redis server'));
  } finally {
    client.disconnect();
  }
  return results;
}

/** This host's release and shared settings, to compare with the running instances; none while it has no secret key yet (never created here). */
async function ownRelease(config: Config) {
  const hasKey = config.security.secretKey !== null || (await stat(path.join(config.dataDir, SECRET_KEY_FILE)).then(() => true, () => false));
  return hasKey ? { ...(await releaseFacts()), settings: await sharedSettings(config, secretKeys(config)) } : undefined;
}

async function dataDirChecks(config: Config): Promise<CheckResult[]> {
  const dir = config.dataDir;
  let mode: number;
  try {
    mode = (await stat(dir)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return [fail('data folder', `${dir}: ${message(err)}`, 'make MASKWATCH_DATA_DIR readable and writable by this account')];
    return [warn('data folder', `${dir} does not exist yet`, 'the first start creates it, owner-only; or create it now on the volume meant for faces and frames')];
  }
  const probe = path.join(dir, `.doctor-${randomBytes(6).toString('hex')}`);
  const results: CheckResult[] = [];
  try {
    await writeFile(probe, '', { flag: 'wx', mode: 0o600 });
    await unlink(probe);
    results.push(ok('data folder', `${dir} is writable`));
  } catch (err) {
    results.push(fail('data folder', `${dir} is not writable by this account: ${message(err)}`, 'run MaskWatch as the folder\'s owner, or chown it'));
  }
  results.push(dataDirModeCheck(dir, mode));
  const fs = await statfs(dir);
  results.push(diskSpaceCheck(dir, fs.bavail * fs.bsize, fs.blocks * fs.bsize));
  return results;
}

async function secretKeyCheck(config: Config): Promise<CheckResult> {
  const signingKey = async () => `; evidence packages are signed by the key with fingerprint ${(await evidenceSigner(secretKeys(config))()).keyFingerprint}`;
  if (config.security.secretKey) return ok('secret key', `MASKWATCH_SECRET_KEY is set${await signingKey()}`);
  const file = path.join(config.dataDir, SECRET_KEY_FILE);
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch {
    return warn('secret key', `no MASKWATCH_SECRET_KEY and no ${file} yet: the first start creates the file`, 'back the file up apart from the database once it exists; with several instances, set MASKWATCH_SECRET_KEY on every one instead');
  }
  if (mode & 0o077) return fail('secret key', `${file} is readable by other accounts (${(mode & 0o777).toString(8)})`, `chmod 600 ${file}`);
  return ok('secret key', `${file} (back it up apart from the database; several instances need MASKWATCH_SECRET_KEY)${await signingKey()}`);
}

async function visionCheck(config: Config): Promise<CheckResult> {
  const { createVisionEngine } = await import('../vision/engine.ts');
  const t0 = performance.now();
  let engine;
  try {
    engine = await createVisionEngine(visionEngineOptions(config));
  } catch (err) {
    return fail('vision', `the models did not load: ${message(err)}`, 'set MASKWATCH_ASSETS to the folder holding the models, or run `npm run models:fetch` (README § Models)');
  }
  try {
    const loaded = performance.now() - t0;
    const frame = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 120, b: 120 } } }).jpeg().toBuffer();
    const t1 = performance.now();
    await engine.analyzeFrame(frame);
    // A face box given, so the classifier (and its backbone) runs too, as on a real face.
    await engine.analyzeFrame(frame, { faces: [{ box: [280, 180, 80, 100], score: 0.99 }] });
    return ok('vision', `models verified (SHA-256) and loaded in ${(loaded / 1000).toFixed(1)} s; a 640×480 test frame detected and classified in ${Math.round(performance.now() - t1)} ms`);
  } catch (err) {
    return fail('vision', `ONNX Runtime could not analyse a test frame on this host: ${message(err)}`, 'install on this host with `npm ci` (onnxruntime-node and sharp are built per platform)');
  } finally {
    await engine.close();
  }
}

/** The agency's sign-on provider, when single sign-on is configured: it must answer discovery, or nobody signs on through it. */
async function signOnCheck(config: Config): Promise<CheckResult> {
  const sso = config.security.sso;
  if (!sso) return skipped('single sign-on', 'not configured (MASKWATCH_SSO_ISSUER)');
  const { discoverProvider } = await import('../auth/sso.ts');
  try {
    const metadata = (await discoverProvider(sso)).serverMetadata();
    return ok('single sign-on', `${sso.issuer} answers discovery; sign-in at ${metadata.authorization_endpoint ?? '(no authorization endpoint)'}`);
  } catch (err) {
    return fail('single sign-on', `${sso.issuer} did not answer discovery: ${message(err)}`, "check MASKWATCH_SSO_ISSUER (the issuer's exact URL) and that this host reaches it and trusts its certificate");
  }
}

/** Each webhook target, probed with a HEAD (5 s): shown by its origin only, as a URL's path or query may hold a token. */
async function webhookCheck(config: Config): Promise<CheckResult> {
  const probes = await Promise.all(
    config.webhooks.map(async (t): Promise<WebhookProbe> => {
      const url = new URL(t.url).origin;
      try {
        const res = await fetch(t.url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(5000) });
        return { name: t.name, url, status: res.status };
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        return { name: t.name, url, error: cause?.code ?? cause?.message ?? message(err) };
      }
    }),
  );
  return webhooksCheck(probes);
}

/** Every check, in a fixed order; a failing one never stops the others. */
export async function runDoctor(opts: DoctorOptions): Promise<CheckResult[]> {
  const now = opts.now ?? Date.now;
  const results: CheckResult[] = [];
  const report = (list: CheckResult[]) => {
    for (const r of list) {
      results.push(r);
      opts.onResult?.(r);
    }
  };
  report(await databaseChecks(opts.config, now));
  report(await redisChecks(opts.config, now));
  report(await dataDirChecks(opts.config));
  report([await secretKeyCheck(opts.config), networkCheck(opts.config.security.publicUrl, opts.config.security.trustProxy), await signOnCheck(opts.config), await webhookCheck(opts.config)]);
  report([opts.vision ? await visionCheck(opts.config) : skipped('vision', 'not checked here: the models run on worker hosts, where `maskwatch doctor` checks them')]);
  return results;
}
