// The AIZOO second opinion on accused faces, measured on the CHOOSING side
// only (val and train scenes of models/scene-split.json; report scenes are
// never read). The real engine (committed head, its rule, policy "violation",
// second opinion off) analyses every scene; for each face it accuses, AIZOO
// looks at square regions of several scales around it. Every candidate rule
// is then scored with the scorer's rules (greedy IoU ≥ 0.4, faces ≥ 24 px),
// with 95 % bootstrap intervals over images. AIZOO never saw these scenes;
// the head was trained on the train scenes (its accusations there are
// in-sample, so fewer), which is why val decides and train only confirms.
//   npx tsx scripts/second-opinion-val.ts [--out reports/second-opinion-val.json]
// --oof-heads DIR: for a head refit on train + val (both sides are then its training data), each of the 298
// choosing scenes is analysed by the engine with the out-of-fold head of its fold instead (DIR/fK and
// DIR/folds.json from scripts/tail-finetune/artifact.ts; no model saw the scene), one side "oof".
// --no-mirrored-look: the engine without its mirrored second look (to measure what that look does).
//   npx tsx scripts/second-opinion-val.ts --oof-heads .cache/oof-heads [--out reports/second-opinion-oof.json]
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.ts';
import { needsSecondOpinion, secondOpinionConfirms, type SecondOpinionRule } from '../src/vision/decision.ts';
import { DEFAULT_HEAD_PATH } from '../src/vision/classifier.ts';
import { createVisionEngine } from '../src/vision/engine.ts';
import { bootstrapMany, ratioOrNull } from '../src/vision/evaluation/bootstrap.ts';
import { emptyBuckets, emptyCounts, matchFaces, parseVocAnnotation, scoreImage, type GtFace } from '../src/vision/evaluation/detection.ts';
import { decodeImage } from '../src/vision/image.ts';
import { iou } from '../src/vision/nms.ts';
import { choosingScenes } from '../src/vision/protocol/scene-split.ts';
import { AizooDetector, bestMatch, regionAround, type AizooFace } from '../src/vision/second-opinion/aizoo.ts';
import { AIZOO_MIN_SCORE } from '../src/vision/second-opinion/review.ts';
import type { FaceResult } from '../src/vision/types.ts';
import { datasetDir, SCENES_DATASET } from '../src/vision/train/datasets.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, limit: { type: 'string' }, timing: { type: 'boolean' }, 'oof-heads': { type: 'string' }, 'no-mirrored-look': { type: 'boolean' } } });
const SCALES = [1.5, 2, 3, 4];
const MIN_IOUS = [0.2, 0.3, 0.4];
const THRESHOLDS = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const config = loadConfig();
const scenesDir = datasetDir(config.assetsDir, SCENES_DATASET);
const engineOptions = {
  assetsDir: config.assetsDir,
  faceScoreThreshold: config.vision.faceScoreThreshold,
  minFaceSize: config.vision.minFaceSize,
  maxPixels: config.ingest.maxFramePixels,
  intraOpThreads: 2,
  incorrectMaskPolicy: 'violation' as const,
  mirroredLook: !values['no-mirrored-look'],
};
const oofHeads = values['oof-heads'];
/** Scene → fold of the out-of-fold heads (--oof-heads). */
const folds = oofHeads ? (JSON.parse(await readFile(path.join(oofHeads, 'folds.json'), 'utf8')) as Record<string, number>) : null;
const { train, val } = choosingScenes();
const choosing = new Set([...train, ...val]);
if (folds && !Object.keys(folds).every((stem) => choosing.has(stem))) throw new Error(`${oofHeads}/folds.json lists scenes outside the choosing side`);
const committed = JSON.parse(await readFile(DEFAULT_HEAD_PATH, 'utf8')) as { training: { refit?: unknown } };
if (!folds && committed.training.refit) throw new Error('models/mask-head.json was refit on train + val: both sides are its training data; give --oof-heads DIR');
const engines = oofHeads
  ? await Promise.all([0, 1, 2, 3, 4].map((k) => createVisionEngine({ ...engineOptions, headPath: path.join(oofHeads, `f${k}`, 'mask-head.json'), secondOpinion: 'off' })))
  : [await createVisionEngine({ ...engineOptions, secondOpinion: 'off' })];
