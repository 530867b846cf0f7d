/**
 * Many virtual cameras in one process, for demos and load tests: each is a
 * full camera agent (spool, backoff) fed from images held in memory.
 */
import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { createCameraAgent, type CameraAgent } from './camera-agent.ts';
import { openSpool } from './spool.ts';
import { memorySource } from './sources.ts';
import type { BackoffPolicy } from './backoff.ts';

export interface SimulationOptions {
  server: string | ((cameraIndex: number) => string);
  apiKeys: string[];
  images: Buffer[];
  fps: number;
  /** Stop after this long (undefined: until the signal). */
  durationMs?: number;
  spoolDir: string;
  spoolMax?: number;
  /** Each camera starts this many images further into the list (default: spread evenly). */
  offsetStep?: number;
  logger: Logger;
  signal?: AbortSignal;
  statsIntervalMs?: number;
  backoff?: BackoffPolicy;
  onAccepted?(info: { camera: number; frameId: string; capturedAt: Date; latencyMs: number }): void;
}

export interface SimulationTotals {
  cameras: number;
  sent: number;
  spooled: number;
  dropped: number;
  rejected: number;
  retried: number;
  spoolSize: number;
  unauthorized: number;
}

export function sumTotals(agents: CameraAgent[]): SimulationTotals {
  const t: SimulationTotals = { cameras: agents.length, sent: 0, spooled: 0, dropped: 0, rejected: 0, retried: 0, spoolSize: 0, unauthorized: 0 };
  for (const a of agents) {
    const s = a.stats();
    t.sent += s.sent;
    t.spooled += s.spooled;
    t.dropped += s.dropped;
    t.rejected += s.rejected;
    t.retried += s.retried;
    t.spoolSize += s.spoolSize;
    if (a.unauthorizedError) t.unauthorized += 1;
  }
  return t;
}

export async function runSimulation(opts: SimulationOptions): Promise<SimulationTotals> {
  if (opts.apiKeys.length === 0) throw new Error('simulation needs at least one camera API key');
  if (opts.images.length === 0) throw new Error('simulation needs at least one image');
  const stop = new AbortController();
  // Every camera's pacing timer listens on this one signal.
  setMaxListeners(0, stop.signal);
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = opts.durationMs !== undefined ? setTimeout(() => stop.abort(), opts.durationMs) : null;
  const step = opts.offsetStep ?? Math.max(1, Math.floor(opts.images.length / opts.apiKeys.length));
  const interval = 1000 / opts.fps;
  const agents: CameraAgent[] = [];
  const runs: Promise<unknown>[] = [];
  for (const [i, apiKey] of opts.apiKeys.entries()) {
    const dir = path.join(opts.spoolDir, `camera-${String(i + 1).padStart(3, '0')}`);
    await mkdir(dir, { recursive: true });
    const agent = createCameraAgent({
      server: typeof opts.server === 'function' ? opts.server(i) : opts.server,
      apiKey,
      spool: await openSpool(dir, opts.spoolMax ?? 100),
      logger: opts.logger.child({ camera: i + 1 }),
      backoff: opts.backoff,
      statsIntervalMs: 0,
      onAccepted: opts.onAccepted ? (info) => opts.onAccepted!({ camera: i, ...info }) : undefined,
    });
    agents.push(agent);
    // Cameras start spread over one frame interval, as real ones are not in lock-step.
    const source = memorySource(opts.images, { fps: opts.fps, loop: true, offset: i * step, signal: stop.signal, startDelayMs: (i * interval) / opts.apiKeys.length });
    runs.push(agent.run(source));
  }
  const statsTimer = setInterval(() => opts.logger.info(sumTotals(agents), 'simulation stats'), opts.statsIntervalMs ?? 10_000);
  statsTimer.unref();
  try {
    await Promise.race([new Promise((r) => stop.signal.addEventListener('abort', r, { once: true })), Promise.all(runs)]);
    await Promise.all(agents.map((a) => a.stop()));
    await Promise.allSettled(runs);
  } finally {
    clearInterval(statsTimer);
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const totals = sumTotals(agents);
  opts.logger.info(totals, 'simulation finished');
  return totals;
}
