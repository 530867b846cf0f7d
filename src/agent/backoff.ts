/**
 * Retry timing for the camera agent: exponential backoff with full jitter
 * (AWS architecture blog's "full jitter": random in [0, min(cap, base·2^n)]),
 * so many cameras that lost the server together do not come back together.
 * Pure: the random source and clock are parameters.
 */
export interface BackoffPolicy {
  /** Ceiling of the first retry's delay. */
  baseMs: number;
  /** Largest ceiling, however many attempts failed. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 30_000 };

export function validateBackoff(policy: BackoffPolicy): BackoffPolicy {
  if (!(policy.baseMs > 0) || !(policy.maxMs >= policy.baseMs)) {
    throw new RangeError(`backoff needs 0 < baseMs <= maxMs, got base ${policy.baseMs}, max ${policy.maxMs}`);
  }
  return policy;
}

/** Delay before retry number `attempt` (0 = first retry): uniform in [0, min(max, base·2^attempt)). */
export function fullJitterDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  // 2^attempt overflows to Infinity for large attempts; min() keeps the cap.
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 60));
  return Math.floor(random() * ceiling);
}

/**
 * Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date. Returns
 * milliseconds to wait (never negative), or null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // HTTP dates name the day and month; a bare "-3" is not a date.
  if (!/[a-z]/i.test(trimmed)) return null;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/**
 * Delay before the next attempt: the server's Retry-After is a floor; the
 * jitter is added on top so cameras told "5 s" together still spread out.
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | null,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const jitter = fullJitterDelay(attempt, policy, random);
  return retryAfterMs === null ? jitter : retryAfterMs + jitter;
}
