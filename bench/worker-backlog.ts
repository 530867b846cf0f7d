/**
 * `npm run bench:worker`: what one detection worker costs per frame, by stage, on a fixed backlog
 * (issue 14). No API, no simulator: `--cameras` cameras' clip frames (bench/lib/system-clips.ts,
 * `--mix crowd` as bench:system's default or `--mix scenes`) are staged and queued at once, then
 * one in-process detection worker (the production wiring, real ONNX engine, reuse on, PostgreSQL
 * schema and Redis prefix of its own, 2 of 2 confirmation) works the backlog off.
 *
 * Per frame: CPU-ms of the whole process (process.cpuUsage: every thread, so libvips and ONNX
 * count), and the CPU-ms spent inside the analysis step (thumbnail, decode, detector, classifier)
 * and inside the evidence rendering (crops, stored frame); the rest is the DB transaction, Redis
 * (queue, state, lock, events), file I/O and sharpness. With `--concurrency 1` the stages run one
 * at a time, so their CPU deltas are theirs. Also wall frames/s, which is an upper bound on a
 * shared machine (report the load average printed).
 *
 *   npm run bench:worker -- [--mix crowd|scenes] [--cameras 4] [--threads 1] [--concurrency 1] [--out FILE]
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import inspector from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import pg from 'pg';
import { createVisionEngine } from '../src/vision/engine.ts';
import { visionEngineOptions } from '../src/config/vision-engine.ts';
import { QUEUES, type FrameJob } from '../src/queue/jobs.ts';
import { FRAME_JOB_OPTIONS } from '../src/queue/producer.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import type { Box, FaceResult, VisionEngine } from '../src/vision/types.ts';
import { decodeImage, type DecodedImage } from '../src/vision/image.ts';
import { frameThumbnail } from '../src/vision/frame-diff.ts';
import { BLUR_MARGIN, clipRect, renderFaceCrops, renderStoredFrame } from '../src/vision/render.ts';
import { gaussianBlur, gaussianBlurVips } from '../src/vision/blur.ts';
import { extractRgb } from '../src/vision/crop.ts';
import { faceSharpness } from '../src/vision/sharpness.ts';
import { setHeapGrowth } from '../src/system/heap-growth.ts';
import { createTestStack } from '../test/helpers/api.ts';
import { createCamera, stackDetectionWorker } from '../test/integration/worker-support.ts';
import { loadSceneClips, loadSystemClips } from './lib/system-clips.ts';

const { values: flags } = parseArgs({
  options: {
    mix: { type: 'string', default: 'crowd' },
    cameras: { type: 'string', default: '4' },
    threads: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1' },
    'timeout-s': { type: 'string', default: '600' },
    out: { type: 'string' },
    /** Writes a V8 CPU profile of the worker run (main thread only: libvips and ONNX threads are not sampled). */
    profile: { type: 'string' },
    /** Frames with a violating face timed stage by stage before the backlog run (0: skip). */
    stages: { type: 'string', default: '16' },
  },
});
const CAMERAS = Number(flags.cameras);
const THREADS = Number(flags.threads);
const CONCURRENCY = Number(flags.concurrency);
const TIMEOUT_MS = Number(flags['timeout-s']) * 1000;
if (![CAMERAS, THREADS, CONCURRENCY, TIMEOUT_MS].every((v) => Number.isInteger(v) && v > 0)) throw new Error('--cameras, --threads, --concurrency, --timeout-s: positive integers');
if (flags.mix !== 'crowd' && flags.mix !== 'scenes') throw new Error('--mix is crowd or scenes');
const REPO = path.resolve(import.meta.dirname, '..');
const ASSETS = path.resolve(process.env.MASKWATCH_ASSETS || path.resolve(REPO, '..', 'shared'));
const progress = (msg: string) => process.stderr.write(`[bench:worker] ${msg}\n`);

