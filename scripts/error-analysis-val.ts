// Error analysis of the committed head on the VALIDATION scenes only (the
// choosing side of the protocol; it never reads the report scenes). Writes
// reports/error-analysis-val.md; with --montage DIR also writes crop montages
// of the errors to DIR (derived from ../shared images: keep them out of git).
//   npx tsx scripts/error-analysis-val.ts [--head FILE] [--montage /tmp/dir]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../src/config/config.ts';
import { Backbone, backboneModelPath, FEATURE_DIM } from '../src/vision/backbone.ts';
import { DEFAULT_HEAD_PATH } from '../src/vision/classifier.ts';
import { CROP_MARGIN, cropRect, extractRgb } from '../src/vision/crop.ts';
import { decideFace, FALLBACK_DECISION } from '../src/vision/decision.ts';
import { createFaceDetector } from '../src/vision/detector/factory.ts';
import { matchFaces } from '../src/vision/evaluation/detection.ts';
import { headBackboneForm, headProbabilities, headWeightsFromArtifact, parseHeadArtifact } from '../src/vision/head.ts';
import { decodeImage } from '../src/vision/image.ts';
import { iou } from '../src/vision/nms.ts';
import { choosingScenes } from '../src/vision/protocol/scene-split.ts';
import { FeatureCache } from '../src/vision/train/feature-cache.ts';
import { sceneCacheFile } from '../src/vision/train/scene-train.ts';
import { sceneDetectionsFile, sceneFaces } from '../src/vision/train/scene-faces.ts';
import type { Box } from '../src/vision/types.ts';
import { datasetDir, SCENES_DATASET } from '../src/vision/train/datasets.ts';
import { loadHeadTail } from '../src/vision/backbone-tail.ts';

const { values } = parseArgs({ options: { head: { type: 'string' }, montage: { type: 'string' }, out: { type: 'string' } } });
const config = loadConfig();
const headPath = path.resolve(values.head ?? DEFAULT_HEAD_PATH);
const artifact = parseHeadArtifact(await readFile(headPath, 'utf8'), headPath);
const weights = headWeightsFromArtifact(artifact);
const rule = artifact.decision ?? FALLBACK_DECISION;
const scenesDir = datasetDir(config.assetsDir, SCENES_DATASET);
const cacheDir = path.resolve('.cache');
const detector = await createFaceDetector({ assetsDir: config.assetsDir, kind: 'yunet-s', intraOpThreads: 2 });
const backbone = await Backbone.load({ modelPath: await backboneModelPath(config.assetsDir), intraOpThreads: 2, form: headBackboneForm(artifact), tail: await loadHeadTail(artifact, headPath) });
const augmentSeed = 11;
const cache = await FeatureCache.open(sceneCacheFile({ cacheDir, augmentSeed }, backbone), FEATURE_DIM);
const { val } = choosingScenes();
const records = await sceneFaces(val, {
  scenesDir,
  detector,
  backbone,
  cache,
  detectionsFile: sceneDetectionsFile(cacheDir, 'yunet-s', config.vision.faceScoreThreshold),
  faceScoreThreshold: config.vision.faceScoreThreshold,
  minFaceSize: config.vision.minFaceSize,
  cropMargin: CROP_MARGIN,
  maxPixels: config.ingest.maxFramePixels,
  augmentSeed,
  copies: 0,
  withGtCrops: false,
});
await detector.close();
await backbone.close();

