/**
 * At most one "yes" per key per interval: used to write camera.lastFrameAt at
 * most every few seconds instead of once per frame. In-memory on purpose — a
 * missed update costs only a slightly stale timestamp.
 */
export function createKeyThrottle(intervalMs: number, now: () => number = Date.now) {
  const last = new Map<string, number>();
  return {
    shouldRun(key: string): boolean {
      const t = now();
      const prev = last.get(key);
      if (prev !== undefined && t - prev < intervalMs) return false;
      last.set(key, t);
      return true;
    },
    /** Lets the next call for this key run (after a failed write). */
    reset(key: string): void {
      last.delete(key);
    },
  };
}