/** SQL statements sent (every pg client of this process: the worker's Prisma pool), to say what the DB step is made of. */
let sqlStatements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  sqlStatements += 1;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * CPU-ms by thread (Linux /proc/self/task; empty elsewhere): `main` (JS, and ONNX Runtime with one
 * intra-op thread); `node`, Node 20's name for both V8's platform workers (concurrent GC marking, the
 * bulk of it here) and libuv's pool (sharp, fs); `libvips worker`.
 */
async function cpuMsByThread(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  const tasks = await readdir('/proc/self/task').catch(() => [] as string[]);
  for (const tid of tasks) {
    const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '');
    const m = /^\d+ \((.*)\) (.*)$/s.exec(stat);
    if (!m) continue;
    const f = m[2]!.split(' '); // f[11], f[12]: utime, stime (fields 14, 15)
    const name = String(tid) === String(process.pid) ? 'main' : m[1]!.replace(/[\d-]+$/, '').trim() || m[1]!;
    out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) * tick;
  }
  return out;
}

/** The engine, counting the CPU-ms of each call (exact with concurrency 1: one call at a time). */
function timed(engine: VisionEngine) {
  const stages = { analyze: 0, evidence: 0, analyzeCalls: 0, evidenceCalls: 0, faces: 0 };
  const wrapped: VisionEngine = {
    noMaskThreshold: engine.noMaskThreshold,
    close: () => engine.close(),
    async analyzeFrame(...args) {
      const c0 = cpuMs();
      const r = await engine.analyzeFrame(...args);
      stages.analyze += cpuMs() - c0;
      stages.analyzeCalls += 1;
      stages.faces += r.faces.length;
      return r;
    },
    async renderSnapshots(...args) {
      const c0 = cpuMs();
      const r = await engine.renderSnapshots(...args);
      stages.evidence += cpuMs() - c0;
      stages.evidenceCalls += 1;
      return r;
    },
  };
  return { wrapped, stages };
}

/** CPU-ms per call of each step, on the first `limit` frames that have a violating face (repeated `reps` times). */
async function visionStages(engine: VisionEngine, frames: Buffer[], limit: number, reps: number) {
  const picked: { image: Buffer; pixels: DecodedImage; faces: FaceResult[]; violating: number[] }[] = [];
  for (const image of frames) {
    if (picked.length >= limit) break;
    const pixels = await decodeImage(image);
    const { faces } = await engine.analyzeFrame(pixels);
    const violating = faces.flatMap((f, i) => (f.violation ? [i] : []));
    if (violating.length > 0) picked.push({ image, pixels, faces, violating });
  }
  const cost: Record<string, number> = {};
  const time = async (name: string, fn: (p: (typeof picked)[number]) => Promise<unknown>) => {
    const c0 = cpuMs();
    for (let r = 0; r < reps; r++) for (const p of picked) await fn(p);
    cost[name] = Math.round(((cpuMs() - c0) / (reps * picked.length)) * 10) / 10;
  };
  const boxes = (p: (typeof picked)[number]) => p.violating.map((i) => p.faces[i]!.box);
  await time('thumbnail', (p) => frameThumbnail(p.image));
  await time('decode', (p) => decodeImage(p.image));
  await time('detectAndClassify', (p) => engine.analyzeFrame(p.pixels));
  await time('faceCrops', (p) => renderFaceCrops(p.pixels, p.faces, p.violating));
  await time('storedFrame', (p) => renderStoredFrame(p.pixels, p.faces, p.violating));
  await time('sharpness', (p) => faceSharpness(p.pixels, boxes(p)));
  // The stored frame's bystander blur, region by region: libvips for every region (before) and as render.ts now picks.
  const regions = (p: (typeof picked)[number]) =>
    p.faces.flatMap((f) => (f.violation ? [] : [clipRect(f.box, p.pixels.width, p.pixels.height, BLUR_MARGIN)])).filter((r): r is Box => r !== null);
  const sigmaOf = (r: Box) => Math.max(2, Math.max(r[2], r[3]) / 5);
  await time('bystanderBlurVips', async (p) => {
    for (const r of regions(p)) await gaussianBlurVips(extractRgb(p.pixels, r), sigmaOf(r));
  });
  await time('bystanderBlurNow', async (p) => {
    for (const r of regions(p)) await gaussianBlur(extractRgb(p.pixels, r), sigmaOf(r));
  });
  // The evidence as the handler produced it before (each step decoding the frame again) and now (from the analysis' pixels).
  await time('evidenceFromJpeg', async (p) => [await engine.renderSnapshots(p.image, p.faces, p.violating), await faceSharpness(p.image, boxes(p))]);
  await time('evidenceFromPixels', async (p) => [await engine.renderSnapshots(p.pixels, p.faces, p.violating), await faceSharpness(p.pixels, boxes(p))]);
  return { frames: picked.length, reps, facesPerFrame: Math.round((picked.reduce((a, p) => a + p.faces.length, 0) / picked.length) * 10) / 10, cpuMsPerFrame: cost };
}

