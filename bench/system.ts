/**
 * `npm run bench:system`: the whole system as processes (API + 1, then 2
 * workers) on the local Redis (own prefix) and PostgreSQL (own schema), K
 * simulated cameras at F fps for T seconds each step. Central analysis on
 * clips (default, `--source clips`, bench/lib/system-clips.ts): each camera
 * sends consecutive frames of kaggle-scenes-dev scenes (a clip with a bare face,
 * then masked people), confirmed 2 of 2 as in production, with the analysis
 * reuse on (`--reuse off` turns it off: MASKWATCH_RECLASSIFY_EVERY=1); or
 * `--source stills`: unrelated face photos (unmasked then masked, 1 of 1). Either
 * way every camera raises a new alert every cycle. Measures accepted frames/s, refusals, spool drops, frame → alert.created
 * latency (socket client), queue depth over time, CPU and RSS per process;
 * compares 1 vs 2 workers; searches the largest K with p95 ≤ 1 s.
 * Two clip mixes (`--mix`, both by default, one after the other, each with processes of its own):
 *   - crowd:  the clips above (bench/lib/system-clips.ts loadSystemClips: scenes with a bare face, then
 *             masked people; ~7 faces per frame with a violator): the heavy case;
 *             reports/bench-system.json and .png;
 *   - scenes: real street scenes as bench:incidents sees them (loadSceneClips: train scenes spread over
 *             the dataset, one to many people, masked or not, each as its 8-frame clip);
 *             reports/bench-system-scenes.json and .png.
 * `--source stills` writes reports/bench-system.json and .png. Progress on stderr.
 * With the defaults a run of both mixes takes about 10 minutes on an idle machine.
 *
 * Then an overload step (issue 14): 2 workers, `--overload` × the largest sustained
 * camera count (or `--only-overload K` cameras alone, skipping the other steps),
 * with the freshness bound on (MASKWATCH_MAX_FRAME_AGE_S = --max-frame-age):
 * prints frame → alert delay percentiles and the frames skipped as stale.
 *
 *   npm run bench:system -- [--fps 2] [--duration 15] [--compare-cameras 30] [--search 10,15,20,30,50] [--p95-ms 1000]
 *                           [--concurrency 1 (jobs per worker process)] [--drain-timeout 20] [--out reports]
 *                           [--overload 2] [--only-overload K] [--max-frame-age 10] [--source clips|stills] [--reuse on|off]
 *                           [--mix crowd,scenes] [--threads 1 (ONNX intra-op threads per worker)]
 */
