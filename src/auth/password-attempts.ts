import type { Redis } from 'ioredis';

/**
 * Throttle of a logged-in user's own password change (the current password is
 * asked for, so a stolen token must not become a way to guess it).
 *
 * Like login throttling, every attempt is counted BEFORE the password is
 * checked, in one MULTI (atomic), and only a success clears the count: parallel
 * attempts cannot all pass a check that reads a count from before theirs. After
 * `maxAttempts` in `windowMs` the user's attempts are refused until the window
 * ends. Kept in Redis so every API instance counts together.
 */
export interface PasswordAttemptOptions {
  redis: Redis;
  prefix: string;
  maxAttempts: number;
  windowMs: number;
}

export type PasswordAttempt = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface PasswordAttempts {
  begin(userId: string): Promise<PasswordAttempt>;
  succeeded(userId: string): Promise<void>;
}

export function createPasswordAttempts(opts: PasswordAttemptOptions): PasswordAttempts {
  const keyOf = (userId: string) => `${opts.prefix}:password-change:${userId}`;
  return {
    async begin(userId) {
      const key = keyOf(userId);
      // SET NX PX starts the window on the first attempt; INCR keeps its expiry.
      const res = await opts.redis.multi().set(key, '0', 'PX', opts.windowMs, 'NX').incr(key).pttl(key).exec();
      if (!res || res.some(([err]) => err)) throw new Error('password attempt counter: Redis transaction failed');
      const count = Number(res[1]![1]);
      const ttl = Number(res[2]![1]);
      return count <= opts.maxAttempts ? { allowed: true } : { allowed: false, retryAfterMs: Math.max(1000, ttl) };
    },
    async succeeded(userId) {
      await opts.redis.del(keyOf(userId));
    },
  };
}
