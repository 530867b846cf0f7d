// Fine-tuning the backbone's last blocks — export side (CHOOSING side only: train + val scenes of
// models/scene-split.json; the report scenes are never read). Writes, under .cache/tail/:
//   tail.json + tail.f32   the float backbone's graph from CUT to the 1280×7×7 map (Conv / Clip / Add) and its weights
//   train.f32 + train.json the CUT activations of every train-scene crop `maskwatch train` learns from (6 augmented copies)
//   train-dets.f32 + .json the same for every train-scene detection (clean crop), with its fold, for out-of-fold scoring
//   val.f32 + val.json     the CUT activations of every val-scene detection (clean crop), with its scene, box, score, label
// scripts/tail-finetune/train.py then trains the tail + a head on them (PyTorch from Debian's python3-torch),
// choose.ts scores the result with maskwatch train's chooser, artifact.ts writes the kept one into models/.
//   npx tsx scripts/tail-finetune/export.ts
// REFIT=1 exports for the refit of the chosen recipe on ALL choosing scenes (still never the report scenes),
// into .cache/tail-refit/: train + val scenes pooled as "train", in 5 folds by scene, so that refit.ts can
// choose the decision rule on out-of-fold scores; "val" then holds the pooled detections (in-sample, unused
// for choosing: the refit trains a fixed number of epochs).
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { loadConfig } from '../../src/config/config.ts';
import { addGraphOutput, backboneModelPath, toInputTensor, type Backbone } from '../../src/vision/backbone.ts';
import { CROP_MARGIN } from '../../src/vision/crop.ts';
import { dequantizeModel, tensorValues } from '../../src/vision/dequantize.ts';
import { createFaceDetector } from '../../src/vision/detector/factory.ts';
import { choosingScenes } from '../../src/vision/protocol/scene-split.ts';
import { FeatureCache } from '../../src/vision/train/feature-cache.ts';
import { CLASS_OF } from '../../src/vision/train/scene-train.ts';
import { sceneDetectionsFile, sceneFaces, type SceneRecord } from '../../src/vision/train/scene-faces.ts';
import { datasetDir, SCENES_DATASET } from '../../src/vision/train/datasets.ts';
import { AUGMENTATION } from '../../src/vision/train/augment.ts';
import { mulberry32, shuffled } from '../../src/vision/train/rng.ts';

/** Input of the second-to-last 160-channel block (7×7×160): blocks 15, 16 and the 1×1 conv to 1280 follow. */
export const CUT = '443_quantized';
const CUT_DIM = 160 * 7 * 7;
const MAP = '627_quantized';
const COPIES = 6;
const augmentSeed = 11;
const REFIT = process.env.REFIT === '1';
const out = path.resolve(REFIT ? '.cache/tail-refit' : '.cache/tail');
await mkdir(out, { recursive: true });

const config = loadConfig();
const assetsDir = config.assetsDir;
const bytes = await readFile(await backboneModelPath(assetsDir));
const sha256 = createHash('sha256').update(bytes).digest('hex');
const floatBytes = dequantizeModel(bytes);

// The tail graph: the contiguous run of nodes after CUT's producer up to MAP's producer.
const model = onnxProto.onnx.ModelProto.decode(floatBytes);
const nodes = model.graph!.node!;
const start = nodes.findIndex((n) => n.output!.includes(CUT)) + 1;
const end = nodes.findIndex((n) => n.output!.includes(MAP)) + 1;
const inits = new Map(model.graph!.initializer!.map((t) => [t.name!, t]));
const chunks: Float32Array[] = [];
let offset = 0;
const tensors: Record<string, { dims: number[]; offset: number; length: number }> = {};
const tailNodes = nodes.slice(start, end).map((n) => {
  for (const i of n.input!) {
    const t = inits.get(i);
    if (!t || tensors[i]) continue;
    const v = Float32Array.from(tensorValues(t));
    tensors[i] = { dims: (t.dims ?? []).map(Number), offset, length: v.length };
    chunks.push(v);
    offset += v.length;
  }
  const attrs: Record<string, number | number[]> = {};
  for (const a of n.attribute ?? []) attrs[a.name!] = a.ints && a.ints.length ? a.ints.map(Number) : Number(a.i ?? 0);
  return { op: n.opType!, name: n.name!, inputs: n.input!, output: n.output![0]!, attrs };
});
await writeFile(path.join(out, 'tail.json'), JSON.stringify({ backbone: { sha256, form: 'float' }, cut: CUT, output: MAP, nodes: tailNodes, tensors }, null, 1));
await writeFile(path.join(out, 'tail.f32'), Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))));

