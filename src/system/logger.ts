import pino, { type Logger } from 'pino';
import type { Config } from '../config/config.ts';

/** The process logger: JSON lines on stdout (pipe through pino-pretty to read them). */
export function createLogger(config: Pick<Config, 'logLevel'>, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid, ...bindings } });
}
