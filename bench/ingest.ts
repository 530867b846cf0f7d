/**
 * `npm run bench:ingest`: frame ingestion throughput and end-to-end alert latency.
 *
 * 1. Throughput: one `maskwatch api` process (SQLite, local Redis, unique queue
 *    prefix), autocannon POSTing a ~50 KB JPEG from 20 cameras; no worker, so
 *    storing the file + enqueueing is the only side effect. Reports accepted
 *    frames/s and latency percentiles.
 * 2. End-to-end: plus one `maskwatch worker`; a dispatcher Socket.IO client
 *    connected to the API; at light load (one frame at a time, each from a new
 *    camera so each is a new alert) the time from POST to `alert.created`.
 * Prints a table and writes reports/bench-ingest.json. Options (env):
 *   BENCH_DURATION_S (10), BENCH_CONNECTIONS (32), BENCH_E2E_FRAMES (30), BENCH_CAMERAS (20)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import type { ChildProcess } from 'node:child_process';
import { io as connect } from 'socket.io-client';
import { defaultAssetsDir } from '../src/config/config.ts';
import { deleteKeys, json, startChild, stopChild } from './lib/bench-processes.ts';
import { percentile } from '../src/agent/stats.ts';
import { QUEUES } from '../src/queue/jobs.ts';
import type { AlertEvent, ServerToClientEvents } from '../src/realtime/events.ts';
import type { Socket } from 'socket.io-client';

const DURATION = Number(process.env.BENCH_DURATION_S || 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 32);
const E2E_FRAMES = Number(process.env.BENCH_E2E_FRAMES || 30);
const CAMERAS = Number(process.env.BENCH_CAMERAS || 20);
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const ASSETS = process.env.MASKWATCH_ASSETS || defaultAssetsDir();
// A ~50 KB JPEG of one unmasked face: the same file serves both phases.
const FRAME = readFileSync(path.join(ASSETS, 'datasets/chandrikadeb7/without_mask/2020-06-23-120107.jpg'));
const ADMIN = { username: 'bench-admin', password: 'bench-admin-password' };

/** user+system CPU seconds of a process (Linux /proc), to report CPU per frame: robust on a shared machine. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'maskwatch-bench-'));
  const prefix = `mwbench-${process.pid}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    MASKWATCH_DATA_DIR: dataDir,
    DATABASE_URL: `file:${dataDir}/bench.db`,
    REDIS_URL,
    MASKWATCH_QUEUE_PREFIX: prefix,
    MASKWATCH_ASSETS: ASSETS,
    MASKWATCH_MAX_CAMERA_BACKLOG: '1000000',
    // 100 frames/s per camera here, far above a real camera's default limit (50 per 10 s).
    MASKWATCH_RATE_PER_CAMERA: '100000000',
    MASKWATCH_ADMIN_USER: ADMIN.username,
    MASKWATCH_ADMIN_PASSWORD: ADMIN.password,
    // A benchmark logs in as the first admin and uses the API at once (no first-login password change).
    MASKWATCH_ADMIN_MUST_CHANGE_PASSWORD: 'false',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'warn',
  };
  let api: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  const queue = new Queue(QUEUES.frames, { connection: { url: REDIS_URL }, prefix });
  try {
    // BENCH_API_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the API process only.
    const nodeArgs = (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const started = await startChild(['api'], env, /API \+ dashboard\s+(http:\/\/\S+?)\/?$/, nodeArgs);
    api = started.child;
    const base = started.match[1]!;
    const { token } = await json<{ token: string }>(`${base}/api/v1/auth/login`, { method: 'POST', body: JSON.stringify(ADMIN) });
    const newCamera = (i: number) =>
      json<{ id: string; apiKey: string }>(`${base}/api/v1/cameras`, { method: 'POST', token, body: JSON.stringify({ name: `bench-${i}`, latitude: 52 + i / 1000, longitude: 13, confirmFrames: 1, confirmWindow: 1 }) });
    const keys: string[] = [];
    for (let i = 0; i < CAMERAS; i++) keys.push((await newCamera(i)).apiKey);

    // Phase 1: throughput.
    process.stderr.write(`throughput: ${DURATION}s, ${CONNECTIONS} connections, ${(FRAME.length / 1024).toFixed(1)} KB JPEG, ${CAMERAS} cameras\n`);
    const cpuBefore = cpuSeconds(api.pid!);
    // `warmup` exists in autocannon 8+ but not in its type definitions.
    const result = await autocannon({
      url: `${base}/api/v1/frames`,
      connections: CONNECTIONS,
      duration: DURATION,
      // JIT and connection warm-up, not counted.
      warmup: { connections: CONNECTIONS, duration: 2 },
      requests: keys.map((key) => ({
        method: 'POST' as const,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' },
        body: FRAME,
      })),
    } as autocannon.Options);
    const accepted = result['2xx'];
    // Includes the 2 s warm-up's frames and CPU alike: the ratio stays fair.
    const waitingAfter = await queue.getWaitingCount();
    const apiCpuMsPerFrame = ((cpuSeconds(api.pid!) - cpuBefore) * 1000) / Math.max(1, waitingAfter);
    const throughput = {
      durationS: DURATION,
      connections: CONNECTIONS,
      frameBytes: FRAME.length,
      cameras: CAMERAS,
      accepted,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      acceptedPerSecond: Math.round(accepted / DURATION),
      apiCpuMsPerFrame: Number(apiCpuMsPerFrame.toFixed(3)),
      /** Frames/s one fully available core could accept at that CPU cost. */
      capacityPerCore: Math.round(1000 / apiCpuMsPerFrame),
      loadAverage1m: os.loadavg()[0],
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    };
    process.stderr.write(`jobs waiting in Redis after phase 1: ${waitingAfter}\n`);
    // Drop the backlog so the worker of phase 2 starts from an empty queue.
    await queue.obliterate({ force: true });
    process.stderr.write('end-to-end: starting one worker\n');

    // Phase 2: end-to-end latency with one worker.
    // Readiness is read from the worker's info-level "worker ready" log line.
    const w = await startChild(['worker'], { ...env, LOG_LEVEL: 'info' }, /"worker ready"/);
    worker = w.child;
    const socket: Socket<ServerToClientEvents> = connect(base, { auth: { token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const waiters = new Map<string, (a: AlertEvent) => void>();
    socket.on('alert.created', (a) => waiters.get(a.cameraId)?.(a));
    const latencies: number[] = [];
    let missed = 0;
    // Warm-up frame: the first inference pays one-off costs (allocations, caches).
    const warm = await newCamera(10_000);
    await fetch(`${base}/api/v1/frames`, { method: 'POST', headers: { authorization: `Bearer ${warm.apiKey}`, 'content-type': 'image/jpeg' }, body: FRAME });
    for (let i = 0; i < E2E_FRAMES; i++) {
      const cam = await newCamera(20_000 + i);
      const got = new Promise<AlertEvent | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 5_000);
        waiters.set(cam.id, (a) => {
          clearTimeout(timer);
          resolve(a);
        });
      });
      const t0 = performance.now();
      const res = await fetch(`${base}/api/v1/frames`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cam.apiKey}`, 'content-type': 'image/jpeg' },
        body: FRAME,
      });
      if (res.status !== 202) throw new Error(`frame refused: ${res.status} ${await res.text()}`);
      const alert = await got;
      if (alert) latencies.push(performance.now() - t0);
      else missed++;
      waiters.delete(cam.id);
    }
    socket.close();
    process.stderr.write(`end-to-end: ${latencies.length} alerts for ${E2E_FRAMES} frames\n`);
    latencies.sort((a, b) => a - b);
    const e2e = {
      frames: E2E_FRAMES,
      alerts: latencies.length,
      missed,
      latencyMs: {
        p50: Math.round(percentile(latencies, 50) ?? NaN),
        p95: Math.round(percentile(latencies, 95) ?? NaN),
        max: Math.round(latencies[latencies.length - 1] ?? NaN),
      },
    };

    const report = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version },
      throughput,
      endToEnd: e2e,
      targets: { acceptedPerSecond: 2000, endToEndP95Ms: 300 },
    };
    mkdirSync('reports', { recursive: true });
    writeFileSync('reports/bench-ingest.json', JSON.stringify(report, null, 2) + '\n');
    const rows = [
      ['metric', 'value', 'target'],
      ['accepted frames/s', String(throughput.acceptedPerSecond), '≥ 2000'],
      ['API CPU per frame (ms)', String(throughput.apiCpuMsPerFrame), ''],
      ['→ frames/s per free core', String(throughput.capacityPerCore), ''],
      ['load average (1 min)', os.loadavg()[0]!.toFixed(1), ''],
      ['ingest latency p50 / p99 (ms)', `${throughput.latencyMs.p50} / ${throughput.latencyMs.p99}`, ''],
      ['non-2xx / errors', `${throughput.non2xx} / ${throughput.errors}`, '0 / 0'],
      ['frame → alert.created p50 (ms)', String(e2e.latencyMs.p50), ''],
      ['frame → alert.created p95 (ms)', String(e2e.latencyMs.p95), '≤ 300'],
      ['alerts received / frames', `${e2e.alerts} / ${e2e.frames}`, ''],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) process.stdout.write(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ') + '\n');
    process.stdout.write('written: reports/bench-ingest.json\n');
  } finally {
    await stopChild(worker);
    await stopChild(api);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await deleteKeys(REDIS_URL, prefix); // key cache and backlog entries would only expire later
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench:ingest failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
