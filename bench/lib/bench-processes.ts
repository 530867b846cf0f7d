/**
 * What the process benchmarks (bench:ingest, bench:security) share: starting a
 * `maskwatch` child and waiting for its ready line, stopping it, calling the
 * JSON API, removing a run's Redis keys, and a dashboard's view of new alerts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import { MASKWATCH_BIN } from '../../src/system/worker-pool.ts';

/** Starts `maskwatch ...args` and resolves when a stdout line matches `readyPattern` (rejects if it exits first). */
export function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  readyPattern: RegExp,
  nodeArgs: string[] = [],
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...nodeArgs, MASKWATCH_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`maskwatch ${args[0]} exited with ${code}`)));
    // Log records come on stdout, the start-up summary (the URL) on stderr, which is passed on as it was.
    const onLine = (line: string) => {
      const m = readyPattern.exec(line);
      if (m) resolve({ child, match: m });
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      process.stderr.write(`${line}\n`);
      onLine(line);
    });
  });
}

/** SIGTERM, then wait for the exit (no-op if already gone). */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** A JSON API call; throws with the problem body on a non-2xx answer. */
export async function json<T>(url: string, init: RequestInit & { token?: string; body?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(url, { ...init, headers });
  const body = (await res.json()) as T;
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Deletes every Redis key under `prefix:` (key caches and backlog entries would only expire later). */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** alert.created as a dashboard sees it: each alert with the time it arrived here. Resolves once connected. */
export async function watchCreatedAlerts(url: string, token: string): Promise<{ created: { alert: AlertEvent; at: number }[]; close(): void }> {
  const socket: Socket<ServerToClientEvents> = io(url, { auth: { token }, transports: ['websocket'] });
  const created: { alert: AlertEvent; at: number }[] = [];
  socket.on('alert.created', (alert) => created.push({ alert, at: Date.now() }));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  } catch (err) {
    socket.close();
    throw err;
  }
  return { created, close: () => socket.close() };
}
