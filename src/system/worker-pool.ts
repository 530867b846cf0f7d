import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { REPO_ROOT } from '../paths.ts';

/** bin/maskwatch.js of this checkout: children run the same code as the parent. */
export const MASKWATCH_BIN = path.join(REPO_ROOT, 'bin', 'maskwatch.js');

/**
 * Environment for a worker process. glibc gives every thread (ORT, libvips)
 * its own malloc arena, and freed frame buffers stay spread over them: two
 * arenas measured ~70 MB less worker RSS under load (bench:system) at the
 * same throughput. Must be set before the process starts, hence here.
 */
export function workerProcessEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: '2', ...env };
}

export interface WorkerPoolOptions {
  count: number;
  concurrency: number;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** argv of a worker child, after the node executable (default: bin/maskwatch.js worker --concurrency N). */
  command?: string[];
  /** Restart a crashed worker after this delay, doubling up to 30 s while it keeps crashing. */
  restartDelayMs?: number;
  /** Grace period for in-flight jobs on shutdown before SIGKILL. */
  stopTimeoutMs?: number;
  /** Registers maskwatch_worker_restarts_total and maskwatch_workers_ready here (the API's /metrics). */
  registry?: Registry;
}

interface Slot {
  index: number;
  child: ChildProcess | null;
  ready: boolean;
  restarts: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Supervises `maskwatch worker` child processes for `maskwatch start`: passes
 * their log lines through, notices when each is ready (its "worker ready" log
 * line, i.e. models loaded and queue connected), restarts crashed ones with
 * backoff, and stops them gracefully (SIGTERM, then SIGKILL after a timeout).
 */
export function createWorkerPool(opts: WorkerPoolOptions) {
  const log = opts.logger.child({ component: 'worker-pool' });
  const baseDelay = opts.restartDelayMs ?? 1000;
  const slots: Slot[] = Array.from({ length: opts.count }, (_, index) => ({ index, child: null, ready: false, restarts: 0, timer: null }));
  let stopping = false;
  const restartsTotal = opts.registry
    ? new Counter({
        name: 'maskwatch_worker_restarts_total',
        help: 'Worker processes restarted by the supervisor after they exited unexpectedly',
        registers: [opts.registry],
      })
    : undefined;
  if (opts.registry) {
    new Gauge({
      name: 'maskwatch_workers_ready',
      help: 'Supervised worker processes that are ready (read at scrape time)',
      registers: [opts.registry],
      collect() {
        this.set(slots.filter((s) => s.ready).length);
      },
    });
  }

  function launch(slot: Slot) {
    const args = opts.command ?? [MASKWATCH_BIN, 'worker', '--concurrency', String(opts.concurrency)];
    // detached: own process group, so a terminal's Ctrl-C reaches only the parent, which then
    // stops the workers once, in order (a worker treats a second signal as "exit now").
    const child = spawn(process.execPath, args, {
      env: workerProcessEnv(opts.env ?? process.env),
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      detached: true,
    });
    slot.child = child;
    slot.ready = false;
    log.info({ worker: slot.index, pid: child.pid }, 'worker process started');
    const markReady = () => {
      if (slot.ready) return;
      slot.ready = true;
      slot.restarts = 0;
      log.info({ worker: slot.index, pid: child.pid }, 'worker ready');
    };
    // Ready = models loaded and queue connected: an IPC {type:'ready'} message if the worker
    // sends one, else its info-level "worker ready" log line.
    child.on('message', (m: unknown) => {
      if ((m as { type?: unknown } | null)?.type === 'ready') markReady();
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      process.stdout.write(line + '\n');
      if (line.includes('"worker ready"')) markReady();
    });
    child.once('exit', (code, signal) => {
      slot.child = null;
      slot.ready = false;
      if (stopping) return;
      const delay = Math.min(baseDelay * 2 ** slot.restarts, 30_000);
      slot.restarts += 1;
      log.error({ worker: slot.index, code, signal, restartInMs: delay }, 'worker process exited; restarting');
      slot.timer = setTimeout(() => {
        slot.timer = null;
        if (stopping) return;
        restartsTotal?.inc();
        launch(slot);
      }, delay);
    });
  }

  return {
    start() {
      for (const slot of slots) launch(slot);
    },
    readyCount(): number {
      return slots.filter((s) => s.ready).length;
    },
    pids(): number[] {
      return slots.flatMap((s) => (s.child?.pid ? [s.child.pid] : []));
    },
    /** SIGTERM every worker (they finish in-flight jobs), SIGKILL those still running after the timeout. */
    async stop(): Promise<void> {
      stopping = true;
      const timeout = opts.stopTimeoutMs ?? 30_000;
      await Promise.all(
        slots.map(async (slot) => {
          if (slot.timer) clearTimeout(slot.timer);
          const child = slot.child;
          if (!child || child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          const killer = setTimeout(() => {
            log.warn({ worker: slot.index, pid: child.pid }, 'worker did not stop in time; killing it');
            child.kill('SIGKILL');
          }, timeout);
          await exited;
          clearTimeout(killer);
        }),
      );
    },
  };
}

export type WorkerPool = ReturnType<typeof createWorkerPool>;
