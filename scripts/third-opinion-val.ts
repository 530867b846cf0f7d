// UltraFace's masked-face model as a further reviewer of the faces the deployed engine still accuses of
// no mask after the AIZOO second opinion. CHOOSING side only (val and train scenes of
// models/scene-split.json; the report scenes are never read). UltraFace RFB-640 masked-face (MIT,
// trained on WIDER + MAFA: other data than the head and AIZOO) looks at a 4:3 region of `scale` × the
// face's longer side around each accused face, stretched to its 640×480 input, and reads the class
// probabilities of its box best overlapping the face. A veto drops the accusation when that box says
// P(masked face | face) ≥ t. Declared choice, as the AIZOO stage's: recall may drop by at most 0.02 on
// val AND on train; then the highest pooled precision, then val precision, then the mildest rule.
//   npx tsx scripts/third-opinion-val.ts [--out reports/third-opinion-val.json]
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../src/config/config.ts';
import { needsSecondOpinion } from '../src/vision/decision.ts';
import { resolveAsset } from '../src/vision/assets.ts';
import { createSession, floatOutput } from '../src/vision/detector/session.ts';
import { createVisionEngine } from '../src/vision/engine.ts';
import { bootstrapMany, ratioOrNull } from '../src/vision/evaluation/bootstrap.ts';
import { emptyBuckets, emptyCounts, parseVocAnnotation, scoreImage, type GtFace } from '../src/vision/evaluation/detection.ts';
import { decodeImage, type DecodedImage } from '../src/vision/image.ts';
import { iou, nms } from '../src/vision/nms.ts';
import { choosingScenes } from '../src/vision/protocol/scene-split.ts';
import { resizeRgbRect } from '../src/vision/resize.ts';
import type { Box, FaceResult } from '../src/vision/types.ts';
import { datasetDir, SCENES_DATASET } from '../src/vision/train/datasets.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, limit: { type: 'string' } } });
const SCALES = [1.5, 2, 3, 4];
const MIN_IOUS = [0.2, 0.3, 0.4];
const THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99];
const W = 640;
const H = 480;
const config = loadConfig();
const scenesDir = datasetDir(config.assetsDir, SCENES_DATASET);
const engine = await createVisionEngine({
  assetsDir: config.assetsDir,
  faceScoreThreshold: config.vision.faceScoreThreshold,
  minFaceSize: config.vision.minFaceSize,
  maxPixels: config.ingest.maxFramePixels,
  intraOpThreads: 2,
  incorrectMaskPolicy: 'violation',
});
const session = await createSession(await resolveAsset(config.assetsDir, 'ultraface-masked-640'), 2);
const LEVEL = Float32Array.from({ length: 256 }, (_, v) => (v - 127) / 128);
const input = new Float32Array(3 * W * H);

interface Reading { box: Box; face: number; masked: number }
/** UltraFace's faces in `rect` of `frame`, boxes in frame pixels, with both class probabilities. */
async function ultraface(frame: DecodedImage, rect: Box): Promise<Reading[]> {
  resizeRgbRect(frame, rect, W, H, { kind: 'planes', data: input, offset: 0, levels: [LEVEL, LEVEL, LEVEL] });
  const o = await session.run({ input: new ort.Tensor('float32', input, [1, 3, H, W]) });
  const scores = floatOutput(o, 'scores');
  const boxes = floatOutput(o, 'boxes');
  const out: Array<Reading & { score: number }> = [];
  for (let i = 0; i < scores.length / 3; i++) {
    const face = scores[i * 3 + 1]!;
    const masked = scores[i * 3 + 2]!;
    if (face + masked < 0.1) continue;
    const [x1, y1, x2, y2] = [boxes[i * 4]!, boxes[i * 4 + 1]!, boxes[i * 4 + 2]!, boxes[i * 4 + 3]!];
    out.push({ box: [rect[0] + x1 * rect[2], rect[1] + y1 * rect[3], (x2 - x1) * rect[2], (y2 - y1) * rect[3]], face, masked, score: face + masked });
  }
  return nms(out, 0.3);
}

/** A 4:3 region of `scale` × the face's longer side, centred on it, shifted (or clipped) to fit the frame. */
function region(box: Box, fw: number, fh: number, scale: number): Box {
  const side = Math.max(box[2], box[3]) * scale;
  const fit = (centre: number, len: number, size: number): [number, number] => {
    const l = Math.max(1, Math.min(size, Math.round(len)));
    return [Math.round(Math.min(Math.max(0, centre - l / 2), size - l)), l];
  };
  const [x, w] = fit(box[0] + box[2] / 2, (side * 4) / 3, fw);
  const [y, h] = fit(box[1] + box[3] / 2, side, fh);
  return [x, y, w, h];
}

interface Scene { stem: string; gt: GtFace[]; faces: FaceResult[]; readings: Map<number, Reading[][]> }
const imageFile = new Map((await readdir(path.join(scenesDir, 'images'))).map((f) => [path.parse(f).name, f]));
/** The faces the deployed engine (head + AIZOO) still accuses of no mask: what a further review would see. */
const reviewed = (f: FaceResult) => f.violation && needsSecondOpinion(f);

