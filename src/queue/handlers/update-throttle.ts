import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * At most one alert.updated per alert per interval, across all worker processes
 * (keys in Redis), with a trailing emit so the last state always goes out: the
 * DB count is exact at every moment, the pushed count lags by at most one interval.
 * The trailing emit is a timer in the process that was throttled; if that process
 * dies inside the interval, the next update of the alert (or a page reload) catches up.
 */
export interface UpdateThrottle {
  /** An alert changed: emit now, or schedule one trailing emit. */
  changed(alertId: string): Promise<void>;
  /** An alert was just announced (alert.created): open its interval without emitting. */
  announced(alertId: string): Promise<void>;
  /** Emits pending trailing updates now and stops the timers. */
  flush(): Promise<void>;
}

export interface UpdateThrottleOptions {
  redis: Redis;
  prefix: string;
  intervalMs?: number;
  /** Loads the alert's current state and publishes alert.updated. */
  emit(alertId: string): Promise<void>;
  logger: Logger;
}

export function createUpdateThrottle(opts: UpdateThrottleOptions): UpdateThrottle {
  const intervalMs = opts.intervalMs ?? 1000;
  const windowKey = (id: string) => `${opts.prefix}:alert-update:window:${id}`;
  const trailingKey = (id: string) => `${opts.prefix}:alert-update:trailing:${id}`;
  const timers = new Map<string, NodeJS.Timeout>();

  const emitSafely = async (alertId: string) => {
    try {
      await opts.emit(alertId);
    } catch (err) {
      opts.logger.warn({ err, alertId }, 'alert.updated emit failed');
    }
  };

  const trailing = async (alertId: string) => {
    timers.delete(alertId);
    await opts.redis.del(trailingKey(alertId));
    await throttle.changed(alertId);
  };

  const throttle: UpdateThrottle = {
    async changed(alertId) {
      if ((await opts.redis.set(windowKey(alertId), '1', 'PX', intervalMs, 'NX')) === 'OK') {
        await emitSafely(alertId);
        return;
      }
      // Only one process schedules the trailing emit of a window.
      if ((await opts.redis.set(trailingKey(alertId), '1', 'PX', intervalMs * 2, 'NX')) !== 'OK') return;
      const left = Math.max(1, await opts.redis.pttl(windowKey(alertId)));
      timers.set(
        alertId,
        setTimeout(() => {
          trailing(alertId).catch((err: unknown) => opts.logger.warn({ err, alertId }, 'trailing alert.updated failed'));
        }, left),
      );
    },
    async announced(alertId) {
      await opts.redis.set(windowKey(alertId), '1', 'PX', intervalMs);
    },
    async flush() {
      const pending = [...timers.keys()];
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await Promise.all(
        pending.map(async (alertId) => {
          await opts.redis.del(trailingKey(alertId)).catch(() => undefined);
          await emitSafely(alertId);
        }),
      );
    },
  };
  return throttle;
}
