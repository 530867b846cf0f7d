/**
 * `npm run bench:system:edge`: edge mode (issue 14 item 3) — the central side
 * of `maskwatch agent --analyze` as processes: ONE API and ONE worker on the
 * local Redis (own prefix) and PostgreSQL (own schema), N simulated edge
 * cameras × F fps posting detections to POST /api/v1/detections.
 *
 * 1. Precompute, once, real detections with the real engine (the agent's code
 *    path, createEdgeAnalyzer) from real photos: crops for the violating faces.
 *    The agents' analysis cost is measured here, apart from the central cost
 *    (engine + crop ms per frame, CPU-ms per frame of this process).
 * 2. Simulate N cameras, each sending its frame stream at F fps (evenly phased),
 *    from this process; measure detection → alert.created (socket client, like
 *    bench/system.ts: alert.created minus the capture time of the frame that
 *    opened it), accepted / refused uploads, queue depth and the API + worker
 *    CPU time per camera per second.
 * 3. Search the largest N held: p95 ≤ --p95-ms (default 1 s), no upload skipped as
 *    stale, backlog cleared. Writes reports/bench-system-edge.json, .md and .png.
 *
 * Two mixes of frames (--mix, both by default, each on fresh processes; the mix
 * decides how much database work each camera costs and is printed with the figures):
 *
 * - stress: per camera the stream cycles through --cycle frames: one frame whose
 *   face is unmasked (a violation: crop uploaded, a new alert every cycle because
 *   the alert cooldown is 1 s and people are confirmed on 1 frame), --masked frames
 *   of masked faces (a job each only within the incident window after the camera's last
 *   violation, where they may continue a track; nothing is stored), and the rest empty (no job). At 1,000 cameras × 2 fps that is 100 new alerts per second.
 * - city: the deployment's defaults (incident window 60 s, k of n confirmation as
 *   domain/people.ts DEFAULT_CONFIRMATION); at each camera a violator appears every
 *   --city-violator-every seconds (cameras evenly phased) and stays
 *   --city-violator-frames frames (one track, one alert); otherwise people with
 *   masks pass by in 3-second visits (--city-masked share of the time), and the
 *   rest of the frames are empty.
 *
 *   npm run bench:system:edge -- [--mix stress,city] [--fps 2] [--duration 20] [--search 20,50,100,200,400,700,1000,1300,1600,2000,2500] [--max-frame-age 10]
 *                                [--p95-ms 1000] [--cycle 20] [--masked 4] [--stress-in-step] [--city-masked 0.3]
 *                                [--city-violator-every 180] [--city-violator-frames 6]
 *                                [--concurrency 2] [--detections-concurrency 8] [--warmup 10] [--out reports]
 */
import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { createCamera, login, virtualCamera } from '../src/agent/admin-client.ts';
import { createEdgeAnalyzer } from '../src/agent/edge-analysis.ts';
import { percentile } from '../src/agent/stats.ts';
import type { DetectionsRequest } from '../src/contracts/api.ts';
import { loadConfig } from '../src/config/config.ts';
import { DEFAULT_CONFIRMATION } from '../src/domain/people.ts';
import { watchCreatedAlerts } from './lib/bench-processes.ts';
import { edgePlotSvg } from './lib/edge-plot.ts';
import { createStaleFrameCounter } from '../src/queue/freshness.ts';
import { DEFAULT_DETECTIONS_CONCURRENCY, QUEUES } from '../src/queue/jobs.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import { createVisionEngine } from '../src/vision/engine.ts';
import { visionEngineOptions } from '../src/config/vision-engine.ts';
import { ADMIN, ASSETS, startApi, startWorker, type Proc } from '../test/faults/processes.ts';
import { createFaultEnv } from '../test/faults/support.ts';

export const EDGE_MIXES = ['stress', 'city'] as const;
export type EdgeMix = (typeof EDGE_MIXES)[number];