const engineFor = (stem: string) => engines[folds ? folds[stem]! : 0]!;
const aizoo = await AizooDetector.load({ assetsDir: config.assetsDir, intraOpThreads: 2 });
if (values.timing) {
  // Cost of the stage with the real engines at the production default of one ONNX thread: CPU per
  // val scene, second opinion off vs on, alternating per scene.
  await Promise.all(engines.map((e) => e.close()));
  const off = await createVisionEngine({ ...engineOptions, intraOpThreads: 1, secondOpinion: 'off' });
  const on = await createVisionEngine({ ...engineOptions, intraOpThreads: 1, secondOpinion: 'aizoo' });
  const cpu = { off: 0, on: 0 };
  const stems = [...val].sort();
  const files = new Map((await readdir(path.join(scenesDir, 'images'))).map((f) => [path.parse(f).name, f]));
  let reviewed = 0;
  for (const stem of stems) {
    const bytes = await readFile(path.join(scenesDir, 'images', files.get(stem)!));
    for (const [name, e] of [['off', off], ['on', on]] as const) {
      const u0 = process.cpuUsage();
      const r = await e.analyzeFrame(bytes);
      const u = process.cpuUsage(u0);
      cpu[name] += (u.user + u.system) / 1000;
      if (name === 'off') reviewed += r.faces.filter(needsSecondOpinion).length;
    }
  }
  process.stdout.write(`${JSON.stringify({ scenes: stems.length, reviewedFaces: reviewed, cpuMsPerSceneOff: cpu.off / stems.length, cpuMsPerSceneOn: cpu.on / stems.length, addedCpuMsPerReviewedFace: (cpu.on - cpu.off) / Math.max(1, reviewed) })}\n`);
  await Promise.all([off.close(), on.close(), aizoo.close()]);
  process.exit(0);
}

interface Scene { stem: string; gt: GtFace[]; faces: FaceResult[]; aizoo: Map<number, AizooFace[][]> }
const imageFile = new Map((await readdir(path.join(scenesDir, 'images'))).map((f) => [path.parse(f).name, f]));
const timing = { calls: 0, cpuUs: 0, wallMs: 0, accused: 0, engineCpuUs: 0, scenes: 0 };

async function analyse(stems: string[]): Promise<Scene[]> {
  const out: Scene[] = [];
  for (const stem of stems.slice(0, values.limit ? Number(values.limit) : undefined)) {
    const gt = parseVocAnnotation(await readFile(path.join(scenesDir, 'annotations', `${stem}.xml`), 'utf8'));
    const bytes = await readFile(path.join(scenesDir, 'images', imageFile.get(stem)!));
    const c0 = process.cpuUsage();
    const { faces } = await engineFor(stem).analyzeFrame(bytes);
    const c1 = process.cpuUsage(c0);
    timing.engineCpuUs += c1.user + c1.system;
    timing.scenes += 1;
    const frame = await decodeImage(bytes, { maxPixels: config.ingest.maxFramePixels });
    const readings = new Map<number, AizooFace[][]>();
    for (const [i, f] of faces.entries()) {
      if (!f.violation) continue;
      timing.accused += 1;
      const perScale: AizooFace[][] = [];
      for (const scale of SCALES) {
        const t0 = performance.now();
        const u0 = process.cpuUsage();
        perScale.push(await aizoo.detect(frame, regionAround(f.box, frame.width, frame.height, scale), AIZOO_MIN_SCORE));
        const u1 = process.cpuUsage(u0);
        timing.cpuUs += u1.user + u1.system;
        timing.wallMs += performance.now() - t0;
        timing.calls += 1;
      }
      readings.set(i, perScale);
    }
    out.push({ stem, gt, faces, aizoo: readings });
    if (out.length % 25 === 0) process.stderr.write(`${out.length}/${stems.length}\n`);
  }
  return out;
}

