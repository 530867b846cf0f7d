/**
 * Redis for an admin command that tells the running system what it changed (sockets on every API instance):
 * one try, so the command still works during a Redis outage and says what that costs. Imported lazily.
 */
import { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import { failFastRedisOptions } from '../queue/producer.ts';
import { redactRedisUrl } from '../queue/redis-options.ts';

/** The connection, or null after a warning on stderr that ends with `withoutIt` (what happens instead). */
export async function connectCliRedis(config: Pick<Config, 'redisUrl'>, withoutIt: string): Promise<Redis | null> {
  // One try (for a Sentinel URL: one round over the sentinels), then the warning.
  const redis = new Redis({ ...failFastRedisOptions(config.redisUrl, 2000), lazyConnect: true, retryStrategy: () => null, sentinelRetryStrategy: () => null });
  redis.on('error', () => undefined); // reported once below
  try {
    await redis.connect();
    return redis;
  } catch {
    redis.disconnect();
    process.stderr.write(`warning: Redis (${redactRedisUrl(config.redisUrl)}) is not reachable: ${withoutIt}\n`);
    return null;
  }
}