async function main() {
  const clips =
    flags.mix === 'scenes'
      ? await loadSceneClips({ assetsDir: ASSETS, repoRoot: REPO })
      : await loadSystemClips({ assetsDir: ASSETS, repoRoot: REPO });
  const stack = await createTestStack('postgresql', {
    MASKWATCH_CONFIRM_FRAMES: '2',
    MASKWATCH_CONFIRM_WINDOW: '2',
    MASKWATCH_ALERT_COOLDOWN_S: '1',
    MASKWATCH_INTRA_OP_THREADS: String(THREADS),
    MASKWATCH_ASSETS: ASSETS,
    // A/B of the worker's heap setting: MASKWATCH_WORKER_HEAP_GROWTH_PERCENT=0 npm run bench:worker
    ...(process.env.MASKWATCH_WORKER_HEAP_GROWTH_PERCENT ? { MASKWATCH_WORKER_HEAP_GROWTH_PERCENT: process.env.MASKWATCH_WORKER_HEAP_GROWTH_PERCENT } : {}),
  });
  const queue = new Queue(QUEUES.frames, { connection: redisOptionsFromUrl(stack.config.redisUrl), prefix: stack.config.queuePrefix });
  let engine: VisionEngine | undefined;
  try {
    setHeapGrowth(stack.config.worker.heapGrowthPercent); // as the worker command does
    engine = await createVisionEngine(visionEngineOptions(stack.config, { intraOpThreads: THREADS }));
    const { wrapped, stages } = timed(engine);
    const stageCosts = Number(flags.stages) > 0 ? await visionStages(engine, clips.frames, Number(flags.stages), 3) : null;
    if (stageCosts) progress(`vision stages (CPU-ms per frame with a violator): ${JSON.stringify(stageCosts)}`);
    // Stage every camera's frames (cameras start at different cycles), captured 500 ms apart.
    const t0 = Date.now() - 3_600_000;
    const jobs: FrameJob[] = [];
    for (let c = 0; c < CAMERAS; c++) {
      const cam = await createCamera(stack.db.prisma, `bench-${c}`);
      const offset = (c * clips.cycleFrames) % clips.frames.length;
      for (let i = 0; i < clips.frames.length; i++) {
        const frameId = `c${c}f${String(i).padStart(4, '0')}`;
        const rel = `frames/${cam.id}/${frameId}.jpg`;
        await mkdir(path.join(stack.dataDir, 'frames', cam.id), { recursive: true });
        await writeFile(path.join(stack.dataDir, rel), clips.frames[(offset + i) % clips.frames.length]!);
        const at = new Date(t0 + i * 500).toISOString();
        jobs.push({ frameId, cameraId: cam.id, path: rel, capturedAt: at, receivedAt: at });
      }
    }
    // Interleaved as the cameras would send them, taken oldest first (production takes the newest first,
    // which is right for a backlog of fresh frames, but would analyse a staged backlog backwards).
    jobs.sort((a, b) => a.capturedAt.localeCompare(b.capturedAt) || a.cameraId.localeCompare(b.cameraId));
    await queue.addBulk(jobs.map((data) => ({ name: 'frame.analyze', data, opts: { ...FRAME_JOB_OPTIONS, lifo: false, jobId: data.frameId } })));
    progress(`${flags.mix}: ${jobs.length} frames (${CAMERAS} cameras × ${clips.frames.length}), worker concurrency ${CONCURRENCY}, ${THREADS} intra-op thread(s), load ${os.loadavg()[0]!.toFixed(2)}`);

    const session = flags.profile ? new inspector.Session() : null;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const load0 = os.loadavg()[0]!;
    const sql0 = sqlStatements;
    const cpu0 = cpuMs();
    const threads0 = await cpuMsByThread();
    const wall0 = performance.now();
    const detection = stackDetectionWorker(stack, wrapped, { reuse: stack.config.vision.reuse, concurrency: CONCURRENCY });
    for (;;) {
      const c = await queue.getJobCounts('completed', 'failed');
      if ((c.completed ?? 0) + (c.failed ?? 0) >= jobs.length) break;
      if (performance.now() - wall0 > TIMEOUT_MS) throw new Error(`backlog not worked off after ${TIMEOUT_MS / 1000} s: ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const wallS = (performance.now() - wall0) / 1000;
    const sql = sqlStatements - sql0;
    const cpu = cpuMs() - cpu0;
    const threads1 = await cpuMsByThread();
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(flags.profile!, JSON.stringify(profile));
      session.disconnect();
    }
    const failed = (await queue.getJobCounts('failed')).failed ?? 0;
    await detection.close();
    const alerts = await stack.db.prisma.alert.count();
    const violations = await stack.db.prisma.violation.count();
    const sightings = await stack.db.prisma.trackSighting.count();
    const n = jobs.length;
    if (process.env.BENCH_WORKER_DEBUG) {
      const rows = await stack.db.prisma.trackSighting.findMany({ orderBy: { capturedAt: 'asc' }, select: { trackKey: true, capturedAt: true, violating: true, noMaskProbability: true, frameId: true, faceIndex: true } });
      for (const r of rows.slice(0, 60)) progress(JSON.stringify(r));
    }
    const perFrame = (v: number) => Math.round((v / n) * 10) / 10;
    const result = {
      at: new Date().toISOString(),
      mix: flags.mix,
      frames: n,
      facesPerAnalysedFrame: Math.round((stages.faces / Math.max(1, stages.analyzeCalls)) * 10) / 10,
      framesWithEvidence: stages.evidenceCalls,
      failed,
      alerts,
      violations,
      sightings,
      concurrency: CONCURRENCY,
      intraOpThreads: THREADS,
      framesPerSecond: Math.round((n / wallS) * 10) / 10,
      cpuMsPerFrame: {
        total: perFrame(cpu),
        analysis: perFrame(stages.analyze),
        evidence: perFrame(stages.evidence),
        evidencePerEvidenceFrame: Math.round((stages.evidence / Math.max(1, stages.evidenceCalls)) * 10) / 10,
        rest: perFrame(cpu - stages.analyze - stages.evidence),
      },
      cpuMsPerFrameByThread: Object.fromEntries(
        Object.entries(threads1)
          .map(([name, ms]) => [name, perFrame(ms - (threads0[name] ?? 0))] as const)
          .filter(([, ms]) => ms > 0)
          .sort((a, b) => b[1] - a[1]),
      ),
      visionStages: stageCosts,
      sqlStatementsPerFrame: Math.round((sql / n) * 10) / 10,
      cpuCoresUsed: Math.round((cpu / 1000 / wallS) * 100) / 100,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      loadAverage1m: { start: Math.round(load0 * 100) / 100, end: Math.round(os.loadavg()[0]! * 100) / 100 },
    };
    process.stdout.write(JSON.stringify(result) + '\n');
    if (flags.out) await writeFile(flags.out, JSON.stringify(result, null, 2) + '\n');
  } finally {
    await queue.close();
    await engine?.close();
    await stack.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
