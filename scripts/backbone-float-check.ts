// Float backbone (int8 file rewritten into float ops in memory) against the int8 one,
// on this machine: ImageNet top-1 agreement and logits correlation
// (datasets/imagenet-sanity), feature cosine similarity on face crops
// (datasets/kaggle-face-crops-dev, every file), and CPU-ms per crop of a bare
// ORT session (1 intra-op thread), both forms in the same run, alternating.
//   nice -n 10 npx tsx scripts/backbone-float-check.ts > reports/backbone-float.json
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { loadConfig } from '../src/config/config.ts';
import { addGraphOutput, backboneModelPath, backboneSessionBytes, FEATURE_TENSOR, globalAveragePool, FEATURE_DIM, INPUT_SIZE, resizeToInput, toInputTensor, type BackboneForm } from '../src/vision/backbone.ts';
import { extractRgb } from '../src/vision/crop.ts';
import { dequantizeModel } from '../src/vision/dequantize.ts';
import { resizeRgb } from '../src/vision/resize.ts';
import { decodeImage, type DecodedImage } from '../src/vision/image.ts';
import { decodeForTraining } from '../src/vision/train/features.ts';

const assetsDir = loadConfig().assetsDir;
const fileBytes = await readFile(await backboneModelPath(assetsDir));
const session = (form: BackboneForm) =>
  ort.InferenceSession.create(backboneSessionBytes(fileBytes, form), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
const sessions = { int8: await session('int8'), float: await session('float') };

async function run(form: BackboneForm, rgb: Buffer[]) {
  const input = new ort.Tensor('float32', toInputTensor(rgb), [rgb.length, 3, INPUT_SIZE, INPUT_SIZE]);
  const r = await sessions[form].run({ input }, [FEATURE_TENSOR, 'output']);
  const map = r[FEATURE_TENSOR]!;
  const features = globalAveragePool(map.data as Float32Array, rgb.length, FEATURE_DIM, map.dims[2]! * map.dims[3]!);
  const out = r.output!.data as Float32Array;
  const k = out.length / rgb.length;
  return { features, logits: rgb.map((_, b) => out.slice(b * k, (b + 1) * k)) };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!; return s; };
const cosine = (a: Float32Array, b: Float32Array) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b) || 1);
function pearson(a: Float32Array, b: Float32Array) {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  return cosine(a.map((v) => v - ma), b.map((v) => v - mb));
}
const argmax = (a: Float32Array) => a.reduce((bi, v, i) => (v > a[bi]! ? i : bi), 0);
const quantiles = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!; return { n: s.length, min: s[0], p05: q(0.05), median: q(0.5), mean: s.reduce((a, b) => a + b, 0) / s.length }; };

// 1. ImageNet sanity images (standard framing: shorter side 256, centre 224).
const sanityDir = path.join(assetsDir, 'datasets', 'imagenet-sanity');
const labels = (await readFile(path.join(sanityDir, 'imagenet_labels.txt'), 'utf8')).split('\n').map((l) => l.split(',')[0]!.trim());
const imagenet: Record<string, unknown>[] = [];
for (const file of (await readdir(sanityDir)).filter((f) => /\.(jpg|png)$/i.test(f))) {
  const img = await decodeImage(await readFile(path.join(sanityDir, file)));
  const scale = 256 / Math.min(img.width, img.height);
  const w = Math.round(img.width * scale), h = Math.round(img.height * scale);
  const rgb = extractRgb({ data: resizeRgb(img, w, h), width: w, height: h }, [(w - INPUT_SIZE) >> 1, (h - INPUT_SIZE) >> 1, INPUT_SIZE, INPUT_SIZE]).data;
  const a = (await run('int8', [rgb])).logits[0]!;
  const b = (await run('float', [rgb])).logits[0]!;
  imagenet.push({ file, int8: labels[argmax(a) + 1], float: labels[argmax(b) + 1], agree: argmax(a) === argmax(b), logitsPearson: pearson(a, b) });
}
// The two BMPs (24-bit) are read by the backbone test's own decoder; the JPEGs are enough here, plus face crops below.

