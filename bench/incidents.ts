/**
 * `npm run bench:incidents`: person-level quality and latency of incidents.
 *
 * Each annotated kaggle-scenes-dev still becomes a short clip (bench/lib/clips.ts:
 * 8 frames at 2 fps, shifts of a few pixels, brightness/noise changes, JPEG
 * re-compression; seeded). Stills are split by models/scene-split.json (the mask
 * head was trained on its `train` scenes, which are not used here):
 *   - `val` clips choose k/n, the confirmation rule, the confirmation threshold
 *     and the sighting gate (not when the head was refit on train + val: then
 *     they are in-sample, and the settings are given on the command line),
 *     by replaying the real engine's per-frame output
 *     through the same pure planner the worker runs, and show where violators
 *     are lost (bench/lib/incident-diagnosis.ts);
 *   - `report` clips are posted through the real API (frames endpoint, BullMQ,
 *     detection worker with the real ONNX engine, SQLite) in real time, each as
 *     its own camera, with the chosen settings as the deployment's, and scored
 *     from the alerts API against the annotations (faces ≥ 24 px).
 * Writes reports/bench-incidents.{json,md,png}. Progress on stderr.
 *
 *   npm run bench:incidents -- [--limit 0 (all report clips)] [--offset 0] [--concurrency 1] [--cache FILE] [--tune-only]
 *                              [--k K --n N --no-mask P --incorrect P (skip tuning)] [--seed 1] [--out reports]
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Job, Queue, QueueEvents } from 'bullmq';
import { io as connect, type Socket } from 'socket.io-client';
import { QUEUES } from '../src/queue/jobs.ts';
import { redisOptionsFromUrl } from '../src/queue/redis-options.ts';
import type { AlertEvent, ServerToClientEvents } from '../src/realtime/events.ts';
import { parseVocAnnotation, type GtFace } from '../src/vision/evaluation/detection.ts';
import type { Box, FaceResult } from '../src/vision/types.ts';
import { call, createTestStack, loginAs } from '../test/helpers/api.ts';
import { loadEngine, stackDetectionWorker } from '../test/integration/worker-support.ts';
import { DEFAULT_CLIP, makeClip, seededRandom, seedFor, type ClipFrame } from './lib/clips.ts';
import { bootstrap, MIN_SIDE, percentileOf, precisionRecall, scoreClip, sumScores, type ClipScore } from './lib/incident-score.ts';
import { replayClip, type ReplaySettings } from './lib/incident-replay.ts';
import { diagnoseClips, FRAME_CAUSES, PERSON_CAUSES } from './lib/incident-diagnosis.ts';
import {
  DEFAULT_SIGHTING_GATE,
  type SightingGate,
  type ViolationThreshold,
} from '../src/domain/people.ts';
import { decideFace } from '../src/vision/decision.ts';
import { createVisionEngine } from '../src/vision/engine.ts';
import { visionEngineOptions } from '../src/config/vision-engine.ts';
import type { DecisionRule } from '../src/vision/head.ts';
import { datasetDir, SCENES_DATASET } from '../src/vision/train/datasets.ts';
import sharp from 'sharp';
import { incidentsPlotSvg } from './lib/incidents-plot.ts';

const { values: flags } = parseArgs({
  options: {
    /** JSON file caching the engine's output on validation clips (the slow part of tuning). */
    cache: { type: 'string' },
    /** Tune and diagnose on validation clips only; no report run. */
    'tune-only': { type: 'boolean', default: false },
    limit: { type: 'string', default: '0' },
    /** Skip this many report clips (to spread runs over the report set). */
    offset: { type: 'string', default: '0' },
    'validation-limit': { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '1' },
    k: { type: 'string' },
    n: { type: 'string' },
    'no-mask': { type: 'string' },
    incorrect: { type: 'string' },
    seed: { type: 'string', default: '1' },
    /**
     * Out-of-fold heads of a refit (scripts/tail-finetune/artifact.ts with a fold): tune on the clips of ALL
     * choosing stills (train + val), each analysed by the model of the fold that never trained on it.
     */
    'oof-heads': { type: 'string' },
    out: { type: 'string', default: 'reports' },
  },
});

const ASSETS = path.resolve(process.env.MASKWATCH_ASSETS || path.resolve(import.meta.dirname, '..', '..', 'shared'));
const SCENES = datasetDir(ASSETS, SCENES_DATASET);
const SEED = Number(flags.seed);
const SCENE_SPLIT = path.resolve(import.meta.dirname, '..', 'models', 'scene-split.json');
/** The head's validated single-frame rule (labels and detector gates). */
const HEAD = JSON.parse(await readFile(path.resolve(import.meta.dirname, '..', 'models', 'mask-head.json'), 'utf8')) as { decision: DecisionRule; training: { refit?: unknown } };
const HEAD_DECISION = HEAD.decision;
/** A head refit on train + val (scripts/tail-finetune/refit.ts) learned from the val clips' stills: choosing on them would be in-sample. */
const HEAD_IS_REFIT = Boolean(HEAD.training.refit);
const OOF_DIR = flags['oof-heads'] ? path.resolve(flags['oof-heads']) : null;
/** Scene → fold of the out-of-fold heads: its clips are analysed by OOF_DIR/f<fold>/mask-head.json. */
const OOF_FOLDS = OOF_DIR ? (JSON.parse(await readFile(path.join(OOF_DIR, 'folds.json'), 'utf8')) as Record<string, number>) : null;
const WINDOW_MS = 60_000;
const TARGETS = { precision: 0.95, recall: 0.9, duplicates: 0, alertsPerClip: 1, p95LatencyMs: 2000 };

