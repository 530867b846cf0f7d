/**
 * Freshness over backlog: a CCTV frame is only worth analysing while it is
 * fresh. A frame older than the bound (MASKWATCH_MAX_FRAME_AGE_S) when a worker
 * takes it is skipped — its job completes without analysis — and counted, in
 * the worker's Prometheus metrics and per camera in Redis (read by the API's
 * /metrics), so overload shows as a rising skip count instead of ever later alerts.
 *
 * Age is measured from `receivedAt` (the API's clock, when it accepted the
 * frame), not the camera's `capturedAt`: camera clocks drift, and the bound is
 * about time spent queued. Frames an agent spooled during an outage are
 * therefore analysed when delivered, as the spool promises.
 */
import type { Redis } from 'ioredis';

export interface FreshnessPolicy {
  /** 0 = never skip. */
  maxAgeMs: number;
  /** Injected so tests do not depend on real time. */
  now: () => number;
}

/** How long the frame has been waiting, in ms, or null when within the bound (or the bound is off). */
export function staleByMs(receivedAt: Date, policy: FreshnessPolicy): number | null {
  if (policy.maxAgeMs <= 0) return null;
  const age = policy.now() - receivedAt.getTime();
  return age > policy.maxAgeMs ? age : null;
}

/** Redis hash: cameraId → frames skipped as stale (since the prefix was created). */
export function staleFramesKey(prefix: string): string {
  return `${prefix}:stats:stale-frames`;
}

export interface StaleFrameCounter {
  record(cameraId: string): Promise<void>;
  /** Per camera; empty when none were skipped. */
  perCamera(): Promise<Record<string, number>>;
}

export function createStaleFrameCounter(redis: Pick<Redis, 'hincrby' | 'hgetall'>, prefix: string): StaleFrameCounter {
  const key = staleFramesKey(prefix);
  return {
    async record(cameraId) {
      await redis.hincrby(key, cameraId, 1);
    },
    async perCamera() {
      const raw = await redis.hgetall(key);
      return Object.fromEntries(Object.entries(raw).map(([camera, n]) => [camera, Number(n)]));
    },
  };
}
