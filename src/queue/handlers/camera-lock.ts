import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A short per-camera gate in Redis around the grouping step, so workers with
 * frames of one camera wait here instead of holding database connections while
 * they queue on the camera's row lock. It is an optimisation only: the grouping
 * transaction itself takes the camera's row lock (alerts repository
 * recordFrame), so correctness never depends on this lease or its expiry.
 */
export interface CameraLock {
  withLock<T>(cameraId: string, fn: () => Promise<T>): Promise<T>;
}

export class LockTimeoutError extends Error {
  constructor(readonly cameraId: string, waitedMs: number) {
    super(`camera ${cameraId} stayed locked for ${waitedMs} ms`);
    this.name = 'LockTimeoutError';
  }
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export function cameraLockKey(prefix: string, cameraId: string): string {
  return `${prefix}:lock:camera:${cameraId}`;
}

export interface CameraLockOptions {
  prefix: string;
  ttlMs?: number;
  /** Give up (the job is retried with backoff) after waiting this long. */
  waitMs?: number;
}

export function createCameraLock(redis: Redis, opts: CameraLockOptions): CameraLock {
  const ttlMs = opts.ttlMs ?? 10_000;
  const waitMs = opts.waitMs ?? 15_000;

  async function withRedisLock<T>(cameraId: string, fn: () => Promise<T>): Promise<T> {
    const key = cameraLockKey(opts.prefix, cameraId);
    const token = randomUUID();
    const started = Date.now();
    let delay = 5;
    while ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
      if (Date.now() - started > waitMs) throw new LockTimeoutError(cameraId, Date.now() - started);
      // Jittered backoff: the holder keeps it for milliseconds, so start short.
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 100);
    }
    try {
      return await fn();
    } finally {
      await redis.eval(RELEASE, 1, key, token);
    }
  }

  // Jobs of one camera in THIS process queue on a promise, in arrival order, and only the head polls
  // Redis: a burst of a camera's frames (a backlog drained newest first) would otherwise fill the job
  // slots with jobs sleeping in the backoff while the lock is free between them.
  const tails = new Map<string, Promise<void>>();
  return {
    async withLock(cameraId, fn) {
      const previous = tails.get(cameraId) ?? Promise.resolve();
      let done!: () => void;
      const released = new Promise<void>((resolve) => (done = resolve));
      const mine = previous.then(() => released);
      tails.set(cameraId, mine);
      await previous;
      try {
        return await withRedisLock(cameraId, fn);
      } finally {
        done();
        if (tails.get(cameraId) === mine) tails.delete(cameraId);
      }
    },
  };
}