const log = (msg: string) => process.stderr.write(`[bench:incidents] ${msg}\n`);

type Side = 'train' | 'val' | 'report';

interface Still {
  stem: string;
  file: string;
  gt: GtFace[];
  side: Side;
}

/**
 * The stills with the side of models/scene-split.json they belong to: the mask head was trained on
 * `train` scenes (never used here), settings are chosen on `val` scenes, figures reported on `report` scenes.
 */
async function loadStills(): Promise<Still[]> {
  const split = JSON.parse(await readFile(SCENE_SPLIT, 'utf8')) as { dataset: string; sides: Record<string, Side> };
  if (split.dataset !== 'kaggle-scenes-dev') throw new Error(`${SCENE_SPLIT} splits ${split.dataset}, not kaggle-scenes-dev`);
  const stems = (await readdir(path.join(SCENES, 'annotations'))).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4)).sort();
  const stills: Still[] = [];
  for (const stem of stems) {
    const side = split.sides[stem];
    if (!side) throw new Error(`${stem} is in no side of ${SCENE_SPLIT}`);
    const gt = parseVocAnnotation(await readFile(path.join(SCENES, 'annotations', `${stem}.xml`), 'utf8'));
    stills.push({ stem, file: path.join(SCENES, 'images', `${stem}.jpg`), gt, side });
  }
  return stills;
}

const clipOf = async (s: Still) => makeClip(await readFile(s.file), { ...DEFAULT_CLIP, seed: seedFor(s.stem, SEED) });

/** A box of frame `f` in the still's coordinates (the clip moved content by dx, dy). */
const toStill = (box: Box, f: ClipFrame): Box => [box[0] - f.dx, box[1] - f.dy, box[2], box[3]];

function describe(s: ReplaySettings): string {
  return `${s.confirmation.confirmFrames} of ${s.confirmation.confirmWindow}, averaged ${fmtThreshold(s.threshold)}, sighting gate score ≥ ${s.gate.minFaceScore} and face ≥ ${s.gate.minFaceSide} px`;
}

function summarise(scores: ClipScore[], rand: () => number) {
  const total = sumScores(scores);
  const pr = precisionRecall(total);
  const ci = bootstrap(scores, rand);
  return { ...total, ...pr, precisionCI95: ci.precision, recallCI95: ci.recall };
}

// ---- tuning on validation clips ------------------------------------------------

interface AnalysedClip {
  still: Still;
  frames: { at: number; faces: FaceResult[] }[];
  clip: ClipFrame[];
}

/**
 * The real engine's output for every frame of every clip, with its lowest gates (minimum face 12 px,
 * the head's own thresholds) so every candidate setting can be replayed from one analysis. Cached in
 * `--cache` (keyed by stem and seed) because the analysis is the slow part.
 */
async function analyse(stills: Still[]): Promise<AnalysedClip[]> {
  const cacheFile = flags.cache ? path.resolve(flags.cache) : null;
  const cache: Record<string, { at: number; faces: FaceResult[] }[]> = cacheFile ? JSON.parse(await readFile(cacheFile, 'utf8').catch(() => '{}')) : {};
  const { testConfig } = await import('../test/helpers/env.ts');
  const config = testConfig('/tmp', { MASKWATCH_MIN_FACE_PX: '12' });
  let engine: Awaited<ReturnType<typeof loadEngine>> | null = null;
  let engineFold: number | undefined;
  // Out-of-fold: one fold's engine at a time.
  if (OOF_FOLDS) stills = [...stills].sort((a, b) => OOF_FOLDS[a.stem]! - OOF_FOLDS[b.stem]!);
  const analysed: AnalysedClip[] = [];
  try {
    for (const [i, still] of stills.entries()) {
      const clip = await clipOf(still);
      const fold = OOF_FOLDS?.[still.stem];
      const key = `${still.stem}:${SEED}${fold !== undefined ? ':oof' : ''}`;
      let frames = cache[key];
      if (!frames) {
        if (!engine || fold !== engineFold) {
          await engine?.close();
          engine = await createVisionEngine(visionEngineOptions(config, { intraOpThreads: 1, ...(fold !== undefined ? { headPath: path.join(OOF_DIR!, `f${fold}`, 'mask-head.json') } : {}) }));
          engineFold = fold;
        }
        frames = [];
        for (const f of clip) frames.push({ at: f.offsetMs, faces: (await engine.analyzeFrame(f.jpeg)).faces });
        cache[key] = frames;
        if (cacheFile && (i + 1) % 10 === 0) await writeFile(cacheFile, JSON.stringify(cache));
      }
      analysed.push({ still, frames, clip });
      if ((i + 1) % 20 === 0) log(`validation: analysed ${i + 1}/${stills.length} clips`);
    }
  } finally {
    await engine?.close();
  }
  if (cacheFile) await writeFile(cacheFile, JSON.stringify(cache));
  return analysed;
}

/**
 * The engine's faces as if it had run with another P(no mask) labelling threshold (the previous bench
 * set MASKWATCH_NO_MASK_THRESHOLD to its confirmation threshold, which also moved the engine's labels).
 */
