/**
 * Real MaskWatch processes for the fault tests, the scale-out test and
 * bench:system (not a test file itself): `node bin/maskwatch.js api|worker|agent`
 * children with their JSON log lines awaitable, plus throw-away Redis (AOF)
 * and PostgreSQL servers of their own that a test may stop and restart.
 * Readiness is always awaited on a signal (/readyz, a log line), never a sleep.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../helpers/redis-server.ts';
import { workerProcessEnv } from '../../src/system/worker-pool.ts';

const run = promisify(execFile);
export const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'maskwatch.js');
export const ASSETS = path.resolve(process.env.MASKWATCH_ASSETS || path.resolve(import.meta.dirname, '..', '..', '..', 'shared'));
export const ADMIN = { username: 'faultadmin', password: 'fault-test-password-1' };

/** Thrown by a waitFor check: stop waiting at once (the awaited state can no longer come). */
export class StopWaiting extends Error {}

/**
 * How long a test holds a camera's grouping lock to keep a job in flight. The test deletes it itself;
 * the expiry only cleans up after a failed test, so it must outlast the slowest run on a busy machine
 * (60 s was once too short: the lock expired mid-test and the held job went through).
 */
export const LOCK_HELD_MS = 600_000;

/** Polls `check` until it returns a truthy value; fails with `what` after `timeoutMs` (default 120 s: a busy 2-core machine). */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

export interface LogLine {
  msg?: string;
  level?: number;
  [key: string]: unknown;
}

