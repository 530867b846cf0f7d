import { createUserRepository } from '../db/repositories/users.ts';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { envFlag, loadConfigOrReport } from '../config/config.ts';
import { openDatabase } from '../db/client.ts';
import type { ReadinessCheck } from '../api/context.ts';
import { createLogger } from './logger.ts';
import { checkRedis, RedisUnavailableError } from './redis-check.ts';
import { startApiInstance } from './api-instance.ts';
import { createWorkerPool, type WorkerPool } from './worker-pool.ts';
import { watchParent } from './parent-watch.ts';
import { REPO_ROOT } from '../paths.ts';

/** The built dashboard (vite build output), served at / when present. */
export const WEB_ROOT = path.join(REPO_ROOT, 'src', 'web', 'dist');

export interface ServeOptions {
  /** Worker child processes to run beside the API (0 for `maskwatch api`). */
  workers: number;
  concurrency: number;
  /** Overrides of environment variables from command-line flags (e.g. PORT). */
  env?: Record<string, string>;
  /** Where the start-up summary for people goes (stderr: stdout carries only the JSON log lines). */
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  /** Resolves when the process should stop (default: first SIGTERM / SIGINT). */
  stopSignal?: Promise<string>;
}

/**
 * The first SIGTERM / SIGINT or, when `exitWithParent`, the parent's death. Under `npm start` (or npx) the
 * parent is npm's shell, which dies on SIGTERM without passing it on: without this, a process manager
 * stopping `npm start` would leave this process and its workers running.
 */
function waitForStop(exitWithParent: boolean, logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    const stopWatching = exitWithParent
      ? watchParent({
          pollPpid: true,
          onParentExit(how) {
            logger.warn({ how }, 'parent process (npm) is gone; stopping');
            stop('parent-exit');
          },
        })
      : () => undefined;
    const on = (signal: NodeJS.Signals) => stop(signal);
    function stop(reason: string) {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      stopWatching();
      // A second signal means "now".
      process.once('SIGTERM', () => process.exit(130));
      process.once('SIGINT', () => process.exit(130));
      resolve(reason);
    }
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/**
 * `maskwatch start` / `maskwatch api`: validate config, check Redis, open and
 * migrate the database, create the first admin, start the API (+ workers),
 * then run until SIGTERM/SIGINT and shut down in order. Returns the exit code.
 */
export async function serve(opts: ServeOptions): Promise<number> {
  const out = opts.out ?? process.stderr;
  const err = opts.err ?? process.stderr;
  const env = { ...process.env, ...opts.env };
  const config = loadConfigOrReport(err, env);
  if (!config) return 1;
  const logger: Logger = createLogger(config, { service: opts.workers > 0 ? 'start' : 'api' });
  try {
    await checkRedis(config.redisUrl);
  } catch (e) {
    if (e instanceof RedisUnavailableError) {
      err.write(`maskwatch: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const db = await openDatabase(config.databaseUrl, { logger, poolSize: config.databasePoolSize });

  let pool: WorkerPool | null = null;
  // The supervisor's own metrics (worker restarts) are served by the API's /metrics.
  const metricsRegistry = new Registry();
  const readinessChecks: ReadinessCheck[] = [];
  if (opts.workers > 0) {
    // Children read the same environment (incl. flag overrides), so they share database, Redis and data dir.
    pool = createWorkerPool({ count: opts.workers, concurrency: opts.concurrency, logger, env, registry: metricsRegistry });
    const p = pool;
    readinessChecks.push({
      name: 'workers',
      check() {
        const ready = p.readyCount();
        if (ready < 1) throw new Error(`0 of ${opts.workers} workers ready (loading models?)`);
      },
    });
    pool.start();
  }

  let api;
  try {
    api = await startApiInstance({ config, logger, db, readinessChecks, metricsRegistry, webRoot: existsSync(WEB_ROOT) ? WEB_ROOT : undefined });
  } catch (e) {
    await pool?.stop();
    await db.close();
    throw e;
  }
  const users = await createUserRepository(db.prisma).count();
  const lines = [
    `MaskWatch ${opts.workers > 0 ? `running with ${opts.workers} worker process(es)` : 'API instance running'}`,
    `  API + dashboard  ${api.url}/`,
    `  OpenAPI docs     ${api.url}/docs`,
    `  health           ${api.url}/readyz   metrics ${api.url}/metrics`,
    `  data dir         ${config.dataDir}`,
  ];
  if (users === 0) {
    lines.push(
      '',
      'No users yet. Create the first admin with either:',
      '  MASKWATCH_ADMIN_USER=admin MASKWATCH_ADMIN_PASSWORD=<12+ chars> npm start',
      '  npx maskwatch users add --username admin --role ADMIN',
    );
  }
  lines.push('', 'Register a camera: POST /api/v1/cameras (admin token) → apiKey; then POST frames to /api/v1/frames.', 'Stop with Ctrl-C.');
  out.write(lines.join('\n') + '\n');

  // npm sets npm_lifecycle_event for the scripts it runs (npm start, npx).
  const exitWithParent = env.npm_lifecycle_event !== undefined || envFlag(env, 'MASKWATCH_EXIT_WITH_PARENT');
  const signal = await (opts.stopSignal ?? waitForStop(exitWithParent, logger));
  logger.info({ signal }, 'shutting down');
  // Stop taking frames first, then let workers finish what is queued in-flight.
  await api.close();
  await pool?.stop();
  await db.close();
  logger.info('stopped');
  return 0;
}
