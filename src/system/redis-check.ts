import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '../queue/redis-options.ts';

export class RedisUnavailableError extends Error {
  constructor(readonly redisUrl: string, reason: string) {
    super(
      `Redis is not reachable at ${redactRedisUrl(redisUrl)} (${reason}).\n` +
        'MaskWatch needs Redis for its frame queue and live alerts. Start one, e.g.:\n' +
        '  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n' +
        '  # or: docker run -d -p 6379:6379 redis:7\n' +
        'or point REDIS_URL at a running Redis.',
    );
    this.name = 'RedisUnavailableError';
  }
}

export function redactRedisUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/** One PING with a short timeout and no retries: a clear answer at start-up instead of a hang. */
export async function checkRedis(redisUrl: string, timeoutMs = 2000): Promise<void> {
  const client = new Redis({
    ...redisOptionsFromUrl(redisUrl),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err; // more telling (ECONNREFUSED, ENOTFOUND…) than the "Connection is closed" that follows
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new RedisUnavailableError(redisUrl, (lastError ?? (err as Error)).message || String(err));
  } finally {
    client.disconnect();
  }
}