function relabel(faces: readonly FaceResult[], noMaskThreshold: number): FaceResult[] {
  const rule = { ...HEAD_DECISION, noMaskThreshold };
  return faces.map((f) => ({ ...f, ...decideFace(f, f.probabilities, rule, 'violation') }));
}

/**
 * Candidate confirmation thresholds: per class on the averaged probabilities, the way the head labels one
 * face (mask_incorrect at the head's threshold or stricter), as a deployment sets them
 * (MASKWATCH_CONFIRM_NO_MASK / _INCORRECT). Not candidates: a threshold on the sum P(no mask) + P(mask
 * incorrect), which no deployment setting expresses, and "mask_incorrect never confirms alone": under the
 * default policy such a person is a violation, and the scorer, for which incorrectly worn masks are
 * don't-care, cannot weigh that loss.
 */
const THRESHOLDS: ViolationThreshold[] = [0.15, 0.2, 0.3, 0.4, 0.5, 0.6].flatMap((noMask) =>
  [HEAD_DECISION.incorrectThreshold, 0.95].map((incorrect) => ({ noMask, incorrect })),
);

const fmtThreshold = (t: ViolationThreshold) =>
  typeof t === 'number' ? `P(no mask)+P(mask incorrect) ≥ ${t}` : `P(no mask) ≥ ${t.noMask}${t.incorrect > 1 ? '' : ` or P(mask incorrect) ≥ ${t.incorrect}`}`;
/** Ranks thresholds from lenient to strict for tie-breaking (a number counts by its value). */
const thresholdRank = (t: ViolationThreshold) => (typeof t === 'number' ? t : t.noMask + t.incorrect / 100);

const ENGINE_GATE: SightingGate = { minFaceScore: HEAD_DECISION.violationFaceScore, minFaceSide: HEAD_DECISION.violationMinFaceSize };

type GridPoint = ReplaySettings & {
  score: ReturnType<typeof summarise>;
  oneAlert: number;
  withViolator: number;
  falseAlerts: number;
  /** p95 over clips with a violator of first frame → capture of the frame that confirmed the first person. */
  confirmP95Ms: number;
};

/** Half of the 2 s first frame → alert budget: the other half is left to queueing and inference. */
const CONFIRM_BUDGET_MS = 1000;

function evaluate(analysed: readonly AnalysedClip[], setting: ReplaySettings, withCI = false): Omit<GridPoint, keyof ReplaySettings> {
  const firstAlertMs: number[] = [];
  const scores = analysed.map(({ still, frames, clip }) => {
    const people = replayClip(frames, setting).people;
    const score = scoreClip(still.gt, people.map((p) => ({ alertId: p.alertId, box: toStill(p.box, clip[p.lastFrame]!) })));
    // Capture time of the frame that opened the clip's first alert, from the first frame: the part of
    // first frame → alert that confirmation itself adds (queueing and inference come on top).
    if (score.positives > 0 && people.length) firstAlertMs.push(Math.min(...people.map((p) => frames[p.confirmedFrame]!.at - frames[0]!.at)));
    return score;
  });
  const total = sumScores(scores);
  const pr = precisionRecall(total);
  const ci = withCI ? bootstrap(scores, seededRandom(SEED)) : null;
  return {
    score: { ...total, ...pr, precisionCI95: ci?.precision ?? [NaN, NaN], recallCI95: ci?.recall ?? [NaN, NaN] },
    oneAlert: scores.filter((c) => c.positives > 0 && c.alerts === 1).length,
    withViolator: scores.filter((c) => c.positives > 0).length,
    falseAlerts: scores.filter((c) => c.positives === 0).reduce((n, c) => n + c.alerts, 0),
    confirmP95Ms: percentileOf(firstAlertMs, 0.95) ?? 0,
  };
}

