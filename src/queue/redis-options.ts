/**
 * Connection fields from REDIS_URL, usable by both ioredis and BullMQ: every
 * Redis client of MaskWatch (queue producer, workers, Socket.IO adapter,
 * start-up check) is built from these, so one URL form reaches them all.
 *
 *   redis://[user:password@]host[:6379][/db]        one Redis (rediss:// for TLS)
 *   redis+sentinel://[user:password@]sentinel1[:26379][,sentinel2[:26379]…]/masterName[/db][?sentinelPassword=…&sentinelUsername=…]
 *                                                    Redis Sentinel: ioredis asks the sentinels for the
 *                                                    current primary and follows failovers.
 * user/password are the primary's; the sentinels' own credentials go in the query.
 */
export interface RedisConnectionFields {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db: number;
  tls?: Record<string, never>;
  /** Sentinel mode: the sentinels to ask, and the name of the monitored primary. */
  sentinels?: { host: string; port: number }[];
  name?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
}

export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

const SENTINEL_SCHEME = 'redis+sentinel://';

export function isSentinelUrl(redisUrl: string): boolean {
  return redisUrl.startsWith(SENTINEL_SCHEME);
}

export function redisOptionsFromUrl(redisUrl: string): RedisConnectionFields {
  if (isSentinelUrl(redisUrl)) return sentinelOptionsFromUrl(redisUrl);
  const u = new URL(redisUrl);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: dbNumber(u.pathname.slice(1), `${u.protocol}// URL`),
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * REDIS_URL for messages and logs: the primary's password and the sentinels' own
 * (sentinelPassword=…) replaced by ***, the rest (hosts, primary name, db) kept.
 */
export function redactRedisUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/([?&]sentinelPassword=)[^&#]*/g, '$1***');
}

function dbNumber(raw: string | undefined, url: string): number {
  if (raw === undefined || raw === '') return 0;
  const db = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(db) || db > 65535) throw new RedisUrlError(`database must be a number in ${url} (got "${raw}")`);
  return db;
}

/** The WHATWG URL parser refuses a list of hosts, so the authority is split by hand. */
function sentinelOptionsFromUrl(redisUrl: string): RedisConnectionFields {
  const m = /^redis\+sentinel:\/\/(?:([^@/?#]*)@)?([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(redisUrl);
  if (!m) throw new RedisUrlError('expected redis+sentinel://[user:password@]host[:port][,host[:port]…]/masterName[/db]');
  const [, userinfo, hostList, pathPart, query] = m;
  // Never echo what may be the tail of a password in the errors below.
  if (hostList!.includes('@')) throw new RedisUrlError('redis+sentinel:// URL has an "@" in its hosts: percent-encode it (%40) in the user name or password');
  const [name, db, ...extra] = (pathPart ?? '').split('/').slice(1);
  if (!name) throw new RedisUrlError('redis+sentinel:// URL needs the primary\'s name as its path: …/mymaster');
  if (extra.length > 0) throw new RedisUrlError('redis+sentinel:// URL path is /masterName[/db]');
  const sentinels = hostList!.split(',').map((entry) => {
    const hm = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry.trim());
    if (!hm) throw new RedisUrlError(`bad sentinel address "${entry}" (host[:port])`);
    const port = hm[2] ? Number(hm[2]) : 26379;
    if (port < 1 || port > 65535) throw new RedisUrlError(`bad sentinel port in "${entry}"`);
    return { host: hm[1]!.replace(/^\[|\]$/g, ''), port };
  });
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    username = user ? decodeURIComponent(user) : undefined;
    password = colon === -1 ? undefined : decodeURIComponent(userinfo.slice(colon + 1)) || undefined;
  }
  const params = new URLSearchParams(query ?? '');
  for (const key of params.keys()) {
    if (key !== 'sentinelPassword' && key !== 'sentinelUsername') throw new RedisUrlError(`unknown redis+sentinel:// parameter "${key}"`);
  }
  return {
    sentinels,
    name: decodeURIComponent(name),
    username,
    password,
    db: dbNumber(db, 'redis+sentinel:// URL'),
    sentinelUsername: params.get('sentinelUsername') ?? undefined,
    sentinelPassword: params.get('sentinelPassword') ?? undefined,
  };
}