const side = (b: Box) => Math.min(b[2], b[3]);
const f2 = (v: number) => v.toFixed(2);
interface Row { stem: string; box: Box; size: number; score: number; pNo: number; pInc: number; pMask: number; label: string; why: string }
const falseViol: Row[] = [];
const missedViol: Row[] = [];
const incorrect: Row[] = [];
let tp = 0;
for (const r of records) {
  const dets = r.faces.filter((f) => f.kind === 'det').map((f) => ({ box: f.box, score: f.score, p: headProbabilities(weights, f.features[0]!) }));
  const decided = dets.map((d) => ({ ...d, ...decideFace(d, d.p, rule, 'violation') }));
  const { predToGt, gtToPred } = matchFaces(decided, r.gt, 0.4);
  const row = (d: (typeof decided)[number], why: string, box = d.box): Row => ({
    stem: r.stem, box, size: Math.round(side(box)), score: d.score, pNo: d.p.no_mask, pInc: d.p.mask_incorrect, pMask: d.p.mask, label: d.label, why,
  });
  decided.forEach((d, di) => {
    const gi = predToGt.get(di);
    if (gi === undefined) {
      if (d.violation && !r.gt.some((g) => iou(d.box, g.box) >= 0.2)) falseViol.push(row(d, 'non-face (no annotation overlaps)'));
      return;
    }
    const g = r.gt[gi]!;
    if (side(g.box) < 24) return;
    if (g.label === 'with_mask' && d.violation) falseViol.push(row(d, `masked face (${d.label})`, g.box));
    if (g.label === 'without_mask' && d.violation) tp++;
  });
  r.gt.forEach((g, gi) => {
    if (side(g.box) < 24) return;
    const di = gtToPred.get(gi);
    const d = di === undefined ? null : decided[di]!;
    const none = { stem: r.stem, box: g.box, size: Math.round(side(g.box)), score: 0, pNo: NaN, pInc: NaN, pMask: NaN, label: '—', why: 'not detected' };
    if (g.label === 'without_mask' && !d?.violation) {
      if (!d) missedViol.push(none);
      else {
        const why = d.label !== 'no_mask' ? `P(no mask) ${f2(d.p.no_mask)} < ${rule.noMaskThreshold}` : d.score < rule.violationFaceScore ? `detector score ${f2(d.score)} < ${rule.violationFaceScore}` : `face ${Math.round(side(d.box))} px < ${rule.violationMinFaceSize}`;
        missedViol.push(row(d, why, g.box));
      }
    }
    if (g.label === 'mask_weared_incorrect') incorrect.push(d ? row(d, d.label === 'mask_incorrect' ? 'found' : `called ${d.label}`, g.box) : none);
  });
}

const table = (rows: Row[]) =>
  ['| scene | face px | det score | P(mask) | P(no mask) | P(incorrect) | label | what |', '|---|---|---|---|---|---|---|---|']
    .concat(rows.map((x) => `| ${x.stem} | ${x.size} | ${x.score ? f2(x.score) : '—'} | ${Number.isNaN(x.pMask) ? '—' : f2(x.pMask)} | ${Number.isNaN(x.pNo) ? '—' : f2(x.pNo)} | ${Number.isNaN(x.pInc) ? '—' : f2(x.pInc)} | ${x.label} | ${x.why} |`))
    .join('\n');
const md = `# Error analysis — validation scenes (${records.length}), faces ≥ 24 px

Generated by \`npx tsx scripts/error-analysis-val.ts --head ${path.relative(process.cwd(), headPath)}\`. Validation split only
(\`models/scene-split.json\` \`val\`); the report scenes are not read. Decision rule of the head:
\`${JSON.stringify(rule)}\`, policy \`violation\`. Scorer rules of \`../shared/tools/score_detections.py\`.

True violations: ${tp}. False violations: ${falseViol.length}. Unmasked faces ≥ 24 px not flagged: ${missedViol.length}.

## False violations
${table(falseViol)}

## Unmasked faces ≥ 24 px not flagged
${table(missedViol)}

## Real incorrectly worn masks ≥ 24 px
${table(incorrect)}
`;
const outFile = path.resolve(values.out ?? 'reports/error-analysis-val.md');
await writeFile(outFile, md);
process.stdout.write(md);

if (values.montage) {
  // Montage tiles: crop (run-time framing) scaled to 96 px, one strip per group.
  await mkdir(values.montage, { recursive: true });
  for (const [name, rows] of Object.entries({ false_violations: falseViol, missed_violations: missedViol, incorrect })) {
    if (!rows.length) continue;
    const tiles: Array<{ input: Buffer; left: number; top: number }> = [];
    for (const [i, x] of rows.entries()) {
      const img = await decodeImage(await readFile(path.join(scenesDir, 'images', `${x.stem}.jpg`)), { maxPixels: config.ingest.maxFramePixels });
      const c = extractRgb(img, cropRect(x.box, img.width, img.height, CROP_MARGIN));
      const tile = await sharp(c.data, { raw: { width: c.width, height: c.height, channels: 3 } }).resize(96, 96, { fit: 'fill' }).png().toBuffer();
      tiles.push({ input: tile, left: (i % 10) * 100, top: Math.floor(i / 10) * 100 });
    }
    await sharp({ create: { width: 1000, height: Math.ceil(rows.length / 10) * 100, channels: 3, background: '#222' } })
      .composite(tiles)
      .png()
      .toFile(path.join(values.montage, `${name}.png`));
  }
}
