/**
 * Frame pacing: ticks at a fixed rate on an absolute schedule (no drift).
 * A consumer that falls behind skips the missed ticks, as a camera does:
 * it never queues old frames.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export function validateFps(fps: number): number {
  if (!Number.isFinite(fps) || fps <= 0 || fps > 120) throw new RangeError(`fps must be within (0, 120], got ${fps}`);
  return fps;
}

/** Index of the next tick due at or after `elapsedMs` (pure). */
export function nextTickIndex(elapsedMs: number, intervalMs: number, lastIndex: number): number {
  return Math.max(lastIndex + 1, Math.ceil(elapsedMs / intervalMs));
}

export async function* ticker(fps: number, signal?: AbortSignal, startDelayMs = 0): AsyncGenerator<number> {
  const interval = 1000 / validateFps(fps);
  const start = performance.now() + startDelayMs;
  let index = -1;
  while (!signal?.aborted) {
    index = nextTickIndex(performance.now() - start, interval, index);
    const wait = start + index * interval - performance.now();
    if (wait > 0) {
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        return;
      }
    }
    yield index;
  }
}