import { readFile, readdir, mkdir, writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import sharp from 'sharp';
import { runSimulation, type SimulationTotals } from '../src/agent/simulator.ts';
import { createCamera, login, virtualCamera } from '../src/agent/admin-client.ts';
import { percentile } from '../src/agent/stats.ts';
import { watchCreatedAlerts } from './lib/bench-processes.ts';
import { ADMIN, ASSETS, startApi, startWorker, type Proc } from '../test/faults/processes.ts';
import { createFaultEnv } from '../test/faults/support.ts';
import { createStaleFrameCounter } from '../src/queue/freshness.ts';
import { analysisWorkTotals } from '../src/queue/analysis-state.ts';
import { loadSceneClips, loadSystemClips } from './lib/system-clips.ts';
import { Redis } from 'ioredis';

const { values: flags } = parseArgs({
  options: {
    fps: { type: 'string', default: '2' },
    duration: { type: 'string', default: '15' },
    'compare-cameras': { type: 'string', default: '10' },
    search: { type: 'string', default: '4,6,8,10,12,16,20,30' },
    'p95-ms': { type: 'string', default: '1000' },
    'drain-timeout': { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '1' },
    out: { type: 'string', default: 'reports' },
    overload: { type: 'string', default: '2' },
    'only-overload': { type: 'string' },
    'max-frame-age': { type: 'string', default: '10' },
    source: { type: 'string', default: 'clips' },
    reuse: { type: 'string', default: 'on' },
    /** Clip mixes to run, in order (clips source only): crowd, scenes or both. */
    mix: { type: 'string', default: 'crowd,scenes' },
    /** ONNX intra-op threads per worker process (MASKWATCH_INTRA_OP_THREADS). */
    threads: { type: 'string', default: '1' },
  },
});
const FPS = Number(flags.fps);
const DURATION_S = Number(flags.duration);
const COMPARE_K = Number(flags['compare-cameras']);
const SEARCH = flags.search!.split(',').map(Number).filter((n) => n > 0);
const P95_LIMIT = Number(flags['p95-ms']);
const DRAIN_TIMEOUT_S = Number(flags['drain-timeout']);
const CONCURRENCY = Number(flags.concurrency);
const OVERLOAD = Number(flags.overload);
const ONLY_OVERLOAD = flags['only-overload'] === undefined ? null : Number(flags['only-overload']);
const MAX_FRAME_AGE_S = Number(flags['max-frame-age']);
const SOURCE = flags.source === 'stills' ? 'stills' : 'clips';
const REUSE = flags.reuse !== 'off';
const MIXES = flags.mix!.split(',').map((m) => m.trim());
const THREADS = Number(flags.threads);
if (MIXES.length === 0 || MIXES.some((m) => m !== 'crowd' && m !== 'scenes')) throw new Error('bad flags: --mix is crowd, scenes or crowd,scenes');
if (!Number.isInteger(THREADS) || THREADS < 1) throw new Error('bad flags: --threads must be a positive integer');
type Mix = 'crowd' | 'scenes';
if (![OVERLOAD, MAX_FRAME_AGE_S, ONLY_OVERLOAD ?? 1].every((v) => Number.isFinite(v) && v > 0)) {
  throw new Error('bad flags: --overload, --max-frame-age and --only-overload must be positive numbers');
}
if (![FPS, DURATION_S, COMPARE_K, P95_LIMIT, DRAIN_TIMEOUT_S, CONCURRENCY].every((v) => Number.isFinite(v) && v > 0) || SEARCH.length === 0) {
  throw new Error('bad flags: --fps, --duration, --compare-cameras, --p95-ms, --drain-timeout must be positive numbers; --search a list like 10,25,50');
}
const progress = (msg: string) => process.stderr.write(`[bench:system ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
let benchStart = Date.now();

/** Frames of one camera cycle: 1 unmasked then 3 masked, so each cycle (> cooldown) opens a new alert. */
async function loadImages(): Promise<{ cycle: Buffer[]; unmasked: number; masked: number }> {
  const ds = path.join(ASSETS, 'datasets');
  const pick = async (dir: string, n: number) => (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort().slice(0, n).map((f) => path.join(dir, f));
  const unmaskedFiles = await pick(path.join(ds, 'prajna', 'without_mask'), 4);
  const maskedFiles = await pick(path.join(ds, 'chandrikadeb7', 'with_mask'), 12);
  const unmasked = await Promise.all(unmaskedFiles.map((f) => readFile(f)));
  const masked = await Promise.all(maskedFiles.map((f) => readFile(f)));
  const cycle: Buffer[] = [];
  for (let i = 0; i < unmasked.length; i++) cycle.push(unmasked[i]!, masked[3 * i]!, masked[3 * i + 1]!, masked[3 * i + 2]!);
  return { cycle, unmasked: unmasked.length, masked: masked.length };
}

/** CPU seconds and RSS of a process from /proc (Linux). */
async function procSample(pid: number): Promise<{ cpuS: number; rssMb: number } | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuS: ticks / 100, rssMb: rssKb / 1024 };
  } catch {
    return null;
  }
}

interface Sample {
  t: number;
  depth: number;
  waiting: number;
  active: number;
}

interface StepResult {
  label: string;
  workers: number;
  cameras: number;
  fps: number;
  durationS: number;
  offeredFrames: number;
  acceptedFrames: number;
  acceptedPerSecond: number;
  /** Jobs completed per second while the cameras were sending (worker throughput when saturated). */
  processedPerSecond: number;
  agent: SimulationTotals;
  alertsCreated: number;
  /** Analysis work during the step (and its drain): frames whose detection was skipped as unchanged, faces classified / reused. */
  analysisWork: { framesUnchanged: number; facesClassified: number; facesReused: number };
  /** Frames the workers skipped as older than MASKWATCH_MAX_FRAME_AGE_S during the step (and its drain). */
  staleSkipped: number;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null; samples: number };
  backlogAfterDrain: number;
  drainS: number;
  processes: { name: string; cpuPercent: number; rssMbMax: number }[];
  /** Inference time of frames with violations, from the workers' "frame analysed" logs (where worker time goes). */
  inferenceMs: { p50: number | null; p95: number | null; samples: number };
  queueDepth: Sample[];
  latencies: { t: number; ms: number }[];
  sustained: boolean;
  phaseStart: number;
  /** The machine is shared with other jobs: 1-min load average when the step started. */
  loadAverage1mAtStart: number;
}

async function main(mix: Mix | null) {
  let cycle: Buffer[];
  let offsetStep = 0;
  if (SOURCE === 'clips') {
    const repoRoot = path.resolve(import.meta.dirname, '..');
    const clips = mix === 'scenes' ? await loadSceneClips({ assetsDir: ASSETS, repoRoot }) : await loadSystemClips({ assetsDir: ASSETS, repoRoot });
    cycle = clips.frames;
    // Cameras start at different scenes, on a cycle boundary.
    offsetStep = clips.cycleFrames;
    progress(
      mix === 'scenes'
        ? `scenes mix: ${cycle.length} frames (${clips.violatorScenes.length + clips.maskedScenes.length} scene clips of ${clips.cycleFrames}, ${clips.violatorScenes.length} with a bare face), reuse ${REUSE ? 'on' : 'off'}, fps ${FPS}, ${DURATION_S} s per step`
        : `crowd mix: ${cycle.length} frames (${clips.violatorScenes.length} cycles of ${clips.cycleFrames}: scene with a bare face, then masked), reuse ${REUSE ? 'on' : 'off'}, fps ${FPS}, ${DURATION_S} s per step`,
    );
  } else {
    cycle = (await loadImages()).cycle;
    progress(`images: ${cycle.length} per cycle (1 unmasked : 3 masked), fps ${FPS}, ${DURATION_S} s per step`);
  }
  const env = await createFaultEnv({ provider: 'postgresql', label: 'bench' });
  // Short cooldown: every cycle opens a new alert (frame → alert.created is measurable).
  env.sys.extra = {
    MASKWATCH_ALERT_COOLDOWN_S: '1',
    MASKWATCH_MAX_CAMERA_BACKLOG: '200',
    MASKWATCH_MAX_FRAME_AGE_S: String(MAX_FRAME_AGE_S),
    // Clips are video: production's 2 of 2 confirmation; stills are snapshots (1 of 1, processEnv's default).
    ...(SOURCE === 'clips' ? { MASKWATCH_CONFIRM_FRAMES: '2', MASKWATCH_CONFIRM_WINDOW: '2' } : {}),
    ...(REUSE ? {} : { MASKWATCH_RECLASSIFY_EVERY: '1' }),
    MASKWATCH_INTRA_OP_THREADS: String(THREADS),
  };
  const statsRedis = new Redis(env.sys.redisUrl);
  env.cleanup.add(() => statsRedis.quit());
  const staleCounter = createStaleFrameCounter(statsRedis, env.sys.queuePrefix);
  const staleTotal = async () => Object.values(await staleCounter.perCamera()).reduce((a, b) => a + b, 0);
  // Ctrl-C: stop the child processes and drop the schema / queue keys before exiting.
  const onSignal = () => {
    progress('interrupted: cleaning up');
    void env.cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const workers: Proc[] = [];
  const steps: StepResult[] = [];
  let feed: Awaited<ReturnType<typeof watchCreatedAlerts>> | undefined;
  const spoolRoot = await mkdtemp(path.join(os.tmpdir(), 'mw-bench-spool-'));
  try {
    progress('starting API');
    const api = env.cleanup.proc(await startApi(env.sys, { label: 'api' }));
    const token = await login(api.url, ADMIN.username, ADMIN.password);
    feed = await watchCreatedAlerts(api.url, token);
    const created = feed.created;
    const queue = env.queue();
    const depthNow = async () => {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), active: c.active ?? 0 };
    };

    const ensureWorkers = async (n: number) => {
      while (workers.length < n) {
        progress(`starting worker ${workers.length + 1}`);
        workers.push(env.cleanup.proc(await startWorker(env.sys, { label: `worker-${workers.length + 1}`, concurrency: CONCURRENCY })));
      }
    };

    let stepNo = 0;
    const runStep = async (label: string, nWorkers: number, cameras: number): Promise<StepResult> => {
      stepNo += 1;
      await ensureWorkers(nWorkers);
      // Start from an empty queue: a previous overloaded step's backlog must not count against this one.
      const settleStart = Date.now();
      for (let d = await depthNow(); d.waiting + d.active > 0; d = await depthNow()) {
        if (Date.now() - settleStart > 180_000) throw new Error(`queue still holds ${d.waiting + d.active} jobs after 180 s`);
        await new Promise((r) => setTimeout(r, 500));
      }
      const keys: string[] = [];
      for (let i = 0; i < cameras; i++) keys.push((await createCamera(api.url, token, virtualCamera(i, undefined, `s${stepNo}`))).apiKey);
      const cameraIds = new Set<string>();
      const accepted: number[] = [];
      const procs: [string, number][] = [['api', api.pid], ...workers.map((w, i) => [`worker-${i + 1}`, w.pid] as [string, number]), ['simulator (bench process)', process.pid]];
      const cpuStart = new Map<string, number>();
      const rssMax = new Map<string, number>();
      for (const [name, pid] of procs) cpuStart.set(name, (await procSample(pid))?.cpuS ?? 0);
      const samples: Sample[] = [];
      const phaseStart = Date.now();
      const loadAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
      const firstCreated = created.length;
      const completedAtStart = (await queue.getJobCounts('completed')).completed ?? 0;
      const staleAtStart = await staleTotal();
      const workAtStart = await analysisWorkTotals(statsRedis, env.sys.queuePrefix);
      const logMarks = workers.map((w) => w.lines.length);
      const sampler = setInterval(() => {
        void (async () => {
          const d = await depthNow().catch(() => null);
          if (d) samples.push({ t: (Date.now() - benchStart) / 1000, depth: d.waiting + d.active, ...d });
          for (const [name, pid] of procs) {
            const s = await procSample(pid);
            if (s) rssMax.set(name, Math.max(rssMax.get(name) ?? 0, s.rssMb));
          }
        })();
      }, 1000);
      progress(`${label}: ${cameras} cameras × ${FPS} fps, ${nWorkers} worker(s), ${DURATION_S} s`);
      const totals = await runSimulation({
        server: api.url,
        apiKeys: keys,
        images: cycle,
        fps: FPS,
        offsetStep,
        durationMs: DURATION_S * 1000,
        spoolDir: path.join(spoolRoot, `step-${stepNo}`),
        spoolMax: 50,
        logger: pino({ level: 'error' }, pino.destination(2)),
        statsIntervalMs: 60_000,
        backoff: { baseMs: 200, maxMs: 5000 },
        onAccepted: () => accepted.push(Date.now()),
      });
      const sendEnd = Date.now();
      const completedAtSendEnd = (await queue.getJobCounts('completed')).completed ?? 0;
      // Let the backlog drain so late alerts count (their latency is the point).
      let backlog = 0;
      for (;;) {
        const d = await depthNow();
        backlog = d.waiting + d.active;
        if (backlog === 0 || Date.now() - sendEnd > DRAIN_TIMEOUT_S * 1000) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const drainS = (Date.now() - sendEnd) / 1000;
      const staleSkipped = (await staleTotal()) - staleAtStart;
      const workAtEnd = await analysisWorkTotals(statsRedis, env.sys.queuePrefix);
      const analysisWork = {
        framesUnchanged: workAtEnd.framesUnchanged - workAtStart.framesUnchanged,
        facesClassified: workAtEnd.facesClassified - workAtStart.facesClassified,
        facesReused: workAtEnd.facesReused - workAtStart.facesReused,
      };
      clearInterval(sampler);
      const elapsed = (sendEnd - phaseStart) / 1000;
      const processes = [];
      for (const [name, pid] of procs) {
        const s = await procSample(pid);
        processes.push({ name, cpuPercent: s ? Math.round(((s.cpuS - cpuStart.get(name)!) / ((Date.now() - phaseStart) / 1000)) * 1000) / 10 : 0, rssMbMax: Math.round(rssMax.get(name) ?? s?.rssMb ?? 0) });
      }
      const inference = workers
        .flatMap((w, i) => w.lines.slice(logMarks[i] ?? 0))
        .filter((l) => l.includes('"frame analysed"'))
        .map((l) => Number((JSON.parse(l) as { inferenceMs?: number }).inferenceMs))
        .filter((v) => Number.isFinite(v))
        .sort((a, b) => a - b);
      // Alerts of this step: the lastSeenAt of a new alert is the capture time of the frame that opened it.
      const mine = created.slice(firstCreated).filter((e) => e.alert.camera.name.startsWith(`sim-s${stepNo}-`));
      for (const e of mine) cameraIds.add(e.alert.cameraId);
      const lat = mine.map((e) => ({ t: (e.at - benchStart) / 1000, ms: e.at - Date.parse(e.alert.lastSeenAt) }));
      const sorted = lat.map((l) => l.ms).sort((a, b) => a - b);
      const offered = Math.floor(DURATION_S * FPS) * cameras;
      const p95 = percentile(sorted, 95);
      const step: StepResult = {
        label,
        workers: nWorkers,
        cameras,
        fps: FPS,
        durationS: DURATION_S,
        offeredFrames: offered,
        acceptedFrames: totals.sent,
        acceptedPerSecond: Math.round((totals.sent / elapsed) * 10) / 10,
        processedPerSecond: Math.round(((completedAtSendEnd - completedAtStart) / elapsed) * 10) / 10,
        agent: totals,
        alertsCreated: mine.length,
        analysisWork,
        staleSkipped,
        latencyMs: { p50: percentile(sorted, 50), p95, p99: percentile(sorted, 99), max: sorted.at(-1) ?? null, samples: sorted.length },
        backlogAfterDrain: backlog,
        drainS: Math.round(drainS * 10) / 10,
        processes,
        inferenceMs: { p50: percentile(inference, 50), p95: percentile(inference, 95), samples: inference.length },
        queueDepth: samples,
        latencies: lat,
        // Sustained: p95 within the limit, (almost) every offered frame accepted, nothing dropped or skipped as stale, backlog cleared.
        sustained: p95 !== null && p95 <= P95_LIMIT && totals.sent >= offered * 0.95 && totals.dropped === 0 && staleSkipped === 0 && backlog === 0,
        phaseStart: (phaseStart - benchStart) / 1000,
        loadAverage1mAtStart: loadAtStart,
      };
      progress(
        `${label}: accepted ${step.acceptedPerSecond}/s (${totals.sent}/${offered}), processed ${step.processedPerSecond}/s, refused→spooled ${totals.spooled}, dropped ${totals.dropped}, ` +
          `alerts ${mine.length}, stale skipped ${staleSkipped}, unchanged ${analysisWork.framesUnchanged}, faces classified/reused ${analysisWork.facesClassified}/${analysisWork.facesReused}, inference p50/p95 ${step.inferenceMs.p50}/${step.inferenceMs.p95} ms, latency p50/p95/p99 ${step.latencyMs.p50}/${p95}/${step.latencyMs.p99} ms, backlog ${backlog} after ${step.drainS} s drain, load ${loadAtStart} → ${step.sustained ? 'sustained' : 'NOT sustained'}`,
      );
      return step;
    };

    let largest: number | null = null;
    if (ONLY_OVERLOAD === null) {
      steps.push(await runStep(`compare-1w-K${COMPARE_K}`, 1, COMPARE_K));
      steps.push(await runStep(`compare-2w-K${COMPARE_K}`, 2, COMPARE_K));
      for (const k of SEARCH) {
        const s = await runStep(`search-2w-K${k}`, 2, k);
        steps.push(s);
        if (!s.sustained) break;
        largest = k;
      }
    }
    // Overload: more frames than 2 workers can analyse; the freshness bound must hold the delay to an alert.
    const overloadK = ONLY_OVERLOAD ?? Math.round(OVERLOAD * (largest ?? SEARCH[0]!));
    const overload = await runStep(`overload-2w-K${overloadK}`, 2, overloadK);
    steps.push(overload);

    const report = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version, loadAverage1mAtEnd: Math.round(os.loadavg()[0]! * 100) / 100, loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      settings: { source: SOURCE, mix, intraOpThreads: THREADS, reuse: REUSE, confirmation: SOURCE === 'clips' ? '2 of 2' : '1 of 1', maxFrameAgeS: MAX_FRAME_AGE_S, overload: OVERLOAD, onlyOverload: ONLY_OVERLOAD, fps: FPS, durationS: DURATION_S, compareCameras: COMPARE_K, search: SEARCH, p95LimitMs: P95_LIMIT, drainTimeoutS: DRAIN_TIMEOUT_S, alertCooldownS: 1, database: 'postgresql (local, own schema)', workerConcurrency: CONCURRENCY },
      summary: {
        overload: {
          cameras: overloadK,
          fps: FPS,
          maxFrameAgeS: MAX_FRAME_AGE_S,
          alertDelayMs: overload.latencyMs,
          staleSkipped: overload.staleSkipped,
          acceptedFrames: overload.acceptedFrames,
          processedPerSecond: overload.processedPerSecond,
          withinBound: overload.latencyMs.max !== null && overload.latencyMs.max <= MAX_FRAME_AGE_S * 1000,
        },
        offeredFramesPerSecond: COMPARE_K * FPS,
        processedPerSecond1Worker: ONLY_OVERLOAD === null ? steps[0]!.processedPerSecond : null,
        processedPerSecond2Workers: ONLY_OVERLOAD === null ? steps[1]!.processedPerSecond : null,
        acceptedPerSecond1Worker: ONLY_OVERLOAD === null ? steps[0]!.acceptedPerSecond : null,
        acceptedPerSecond2Workers: ONLY_OVERLOAD === null ? steps[1]!.acceptedPerSecond : null,
        p95Ms1Worker: ONLY_OVERLOAD === null ? steps[0]!.latencyMs.p95 : null,
        p95Ms2Workers: ONLY_OVERLOAD === null ? steps[1]!.latencyMs.p95 : null,
        largestSustainedCameras: largest,
        target: { cameras: 60, fps: 2, p95Ms: 1000, workers: 2 },
        targetMet: largest !== null && largest >= 60 && FPS >= 2,
      },
      steps: steps.map(({ latencies, ...s }) => ({ ...s, latencies: latencies.map((l) => [Math.round(l.t * 10) / 10, l.ms]) })),
    };
    const name = mix === 'scenes' ? 'bench-system-scenes' : 'bench-system';
    await mkdir(flags.out!, { recursive: true });
    await writeFile(path.join(flags.out!, `${name}.json`), JSON.stringify(report, null, 2) + '\n');
    await sharp(Buffer.from(plot(steps))).png().toFile(path.join(flags.out!, `${name}.png`));
    progress(`wrote ${flags.out}/${name}.json and ${name}.png`);
    // Where the time went, when asked (BENCH_SYSTEM_LOGS=1): the worker processes' JSON logs.
    if (process.env.BENCH_SYSTEM_LOGS) {
      for (const [i, w] of workers.entries()) await writeFile(path.join(flags.out!, `${name}-worker-${i + 1}.log`), w.lines.join('\n'));
    }
    process.stdout.write(JSON.stringify(report.summary, null, 2) + '\n');
    for (const s of steps) {
      process.stdout.write(
        `${s.label.padEnd(18)} accepted/s ${String(s.acceptedPerSecond).padStart(6)}  processed/s ${String(s.processedPerSecond).padStart(6)}  p50/p95/p99 ${s.latencyMs.p50}/${s.latencyMs.p95}/${s.latencyMs.p99} ms  ` +
          `spooled ${s.agent.spooled} dropped ${s.agent.dropped} stale-skipped ${s.staleSkipped} unchanged ${s.analysisWork.framesUnchanged} classified/reused ${s.analysisWork.facesClassified}/${s.analysisWork.facesReused}  cpu ${s.processes.map((p) => `${p.name.split(' ')[0]} ${p.cpuPercent}%/${p.rssMbMax}MB`).join(', ')}\n`,
      );
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    feed?.close();
    await env.cleanup.run();
    await rm(spoolRoot, { recursive: true, force: true });
  }
}

/** Two panels over bench time: frame → alert.created latency (points) and queue depth (line), steps shaded. */
function plot(steps: StepResult[]): string {
  const W = 1200;
  const H = 700;
  const m = { l: 70, r: 20, t: 40, b: 40 };
  const panelH = (H - m.t - m.b - 40) / 2;
  const tMax = Math.max(1, ...steps.flatMap((s) => [...s.queueDepth.map((q) => q.t), ...s.latencies.map((l) => l.t)]));
  const latMax = Math.max(1000, ...steps.flatMap((s) => s.latencies.map((l) => l.ms)));
  const depthMax = Math.max(10, ...steps.flatMap((s) => s.queueDepth.map((q) => q.depth)));
  const x = (t: number) => m.l + (t / tMax) * (W - m.l - m.r);
  const y1 = (v: number) => m.t + panelH - (v / latMax) * panelH;
  const y2 = (v: number) => m.t + panelH + 40 + panelH - (v / depthMax) * panelH;
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<text x="${m.l}" y="24" font-family="sans-serif" font-size="16">MaskWatch bench:system — frame → alert.created latency (ms, top) and queue depth (jobs, bottom) over time (s)</text>`);
  steps.forEach((s, i) => {
    const end = Math.max(s.phaseStart + s.durationS + s.drainS, ...s.queueDepth.map((q) => q.t));
    parts.push(`<rect x="${x(s.phaseStart)}" y="${m.t}" width="${Math.max(1, x(end) - x(s.phaseStart))}" height="${H - m.t - m.b}" fill="${colors[i % colors.length]}" opacity="0.07"/>`);
    parts.push(`<text x="${x(s.phaseStart) + 4}" y="${m.t + 14}" font-family="sans-serif" font-size="11" fill="${colors[i % colors.length]}">${s.label}</text>`);
    for (const l of s.latencies) parts.push(`<circle cx="${x(l.t).toFixed(1)}" cy="${y1(l.ms).toFixed(1)}" r="2" fill="${colors[i % colors.length]}"/>`);
    if (s.queueDepth.length > 1) {
      const pts = s.queueDepth.map((q) => `${x(q.t).toFixed(1)},${y2(q.depth).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${pts}" fill="none" stroke="${colors[i % colors.length]}" stroke-width="2"/>`);
    }
  });
  // Axes, the 1 s line, labels.
  for (const [y0, max, unit] of [[y1, latMax, 'ms'], [y2, depthMax, 'jobs']] as const) {
    for (let k = 0; k <= 4; k++) {
      const v = Math.round((max * k) / 4);
      parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y0(v)}" y2="${y0(v)}" stroke="#ddd"/>`);
      parts.push(`<text x="${m.l - 6}" y="${y0(v) + 4}" text-anchor="end" font-family="sans-serif" font-size="11">${v} ${k === 4 ? unit : ''}</text>`);
    }
  }
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y1(P95_LIMIT)}" y2="${y1(P95_LIMIT)}" stroke="red" stroke-dasharray="6 4"/>`);
  for (let t = 0; t <= tMax; t += Math.max(10, Math.round(tMax / 10 / 10) * 10)) {
    parts.push(`<text x="${x(t)}" y="${H - m.b + 16}" text-anchor="middle" font-family="sans-serif" font-size="11">${t}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${parts.join('')}</svg>`;
}

async function runAll() {
  // Each mix on fresh processes, schema and queue prefix: one mix's backlog or tracks never reach the next.
  for (const mix of SOURCE === 'clips' ? (MIXES as Mix[]) : [null]) {
    benchStart = Date.now();
    await main(mix);
  }
}

runAll().catch((err: unknown) => {
  process.stderr.write(`bench:system failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