export interface EdgeBenchOptions {
  /** Frame mixes run, each with its own search on fresh processes (see the header). */
  mixes: EdgeMix[];
  fps: number;
  durationS: number;
  /** Camera counts tried in order; the search stops at the first one not sustained. */
  search: number[];
  p95LimitMs: number;
  /** Frames per camera cycle: 1 violating, `masked` with masked faces, the rest empty. */
  cycle: number;
  masked: number;
  /**
   * Stress mix: every camera at the same point of its cycle, so all cameras open their incidents in the same
   * frame interval (a burst every cycle, the worst case); by default the cycles are spread over the cameras,
   * so new incidents arrive at the mix's steady rate.
   */
  stressInStep: boolean;
  /** City mix: share of the time someone with a mask is in view (3-second visits). */
  cityMaskedShare: number;
  /** City mix: a violator appears at each camera every this many seconds… */
  cityViolatorEveryS: number;
  /** …and stays this many frames. */
  cityViolatorFrames: number;
  /** Frame jobs one worker process runs at once (`maskwatch worker --concurrency`; frames queue, idle here). */
  concurrency: number;
  /** Detections jobs one worker process runs at once (MASKWATCH_DETECTIONS_CONCURRENCY; database work, not inference). */
  detectionsConcurrency: number;
  drainTimeoutS: number;
  /** MASKWATCH_MAX_FRAME_AGE_S of the worker: the deployment's freshness bound (0 = off). */
  maxFrameAgeS: number;
  /** Cameras of the unreported warm-up step (0 = none). */
  warmupCameras: number;
  out: string;
  log?: (msg: string) => void;
}

export const DEFAULT_EDGE_BENCH: EdgeBenchOptions = {
  mixes: [...EDGE_MIXES],
  fps: 2,
  durationS: 20,
  search: [20, 50, 100, 200, 400, 700, 1000, 1300, 1600, 2000, 2500],
  p95LimitMs: 1000,
  cycle: 20,
  masked: 4,
  stressInStep: false,
  cityMaskedShare: 0.3,
  cityViolatorEveryS: 180,
  cityViolatorFrames: 6,
  concurrency: 2,
  detectionsConcurrency: DEFAULT_DETECTIONS_CONCURRENCY,
  drainTimeoutS: 20,
  maxFrameAgeS: 10,
  warmupCameras: 10,
  out: 'reports',
};

/** CPU seconds of a process from /proc (Linux). */
async function cpuSeconds(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ 100
  } catch {
    return null;
  }
}

interface Precomputed {
  violating: DetectionsRequest[];
  masked: DetectionsRequest[];
  empty: DetectionsRequest;
  agent: { frames: number; engineMsMean: number; engineMsP50: number | null; engineMsP95: number | null; cropMsMean: number; cpuMsPerFrame: number; images: string[] };
}

/** Real detections from real photos, through the agent's own analyser (createEdgeAnalyzer). */
async function precompute(log: (m: string) => void): Promise<Precomputed> {
  const config = loadConfig({ ...process.env, MASKWATCH_ASSETS: ASSETS });
  const engine = await createVisionEngine(visionEngineOptions(config, { intraOpThreads: 1 }));
  const ds = path.join(ASSETS, 'datasets');
  const pick = async (dir: string, n: number) => (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort().slice(0, n).map((f) => path.join(dir, f));
  const unmaskedFiles = await pick(path.join(ds, 'prajna', 'without_mask'), 4);
  const maskedFiles = await pick(path.join(ds, 'chandrikadeb7', 'with_mask'), 8);
  const analyze = createEdgeAnalyzer(engine, { maxPixels: config.ingest.maxFramePixels });
  const engineMs: number[] = [];
  const cropMs: number[] = [];
  const violating: DetectionsRequest[] = [];
  const masked: DetectionsRequest[] = [];
  let empty: DetectionsRequest | null = null;
  const cpu0 = process.cpuUsage();
  try {
    // Warm-up (first-call ONNX allocations are not an agent's steady state).
    await analyze(await readFile(unmaskedFiles[0]!), new Date());
    const rounds = 3;
    for (let r = 0; r < rounds; r++) {
      for (const file of [...unmaskedFiles, ...maskedFiles]) {
        const a = await analyze(await readFile(file), new Date());
        engineMs.push(a.analyzeMs);
        cropMs.push(a.renderMs);
        if (r > 0) continue;
        if (a.violations > 0) violating.push(a.body);
        else if (a.faces > 0) masked.push(a.body);
        else empty ??= a.body;
      }
    }
  } finally {
    await engine.close();
  }
  const cpu = process.cpuUsage(cpu0);
  if (violating.length === 0 || masked.length === 0) throw new Error(`need violating and masked frames, got ${violating.length} / ${masked.length}`);
  const w = violating[0]!;
  empty ??= { frameId: randomUUID(), capturedAt: w.capturedAt, width: w.width, height: w.height, faces: [] };
  const sorted = [...engineMs].sort((a, b) => a - b);
  const mean = (v: number[]) => Math.round((v.reduce((a, b) => a + b, 0) / v.length) * 10) / 10;
  const agent = {
    frames: engineMs.length,
    engineMsMean: mean(engineMs),
    engineMsP50: percentile(sorted, 50),
    engineMsP95: percentile(sorted, 95),
    cropMsMean: mean(cropMs),
    cpuMsPerFrame: Math.round(((cpu.user + cpu.system) / 1000 / engineMs.length) * 10) / 10,
    images: [...unmaskedFiles, ...maskedFiles].map((f) => path.relative(ASSETS, f)),
  };
  log(`agent analysis (this process, 1 ONNX thread): ${agent.frames} frames, engine mean ${agent.engineMsMean} ms (p95 ${agent.engineMsP95}), crops ${agent.cropMsMean} ms, CPU ${agent.cpuMsPerFrame} ms/frame`);
  return { violating, masked, empty, agent };
}

interface StepResult {
  cameras: number;
  fps: number;
  durationS: number;
  offered: number;
  accepted: number;
  refused: Record<string, number>;
  errors: number;
  acceptedPerSecond: number;
  alertsCreated: number;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null; samples: number };
  backlogAfterDrain: number;
  drainS: number;
  /** Uploads the worker skipped as too old for the freshness bound (queue/freshness.ts). */
  staleSkipped: number;
  cpu: { idleCoresApiPlusWorker: number; apiS: number; workerS: number; loadGeneratorS: number; wallS: number };
  /** API + worker CPU time of the step (drain included, idle baseline subtracted) per accepted upload. */
  centralCpuMsPerUpload: number;
  /** The same per camera per second (× fps): ms of central CPU each camera costs every second. */
  centralCpuMsPerCameraSecond: number;
  /** The same as % of one core for 1,000 cameras. */
  centralCorePercentPer1000Cameras: number;
  queueDepthMax: number;
  sustained: boolean;
}