async function tune(stills: Still[]) {
  const analysed = await analyse(stills);
  const setting = (k: number, n: number, threshold: ViolationThreshold, gate: SightingGate): ReplaySettings => ({
    confirmation: { confirmFrames: k, confirmWindow: n },
    threshold,
    gate,
    windowMs: WINDOW_MS,
  });
  const grid: GridPoint[] = [];
  for (const [k, n] of [[1, 1], [2, 2], [2, 3], [2, 4], [3, 3], [3, 4], [3, 5], [4, 6]] as const) {
    for (const threshold of THRESHOLDS) {
      for (const minFaceScore of [0.7, 0.8, ENGINE_GATE.minFaceScore]) {
        for (const minFaceSide of [16, ENGINE_GATE.minFaceSide]) {
          const s = setting(k, n, threshold, { minFaceScore, minFaceSide });
          grid.push({ ...s, ...evaluate(analysed, s) });
        }
      }
    }
  }
  log(`validation grid: ${grid.length} settings replayed`);
  // Meet the precision target with no duplicate, within the confirmation latency budget, and the best
  // recall; if none does, the best F1 within the budget (the alert latency target, p95 ≤ 2 s, binds either way).
  const inBudget = grid.filter((g) => g.confirmP95Ms <= CONFIRM_BUDGET_MS);
  const meeting = inBudget.filter((g) => g.score.precision >= TARGETS.precision && g.score.duplicates === 0);
  // Ties: more clips with exactly one alert, faster confirmation, higher precision, a smaller k, a shorter window, a stricter gate, a more lenient threshold.
  const key = (g: GridPoint) => [
    meeting.length ? g.score.recall : g.score.f1,
    g.oneAlert,
    -g.confirmP95Ms,
    g.score.precision,
    -g.confirmation.confirmFrames,
    -g.confirmation.confirmWindow,
    g.gate.minFaceScore,
    g.gate.minFaceSide,
    // the more lenient threshold, so MASKWATCH_INCORRECT_MASK keeps meaning something
    -thresholdRank(g.threshold),
  ];
  const better = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
    return false;
  };
  const pick = (meeting.length ? meeting : inBudget.length ? inBudget : grid).reduce((best, g) => (better(key(g), key(best)) ? g : best));
  const chosen: ReplaySettings = { confirmation: pick.confirmation, threshold: pick.threshold, gate: pick.gate, windowMs: WINDOW_MS };

  // Where violators were lost, before and after.
  const atLabel = (t: number) => analysed.map((a) => ({ ...a, gt: a.still.gt, frames: a.frames.map((f) => ({ at: f.at, faces: relabel(f.faces, t) })) }));
  const asIs = analysed.map((a) => ({ ...a, gt: a.still.gt }));
  const previousBench = setting(2, 2, 0.5, ENGINE_GATE);
  const previousDefault = setting(2, 2, HEAD_DECISION.noMaskThreshold, ENGINE_GATE);
  const diagnoses = [
    {
      name: 'previous bench (engine labels at P(no mask) ≥ 0.5, engine gates, 2 of 2, averaged ≥ 0.5)',
      settings: previousBench,
      diagnosis: diagnoseClips(atLabel(0.5), previousBench),
      ...evaluate(atLabel(0.5).map((a) => ({ ...a, frames: a.frames })), previousBench, true),
    },
    {
      name: `previous deployment defaults (head labels, engine gates, 2 of 2, averaged ≥ ${HEAD_DECISION.noMaskThreshold})`,
      settings: previousDefault,
      diagnosis: diagnoseClips(asIs, previousDefault),
      ...evaluate(analysed, previousDefault, true),
    },
    { name: 'chosen', settings: chosen, diagnosis: diagnoseClips(asIs, chosen), ...evaluate(analysed, chosen, true) },
  ];
  return {
    clips: analysed.length,
    chosen,
    chosenScore: diagnoses[2]!,
    rule: meeting.length
      ? `precision ≥ 0.95, 0 duplicates and first frame → confirming frame p95 ≤ ${CONFIRM_BUDGET_MS} ms, then highest recall, then most clips with exactly one alert`
      : `no setting reached precision 0.95 within the latency budget: highest F1 with first frame → confirming frame p95 ≤ ${CONFIRM_BUDGET_MS} ms`,
    diagnoses,
    grid: grid.map((g) => ({
      k: g.confirmation.confirmFrames,
      n: g.confirmation.confirmWindow,
      threshold: g.threshold,
      minFaceScore: g.gate.minFaceScore,
      minFaceSide: g.gate.minFaceSide,
      precision: g.score.precision,
      recall: g.score.recall,
      f1: g.score.f1,
      tp: g.score.tp,
      fp: g.score.fp,
      found: g.score.found,
      violators: g.score.positives,
      duplicates: g.score.duplicates,
      oneAlert: g.oneAlert,
      withViolator: g.withViolator,
      falseAlerts: g.falseAlerts,
      confirmP95Ms: g.confirmP95Ms,
    })),
  };
}

// ---- report clips through the real API ---------------------------------------

interface ClipRun {
  stem: string;
  cameraId: string;
  firstPostAt: number;
  alertCreatedAt: number | null;
  /** Capture offset from the first frame of the frame that confirmed the alert's first person (ms). */
  confirmingFrameMs: number | null;
  frames: number;
  failedFrames: number;
  score: ClipScore;
}