// 2. Face crops: every file of kaggle-face-crops-dev, stretched to 224 as at run time.
const cropsDir = path.join(assetsDir, 'datasets', 'kaggle-face-crops-dev');
const files: string[] = [];
for (const cls of await readdir(cropsDir)) for (const f of await readdir(path.join(cropsDir, cls))) files.push(path.join(cropsDir, cls, f));
files.sort();
const cos: number[] = [];
const logitCorr: number[] = [];
let top1Agree = 0;
const inputs: Buffer[] = [];
for (let i = 0; i < files.length; i += 16) {
  const rgb = await Promise.all(files.slice(i, i + 16).map(async (f) => resizeToInput((await decodeForTraining(f)) as DecodedImage)));
  inputs.push(...rgb);
  const a = await run('int8', rgb);
  const b = await run('float', rgb);
  a.features.forEach((f, k) => {
    cos.push(cosine(f, b.features[k]!));
    logitCorr.push(pearson(a.logits[k]!, b.logits[k]!));
    if (argmax(a.logits[k]!) === argmax(b.logits[k]!)) top1Agree++;
  });
}

// 2b. The rewrite itself: rounded back onto every layer's uint8 grid (fake quant), the float graph
// should be the int8 model up to accumulation order. Graph optimisations off for both (ORT folds
// Q→DQ pairs away otherwise), on the first 64 crops.
async function rawFeatures(model: Uint8Array, rgb: Buffer[]) {
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  const r = await s.run({ input: new ort.Tensor('float32', toInputTensor(rgb), [rgb.length, 3, INPUT_SIZE, INPUT_SIZE]) }, [FEATURE_TENSOR]);
  const f = globalAveragePool(r[FEATURE_TENSOR]!.data as Float32Array, rgb.length, FEATURE_DIM, 49);
  await s.release();
  return f;
}
const some = inputs.slice(0, 64);
const int8Raw = await rawFeatures(backboneSessionBytes(fileBytes, 'int8'), some);
const fakeQuant = await rawFeatures(addGraphOutput(dequantizeModel(fileBytes, { fakeQuant: true }), FEATURE_TENSOR), some);
const rewriteCos = int8Raw.map((f, i) => cosine(f, fakeQuant[i]!));

// 3. Speed: CPU-ms per crop, batch 1 and batch 8, forms alternated in rounds so load affects both alike.
async function timeForm(form: BackboneForm, batch: number, reps: number) {
  const body = toInputTensor(inputs.slice(0, batch));
  const input = new ort.Tensor('float32', body, [batch, 3, INPUT_SIZE, INPUT_SIZE]);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) (await sessions[form].run({ input }, [FEATURE_TENSOR]))[FEATURE_TENSOR]!.dispose();
  const cpu = process.cpuUsage(c0);
  return { cpuMs: (cpu.user + cpu.system) / 1000 / (reps * batch), wallMs: (performance.now() - t0) / (reps * batch) };
}
const speed: Record<string, { cpuMs: number[]; wallMs: number[] }> = {};
for (const form of ['int8', 'float'] as const) await timeForm(form, 8, 2); // warm-up
for (let round = 0; round < 5; round++) {
  for (const batch of [1, 8]) {
    for (const form of ['int8', 'float'] as const) {
      const t = await timeForm(form, batch, batch === 1 ? 16 : 3);
      const s = (speed[`${form}-b${batch}`] ??= { cpuMs: [], wallMs: [] });
      s.cpuMs.push(t.cpuMs);
      s.wallMs.push(t.wallMs);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perCrop = Object.fromEntries(Object.entries(speed).map(([k, v]) => [k, { cpuMsMedian: median(v.cpuMs), wallMsMedian: median(v.wallMs) }]));
const ratio = (b: number) => perCrop[`float-b${b}`]!.cpuMsMedian / perCrop[`int8-b${b}`]!.cpuMsMedian;

process.stdout.write(`${JSON.stringify({
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadavgAtEnd: os.loadavg() },
  imagenet,
  rewriteCheck: { note: 'int8 model vs float rewrite rounded to each layer\'s uint8 grid (fake quant), optimisations off, first 64 crops', featureCosine: quantiles(rewriteCos) },
  faceCrops: { files: files.length, featureCosine: quantiles(cos), logitsPearson: quantiles(logitCorr), imagenetTop1Agreement: top1Agree / files.length },
  speedPerCrop: { note: 'bare ORT session, 1 intra-op thread, median of 5 alternating rounds; CPU ms = process.cpuUsage per crop', ...perCrop, floatOverInt8CpuBatch1: ratio(1), floatOverInt8CpuBatch8: ratio(8) },
}, null, 1)}\n`);
await sessions.int8.release();
await sessions.float.release();
