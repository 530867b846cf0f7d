/**
 * The bare ONNX Runtime floor and the engine's ratio to it, measured in the
 * same process and interleaved in rounds, so a busy neighbour slows both
 * sides of each ratio alike (issue 10: per face crop ≤ 2× the bare backbone;
 * per scene ≤ 2× bare YuNet at the frame's input size + faces × bare backbone).
 *
 * Floor = `session.run` on a ready input tensor (intraOp 1, batch 1), with the
 * same model bytes (the backbone form of the product's head: float or int8)
 * and session options as the product, nothing else.
 * Product = what `maskwatch classify` does per file (decode the JPEG, crop,
 * resize, normalise, backbone, head) and what `maskwatch detect` does per
 * frame (engine.analyzeFrame on the JPEG bytes).
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { resolveAsset } from '../src/vision/assets.ts';
import { backboneModelPath, backboneSessionBytes, FEATURE_TENSOR, INPUT_SIZE } from '../src/vision/backbone.ts';
import type { MaskClassifier } from '../src/vision/classifier.ts';
import { createSession } from '../src/vision/detector/session.ts';
import type { YunetDetector } from '../src/vision/detector/yunet.ts';
import { decodeImage } from '../src/vision/image.ts';
import type { VisionEngine } from '../src/vision/types.ts';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

/** Per-call times in ms: wall clock, or CPU time of the whole process (all threads: ORT, libvips, JS). */
type Clock = 'wall' | 'cpu';
let clock: Clock = 'wall';
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function perCall(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const now = clock === 'wall' ? () => performance.now() : cpuMs;
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = now();
    await fn(i);
    t.push(now() - s);
  }
  return t;
}

export interface ClockRatios {
  rounds: number;
  crops: number;
  /** Backbone form of the floor session: the product head's (float or int8). */
  backboneForm: string;
  /** Median over rounds of the round medians (ms). */
  floorBackboneMs: number;
  perCropMs: number;
  /** perCropMs / floorBackboneMs, per round, and their median. */
  cropRatio: { median: number; min: number; max: number; perRound: number[] };
  scenes: Array<{
    file: string;
    width: number;
    height: number;
    input: string;
    faces: number;
    floorYunetMs: number;
    floorMs: number;
    sceneMs: number;
    ratio: { median: number; min: number; max: number };
  }>;
  /** Σ scene time / Σ floor over the scenes, per round, and their median. */
  sceneRatio: { median: number; min: number; max: number; perRound: number[] };
}

export interface FloorRatios {
  /**
   * wall: elapsed time, what an idle machine gives. cpu: CPU time of this
   * process per call; on a shared, busy machine it is the steadier of the two
   * (waits for the CPU are not counted, but neither are this process's own idle waits).
   */
  wall: ClockRatios;
  cpu: ClockRatios;
}

export interface FloorOptions {
  assetsDir: string;
  classifier: MaskClassifier;
  detector: YunetDetector;
  detectorAsset: string;
  engine: VisionEngine;
  maxPixels: number;
  rounds: number;
  progress: (msg: string) => void;
}

export async function measureFloorRatios(opts: FloorOptions): Promise<FloorRatios> {
  clock = 'wall';
  const wall = await measure(opts);
  clock = 'cpu';
  const cpu = await measure(opts);
  clock = 'wall';
  return { wall, cpu };
}