async function runThroughApi(stills: Still[], settings: ReplaySettings) {
  // The engine runs with its deployment defaults (the head's labels and gates, minimum face 12 px);
  // confirmation with the chosen values, through the same config variables a deployment sets.
  const threshold = settings.threshold;
  if (typeof threshold === 'number') throw new Error('a threshold on the summed probabilities has no deployment setting');
  const stack = await createTestStack('sqlite', {
    MASKWATCH_CONFIRM_NO_MASK: String(threshold.noMask),
    MASKWATCH_CONFIRM_INCORRECT: String(threshold.incorrect),
    MASKWATCH_CONFIRM_FRAMES: String(settings.confirmation.confirmFrames),
    MASKWATCH_CONFIRM_WINDOW: String(settings.confirmation.confirmWindow),
    MASKWATCH_ALERT_COOLDOWN_S: String(WINDOW_MS / 1000),
    MASKWATCH_MAX_CAMERA_BACKLOG: '1000',
  });
  const api = await stack.startApi();
  const engine = await loadEngine(stack.config);
  const worker = stackDetectionWorker(stack, engine, { concurrency: 1, ...(threshold ? {} : { violationThreshold: settings.threshold }) });
  // Model warm-up (first-inference allocations) is start-up cost, not per-alert latency.
  await engine.analyzeFrame(await readFile(stills[0]?.file ?? path.join(SCENES, 'images', 'maksssksksss1.jpg')));
  const admin = (await loginAs(api, { username: 'bench-admin', role: 'ADMIN' })).token;
  const dispatcher = (await loginAs(api, { username: 'bench-dispatcher', role: 'DISPATCHER' })).token;
  const socket: Socket<ServerToClientEvents> = connect(api.url, { auth: { token: dispatcher }, transports: ['websocket'], reconnection: false });
  const createdAt = new Map<string, number>();
  // At creation, a person's lastSeenAt is the capture time of the frame that confirmed them.
  const confirmedAt = new Map<string, number>();
  socket.on('alert.created', (a: AlertEvent) => {
    if (createdAt.has(a.cameraId)) return;
    createdAt.set(a.cameraId, performance.now());
    if (a.people.length) confirmedAt.set(a.cameraId, Math.min(...a.people.map((p) => Date.parse(p.lastSeenAt))));
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dispatcher socket did not connect within 10 s')), 10_000);
    socket.once('connect', () => (clearTimeout(timer), resolve()));
    socket.once('connect_error', (err) => (clearTimeout(timer), reject(err)));
  });
  const connection = redisOptionsFromUrl(stack.config.redisUrl);
  const queue = new Queue(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
  const queueEvents = new QueueEvents(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
  await queueEvents.waitUntilReady();

  const runs: ClipRun[] = [];
  const runOne = async (still: Still): Promise<ClipRun> => {
    const clip = await clipOf(still);
    const cam = await call(api.url, 'POST', '/api/v1/cameras', {
      token: admin,
      json: { name: `clip ${still.stem}`, latitude: 40.4, longitude: -3.7, confirmFrames: settings.confirmation.confirmFrames, confirmWindow: settings.confirmation.confirmWindow },
    });
    if (cam.status !== 201) throw new Error(`camera create failed: ${cam.status} ${JSON.stringify(cam.body)}`);
    const t0 = Date.now();
    const start = performance.now();
    const frameIds: string[] = [];
    for (const f of clip) {
      // Real time: frame i is sent i / fps seconds after the first (pacing a camera, not synchronising).
      const due = start + f.offsetMs - performance.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      const res = await call(api.url, 'POST', '/api/v1/frames', {
        token: cam.body.apiKey,
        body: f.jpeg,
        headers: { 'content-type': 'image/jpeg', 'x-captured-at': new Date(t0 + f.offsetMs).toISOString() },
      });
      if (res.status !== 202) throw new Error(`frame refused: ${res.status} ${JSON.stringify(res.body)}`);
      frameIds.push(res.body.frameId);
    }
    let failedFrames = 0;
    for (const id of frameIds) {
      const job = await Job.fromId(queue, id);
      if (!job) continue; // already completed and removed
      await job.waitUntilFinished(queueEvents, 120_000).catch((err: Error) => {
        if (/timed out|Job wait/i.test(err.message)) throw new Error(`frame ${id} of ${still.stem} not processed within 120 s`);
        failedFrames++;
      });
    }
    const alerts = await call(api.url, 'GET', `/api/v1/alerts?cameraId=${cam.body.id}&limit=100`, { token: dispatcher });
    if (alerts.status !== 200) throw new Error(`alerts list failed: ${alerts.status}`);
    const people = (alerts.body.items as AlertEvent[]).flatMap((a) =>
      a.people.map((p) => {
        // The box is in the person's frame (frameSnapshotUrl ends with its frame id); without one, the frame of lastSeenAt.
        const kept = p.frameSnapshotUrl ? frameIds.indexOf(decodeURIComponent(p.frameSnapshotUrl.split('/').pop()!)) : -1;
        const seen = Math.round((Date.parse(p.lastSeenAt) - t0) / (1000 / DEFAULT_CLIP.fps));
        const frame = Math.min(clip.length - 1, Math.max(0, kept >= 0 ? kept : seen));
        return { alertId: a.id, box: toStill(p.box, clip[frame]!) };
      }),
    );
    const created = createdAt.get(cam.body.id);
    const confirmed = confirmedAt.get(cam.body.id);
    return {
      stem: still.stem,
      cameraId: cam.body.id,
      firstPostAt: start,
      alertCreatedAt: created ?? null,
      confirmingFrameMs: confirmed === undefined ? null : confirmed - t0,
      frames: clip.length,
      failedFrames,
      score: scoreClip(still.gt, people),
    };
  };

  try {
    const concurrency = Math.max(1, Number(flags.concurrency));
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < stills.length) {
          const still = stills[next++]!;
          runs.push(await runOne(still));
          if (runs.length % 10 === 0) log(`report: ${runs.length}/${stills.length} clips through the API`);
        }
      }),
    );
  } finally {
    socket.close();
    await queueEvents.close();
    await queue.close();
    await worker.close();
    await engine.close();
    await stack.close();
  }
  return runs;
}

// ---- main ----------------------------------------------------------------------

const stills = await loadStills();
// Clips whose still has no face of at least MIN_SIDE px say nothing about people; they still count for false alarms.
// Out-of-fold heads tune on every choosing still (each analysed by a model that never trained on it).
const validation = stills.filter((s) => (OOF_FOLDS ? OOF_FOLDS[s.stem] !== undefined : s.side === 'val'));
const report = stills.filter((s) => s.side === 'report');
const vLimit = Number(flags['validation-limit']);
const rLimit = Number(flags.limit);
const vSet = vLimit > 0 ? validation.slice(0, vLimit) : validation;
const rOffset = Number(flags.offset);
const rSet = rLimit > 0 ? report.slice(rOffset, rOffset + rLimit) : report.slice(rOffset);
log(`${stills.length} stills: ${validation.length} ${OOF_FOLDS ? 'choosing (train + val, out-of-fold)' : 'val'}, ${report.length} report, ${stills.length - validation.length - report.length} train (not used) (using ${vSet.length} / ${rSet.length})`);