/** What each mix sets on the processes, and says in the report. */
function mixSettings(o: EdgeBenchOptions, mix: EdgeMix): { env: Record<string, string>; description: string } {
  if (mix === 'stress') {
    return {
      env: { MASKWATCH_ALERT_COOLDOWN_S: '1', MASKWATCH_CONFIRM_FRAMES: '1', MASKWATCH_CONFIRM_WINDOW: '1' },
      description:
        `stress: per camera cycle of ${o.cycle} frames: 1 violating (crops), ${o.masked} with masked faces (a job and a transaction each only within the 1-s incident window after the violation; nothing stored), ${o.cycle - 1 - o.masked} empty (no job); ` +
        `alert cooldown 1 s and people confirmed on 1 frame, so every camera opens a new alert each cycle (${Math.round((o.fps / o.cycle) * 1000)} new alerts/s per 1,000 cameras); ` +
        (o.stressInStep
          ? 'all cameras in step: every camera opens its incident in the same frame interval (a burst each cycle)'
          : 'cycles spread over the cameras: new incidents arrive at that steady rate'),
    };
  }
  const c = DEFAULT_CONFIRMATION;
  return {
    // The deployment's defaults (config.ts): incident window 60 s, k of n confirmation.
    env: { MASKWATCH_ALERT_COOLDOWN_S: '60', MASKWATCH_CONFIRM_FRAMES: String(c.confirmFrames), MASKWATCH_CONFIRM_WINDOW: String(c.confirmWindow) },
    description:
      `city: at each camera a violator appears every ${o.cityViolatorEveryS} s (cameras evenly phased) and stays ${o.cityViolatorFrames} frames ` +
      `(one track, one alert: ${Math.round((1000 / o.cityViolatorEveryS) * 10) / 10} new alerts/s per 1,000 cameras); otherwise someone with a mask is in view ` +
      `${Math.round(o.cityMaskedShare * 100)} % of the time (3-second visits: a job and a transaction per frame only within 60 s after the camera's last violation, where they may continue its track; nothing stored; otherwise no job), and the rest of the frames are empty (no job); ` +
      `incident window 60 s and people confirmed on ${c.confirmFrames} of their last ${c.confirmWindow} frames (the deployment defaults)`,
  };
}

/** Deterministic, well-spread 0–1 value per (camera, block) (the city mix's "is someone in view"). */
function unitHash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x27d4eb2f, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return ((h ^ (h >>> 13)) >>> 0) / 0x1_0000_0000;
}