const sides: Record<string, Scene[]> = folds
  ? { oof: await analyse(Object.keys(folds).sort()) }
  : { val: await analyse([...val].sort()), train: await analyse([...train].sort()) };
await Promise.all(engines.map((e) => e.close()));
await aizoo.close();

type Rule = SecondOpinionRule | null;
const FIG = {
  violation_precision: (c: Record<string, number>) => ratioOrNull(c.viol_tp ?? 0, (c.viol_tp ?? 0) + (c.viol_fp ?? 0)),
  violation_recall: (c: Record<string, number>) => ratioOrNull(c.viol_tp ?? 0, (c.viol_tp ?? 0) + (c.viol_fn ?? 0)),
};
/**
 * Per-image counts under a rule, reviewing the accusations the engine reviews (no_mask), or
 * every accusation (`reviewAll`, to measure what reviewing mask_incorrect alerts would cost).
 * `inc_lost`: real incorrectly worn masks (GT, IoU ≥ 0.4) whose alert the review drops — the
 * scorer does not count those faces, so it is counted here.
 */
function perImage(scenes: Scene[], rule: Rule, reviewAll = false): Array<Record<string, number>> {
  return scenes.map((s) => {
    let incLost = 0;
    const faces = s.faces.map((f, i) => {
      if (!rule || !(reviewAll ? f.violation : needsSecondOpinion(f))) return f;
      const match = bestMatch(s.aizoo.get(i)![SCALES.indexOf(rule.regionScale)]!, f.box, rule.minIoU);
      if (secondOpinionConfirms({ noMask: match?.noMask ?? null }, rule)) return f;
      if (s.gt.some((g) => g.label === 'mask_weared_incorrect' && iou(g.box, f.box) >= 0.4)) incLost += 1;
      return { ...f, violation: false, label: 'mask' as const };
    });
    const st = emptyCounts();
    scoreImage(s.gt, faces, 24, st, emptyBuckets());
    return { viol_tp: st.viol_tp, viol_fp: st.viol_fp, viol_fn: st.viol_fn, inc_lost: incLost };
  });
}
const sum = (rows: Array<Record<string, number>>) =>
  rows.reduce<{ tp: number; fp: number; fn: number; incLost: number }>((a, r) => ({ tp: a.tp + r.viol_tp!, fp: a.fp + r.viol_fp!, fn: a.fn + r.viol_fn!, incLost: a.incLost + r.inc_lost! }), { tp: 0, fp: 0, fn: 0, incLost: 0 });
function measure(rule: Rule, withIntervals: boolean, reviewAll = false) {
  const res: Record<string, unknown> = {};
  for (const [name, scenes] of Object.entries(sides)) {
    const rows = perImage(scenes, rule, reviewAll);
    const c = sum(rows);
    res[name] = { ...c, precision: c.tp / Math.max(1, c.tp + c.fp), recall: c.tp / Math.max(1, c.tp + c.fn), ...(withIntervals ? { intervals: bootstrapMany(rows, FIG, { seed: 7 }) } : {}) };
  }
  return res as Record<string, { tp: number; fp: number; fn: number; incLost: number; precision: number; recall: number; intervals?: unknown }>;
}