let tuning: Awaited<ReturnType<typeof tune>> | null = null;
let settings: ReplaySettings;
if (flags.k && flags.n && flags['no-mask'] && flags.incorrect) {
  settings = {
    confirmation: { confirmFrames: Number(flags.k), confirmWindow: Number(flags.n) },
    threshold: { noMask: Number(flags['no-mask']), incorrect: Number(flags.incorrect) },
    gate: DEFAULT_SIGHTING_GATE,
    windowMs: WINDOW_MS,
  };
} else {
  if (HEAD_IS_REFIT && !OOF_FOLDS) throw new Error('models/mask-head.json was refit on the val scenes: tuning on val clips would be in-sample; give --oof-heads DIR (scripts/tail-finetune/artifact.ts with a fold), or --k --n --no-mask --incorrect to score the report clips only');
  tuning = await tune(vSet);
  settings = tuning.chosen;
  log(`chosen on validation: ${describe(settings)} (${tuning.rule})`);
  for (const d of tuning.diagnoses) log(`${d.name}: ${JSON.stringify({ ...d.diagnosis, precision: d.score.precision, recall: d.score.recall, oneAlert: d.oneAlert, withViolator: d.withViolator, falseAlerts: d.falseAlerts })}`);
  if (flags['tune-only']) {
    await mkdir(flags.out!, { recursive: true });
    await writeFile(path.join(flags.out!, 'bench-incidents-tuning.json'), JSON.stringify(tuning, null, 2));
    process.exit(0);
  }
  // The report run goes through the real worker, which uses the domain's sighting gate.
  if (JSON.stringify(settings.gate) !== JSON.stringify(DEFAULT_SIGHTING_GATE)) {
    throw new Error(`validation chose ${describe(settings)}: make it DEFAULT_SIGHTING_GATE in src/domain/people.ts and rerun`);
  }
}

const loadAtStart = os.loadavg();
const runs = await runThroughApi(rSet, settings);
const rand = seededRandom(SEED);
const scores = runs.map((r) => r.score);
const overall = summarise(scores, rand);
const withViolator = runs.filter((r) => r.score.positives > 0);
const withoutViolator = runs.filter((r) => r.score.positives === 0);
const alerted = runs.filter((r) => r.alertCreatedAt !== null);
const latencies = alerted.map((r) => r.alertCreatedAt! - r.firstPostAt);
// Intrinsic: first frame's capture → capture of the frame that confirmed (what k of n costs at 2 fps).
const intrinsic = alerted.flatMap((r) => (r.confirmingFrameMs !== null ? [r.confirmingFrameMs] : []));
// Pipeline: that frame's arrival (it is posted at its capture offset) → alert.created (queueing, inference, storage).
const pipeline = alerted.flatMap((r) => (r.confirmingFrameMs !== null ? [r.alertCreatedAt! - r.firstPostAt - r.confirmingFrameMs] : []));
// The same on clips with a violator (false alerts on clips without one are not incidents to be fast on).
const real = alerted.filter((r) => r.score.positives > 0 && r.confirmingFrameMs !== null);
const stats = (xs: number[]) => ({ n: xs.length, p50: percentileOf(xs, 0.5), p95: percentileOf(xs, 0.95), max: xs.length ? Math.max(...xs) : null });
const alertsHist: Record<string, number> = {};
for (const r of withViolator) alertsHist[r.score.alerts] = (alertsHist[r.score.alerts] ?? 0) + 1;
const result = {
  generatedAt: new Date().toISOString(),
  /** The machine is shared: 1/5/15-min load averages at the start and end of the report run. */
  loadAverage: { start: loadAtStart, end: os.loadavg() },
  cpus: os.cpus().length,
  dataset: 'kaggle-scenes-dev (annotated stills → 8-frame 2 fps clips), sides of models/scene-split.json',
  clip: { ...DEFAULT_CLIP, seed: `seedFor(stem, ${SEED})` },
  minSide: MIN_SIDE,
  settings: { ...settings.confirmation, threshold: settings.threshold, sightingGate: settings.gate },
  tuning: tuning && {
    clips: tuning.clips,
    rule: tuning.rule,
    chosen: { precision: tuning.chosenScore.score.precision, precisionCI95: tuning.chosenScore.score.precisionCI95, recall: tuning.chosenScore.score.recall, recallCI95: tuning.chosenScore.score.recallCI95 },
    diagnoses: tuning.diagnoses.map((d) => ({ name: d.name, diagnosis: d.diagnosis, precision: d.score.precision, precisionCI95: d.score.precisionCI95, recall: d.score.recall, recallCI95: d.score.recallCI95, tp: d.score.tp, fp: d.score.fp, oneAlert: d.oneAlert, withViolator: d.withViolator, falseAlerts: d.falseAlerts, confirmP95Ms: d.confirmP95Ms })),
    grid: tuning.grid,
  },
  report: {
    clips: runs.length,
    offset: rOffset,
    clipsWithViolator: withViolator.length,
    framesFailed: runs.reduce((n, r) => n + r.failedFrames, 0),
    precision: overall.precision,
    precisionCI95: overall.precisionCI95,
    recall: overall.recall,
    recallCI95: overall.recallCI95,
    tp: overall.tp,
    fp: overall.fp,
    violators: overall.positives,
    found: overall.found,
    duplicates: overall.duplicates,
    alertsPerClipWithViolator: alertsHist,
    clipsWithExactlyOneAlert: withViolator.filter((r) => r.score.alerts === 1).length,
    alertsOnClipsWithoutViolator: withoutViolator.reduce((n, r) => n + r.score.alerts, 0),
    latencyMs: stats(latencies),
    confirmingFrameMs: stats(intrinsic),
    pipelineMs: stats(pipeline),
    withViolator: {
      latencyMs: stats(real.map((r) => r.alertCreatedAt! - r.firstPostAt)),
      confirmingFrameMs: stats(real.map((r) => r.confirmingFrameMs!)),
      pipelineMs: stats(real.map((r) => r.alertCreatedAt! - r.firstPostAt - r.confirmingFrameMs!)),
    },
  },
  targets: TARGETS,
  clips: runs.map((r) => ({
    stem: r.stem,
    ...r.score,
    latencyMs: r.alertCreatedAt !== null ? Math.round(r.alertCreatedAt - r.firstPostAt) : null,
    confirmingFrameMs: r.confirmingFrameMs,
  })),
};