/** Frame k of camera c (of `cameras`) in the mix. */
function frameChooser(o: EdgeBenchOptions, mix: EdgeMix, pre: Precomputed) {
  if (mix === 'stress') {
    return (c: number, cameras: number, k: number): DetectionsRequest => {
      const phase = o.stressInStep ? 0 : Math.floor((c * o.cycle) / cameras);
      const i = (((k - phase) % o.cycle) + o.cycle) % o.cycle;
      if (i === 0) return pre.violating[c % pre.violating.length]!;
      if (i <= o.masked) return pre.masked[(c + i) % pre.masked.length]!;
      return pre.empty;
    };
  }
  const periodFrames = Math.max(1, Math.round(o.cityViolatorEveryS * o.fps));
  const visitFrames = Math.max(1, Math.round(3 * o.fps));
  return (c: number, cameras: number, k: number): DetectionsRequest => {
    const phase = Math.floor((c * periodFrames) / cameras);
    const j = (((k - phase) % periodFrames) + periodFrames) % periodFrames;
    // The same photo for the whole visit: the same boxes, so one track (and one alert for a violator).
    if (j < o.cityViolatorFrames) return pre.violating[c % pre.violating.length]!;
    const visit = Math.floor(k / visitFrames);
    if (unitHash(c, visit) < o.cityMaskedShare) return pre.masked[(c + visit) % pre.masked.length]!;
    return pre.empty;
  };
}

interface MixResult {
  mix: EdgeMix;
  description: string;
  largestSustainedCameras: number | null;
  steps: StepResult[];
}

export async function runEdgeBench(partial: Partial<EdgeBenchOptions> = {}): Promise<EdgeReport & { summary: Record<string, unknown> }> {
  const o: EdgeBenchOptions = { ...DEFAULT_EDGE_BENCH, ...partial };
  const log = o.log ?? ((m: string) => process.stderr.write(`[bench:system:edge ${new Date().toISOString().slice(11, 19)}] ${m}\n`));
  if (o.masked < 0 || o.cycle < o.masked + 1) throw new Error('--cycle must hold 1 violating frame and --masked masked ones');
  if (o.mixes.length === 0 || o.mixes.some((m) => !EDGE_MIXES.includes(m))) throw new Error(`--mix must list some of ${EDGE_MIXES.join(', ')}`);
  // Taken before anything of the bench runs: at the end the load average counts the bench's own processes.
  const loadAverage1mAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
  const pre = await precompute(log);
  const mixes: MixResult[] = [];
  for (const mix of o.mixes) mixes.push(await runMix(o, mix, pre, log));

  const summaryOf = (m: MixResult) => {
    const best = m.steps.find((s) => s.cameras === m.largestSustainedCameras) ?? null;
    return {
      mix: m.mix,
      largestSustainedCameras: m.largestSustainedCameras,
      atLargest: best && { latencyMs: best.latencyMs, centralCpuMsPerCameraSecond: best.centralCpuMsPerCameraSecond, centralCorePercentPer1000Cameras: best.centralCorePercentPer1000Cameras },
      targetMet: m.largestSustainedCameras !== null && m.largestSustainedCameras >= 1000 && o.fps >= 2,
    };
  };
  const report = {
    at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      node: process.version,
      loadAverage1mAtStart,
      loadAverage1mAtEnd: Math.round(os.loadavg()[0]! * 100) / 100,
      note: 'the load generator runs on the same cores as the API and worker',
    },
    settings: { ...o, log: undefined, database: 'postgresql (local, own schema)', api: 1, workers: 1 },
    agentAnalysis: pre.agent,
    summary: { fps: o.fps, p95LimitMs: o.p95LimitMs, target: { cameras: 1000, fps: 2, p95Ms: 1000 }, mixes: mixes.map(summaryOf) },
    mixes,
  };
  await mkdir(o.out, { recursive: true });
  await writeFile(path.join(o.out, 'bench-system-edge.json'), JSON.stringify(report, null, 2) + '\n');
  await writeEdgeReportViews(report, o.out);
  log(`wrote ${o.out}/bench-system-edge.json, .md and .png`);
  return report;
}

