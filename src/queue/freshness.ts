/**
 * Freshness over backlog: a CCTV frame is only worth analysing while it is
 * fresh. A frame older than the bound (MASKWATCH_MAX_FRAME_AGE_S) when a worker
 * takes it is skipped — its job completes without analysis — and counted, in
 * the worker's Prometheus metrics and per camera in Redis (read by the API's
 * /metrics), so overload shows as a rising skip count instead of ever later alerts.
 *
 * Age is measured from the earlier of `capturedAt` (the camera's clock) and
 * `receivedAt` (the API's): the bound is on the delay from the scene to the
 * alert, so a frame an agent kept in its spool during an outage and delivered
 * later is stale too (the agent already drops its oldest frames first). A camera
 * clock running behind shows as that camera's stale count rising — check its
 * NTP; clocks running ahead cannot shorten the age (receivedAt caps it).
 */
import type { Redis } from 'ioredis';

export interface FreshnessPolicy {
  /** 0 = never skip. */
  maxAgeMs: number;
  /** Injected so tests do not depend on real time. */
  now: () => number;
}

/**
 * The frame's age in ms when it is too old, else null (also when the bound is off). Too old = its age plus
 * `expectedHandlingMs` (what handling it will likely take, see createHandlingTimeEstimate) passes the bound:
 * the bound is on the delay to the alert, not to the start of the analysis.
 */
export function staleByMs(frame: { captured: Date; received: Date }, policy: FreshnessPolicy, expectedHandlingMs = 0): number | null {
  if (policy.maxAgeMs <= 0) return null;
  const age = policy.now() - Math.min(frame.captured.getTime(), frame.received.getTime());
  return age + expectedHandlingMs > policy.maxAgeMs ? age : null;
}

/**
 * How long handling a job takes lately, per handler: the longest of its last `size` handled jobs. Not a
 * percentile: the bound is a promise, and the slow jobs (those that create alerts) are the ones it is about.
 */
export function createHandlingTimeEstimate(size = 50) {
  const recent: number[] = [];
  return {
    observe(ms: number): void {
      recent.push(ms);
      if (recent.length > size) recent.shift();
    },
    /** 0 until a job was handled. */
    expectedMs(): number {
      if (recent.length === 0) return 0;
      return Math.max(...recent);
    },
  };
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