const f = (x: number | null) => (x === null ? '–' : x.toFixed(3));
const ms = (x: number | null) => (x === null ? '–' : Math.round(x).toString());
const met = (ok: boolean) => (ok ? 'met' : '**not met**');
const ci = (c: readonly number[]) => `${f(c[0]!)}–${f(c[1]!)}`;
const load = (l: readonly number[]) => l.map((x) => x.toFixed(1)).join(' / ');
const rep = result.report;
const diagnosisTable = (ds: NonNullable<typeof tuning>['diagnoses']) => `| setting | violators | frames: detector miss | classifier (labelled mask) | gate veto | violating sighting | below confirmation threshold | track breaks | people: found | lost to detector | classifier | gate | tracker | confirmation | precision (95 % CI) | recall (95 % CI) |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
${ds
  .map(
    (d) =>
      `| ${d.name} | ${d.diagnosis.violators} | ${FRAME_CAUSES.map((c) => d.diagnosis.frames[c]).join(' | ')} | ${d.diagnosis.belowThreshold} | ${d.diagnosis.trackBreaks} | ${PERSON_CAUSES.map((c) => d.diagnosis.people[c]).join(' | ')} | ${f(d.score.precision)} (${ci(d.score.precisionCI95)}) | ${f(d.score.recall)} (${ci(d.score.recallCI95)}) |`,
  )
  .join('\n')}`;
const topGrid = tuning
  ? [...tuning.grid]
      .filter((g) => g.precision >= TARGETS.precision && g.duplicates === 0)
      .sort((a, b) => b.recall - a.recall || a.confirmP95Ms - b.confirmP95Ms || b.oneAlert - a.oneAlert)
      .slice(0, 12)
  : [];
