/**
 * Shared test helpers: everything a test needs to stay isolated from other
 * test files running at the same time on the same Redis / PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config/config.ts';

/** A short unique token for names (queue prefixes, schemas, usernames). */
export function uniqueId(): string {
  return `${process.pid.toString(36)}${randomBytes(4).toString('hex')}`;
}

/** A BullMQ / Socket.IO key prefix no other test run uses. */
export function uniquePrefix(label = 'test'): string {
  return `mwtest-${label}-${uniqueId()}`;
}

/** A fresh temp folder and a function that deletes it. */
export async function tempDir(label = 'maskwatch'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${label}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Silent unless TEST_LOG=debug|info|… is set. */
export function testLogger(): Logger {
  return pino({ level: process.env.TEST_LOG || 'silent' });
}

export const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
/** Same variable as .ci/run. */
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432/test';

/**
 * A Config for tests: free port (0), the given data dir, a unique queue prefix,
 * local Redis; `env` overrides any variable (same names as production).
 */
export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      MASKWATCH_DATA_DIR: dataDir,
      REDIS_URL,
      MASKWATCH_QUEUE_PREFIX: uniquePrefix(),
      LOG_LEVEL: 'silent',
      // Most tests post single stills: snapshot cameras (1 of 1). Incident tests set their own k of n.
      MASKWATCH_CONFIRM_FRAMES: '1',
      MASKWATCH_CONFIRM_WINDOW: '1',
      ...env,
    },
    process.cwd(),
  );
}

/** Deletes every Redis key under a test's prefix (queue, backlog). Best effort: Redis may be gone. */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis stopped by the test itself: nothing to clean.
  } finally {
    client.disconnect();
  }
}