const baseline = measure(null, true);
/** The engine's mask_incorrect labels (AIZOO never reviews them): detected faces ≥ 24 px matched to an annotation. */
const incorrectLabels = Object.fromEntries(
  Object.entries(sides).map(([name, scenes]) => {
    const c = { incorrectWorn: 0, incorrectWornLabelledIncorrect: 0, masked: 0, maskedLabelledIncorrect: 0 };
    for (const s of scenes) {
      for (const [di, gi] of matchFaces(s.faces, s.gt, 0.4).predToGt) {
        const g = s.gt[gi]!;
        if (Math.min(g.box[2], g.box[3]) < 24) continue;
        const incorrect = Number(s.faces[di]!.label === 'mask_incorrect');
        if (g.label === 'mask_weared_incorrect') {
          c.incorrectWorn += 1;
          c.incorrectWornLabelledIncorrect += incorrect;
        } else if (g.label === 'with_mask') {
          c.masked += 1;
          c.maskedLabelledIncorrect += incorrect;
        }
      }
    }
    return [name, c];
  }),
);
const grid: Array<{ rule: SecondOpinionRule; m: ReturnType<typeof measure> }> = [];
for (const regionScale of SCALES) for (const minIoU of MIN_IOUS) for (const noFace of ['keep', 'veto'] as const) for (const noMaskThreshold of THRESHOLDS) {
  const rule = { regionScale, minIoU, noMaskThreshold, noFace };
  grid.push({ rule, m: measure(rule, false) });
}
// Choice (choosing side only): recall may drop by at most 0.02 on every side (val AND train, or oof); then
// the highest precision over the sides pooled (AIZOO saw none; val alone has 4 no_mask false alarms ≥ 24 px),
// then the highest precision of the first side (val), then the mildest rule (lowest threshold, keep before veto).
const names = Object.keys(sides);
const first = names[0]!;
const eligible = grid.filter((g) => names.every((n) => g.m[n]!.recall >= baseline[n]!.recall - 0.02 - 1e-9));
const pooled = (m: ReturnType<typeof measure>) => {
  const tp = names.reduce((a, n) => a + m[n]!.tp, 0);
  return tp / Math.max(1, tp + names.reduce((a, n) => a + m[n]!.fp, 0));
};
eligible.sort(
  (a, b) =>
    pooled(b.m) - pooled(a.m) ||
    b.m[first]!.precision - a.m[first]!.precision ||
    a.rule.noMaskThreshold - b.rule.noMaskThreshold ||
    Number(a.rule.noFace === 'veto') - Number(b.rule.noFace === 'veto'),
);
const chosen = eligible[0] ? { rule: eligible[0].rule, ...measure(eligible[0].rule, true), reviewingAllAccusations: measure(eligible[0].rule, false, true) } : null;

// What AIZOO says about the accused faces, by what they really are (val and train).
const accusedTable = Object.fromEntries(
  Object.entries(sides).map(([name, scenes]) => [
    name,
    scenes.flatMap((s) =>
      s.faces.flatMap((f, i) => {
        if (!f.violation) return [];
        const ious = s.gt.map((g) => ({ g, v: iou(g.box, f.box) })).sort((a, b) => b.v - a.v);
        const truth = ious[0] && ious[0].v >= 0.4 ? ious[0].g.label : ious[0] && ious[0].v >= 0.2 ? 'near-gt' : 'no-gt';
        return [{ stem: s.stem, px: Math.round(Math.min(f.box[2], f.box[3])), label: f.label, pNo: f.noMaskProbability, truth, aizoo: SCALES.map((sc, k) => { const m = bestMatch(s.aizoo.get(i)![k]!, f.box, 0.3); return m ? Number(m.noMask.toFixed(3)) : null; }) }];
      }),
    ),
  ]),
);

const result = {
  generatedAt: new Date().toISOString(),
  scenes: Object.fromEntries(names.map((n) => [n, sides[n]!.length])),
  scales: SCALES,
  timing: {
    accusedFaces: timing.accused,
    aizooCalls: timing.calls,
    aizooCpuMsPerCall: timing.cpuUs / 1000 / Math.max(1, timing.calls),
    aizooWallMsPerCall: timing.wallMs / Math.max(1, timing.calls),
    engineCpuMsPerScene: timing.engineCpuUs / 1000 / Math.max(1, timing.scenes),
  },
  baseline,
  incorrectLabels,
  chosen,
  eligibleTop: eligible.slice(0, 15).map((g) => ({ rule: g.rule, ...g.m })),
  grid: grid.map((g) => ({ rule: g.rule, ...g.m })),
  accused: accusedTable,
};
const json = `${JSON.stringify(result, null, 1)}\n`;
if (values.out) await writeFile(values.out, json);
else process.stdout.write(json);
process.stderr.write(`baseline ${JSON.stringify(baseline)}\nlabels ${JSON.stringify(incorrectLabels)}\nchosen ${JSON.stringify(chosen)}\n`);