/** A child process whose output lines (JSON logs or text) are recorded and awaitable. */
export class Proc {
  readonly lines: string[] = [];
  /** The lines of stdout alone (log collectors read it as JSON lines). */
  readonly stdoutLines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  constructor(readonly label: string, readonly child: ChildProcess) {
    const onLine = (line: string) => {
      this.lines.push(line);
      if (process.env.TEST_PROC_OUTPUT) process.stderr.write(`[${label} ${child.pid}] ${line}\n`);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(line)) return true;
        w.resolve(line);
        return false;
      });
    };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.stdoutLines.push(line);
      onLine(line);
    });
    createInterface({ input: child.stderr! }).on('line', onLine);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** JSON log records so far (non-JSON lines skipped). */
  logs(): LogLine[] {
    return this.lines.flatMap((l) => {
      if (!l.startsWith('{')) return [];
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });
  }

  output(last = 60): string {
    return this.lines.slice(-last).join('\n');
  }

  /** The first line (past or future) matching; rejects if the process exits first or after timeoutMs. */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs = 90_000): Promise<string> {
    const fn = typeof match === 'function' ? match : (l: string) => match.test(l);
    const seen = this.lines.find(fn);
    if (seen !== undefined) return Promise.resolve(seen);
    let timer: NodeJS.Timeout;
    return Promise.race([
      new Promise<string>((resolve) => this.waiters.push({ match: fn, resolve })),
      this.exited.then(({ code, signal }) => {
        throw new Error(`${this.label} exited (${code ?? signal}) before logging ${match}:\n${this.output()}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.label}: no line matching ${match} after ${timeoutMs} ms:\n${this.output()}`)), timeoutMs);
        timer.unref();
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Waits for a JSON log record with this msg (and optional predicate). */
  async waitForLog(msg: string, pred: (l: LogLine) => boolean = () => true, timeoutMs?: number): Promise<LogLine> {
    const line = await this.waitForLine((l) => {
      if (!l.includes(msg)) return false;
      try {
        const rec = JSON.parse(l) as LogLine;
        return rec.msg === msg && pred(rec);
      } catch {
        return false;
      }
    }, timeoutMs);
    return JSON.parse(line) as LogLine;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if still running after graceMs. */
  async stop(graceMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

export function spawnProc(label: string, command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Proc {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Proc(label, child);
}

/** Environment of one MaskWatch deployment (shared by its api, worker and agent processes). */
export interface SystemEnv {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  dataDir: string;
  /** Extra variables (thresholds, lock timings, LOG_LEVEL…). */
  extra?: Record<string, string>;
}

export function processEnv(sys: SystemEnv, more: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_OPTIONS: process.env.NODE_OPTIONS,
    DATABASE_URL: sys.databaseUrl,
    REDIS_URL: sys.redisUrl,
    MASKWATCH_QUEUE_PREFIX: sys.queuePrefix,
    MASKWATCH_DATA_DIR: sys.dataDir,
    MASKWATCH_ASSETS: ASSETS,
    MASKWATCH_ADMIN_USER: ADMIN.username,
    MASKWATCH_ADMIN_PASSWORD: ADMIN.password,
    // These tests are not about the first-login password change (security-accounts tests it).
    MASKWATCH_ADMIN_MUST_CHANGE_PASSWORD: 'false',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // A killed worker's job is recovered within seconds, not the production 30 s.
    MASKWATCH_WORKER_LOCK_MS: '3000',
    MASKWATCH_WORKER_STALLED_INTERVAL_MS: '1000',
    // Exactly-once across outages longer than the freshness bound: never skip stale frames here
    // (tests and benchmarks of freshness set MASKWATCH_MAX_FRAME_AGE_S themselves).
    MASKWATCH_MAX_FRAME_AGE_S: '0',
    // Single stills per event: snapshot cameras (1 of 1) unless a caller overrides it.
    MASKWATCH_CONFIRM_FRAMES: '1',
    MASKWATCH_CONFIRM_WINDOW: '1',
    // bench:system's A/B of the worker heap setting (system/heap-growth.ts)
    ...(process.env.MASKWATCH_WORKER_HEAP_GROWTH_PERCENT ? { MASKWATCH_WORKER_HEAP_GROWTH_PERCENT: process.env.MASKWATCH_WORKER_HEAP_GROWTH_PERCENT } : {}),
    ...sys.extra,
    ...more,
  };
}

export interface ApiProc extends Proc {
  url: string;
  port: number;
}

/** `maskwatch api` on `port` (free one by default); resolves once /readyz answers 200. */
export async function startApi(sys: SystemEnv, opts: { port?: number; label?: string; env?: Record<string, string> } = {}): Promise<ApiProc> {
  const port = opts.port ?? (await freePort());
  const proc = spawnProc(opts.label ?? `api:${port}`, process.execPath, [BIN, 'api'], processEnv(sys, { PORT: String(port), ...opts.env })) as ApiProc;
  proc.port = port;
  proc.url = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitFor(`${proc.label} /readyz`, async () => (await fetch(`${proc.url}/readyz`)).status === 200, { timeoutMs: 120_000, intervalMs: 200 }),
    proc.exited.then(({ code, signal }) => {
      throw new Error(`${proc.label} exited (${code ?? signal}) before it was ready:\n${proc.output()}`);
    }),
  ]);
  return proc;
}

/** `maskwatch worker`; resolves once it logged "worker ready" (models loaded, queue connected). */
export async function startWorker(sys: SystemEnv, opts: { concurrency?: number; label?: string; env?: Record<string, string> } = {}): Promise<Proc> {
  const proc = spawnProc(opts.label ?? 'worker', process.execPath, [BIN, 'worker', '--concurrency', String(opts.concurrency ?? 1)], workerProcessEnv(processEnv(sys, opts.env)));
  await proc.waitForLog('worker ready', undefined, 180_000);
  return proc;
}

/** `maskwatch agent` (LOG_LEVEL=debug: every accepted frame is logged with its frameId). */
export function startAgent(opts: { server: string; key: string; source: string; fps: number; spoolDir: string; spoolMax?: number; loop?: boolean; label?: string }): Proc {
  const args = [BIN, 'agent', '--server', opts.server, '--source', opts.source, '--fps', String(opts.fps), '--spool', opts.spoolDir, '--stats-interval', '1'];
  if (opts.spoolMax) args.push('--spool-max', String(opts.spoolMax));
  if (opts.loop) args.push('--loop');
  return spawnProc(opts.label ?? 'agent', process.execPath, args, {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'debug',
    MASKWATCH_CAMERA_KEY: opts.key,
  });
}

/** frameIds an agent process logged as accepted (202). */
export function acceptedFrameIds(agent: Proc): string[] {
  return agent.logs().filter((l) => l.msg === 'frame accepted' && typeof l.frameId === 'string').map((l) => l.frameId as string);
}

export async function login(api: string, user = ADMIN): Promise<string> {
  const res = await fetch(`${api}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 200 || !body.token) throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

export async function registerCamera(
  api: string,
  token: string,
  name: string,
  settings: { confirmFrames?: number; confirmWindow?: number } = {},
): Promise<{ id: string; apiKey: string }> {
  const res = await fetch(`${api}/api/v1/cameras`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name, latitude: 40.42, longitude: -3.7, zone: 'faults', ...settings }),
  });
  const body = (await res.json()) as { id: string; apiKey: string };
  if (res.status !== 201) throw new Error(`camera create failed: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** POST one frame as a camera; returns status, frameId (202) and Retry-After. */
export async function postFrame(api: string, key: string, image: Buffer, capturedAt = new Date()) {
  const res = await fetch(`${api}/api/v1/frames`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg', 'x-captured-at': capturedAt.toISOString() },
    body: image as unknown as BodyInit,
  });
  const body = (await res.json().catch(() => ({}))) as { frameId?: string };
  return { status: res.status, frameId: body.frameId ?? null, retryAfter: res.headers.get('retry-after') };
}

export interface OwnRedis {
  url: string;
  port: number;
  dir: string;
  proc: Proc;
  /** SIGKILL (a crash: with appendfsync always nothing acknowledged is lost). */
  crash(): Promise<void>;
  /** Starts it again on the same port and data dir (replays the AOF). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A redis-server of the test's own, AOF on with fsync on every write, on a
 * free port. Never the shared one on 6379.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mw-redis-'));
  const port = await freePort();
  const launch = async () => {
    const proc = spawnProc(`redis:${port}`, 'redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--loglevel', 'notice',
    ], { PATH: process.env.PATH });
    await proc.waitForLine(/Ready to accept connections/, 60_000);
    return proc;
  };
  const redis: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    proc: await launch(),
    async crash() {
      redis.proc.kill('SIGKILL');
      await redis.proc.exited;
    },
    async restart() {
      redis.proc = await launch();
    },
    async close() {
      redis.proc.kill('SIGKILL');
      await redis.proc.exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
  return redis;
}

export interface OwnPostgres {
  /** postgresql://postgres@127.0.0.1:PORT/maskwatch */
  url: string;
  port: number;
  /** pg_ctl stop -m immediate: the server dies as in a crash. */
  crash(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

async function asPostgres(cmd: string[]): Promise<string> {
  const line = cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const { stdout } = await run('su', ['postgres', '-s', '/bin/sh', '-c', line], { timeout: 120_000 });
  return stdout;
}

/** A throw-away PostgreSQL 15 cluster in a temp dir on a free port (initdb as user postgres). */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'mw-pg-'));
  await chmod(root, 0o755);
  const data = path.join(root, 'data');
  await mkdir(data);
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  await chown(root, Number(uid), Number(gid));
  await chown(data, Number(uid), Number(gid));
  const port = await freePort();
  await asPostgres([`${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const pgctl = (...args: string[]) => asPostgres([`${PG_BIN}/pg_ctl`, '-D', data, '-l', path.join(root, 'log'), ...args]);
  const start = async () => {
    // fsync off: a throw-away test cluster; listen on TCP only on 127.0.0.1, socket in our dir.
    await pgctl('-w', '-o', `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`, 'start');
  };
  await start();
  await asPostgres([`${PG_BIN}/createdb`, '-h', '127.0.0.1', '-p', String(port), 'maskwatch']);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/maskwatch`,
    port,
    async crash() {
      await pgctl('-w', '-m', 'immediate', 'stop');
    },
    start,
    async close() {
      await pgctl('-w', '-m', 'immediate', 'stop').catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Cleans up in reverse order of registration; errors are collected, not thrown early. */
export class Cleanup {
  private fns: (() => Promise<unknown> | unknown)[] = [];
  add(fn: () => Promise<unknown> | unknown): void {
    this.fns.push(fn);
  }
  proc<P extends Proc>(p: P): P {
    this.add(() => p.stop(10_000));
    return p;
  }
  async run(): Promise<void> {
    for (const fn of this.fns.reverse()) await Promise.resolve().then(fn).catch(() => undefined);
    this.fns = [];
  }
}

export { once, freePort };
