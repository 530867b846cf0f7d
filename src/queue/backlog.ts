import type { Redis } from 'ioredis';

/**
 * Frames accepted but not yet finished, per camera: a Redis sorted set
 * `${prefix}:backlog:<cameraId>` of frameIds scored by accept time.
 *
 * Contract between the API and the workers:
 *   - the API calls `reserve(cameraId, frameId)` before storing/enqueuing a frame,
 *     and `release` if it then fails to enqueue;
 *   - the worker calls `release(cameraId, frameId)` once the job reached a final
 *     state (completed, or failed with no attempts left).
 * A set (not a counter) makes release idempotent — a retried or recovered job
 * released twice counts once — and entries older than `staleAfterMs` are pruned,
 * so a crash between reserve and release cannot leak capacity forever.
 */
export interface FrameBacklog {
  /** Atomically adds the frame unless the camera already has `max` frames waiting. */
  reserve(cameraId: string, frameId: string, max: number): Promise<{ accepted: boolean; size: number }>;
  release(cameraId: string, frameId: string): Promise<void>;
  size(cameraId: string): Promise<number>;
}

const RESERVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then return -n end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return n + 1`;

export function backlogKey(prefix: string, cameraId: string): string {
  return `${prefix}:backlog:${cameraId}`;
}

export function createFrameBacklog(
  redis: Redis,
  opts: { prefix: string; staleAfterMs?: number; now?: () => number },
): FrameBacklog {
  const staleAfterMs = opts.staleAfterMs ?? 15 * 60_000;
  const now = opts.now ?? Date.now;
  return {
    async reserve(cameraId, frameId, max) {
      const t = now();
      const n = (await redis.eval(
        RESERVE,
        1,
        backlogKey(opts.prefix, cameraId),
        String(t - staleAfterMs),
        String(t),
        String(max),
        frameId,
        String(staleAfterMs),
      )) as number;
      return n < 0 ? { accepted: false, size: -n } : { accepted: true, size: n };
    },
    async release(cameraId, frameId) {
      await redis.zrem(backlogKey(opts.prefix, cameraId), frameId);
    },
    async size(cameraId) {
      return redis.zcard(backlogKey(opts.prefix, cameraId));
    },
  };
}