// A Backbone stand-in whose "features" are the CUT activations, flattened.
const session = await ort.InferenceSession.create(addGraphOutput(floatBytes, CUT), { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const cutBackbone = {
  sha256,
  form: 'float',
  async run(rgb224: Buffer[]) {
    const input = new ort.Tensor('float32', toInputTensor(rgb224), [rgb224.length, 3, 224, 224]);
    const r = await session.run({ input }, [CUT]);
    const data = r[CUT]!.data as Float32Array;
    return { features: rgb224.map((_, b) => data.slice(b * CUT_DIM, (b + 1) * CUT_DIM)), logits: [] };
  },
} as unknown as Backbone;

const detector = await createFaceDetector({ assetsDir, kind: 'yunet-s', intraOpThreads: 1 });
const cache = await FeatureCache.open(path.join(out, `cut-${CUT}-${sha256.slice(0, 12)}-m${CROP_MARGIN}-aug${AUGMENTATION.version}-seed${augmentSeed}.bin`), CUT_DIM);
const sides = choosingScenes();
const train = REFIT ? [...sides.train, ...sides.val] : sides.train;
const val = REFIT ? [] : sides.val;
const common = { scenesDir: datasetDir(assetsDir, SCENES_DATASET), detector, backbone: cutBackbone, cache, detectionsFile: sceneDetectionsFile(path.resolve('.cache'), 'yunet-s', config.vision.faceScoreThreshold), faceScoreThreshold: config.vision.faceScoreThreshold, minFaceSize: config.vision.minFaceSize, cropMargin: CROP_MARGIN, maxPixels: config.ingest.maxFramePixels, augmentSeed };
let done = 0;
const progress = (total: number, label: string) => ({ tick: () => { if (++done % 20 === 0) process.stderr.write(`${label} ${done}/${total}\n`); } }) as never;
const trainRecords = await sceneFaces(train, { ...common, copies: COPIES, withGtCrops: true, progress: progress(train.length, 'train') });
done = 0;
const valRecords = await sceneFaces(val, { ...common, copies: 0, withGtCrops: false, progress: progress(val.length, 'val') });
await detector.close();
await session.release();

async function dump(name: string, rows: Array<{ x: Float32Array; meta: object }>) {
  const body = Buffer.alloc(rows.length * CUT_DIM * 4);
  rows.forEach((r, i) => Buffer.from(r.x.buffer, r.x.byteOffset, r.x.byteLength).copy(body, i * CUT_DIM * 4));
  await writeFile(path.join(out, `${name}.f32`), body);
  await writeFile(path.join(out, `${name}.json`), JSON.stringify({ dim: [160, 7, 7], rows: rows.map((r) => r.meta) }));
}
// Folds by scene as scripts/head-oof-val.ts cuts them.
const foldOf = new Map<string, number>();
shuffled([...train].sort(), mulberry32(99)).forEach((s, i) => foldOf.set(s, i % 5));
// Training rows: every variant of every face matched to an annotation (as labelledSet with allVariants).
const trainRows = (rs: SceneRecord[]) =>
  rs.flatMap((r) => r.faces.filter((f) => f.gtLabel).flatMap((f) => f.features.map((x, v) => ({ x, meta: { stem: r.stem, fold: foldOf.get(r.stem), kind: f.kind, variant: v, y: CLASS_OF[f.gtLabel!] } }))));
await dump('train', trainRows(trainRecords));
await dump('train-dets', trainRecords.flatMap((r) => r.faces.filter((f) => f.kind === 'det').map((f) => ({ x: f.features[0]!, meta: { stem: r.stem, fold: foldOf.get(r.stem), box: f.box, score: f.score, y: f.gtLabel ? CLASS_OF[f.gtLabel] : null } }))));
await writeFile(path.join(out, 'train-gt.json'), JSON.stringify(trainRecords.map((r) => ({ stem: r.stem, fold: foldOf.get(r.stem), gt: r.gt }))));
await dump('val', valRecords.flatMap((r) => r.faces.filter((f) => f.kind === 'det').map((f) => ({ x: f.features[0]!, meta: { stem: r.stem, box: f.box, score: f.score, y: f.gtLabel ? CLASS_OF[f.gtLabel] : null } }))));
await writeFile(path.join(out, 'val-gt.json'), JSON.stringify(valRecords.map((r) => ({ stem: r.stem, gt: r.gt }))));
process.stderr.write(`wrote ${out}\n`);
