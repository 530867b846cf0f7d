import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Login throttling per (username, client IP) with growing delays, in Redis so
 * every API instance sees the same counts.
 *
 * Why not a lock per account: a lock that anyone can trigger is a denial of
 * service (five requests locked any account for 15 minutes). Here a client
 * that guesses wrong only slows ITSELF down: the same account from another
 * address is unaffected.
 *
 * Why counted before the password check: every attempt is charged as a failure
 * the moment it starts, in one Lua script (atomic), and the charge is cleared
 * only by a success. So parallel attempts cannot all pass a check that reads a
 * count from before their password checks: at most `freeFailures` passwords
 * are ever checked before the first delay, however many arrive at once.
 *
 * Keyed by the username as typed (lower-cased), not the user id: unknown names
 * are throttled exactly like real ones, so the answers do not reveal which
 * accounts exist.
 */
export interface LoginThrottleOptions {
  redis: Redis;
  prefix: string;
  /** Attempts without delay; after that each failure doubles the wait. */
  freeFailures: number;
  /** Wait after the first delayed failure. */
  baseDelayMs: number;
  /** Longest wait. */
  maxDelayMs: number;
  /** How long a count is remembered after the last attempt. */
  memoryMs?: number;
  now?: () => number;
}

export type LoginAttempt = { allowed: true; ticket: string } | { allowed: false; retryAfterMs: number };

const BEGIN = `
local now = tonumber(ARGV[1])
local fails = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local notBefore = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
if notBefore > now then return {0, notBefore - now} end
fails = fails + 1
local free = tonumber(ARGV[2])
local delay = 0
if fails >= free then delay = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (fails - free)) end
redis.call('HSET', KEYS[1], 'f', fails, 'u', math.floor(now + delay))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, fails}`;

/** Pure: the wait after `failures` failures in a row (for docs and tests). */
export function loginDelayMs(failures: number, opts: Pick<LoginThrottleOptions, 'freeFailures' | 'baseDelayMs' | 'maxDelayMs'>): number {
  if (failures < opts.freeFailures) return 0;
  return Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (failures - opts.freeFailures));
}

export function createLoginThrottle(opts: LoginThrottleOptions) {
  const now = opts.now ?? Date.now;
  const memoryMs = opts.memoryMs ?? 24 * 3600_000;
  const redis = opts.redis as Redis & { mwLoginBegin(key: string, ...args: string[]): Promise<[number, number]> };
  if (typeof redis.mwLoginBegin !== 'function') redis.defineCommand('mwLoginBegin', { numberOfKeys: 1, lua: BEGIN });
  const keyOf = (username: string, ip: string) =>
    `${opts.prefix}:login:${createHash('sha256').update(`${username.toLowerCase()}\n${ip}`).digest('hex')}`;

  return {
    /** Charges one attempt (as a failure until `succeeded`), or says how long to wait. */
    async begin(username: string, ip: string): Promise<LoginAttempt> {
      const key = keyOf(username, ip);
      const [allowed, n] = await redis.mwLoginBegin(
        key,
        String(now()),
        String(opts.freeFailures),
        String(opts.baseDelayMs),
        String(opts.maxDelayMs),
        String(memoryMs),
      );
      return allowed === 1 ? { allowed: true, ticket: key } : { allowed: false, retryAfterMs: Number(n) };
    },
    /** The password was right: the (account, IP) pair starts afresh. */
    async succeeded(ticket: string): Promise<void> {
      await opts.redis.del(ticket);
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