async function analyse(stems: string[]): Promise<Scene[]> {
  const out: Scene[] = [];
  for (const stem of stems.slice(0, values.limit ? Number(values.limit) : undefined)) {
    const gt = parseVocAnnotation(await readFile(path.join(scenesDir, 'annotations', `${stem}.xml`), 'utf8'));
    const bytes = await readFile(path.join(scenesDir, 'images', imageFile.get(stem)!));
    const { faces } = await engine.analyzeFrame(bytes);
    const frame = await decodeImage(bytes, { maxPixels: config.ingest.maxFramePixels });
    const readings = new Map<number, Reading[][]>();
    for (const [i, f] of faces.entries()) {
      if (!reviewed(f)) continue;
      // One region at a time: the input tensor's buffer is shared between calls.
      const perScale: Reading[][] = [];
      for (const s of SCALES) perScale.push(await ultraface(frame, region(f.box, frame.width, frame.height, s)));
      readings.set(i, perScale);
    }
    out.push({ stem, gt, faces, readings });
    if (out.length % 25 === 0) process.stderr.write(`${out.length}/${stems.length}\n`);
  }
  return out;
}

const { train, val } = choosingScenes();
const sides = { val: await analyse([...val].sort()), train: await analyse([...train].sort()) };
await engine.close();
await session.release();

interface Rule { scale: number; minIoU: number; maskedThreshold: number }
function best(readings: Reading[], box: Box, minIoU: number): Reading | null {
  let found: Reading | null = null;
  let bestIoU = minIoU;
  for (const r of readings) {
    const v = iou(r.box, box);
    if (v >= bestIoU) [found, bestIoU] = [r, v];
  }
  return found;
}
const maskedShare = (r: Reading) => r.masked / Math.max(1e-9, r.face + r.masked);
type Counts = { viol_tp: number; viol_fp: number; viol_fn: number };
function perImage(scenes: Scene[], rule: Rule | null): Counts[] {
  return scenes.map((s) => {
    const faces = s.faces.map((f, i) => {
      if (!rule || !s.readings.has(i)) return f;
      const m = best(s.readings.get(i)![SCALES.indexOf(rule.scale)]!, f.box, rule.minIoU);
      return m && maskedShare(m) >= rule.maskedThreshold ? { ...f, violation: false, label: 'mask' as const } : f;
    });
    const st = emptyCounts();
    scoreImage(s.gt, faces, 24, st, emptyBuckets());
    return { viol_tp: st.viol_tp, viol_fp: st.viol_fp, viol_fn: st.viol_fn };
  });
}
const FIG = {
  violation_precision: (c: Record<string, number>) => ratioOrNull(c.viol_tp ?? 0, (c.viol_tp ?? 0) + (c.viol_fp ?? 0)),
  violation_recall: (c: Record<string, number>) => ratioOrNull(c.viol_tp ?? 0, (c.viol_tp ?? 0) + (c.viol_fn ?? 0)),
};
function measure(rule: Rule | null, withIntervals = false) {
  const res: Record<string, { tp: number; fp: number; fn: number; precision: number; recall: number; intervals?: unknown }> = {};
  for (const [name, scenes] of Object.entries(sides)) {
    const rows = perImage(scenes, rule);
    const c = rows.reduce((a, r) => ({ tp: a.tp + r.viol_tp, fp: a.fp + r.viol_fp, fn: a.fn + r.viol_fn }), { tp: 0, fp: 0, fn: 0 });
    res[name] = { ...c, precision: c.tp / Math.max(1, c.tp + c.fp), recall: c.tp / Math.max(1, c.tp + c.fn), ...(withIntervals ? { intervals: bootstrapMany(rows, FIG, { seed: 7 }) } : {}) };
  }
  return res as Record<'val' | 'train', (typeof res)[string]>;
}

const baseline = measure(null, true);
const grid: Array<{ rule: Rule; m: ReturnType<typeof measure> }> = [];
for (const scale of SCALES) for (const minIoU of MIN_IOUS) for (const maskedThreshold of THRESHOLDS) {
  const rule = { scale, minIoU, maskedThreshold };
  grid.push({ rule, m: measure(rule) });
}
const pooled = (m: ReturnType<typeof measure>) => (m.val.tp + m.train.tp) / Math.max(1, m.val.tp + m.train.tp + m.val.fp + m.train.fp);
const eligible = grid
  .filter((g) => g.m.val.recall >= baseline.val.recall - 0.02 - 1e-9 && g.m.train.recall >= baseline.train.recall - 0.02 - 1e-9)
  .sort((a, b) => pooled(b.m) - pooled(a.m) || b.m.val.precision - a.m.val.precision || b.rule.maskedThreshold - a.rule.maskedThreshold);
const chosen = eligible[0] ? { rule: eligible[0].rule, ...measure(eligible[0].rule, true) } : null;

// What UltraFace says about each accused face, by what it really is.
const accused = Object.fromEntries(
  Object.entries(sides).map(([name, scenes]) => [
    name,
    scenes.flatMap((s) =>
      [...s.readings.entries()].map(([i, perScale]) => {
        const f = s.faces[i]!;
        const top = s.gt.map((g) => ({ g, v: iou(g.box, f.box) })).sort((a, b) => b.v - a.v)[0];
        const truth = top && top.v >= 0.4 ? top.g.label : top && top.v >= 0.2 ? 'near-gt' : 'no-gt';
        const px = Math.round(Math.min(f.box[2], f.box[3]));
        return { stem: s.stem, px, truth, maskedShare: perScale.map((r) => { const m = best(r, f.box, 0.3); return m ? Number(maskedShare(m).toFixed(3)) : null; }) };
      }),
    ),
  ]),
);
const result = { generatedAt: new Date().toISOString(), scales: SCALES, baseline, chosen, eligibleTop: eligible.slice(0, 10).map((g) => ({ rule: g.rule, ...g.m })), grid: grid.map((g) => ({ rule: g.rule, ...g.m })), accused };
const json = `${JSON.stringify(result, null, 1)}\n`;
if (values.out) await writeFile(values.out, json);
else process.stdout.write(json);
process.stderr.write(`baseline ${JSON.stringify(baseline)}\nchosen ${JSON.stringify(chosen)}\n`);