async function measure(opts: FloorOptions): Promise<ClockRatios> {
  const { assetsDir, classifier, detector, engine, progress } = opts;
  const bareBackbone = await ort.InferenceSession.create(backboneSessionBytes(await readFile(await backboneModelPath(assetsDir)), classifier.backboneForm), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const bareYunet = await createSession(await resolveAsset(assetsDir, opts.detectorAsset), 1);
  // Deterministic non-trivial input: the floor must not depend on the pixel values anyway.
  const body = new Float32Array(3 * INPUT_SIZE * INPUT_SIZE).map((_, i) => ((i * 2654435761) % 1000) / 500 - 1);
  const backboneInput = { input: new ort.Tensor('float32', body, [1, 3, INPUT_SIZE, INPUT_SIZE]) };
  const runBackbone = async () => {
    const r = await bareBackbone.run(backboneInput, [FEATURE_TENSOR]);
    r[FEATURE_TENSOR]!.dispose();
  };

  // Real face crops, both classes, as `classify` reads them (JPEG bytes).
  const cropsRoot = path.join(assetsDir, 'datasets/kaggle-face-crops-dev');
  const cropFiles: string[] = [];
  for (const cls of ['with_mask', 'without_mask']) {
    const names = (await readdir(path.join(cropsRoot, cls))).sort();
    cropFiles.push(...names.slice(0, 40).map((n) => path.join(cropsRoot, cls, n)));
  }
  const crops = await Promise.all(cropFiles.map((f) => readFile(f)));

  const scenesDir = path.join(assetsDir, 'datasets/scenes');
  const scenes = [];
  for (const file of (await readdir(scenesDir)).sort()) {
    const jpeg = await readFile(path.join(scenesDir, file));
    const frame = await decodeImage(jpeg, { maxPixels: opts.maxPixels });
    const plan = detector.plan(frame.width, frame.height);
    const r = await engine.analyzeFrame(jpeg);
    const yunetInput = { input: new ort.Tensor('float32', new Float32Array(3 * plan.inputWidth * plan.inputHeight).fill(100), [1, 3, plan.inputHeight, plan.inputWidth]) };
    const runYunet = async () => {
      const o = await bareYunet.run(yunetInput);
      for (const t of Object.values(o)) t.dispose();
    };
    scenes.push({ file, jpeg, width: frame.width, height: frame.height, input: `${plan.inputWidth}x${plan.inputHeight}`, faces: r.faces.length, runYunet });
  }

  const backboneRounds: number[] = [];
  const cropRounds: number[] = [];
  const perScene = scenes.map(() => ({ yunet: [] as number[], floor: [] as number[], scene: [] as number[], ratio: [] as number[] }));
  const sceneRatioRounds: number[] = [];
  for (let round_ = 0; round_ < opts.rounds + 1; round_++) {
    const warm = round_ === 0; // round 0 warms every path up and is discarded
    progress(`floor ratios (${clock} time): round ${round_}/${opts.rounds}${warm ? ' (warm-up)' : ''}`);
    const floorA = await perCall(20, runBackbone);
    const crop = await perCall(crops.length, async (i) => {
      const img = await decodeImage(crops[i]!, { maxPixels: opts.maxPixels });
      await classifier.predict([img]);
    });
    const floorB = await perCall(20, runBackbone);
    const backbone = median([...floorA, ...floorB]);
    let sumScene = 0;
    let sumFloor = 0;
    for (const [i, s] of scenes.entries()) {
      const reps = s.faces > 30 ? 2 : 4;
      const y1 = await perCall(reps, s.runYunet);
      const t = await perCall(reps, () => engine.analyzeFrame(s.jpeg));
      const y2 = await perCall(reps, s.runYunet);
      const yunet = median([...y1, ...y2]);
      const floor = yunet + s.faces * backbone;
      const scene = median(t);
      if (warm) continue;
      perScene[i]!.yunet.push(yunet);
      perScene[i]!.floor.push(floor);
      perScene[i]!.scene.push(scene);
      perScene[i]!.ratio.push(scene / floor);
      sumScene += scene;
      sumFloor += floor;
    }
    if (warm) continue;
    backboneRounds.push(backbone);
    cropRounds.push(median(crop) / backbone);
    sceneRatioRounds.push(sumScene / sumFloor);
  }
  await bareBackbone.release();
  await bareYunet.release();
  const summary = (xs: number[]) => ({ median: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) });
  return {
    rounds: opts.rounds,
    crops: crops.length,
    backboneForm: classifier.backboneForm,
    floorBackboneMs: round(median(backboneRounds)),
    perCropMs: round(median(cropRounds.map((r, i) => r * backboneRounds[i]!))),
    cropRatio: { ...summary(cropRounds), perRound: cropRounds.map((r) => round(r)) },
    scenes: scenes.map((s, i) => ({
      file: s.file,
      width: s.width,
      height: s.height,
      input: s.input,
      faces: s.faces,
      floorYunetMs: round(median(perScene[i]!.yunet)),
      floorMs: round(median(perScene[i]!.floor)),
      sceneMs: round(median(perScene[i]!.scene)),
      ratio: summary(perScene[i]!.ratio),
    })),
    sceneRatio: { ...summary(sceneRatioRounds), perRound: sceneRatioRounds.map((r) => round(r)) },
  };
}

/** Table lines for stdout. */
export function formatFloorRatios(f: FloorRatios): string {
  return `${formatClock(f.wall, 'wall-clock time')}${formatClock(f.cpu, 'process CPU time')}`;
}

function formatClock(r: ClockRatios, what: string): string {
  const lines = [
    `bare-ORT floor, ${what} (intraOp 1, same process, ${r.rounds} interleaved rounds; ratio = median over rounds [min–max]; target ≤ 2.0)`,
    `  per face crop: ${r.perCropMs} ms (decode + classify, ${r.crops} real crops) vs bare ${r.backboneForm} backbone ${r.floorBackboneMs} ms → ratio ${r.cropRatio.median} [${r.cropRatio.min}–${r.cropRatio.max}]`,
    `  per scene (Σ over ${r.scenes.length} scenes): ratio ${r.sceneRatio.median} [${r.sceneRatio.min}–${r.sceneRatio.max}]`,
  ];
  for (const s of r.scenes) {
    lines.push(
      `    ${s.file} ${s.width}x${s.height} (YuNet ${s.input}), ${s.faces} faces: ${s.sceneMs} ms vs floor ${s.floorMs} ms (YuNet ${s.floorYunetMs} + ${s.faces} × backbone) → ${s.ratio.median} [${s.ratio.min}–${s.ratio.max}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}
