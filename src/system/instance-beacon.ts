/**
 * Each API and worker process announces itself in Redis every few seconds (host, release, settings that every
 * instance must share), under a key that expires after three missed announcements. `maskwatch doctor` and
 * Admin › System list them and compare them (domain/deployment-checks.ts instancesCheck): a host left on the
 * previous release, or started with another secret key or retention period, shows before it does harm.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Instance, InstanceSettings } from '../contracts/api.ts';
import type { InstanceKind } from '../contracts/vocabulary.ts';
import { migrationsDirFor, readMigrations } from '../db/migrator.ts';
import { redisOptionsFromUrl } from '../queue/redis-options.ts';
import { REPO_ROOT } from '../paths.ts';
import { evidenceSigner } from './evidence-signer.ts';
import type { KeyPurpose } from './secret-key.ts';

export const BEACON_INTERVAL_MS = 10_000;

const keyPrefix = (queuePrefix: string) => `${queuePrefix}:instances:`;
/** SCAN's MATCH is a glob: a prefix's own `*`, `?`, `[` and `\\` are literal. */
const globLiteral = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

/** What this release is: its package version and the newest migration it has. */
export async function releaseFacts(): Promise<Pick<Instance, 'version' | 'schema' | 'node'>> {
  const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const migrations = await readMigrations(migrationsDirFor('sqlite'));
  return { version, schema: migrations.at(-1)?.name ?? 'none', node: process.version };
}

/** The settings instances must share, as this process's configuration gives them. */
export async function sharedSettings(config: Config, keys: (purpose: KeyPurpose) => Promise<Buffer>): Promise<InstanceSettings> {
  const signingKeyFingerprint = await evidenceSigner(keys)().then(
    (s) => s.keyFingerprint,
    () => null,
  );
  return { signingKeyFingerprint, retentionDays: config.privacy.retentionDays, incorrectMaskPolicy: config.vision.incorrectMaskPolicy };
}

export interface BeaconOptions {
  redisUrl: string;
  queuePrefix: string;
  kind: InstanceKind;
  settings: InstanceSettings;
  logger: Logger;
  intervalMs?: number;
  now?: () => Date;
}

/** Announces this process until `stop()`, which takes it off the list at once. */
export async function startInstanceBeacon(opts: BeaconOptions): Promise<{ id: string; stop(): Promise<void> }> {
  const now = opts.now ?? (() => new Date());
  const intervalMs = opts.intervalMs ?? BEACON_INTERVAL_MS;
  const id = randomUUID();
  const key = keyPrefix(opts.queuePrefix) + id;
  // Its own connection, which waits for Redis at start and gives up on a command after 2 s.
  const redis = new Redis({ ...redisOptionsFromUrl(opts.redisUrl), maxRetriesPerRequest: 1, commandTimeout: 2000, retryStrategy: (times) => Math.min(100 * times, 2000) });
  redis.on('error', () => {}); // a failed announcement is logged where it is awaited
  const fixed = { id, kind: opts.kind, host: hostname(), pid: process.pid, ...(await releaseFacts()), startedAt: now().toISOString(), settings: opts.settings };
  const announce = async () => {
    const instance: Instance = { ...fixed, seenAt: now().toISOString(), rssBytes: process.memoryUsage.rss() };
    await redis.set(key, JSON.stringify(instance), 'PX', intervalMs * 3);
  };
  // A missed announcement is not an error of the process: the list shows it as gone until the next one.
  const beat = () => announce().catch((err: unknown) => opts.logger.warn({ err }, 'could not announce this instance in Redis'));
  await beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return {
    id,
    async stop() {
      clearInterval(timer);
      await redis.del(key).catch(() => {});
      redis.disconnect();
    },
  };
}

/** Every instance announcing itself under this queue prefix, oldest first. */
export async function listInstances(redis: Redis, queuePrefix: string): Promise<Instance[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${globLiteral(keyPrefix(queuePrefix))}*`, 'COUNT', 200);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  const instances: Instance[] = [];
  for (const v of values) {
    try {
      if (v) instances.push(JSON.parse(v) as Instance);
    } catch {
      // not ours, or cut off: skipped
    }
  }
  return instances.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
}