const md = `# bench:incidents

Generated ${result.generatedAt} by \`npm run bench:incidents\` (figures in \`bench-incidents.json\`, plot \`bench-incidents.png\`).

![Person precision against recall of the tuning settings and the report clips; first frame → alert of each report clip](bench-incidents.png)

Clips: each annotated kaggle-scenes-dev still → ${DEFAULT_CLIP.frames} frames at ${DEFAULT_CLIP.fps} fps (shift ≤ ${DEFAULT_CLIP.maxShift} px, brightness ×0.85–1.15, Gaussian noise σ 1–6, JPEG q60–90; seeded per still).
Stills split by scene as in \`models/scene-split.json\` (${HEAD_IS_REFIT ? 'the mask head was refit on its `train` and `val` scenes, never on `report`' : 'the mask head was trained on its `train` scenes, which are not used here'}): ${validation.length} ${OOF_FOLDS ? 'choosing (`train` + `val`)' : '`val`'} / ${report.length} \`report\` stills. ${tuning ? `${tuning.clips} ${OOF_FOLDS ? 'choosing clips (train + val stills, each analysed by the out-of-fold model of its scene: trained on the other four of five folds by scene, with the refit\'s epochs and rule)' : 'val clips'} chose the settings (replaying the real engine's output through the worker's pure planner)` : HEAD_IS_REFIT ? 'No tuning run: the settings are the deployment defaults, chosen earlier on the val clips with the previous head (the refit head learned from those stills)' : 'No tuning run (settings given on the command line)'}; ${rep.clips} report clips${rOffset ? ` (from the ${rOffset + 1}th)` : ''} were posted through the API (frames endpoint → BullMQ → detection worker with the real ONNX engine at its deployment defaults → SQLite), each as its own camera, in real time, ${flags.concurrency} clip(s) at a time.

Chosen: **${describe(settings)}**${tuning ? ` (${tuning.rule})` : ''}. These are the deployment defaults (MASKWATCH_CONFIRM_FRAMES / _WINDOW, MASKWATCH_CONFIRM_NO_MASK / _INCORRECT; src/domain/people.ts).

Scoring (person level, faces ≥ ${MIN_SIDE} px; \`mask_weared_incorrect\` is don't-care as in shared/tools/score_detections.py): a person of an alert is matched to the annotation (IoU ≥ 0.4) by its box in its frame (\`frameSnapshotUrl\`: where it was last seen in a kept frame), shifted back to the still.

| measure | target | measured (report clips) | |
|---|---|---|---|
| person precision | ≥ 0.95 | ${f(rep.precision)} (95 % CI ${ci(rep.precisionCI95)}; ${rep.tp} TP / ${rep.fp} FP) | ${met(rep.precision >= TARGETS.precision)} |
| person recall | ≥ 0.90 | ${f(rep.recall)} (95 % CI ${ci(rep.recallCI95)}; ${rep.found} of ${rep.violators}) | ${met(rep.recall >= TARGETS.recall)} |
| duplicates | 0 | ${rep.duplicates} | ${met(rep.duplicates === 0)} |
| one alert per clip (clips with a violator) | all | ${rep.clipsWithExactlyOneAlert} of ${rep.clipsWithViolator} (alerts per clip: ${JSON.stringify(rep.alertsPerClipWithViolator)}) | ${met(rep.clipsWithExactlyOneAlert === rep.clipsWithViolator)} |
| alerts on clips without a violator ≥ ${MIN_SIDE} px | – | ${rep.alertsOnClipsWithoutViolator} | |
| first frame → alert.created p50 / p95 / max, clips with a violator | p95 ≤ 2 s at light load | ${ms(rep.withViolator.latencyMs.p50)} / ${ms(rep.withViolator.latencyMs.p95)} / ${ms(rep.withViolator.latencyMs.max)} ms (n = ${rep.withViolator.latencyMs.n}) | ${met((rep.withViolator.latencyMs.p95 ?? Infinity) <= TARGETS.p95LatencyMs)} (load below) |
| of which: first frame → capture of the confirming frame (intrinsic: k of n at ${DEFAULT_CLIP.fps} fps) | – | ${ms(rep.withViolator.confirmingFrameMs.p50)} / ${ms(rep.withViolator.confirmingFrameMs.p95)} / ${ms(rep.withViolator.confirmingFrameMs.max)} ms | |
| of which: confirming frame posted → alert.created (queueing, inference, storage) | – | ${ms(rep.withViolator.pipelineMs.p50)} / ${ms(rep.withViolator.pipelineMs.p95)} / ${ms(rep.withViolator.pipelineMs.max)} ms | |
| first frame → alert.created p50 / p95 / max, every alerted clip (incl. false alerts) | – | ${ms(rep.latencyMs.p50)} / ${ms(rep.latencyMs.p95)} / ${ms(rep.latencyMs.max)} ms (n = ${rep.latencyMs.n}); intrinsic ${ms(rep.confirmingFrameMs.p50)} / ${ms(rep.confirmingFrameMs.p95)} / ${ms(rep.confirmingFrameMs.max)}; pipeline ${ms(rep.pipelineMs.p50)} / ${ms(rep.pipelineMs.p95)} / ${ms(rep.pipelineMs.max)} | |

Frames that failed in the worker: ${rep.framesFailed}. Machine: ${result.cpus} cores shared with other helpers' jobs; load average (1 / 5 / 15 min) ${load(result.loadAverage.start)} at the start and ${load(result.loadAverage.end)} at the end of the report run.
${
  tuning
    ? `
## Where violators were lost (${OOF_FOLDS ? 'choosing clips, out-of-fold' : 'val clips'}, ${tuning.clips} clips)

Per ground-truth violator (without_mask ≥ ${MIN_SIDE} px) and frame: detector miss (no detection matched, IoU ≥ 0.4), classifier (matched but labelled \`mask\` by the head), gate veto (labelled a violation but not a violating sighting: detector score / face size gate), violating sighting. "Below confirmation threshold" counts detected frames whose own probabilities would not pass the confirmation threshold (classifier flicker); "track breaks" counts consecutive detected frames of one violator on different tracks. Per violator, the first stage that lost it.

${diagnosisTable(tuning.diagnoses)}

## Validation grid (${tuning.grid.length} settings; top 12 with precision ≥ 0.95 and no duplicate, by recall)

${
  topGrid.length === 0
    ? 'None of the settings reached precision 0.95 without a duplicate.'
    : `| k of n | confirmation threshold | sighting gate (score, px) | precision | recall | clips with one alert | false alerts | first frame → confirming frame p95 (ms) |
|---|---|---|---|---|---|---|---|
${topGrid.map((g) => `| ${g.k} of ${g.n} | ${fmtThreshold(g.threshold)} | ${g.minFaceScore}, ${g.minFaceSide} | ${f(g.precision)} (${g.tp} TP / ${g.fp} FP) | ${f(g.recall)} (${g.found} of ${g.violators}) | ${g.oneAlert} of ${g.withViolator} | ${g.falseAlerts} | ${ms(g.confirmP95Ms)} |`).join('\n')}`
}
`
    : ''
}`;

await mkdir(flags.out!, { recursive: true });
await writeFile(path.join(flags.out!, 'bench-incidents.json'), JSON.stringify(result, null, 2));
await writeFile(path.join(flags.out!, 'bench-incidents.md'), md);
await sharp(Buffer.from(incidentsPlotSvg(result, CONFIRM_BUDGET_MS))).png().toFile(path.join(flags.out!, 'bench-incidents.png'));
process.stdout.write(md);
