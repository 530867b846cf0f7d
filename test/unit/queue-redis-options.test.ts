/** REDIS_URL → ioredis / BullMQ connection fields: one Redis, and Redis Sentinel (redis+sentinel://). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { RedisUrlError, redisOptionsFromUrl } from '../../src/queue/redis-options.ts';

describe('redisOptionsFromUrl', () => {
  it('reads one Redis from redis:// and rediss://', () => {
    assert.deepEqual(redisOptionsFromUrl('redis://user:p%40ss@cache.local:6380/2'), {
      host: 'cache.local',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: undefined,
    });
    assert.deepEqual(redisOptionsFromUrl('rediss://cache.local').tls, {});
  });

  it('reads sentinels, the primary name, its credentials and db, and the sentinels’ own password', () => {
    assert.deepEqual(redisOptionsFromUrl('redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster/3?sentinelPassword=sp%21'), {
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      username: undefined,
      password: 's3cret',
      db: 3,
      sentinelUsername: undefined,
      sentinelPassword: 'sp!',
    });
    const plain = redisOptionsFromUrl('redis+sentinel://sentinel.local/queue-primary');
    assert.deepEqual(plain.sentinels, [{ host: 'sentinel.local', port: 26379 }]);
    assert.equal(plain.name, 'queue-primary');
    assert.equal(plain.db, 0);
    assert.equal(plain.host, undefined, 'no fixed host in sentinel mode');
  });

  it('refuses a database number that is not one, in both forms (one rule)', () => {
    for (const bad of ['redis://127.0.0.1:6379/abc', 'redis://h/-1', 'redis://h/1.5', 'redis://h/0/x', 'redis://h/1e1', 'redis://h/70000', 'redis+sentinel://a/m/abc', 'redis+sentinel://a/m/-1']) {
      assert.throws(() => redisOptionsFromUrl(bad), (err: unknown) => err instanceof RedisUrlError && /database must be a number/.test(err.message), bad);
    }
    assert.equal(redisOptionsFromUrl('redis://h/').db, 0);
    assert.equal(redisOptionsFromUrl('redis://h/15').db, 15);
  });

  it('refuses sentinel URLs without a primary name, with bad hosts, ports or parameters', () => {
    for (const bad of [
      'redis+sentinel://a:26379',
      'redis+sentinel://a:26379/',
      'redis+sentinel://a:99999/m',
      'redis+sentinel://a:1,,b:2/m',
      'redis+sentinel://a/m/x',
      'redis+sentinel://a/m/1/2',
      'redis+sentinel://a/m?password=x',
    ]) {
      assert.throws(() => redisOptionsFromUrl(bad), RedisUrlError, bad);
    }
  });
});

describe('REDIS_URL in the configuration', () => {
  it('accepts redis+sentinel:// and keeps the URL for every Redis client', () => {
    const url = 'redis+sentinel://s1:26379,s2:26379/mymaster';
    assert.equal(loadConfig({ REDIS_URL: url }, '/tmp').redisUrl, url);
  });

  it('names REDIS_URL in the error for a malformed sentinel URL or an unknown scheme', () => {
    assert.throws(() => loadConfig({ REDIS_URL: 'redis+sentinel://s1:26379' }, '/tmp'), (err: unknown) => err instanceof ConfigError && /REDIS_URL/.test(err.message) && /mymaster/.test(err.message));
    assert.throws(() => loadConfig({ REDIS_URL: 'http://s1' }, '/tmp'), (err: unknown) => err instanceof ConfigError && /REDIS_URL/.test(err.message));
    assert.throws(
      () => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379/abc' }, '/tmp'),
      (err: unknown) => err instanceof ConfigError && /REDIS_URL/.test(err.message) && /database must be a number/.test(err.message),
    );
  });
});
