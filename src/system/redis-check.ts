import { Redis, type RedisOptions } from 'ioredis';
import { isSentinelUrl, redactRedisUrl, redisOptionsFromUrl } from '../queue/redis-options.ts';

export { redactRedisUrl };

export class RedisUnavailableError extends Error {
  constructor(readonly redisUrl: string, reason: string) {
    super(
      `Redis is not reachable at ${redactRedisUrl(redisUrl)} (${reason}).\n` +
        'MaskWatch needs Redis for its frame queue and live alerts. Start one, e.g.:\n' +
        // The settings of docs/operations.md ("persistence is part of the 202 contract"), as docker-compose.yml runs it.
        '  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --appendonly yes --appendfsync everysec --maxmemory-policy noeviction\n' +
        '  # or: docker run -d -p 6379:6379 redis:7 redis-server --appendonly yes --appendfsync everysec --maxmemory-policy noeviction\n' +
        'or point REDIS_URL at a running Redis (with the append-only file: see docs/operations.md).',
    );
    this.name = 'RedisUnavailableError';
  }
}

/** Redis answers but refuses REDIS_URL's database number (beyond its `databases` setting): ioredis would warn and carry on in database 0. */
export class RedisDatabaseRefusedError extends RedisUnavailableError {
  constructor(redisUrl: string, db: number, reason: string) {
    super(redisUrl, reason);
    this.message =
      `Redis at ${redactRedisUrl(redisUrl)} refuses database ${db} (${reason}).\n` +
      'Use a database number the server has (0 to its `databases` setting minus 1, default 0–15) in REDIS_URL, ' +
      'or raise `databases` in redis.conf.';
    this.name = 'RedisDatabaseRefusedError';
  }
}

/**
 * Options for a client that tries once and gives up: no reconnect to the primary
 * and, for a redis+sentinel:// URL, no new round over the sentinels either (ioredis
 * retries them forever unless `sentinelRetryStrategy` says stop). Each step is
 * bounded by `timeoutMs`, so a caller gets an error in seconds instead of a hang.
 */
export function oneShotRedisOptions(redisUrl: string, timeoutMs: number): RedisOptions {
  return {
    ...redisOptionsFromUrl(redisUrl),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
    sentinelCommandTimeout: timeoutMs,
  };
}

/**
 * One PING with a short timeout and no retries: a clear answer at start-up instead of a hang.
 * Then one SELECT of REDIS_URL's database, whose refusal ioredis itself only logs.
 */
export async function checkRedis(redisUrl: string, timeoutMs = 2000): Promise<void> {
  const { db } = redisOptionsFromUrl(redisUrl);
  // The client starts in database 0: the SELECT below is the check's own, so its refusal reaches us.
  const client = new Redis({ ...oneShotRedisOptions(redisUrl, timeoutMs), db: 0 });
  let lastError: Error | undefined;
  let sentinelError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err; // more telling (ECONNREFUSED, ENOTFOUND…) than the "Connection is closed" that follows
  });
  // Per sentinel: "failed to connect to sentinel …" or "… successfully, but got an invalid reply" (unknown primary name).
  client.on('sentinelError', (err: Error) => {
    sentinelError = err;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    let reason = (lastError ?? (err as Error)).message || String(err);
    if (isSentinelUrl(redisUrl) && sentinelError && /^All sentinels are unreachable/.test(reason)) {
      // ioredis's own words ("… and retry is disabled") describe its settings, not the problem.
      reason = /invalid reply|No such master/i.test(sentinelError.message)
        ? `no sentinel knows a primary named "${redisOptionsFromUrl(redisUrl).name}"`
        : `no sentinel answered; last: ${sentinelError.message.replace(/\.$/, '')}`;
    }
    client.disconnect();
    throw new RedisUnavailableError(redisUrl, reason);
  }
  try {
    await client.select(db);
  } catch (err) {
    throw new RedisDatabaseRefusedError(redisUrl, db, (err as Error).message);
  } finally {
    client.disconnect();
  }
}