/** One mix: fresh API + worker (the mix's settings), then the camera-count search. */
async function runMix(o: EdgeBenchOptions, mix: EdgeMix, pre: Precomputed, log: (m: string) => void): Promise<MixResult> {
  const { env: mixEnv, description } = mixSettings(o, mix);
  const bodyFor = frameChooser(o, mix, pre);
  log(`mix ${description}`);
  const env = await createFaultEnv({ provider: 'postgresql', label: `bench-edge-${mix}` });
  env.sys.extra = {
    ...mixEnv,
    MASKWATCH_DETECTIONS_CONCURRENCY: String(o.detectionsConcurrency),
    MASKWATCH_MAX_CAMERA_BACKLOG: '200',
    // The deployment's freshness bound (the fault environment turns it off for its own tests).
    MASKWATCH_MAX_FRAME_AGE_S: String(o.maxFrameAgeS),
    // One host posts for every simulated camera: the per-IP ingest limit would otherwise be the bottleneck measured.
    MASKWATCH_RATE_INGEST_PER_IP: '100000000',
    // …and the same host registers every camera of every step (thousands a minute in a long search).
    MASKWATCH_RATE_PER_IP: '100000000',
  };
  const onSignal = () => {
    log('interrupted: cleaning up');
    void env.cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const steps: StepResult[] = [];
  let feed: Awaited<ReturnType<typeof watchCreatedAlerts>> | undefined;
  let largest: number | null = null;
  try {
    log('starting API and one worker');
    // Production log levels (info): accepted uploads are not logged a line each.
    const api = env.cleanup.proc(await startApi(env.sys, { label: 'api' }));
    const worker: Proc = env.cleanup.proc(await startWorker(env.sys, { label: 'worker', concurrency: o.concurrency }));
    const token = await login(api.url, ADMIN.username, ADMIN.password);
    feed = await watchCreatedAlerts(api.url, token);
    const created = feed.created;
    // Detections jobs have their own queue (QUEUES.detections); the frames queue is watched too (it should stay empty).
    const queues = [env.queue(), new Queue(QUEUES.detections, { connection: { ...redisOptionsFromUrl(env.sys.redisUrl), maxRetriesPerRequest: null }, prefix: env.sys.queuePrefix })];
    env.cleanup.add(() => queues[1]!.close());
    // The workers' per-camera stale counts (Redis hash), summed.
    const statsRedis = new Redis(env.sys.redisUrl);
    env.cleanup.add(async () => statsRedis.disconnect());
    const staleCounter = createStaleFrameCounter(statsRedis, env.sys.queuePrefix);
    const staleTotal = async () => Object.values(await staleCounter.perCamera()).reduce((a, b) => a + b, 0);
    const depthNow = async () => {
      let depth = 0;
      for (const queue of queues) {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        depth += (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) + (c.active ?? 0);
      }
      return depth;
    };

    let stepNo = 0;
    // A first unreported step warms the processes up (JIT, Prisma's query plans, lazily loaded modules).
    const plan = [...(o.warmupCameras > 0 ? [{ cameras: o.warmupCameras, warmup: true }] : []), ...o.search.map((cameras) => ({ cameras, warmup: false }))];
    for (const { cameras, warmup } of plan) {
      stepNo += 1;
      for (let d = await depthNow(), t = Date.now(); d > 0; d = await depthNow()) {
        if (Date.now() - t > 180_000) throw new Error(`queue still holds ${d} jobs after 180 s`);
        await new Promise((r) => setTimeout(r, 500));
      }
      log(`${mix} step ${stepNo}: creating ${cameras} cameras`);
      const keys: string[] = [];
      for (let i = 0; i < cameras; i++) keys.push((await createCamera(api.url, token, virtualCamera(i, undefined, `e${stepNo}`))).apiKey);
      const refused: Record<string, number> = {};
      let accepted = 0;
      let errors = 0;
      const firstCreated = created.length;
      let depthMax = 0;
      const sampler = setInterval(() => {
        void depthNow().then((d) => (depthMax = Math.max(depthMax, d)), () => undefined);
      }, 1000);
      // Idle baseline (timers, Redis polling, Socket.IO): subtracted, so the per-upload figure is the uploads' own cost.
      const idle0 = { api: (await cpuSeconds(api.pid)) ?? 0, worker: (await cpuSeconds(worker.pid)) ?? 0, t: Date.now() };
      await new Promise((r) => setTimeout(r, 3000));
      const idleRate = (((await cpuSeconds(api.pid)) ?? 0) - idle0.api + ((await cpuSeconds(worker.pid)) ?? 0) - idle0.worker) / ((Date.now() - idle0.t) / 1000);
      const cpu0 = { api: await cpuSeconds(api.pid), worker: await cpuSeconds(worker.pid), self: process.cpuUsage() };
      const stale0 = await staleTotal();
      const start = Date.now();
      const periodMs = 1000 / o.fps;
      const framesPerCamera = Math.floor(o.durationS * o.fps);
      const offered = framesPerCamera * cameras;
      log(`${mix} step ${stepNo}: ${cameras} cameras × ${o.fps} fps for ${o.durationS} s (${offered} uploads)`);
      const pending = new Set<Promise<void>>();
      // Keep-alive node:http, not fetch: the generator shares the two cores with the API and worker, and fetch costs it
      // about 1 CPU-ms per request here (measured with --cpu-prof), which would be taken from the system measured.
      const clientAgent = new http.Agent({ keepAlive: true, maxSockets: 512 });
      const send = (camera: number, k: number) => {
        const body = JSON.stringify({ ...bodyFor(camera, cameras, k), frameId: randomUUID(), capturedAt: new Date().toISOString() });
        const p = new Promise<void>((resolve) => {
          const req = http.request(
            `${api.url}/api/v1/detections`,
            {
              method: 'POST',
              agent: clientAgent,
              headers: { authorization: `Bearer ${keys[camera]}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
            },
            (res) => {
              res.resume();
              res.on('end', () => {
                if (res.statusCode === 202) accepted += 1;
                else refused[res.statusCode ?? 0] = (refused[res.statusCode ?? 0] ?? 0) + 1;
                resolve();
              });
              res.on('error', () => {
                errors += 1;
                resolve();
              });
            },
          );
          req.on('error', () => {
            errors += 1;
            resolve();
          });
          req.end(body);
        }).finally(() => pending.delete(p));
        pending.add(p);
      };
      // Camera c sends frame k at start + k·period + c·period/cameras (evenly phased, like real cameras).
      let next = 0;
      const schedule = Array.from({ length: offered }, (_, n) => n); // n = k·cameras + c, in time order
      await new Promise<void>((resolve) => {
        const tick = () => {
          const now = Date.now() - start;
          while (next < schedule.length) {
            const k = Math.floor(next / cameras);
            const c = next % cameras;
            const due = k * periodMs + (c * periodMs) / cameras;
            if (due > now) break;
            send(c, k);
            next += 1;
          }
          if (next >= schedule.length) resolve();
          else setTimeout(tick, 5);
        };
        tick();
      });
      await Promise.allSettled([...pending]);
      clientAgent.destroy();
      const sendEnd = Date.now();
      let backlog = 0;
      for (;;) {
        backlog = await depthNow();
        if (backlog === 0 || Date.now() - sendEnd > o.drainTimeoutS * 1000) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      // Let the last alert.created events arrive over the socket.
      await new Promise((r) => setTimeout(r, 300));
      clearInterval(sampler);
      const wallS = (Date.now() - start) / 1000;
      const self = process.cpuUsage(cpu0.self);
      const apiS = ((await cpuSeconds(api.pid)) ?? 0) - (cpu0.api ?? 0);
      const workerS = ((await cpuSeconds(worker.pid)) ?? 0) - (cpu0.worker ?? 0);
      const mine = created.slice(firstCreated).filter((e) => e.alert.camera.name.startsWith(`sim-e${stepNo}-`));
      const lat = mine.map((e) => e.at - Date.parse(e.alert.lastSeenAt)).sort((a, b) => a - b);
      const p95 = percentile(lat, 95);
      // Central CPU of the step's uploads (their drain included), per upload, times the uploads a camera sends each second.
      const netS = Math.max(0, apiS + workerS - idleRate * wallS);
      const cpuMsPerUpload = accepted > 0 ? (netS * 1000) / accepted : 0;
      const cpuMs = cpuMsPerUpload * o.fps;
      const staleSkipped = (await staleTotal()) - stale0;
      const step: StepResult = {
        cameras,
        fps: o.fps,
        durationS: o.durationS,
        offered,
        accepted,
        refused,
        errors,
        acceptedPerSecond: Math.round((accepted / ((sendEnd - start) / 1000)) * 10) / 10,
        alertsCreated: mine.length,
        latencyMs: { p50: percentile(lat, 50), p95, p99: percentile(lat, 99), max: lat.at(-1) ?? null, samples: lat.length },
        backlogAfterDrain: backlog,
        staleSkipped,
        drainS: Math.round(((Date.now() - sendEnd) / 1000) * 10) / 10,
        cpu: { idleCoresApiPlusWorker: Math.round(idleRate * 1000) / 1000, apiS: Math.round(apiS * 10) / 10, workerS: Math.round(workerS * 10) / 10, loadGeneratorS: Math.round(((self.user + self.system) / 1e6) * 10) / 10, wallS: Math.round(wallS * 10) / 10 },
        centralCpuMsPerUpload: Math.round(cpuMsPerUpload * 100) / 100,
        centralCpuMsPerCameraSecond: Math.round(cpuMs * 100) / 100,
        centralCorePercentPer1000Cameras: Math.round(cpuMs * 1000) / 10,
        queueDepthMax: depthMax,
        // A step that held its p95 by skipping stale uploads did not hold its load.
        sustained: p95 !== null && p95 <= o.p95LimitMs && accepted >= offered * 0.99 && staleSkipped === 0 && backlog === 0,
      };
      if (!warmup) steps.push(step);
      log(
        (warmup ? '(warm-up, not reported) ' : '') +
        `step ${stepNo}: ${cameras} cameras: accepted ${accepted}/${offered} (${step.acceptedPerSecond}/s), refused ${JSON.stringify(refused)}, errors ${errors}, ` +
          `alerts ${mine.length}, p50/p95/p99 ${step.latencyMs.p50}/${p95}/${step.latencyMs.p99} ms, queue max ${depthMax}, stale skipped ${step.staleSkipped}, backlog ${backlog} after ${step.drainS} s, ` +
          `CPU api ${step.cpu.apiS} s + worker ${step.cpu.workerS} s = ${step.centralCpuMsPerUpload} CPU-ms per upload, ${step.centralCpuMsPerCameraSecond} CPU-ms per camera-second → ${step.sustained ? 'sustained' : 'NOT sustained'}`,
      );
      if (warmup) continue;
      if (!step.sustained) break;
      largest = cameras;
    }
  } finally {
    feed?.close();
    await env.cleanup.run();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return { mix, description, largestSustainedCameras: largest, steps };
}

export interface EdgeReport {
  at: string;
  machine: { cpus: number; note: string; loadAverage1mAtStart: number; loadAverage1mAtEnd: number };
  settings: EdgeBenchOptions;
  agentAnalysis: Precomputed['agent'];
  summary: { mixes: { mix: EdgeMix; largestSustainedCameras: number | null; targetMet: boolean }[] };
  mixes: MixResult[];
}

function mixMarkdown(r: EdgeReport, m: MixResult): string {
  const rows = m.steps.map(
    (s) =>
      `| ${s.cameras} | ${s.accepted}/${s.offered} | ${JSON.stringify(s.refused)} | ${s.alertsCreated} | ${s.latencyMs.p50} / ${s.latencyMs.p95} / ${s.latencyMs.p99} | ${s.queueDepthMax} | ${s.staleSkipped} | ${s.cpu.apiS} + ${s.cpu.workerS} s / ${s.cpu.wallS} s | ${s.centralCpuMsPerUpload} | ${s.centralCpuMsPerCameraSecond} | ${s.sustained ? 'yes' : 'no'} |`,
  );
  const last = m.steps.at(-1);
  return `## Mix: ${m.mix}

${m.description}. Latency percentiles are over the alerts created (the "alerts" column): few at small N in the city mix.

**Largest N with p95 detection → alert.created ≤ ${r.settings.p95LimitMs} ms and no upload skipped as stale: ${m.largestSustainedCameras ?? 'none of those tried'}** (target ≥ 1,000 × 2 fps: ${m.largestSustainedCameras !== null && m.largestSustainedCameras >= 1000 ? 'met' : 'not met'}).

| cameras | accepted/offered | refused | alerts | latency p50 / p95 / p99 ms | queue max | stale skipped | CPU api + worker / wall | central CPU-ms per upload | per camera-second | sustained |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

At the last step, ${last?.centralCpuMsPerCameraSecond ?? '?'} central CPU-ms per camera-second ⇒ ~${Math.round((last?.centralCpuMsPerCameraSecond ?? 0) * 10) / 10} cores for 1,000 cameras.
`;
}

/** The report's Markdown and plot, both drawn from its JSON (a stored report can be redrawn). */
export async function writeEdgeReportViews(r: EdgeReport, out: string): Promise<void> {
  await writeFile(path.join(out, 'bench-system-edge.md'), markdown(r));
  await sharp(Buffer.from(edgePlotSvg(r))).png().toFile(path.join(out, 'bench-system-edge.png'));
}

function markdown(r: EdgeReport): string {
  const a = r.agentAnalysis;
  return `# bench:system:edge — edge mode (${r.at})

One API + one worker process (detections concurrency ${r.settings.detectionsConcurrency}), PostgreSQL, Redis; N simulated edge cameras × ${r.settings.fps} fps posting
real detections (precomputed once with the agent's own analyser from ${a.images.length} real photos) to POST /api/v1/detections, for ${r.settings.durationS} s a step.
Each mix runs on fresh processes; its search stops at the first step not sustained.
**Machine:** ${r.machine.cpus} cores, ${r.machine.note}; load average before the run ${r.machine.loadAverage1mAtStart}, at the end ${r.machine.loadAverage1mAtEnd} (the bench's own processes included).${
    r.machine.loadAverage1mAtStart > r.machine.cpus / 2
      ? '\nOther work held the cores before the run: the latencies and the search are upper bounds, the CPU-ms figures hold.'
      : ''
  }

Central CPU per camera-second = (API + worker CPU time of the step, drain included, minus their idle rate) / accepted uploads × fps; for 1,000 cameras
that many ms become that many CPU-seconds per second, i.e. cores — the machine-independent figure, unlike the latency search on a loaded
machine. Redis and PostgreSQL CPU are not counted in it.

![p95 and p99 detection → alert and central CPU against the number of cameras, per mix](bench-system-edge.png)

${r.mixes.map((m) => mixMarkdown(r, m)).join('\n')}
**Agents' analysis, counted apart** (this machine, 1 ONNX thread, the agent's code path): engine ${a.engineMsMean} ms mean per frame
(p50 ${Math.round(a.engineMsP50 ?? 0)}, p95 ${Math.round(a.engineMsP95 ?? 0)}), crops ${a.cropMsMean} ms, ${a.cpuMsPerFrame} CPU-ms per frame → at ${r.settings.fps} fps an agent needs
about ${Math.round((a.cpuMsPerFrame * r.settings.fps) / 10)} % of one such core.
`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      mix: { type: 'string' },
      fps: { type: 'string' },
      duration: { type: 'string' },
      search: { type: 'string' },
      'p95-ms': { type: 'string' },
      cycle: { type: 'string' },
      masked: { type: 'string' },
      'stress-in-step': { type: 'boolean' },
      'city-masked': { type: 'string' },
      'city-violator-every': { type: 'string' },
      'city-violator-frames': { type: 'string' },
      concurrency: { type: 'string' },
      'detections-concurrency': { type: 'string' },
      'drain-timeout': { type: 'string' },
      'max-frame-age': { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const num = (v: string | undefined, d: number) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`not a non-negative number: ${v}`);
    return n;
  };
  const d = DEFAULT_EDGE_BENCH;
  runEdgeBench({
    mixes: values.mix ? (values.mix.split(',').map((m) => m.trim()) as EdgeMix[]) : d.mixes,
    fps: num(values.fps, d.fps),
    durationS: num(values.duration, d.durationS),
    search: values.search ? values.search.split(',').map(Number).filter((n) => n > 0) : d.search,
    p95LimitMs: num(values['p95-ms'], d.p95LimitMs),
    cycle: num(values.cycle, d.cycle),
    masked: num(values.masked, d.masked),
    stressInStep: values['stress-in-step'] ?? d.stressInStep,
    cityMaskedShare: num(values['city-masked'], d.cityMaskedShare),
    cityViolatorEveryS: num(values['city-violator-every'], d.cityViolatorEveryS),
    cityViolatorFrames: num(values['city-violator-frames'], d.cityViolatorFrames),
    concurrency: num(values.concurrency, d.concurrency),
    detectionsConcurrency: num(values['detections-concurrency'], d.detectionsConcurrency),
    drainTimeoutS: num(values['drain-timeout'], d.drainTimeoutS),
    maxFrameAgeS: num(values['max-frame-age'], d.maxFrameAgeS),
    warmupCameras: num(values.warmup, d.warmupCameras),
    out: values.out ?? d.out,
  })
    .then((r) => process.stdout.write(JSON.stringify({ summary: r.summary, agentAnalysis: r.agentAnalysis }, null, 2) + '\n'))
    .catch((err: unknown) => {
      process.stderr.write(`bench:system:edge failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    });
}
