import pino, { type Logger } from 'pino';
import type { Config } from '../config/config.ts';

/** The process logger: JSON lines on stdout (pipe through pino-pretty to read them). */
export function createLogger(config: Pick<Config, 'logLevel'>, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid, ...bindings } });
}

/** How often a connection-error log line may repeat while Redis is away. */
export const REDIS_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * `log` at most once every `intervalMs` (default 10 s): Redis being away produces
 * an error per reconnect attempt and per client (often several a second), which
 * would otherwise flood the log during an outage. The calls in between are dropped
 * and counted; the next line that gets through carries that count as `suppressed`.
 */
export function onceEvery(log: (err: Error, suppressed: number) => void, intervalMs = REDIS_ERROR_LOG_INTERVAL_MS, now: () => number = Date.now): (err: Error) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (err: Error) => {
    const t = now();
    if (t - last < intervalMs) {
      suppressed += 1;
      return;
    }
    last = t;
    log(err, suppressed);
    suppressed = 0;
  };
}
