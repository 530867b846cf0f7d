// Writes a scripts/tail-finetune/train.py result as the deployed model: models/backbone-tail.bin (the
// fine-tuned layers' change from the ImageNet weights, float16 LE) and models/mask-head.json (the head trained with them, listing the tail file).
// The decision rule is then chosen on the val scenes through the engine's own path:
//   npx tsx scripts/tail-finetune/artifact.ts b16 42 && npx maskwatch train --rechoose models/mask-head.json
// REFIT=1: the refit on all choosing scenes (.cache/tail-refit/, refit.ts); its decision rule and epoch count
// were chosen out-of-fold by refit.ts (choice.json) and are written here; --rechoose must not follow (val is
// training data of a refit).
// REFIT=1 with a FOLD (0-4) and OUT_DIR: the out-of-fold model of that fold (run train.py with the refit's
// epoch count first) as a head + tail in OUT_DIR/fK/, and OUT_DIR/folds.json ({scene: fold}), for tuning
// on clips each fold's model never saw (bench:incidents --oof-heads OUT_DIR).
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { floatToHalf, TAIL_ENCODING, type BackboneTailRef } from '../../src/vision/backbone-tail.ts';
import { encodeFloat32, parseHeadArtifact, type HeadArtifact } from '../../src/vision/head.ts';
import { REPO_ROOT } from '../../src/paths.ts';

const [arm = 'b16', seed = '42', fold] = process.argv.slice(2);
const REFIT = process.env.REFIT === '1';
const DIR = path.join(REPO_ROOT, REFIT ? '.cache/tail-refit' : '.cache/tail');
const MODELS = fold !== undefined ? path.resolve(process.env.OUT_DIR ?? '.cache/oof-heads', `f${fold}`) : path.join(REPO_ROOT, 'models');
const TAIL_FILE = 'backbone-tail.bin';
type Result = { arm: string; tailLr: number; history: Array<{ epoch: number; valLoss: number | null }>; best: { epoch: number; valLoss: number | null; tail: Record<string, { w: number[]; b: number[] }>; head: Record<string, number[] | number[][]> } };
const result = JSON.parse(await readFile(path.join(DIR, `${arm}-s${seed}${fold !== undefined ? `-f${fold}` : ''}.json`), 'utf8')) as Result;
const tailGraph = JSON.parse(await readFile(path.join(DIR, 'tail.json'), 'utf8')) as { nodes: Array<{ op: string; name: string; inputs: string[] }>; tensors: Record<string, { dims: number[]; offset: number; length: number }> };
const base = new Float32Array((await readFile(path.join(DIR, 'tail.f32'))).buffer.slice(0));
const trainLabels = (JSON.parse(await readFile(path.join(DIR, 'train.json'), 'utf8')) as { rows: Array<{ y: number }> }).rows.map((r) => r.y);
const trainRows = trainLabels.length;

// Tail: each fine-tuned conv's weight and bias minus the float rewrite's, in graph order.
const tensors: BackboneTailRef['tensors'] = [];
const chunks: Buffer[] = [];
let offset = 0;
let largest = 0;
for (const n of tailGraph.nodes.filter((n) => n.op === 'Conv' && result.best.tail[n.name])) {
  const { w, b } = result.best.tail[n.name]!;
  for (const [name, values] of [[n.inputs[1]!, w], [n.inputs[2]!, b]] as const) {
    const t = tailGraph.tensors[name]!;
    const chunk = Buffer.alloc(values.length * 2);
    values.forEach((v, i) => {
      const delta = Math.fround(v) - base[t.offset + i]!;
      largest = Math.max(largest, Math.abs(delta));
      chunk.writeUInt16LE(floatToHalf(delta), i * 2);
    });
    tensors.push({ name, dims: t.dims, offset, length: values.length });
    chunks.push(chunk);
    offset += values.length;
  }
}
const bytes = Buffer.concat(chunks);
await mkdir(MODELS, { recursive: true });
await writeFile(path.join(MODELS, TAIL_FILE), bytes);
const tail: BackboneTailRef = { file: TAIL_FILE, sha256: createHash('sha256').update(bytes).digest('hex'), encoding: TAIL_ENCODING, tensors };

// Head: torch Linear weights are [out][in]; the artifact keeps Keras' [in][out].
const transpose = (m: number[][]) => Float32Array.from(m[0]!.flatMap((_, i) => m.map((row) => row[i]!)));
const h = result.best.head as { '0.weight': number[][]; '0.bias': number[]; '3.weight': number[][]; '3.bias': number[] };
const previous = parseHeadArtifact(await readFile(path.join(REPO_ROOT, 'models', 'mask-head.json'), 'utf8'));
type RefitChoice = { scenes: number; epochs: number; perEpoch: Array<{ epoch: number; oofLoss: number }>; rule: HeadArtifact['decision']; validation: HeadArtifact['metrics']; how: string };
const refit = REFIT ? (JSON.parse(await readFile(path.join(DIR, 'choice.json'), 'utf8')) as RefitChoice) : null;
if (refit && refit.epochs !== result.history.length) throw new Error(`the refit ran ${result.history.length} epochs; choice.json chose ${refit.epochs}`);
const built: HeadArtifact = {
  ...previous,
  backbone: { ...previous.backbone, form: 'float', tail },
  architecture: { hidden: h['0.bias'].length, activation: 'relu', dropout: 0.5, output: 'softmax' },
  weights: { w1: encodeFloat32(transpose(h['0.weight'])), b1: encodeFloat32(Float32Array.from(h['0.bias'])), w2: encodeFloat32(transpose(h['3.weight'])), b2: encodeFloat32(Float32Array.from(h['3.bias'])) },
  training: {
    ...previous.training,
    counts: { ...(previous.training.counts as object), trainVectors: trainRows },
    fineTuned: `${Object.keys(result.best.tail).join(', ')} of the float rewrite (the last inverted-residual block and the 1×1 conv to 1280) trained with the head`,
    hyperParameters: { hidden: 64, dropout: 0.5, epochs: result.history.length, batchSize: 64, headLearningRate: 1e-3, headWeightDecay: 1e-4, tailLearningRate: result.tailLr, seed: Number(seed), optimizer: 'adam', loss: 'class-balanced cross-entropy', selection: 'epoch with lowest validation loss', bestEpoch: result.best.epoch },
    variants: [{ name: result.arm, valLoss: result.best.valLoss, bestEpoch: result.best.epoch }],
    chosenVariant: result.arm,
    variantRule: 'lowest mean of the validation loss and the out-of-fold loss on the train scenes (5 folds by scene), as for the head variants (reports/error-analysis-val.md)',
    framework: `PyTorch 1.13 (Debian python3-torch) on the backbone activations before block 15 exported by onnxruntime-node (scripts/tail-finetune/); run by onnxruntime-node with the tail added to the float rewrite`,
  },
};
const artifact: HeadArtifact = refit
  ? {
      ...built,
      decision: refit.rule!,
      training: {
        ...built.training,
        refit: { scenes: refit.scenes, folds: 5 },
        sceneSplit: { ...(built.training.sceneSplit as object), trainScenes: refit.scenes, valScenes: 0 },
        counts: { trainVectors: trainRows, trainByClass: [0, 1, 2].map((c) => trainLabels.filter((y) => y === c).length) },
        seconds: undefined,
        data: 'kaggle-scenes-dev TRAIN and VAL scenes (every choosing scene; never the report scenes): detector crops (run-time framing) matched to annotations + annotated-box crops, each with augmented copies',
        hyperParameters: { ...(built.training.hyperParameters as object), epochs: refit.epochs, selection: 'refit of the chosen recipe on train + val for a fixed number of epochs, chosen by the lowest pooled out-of-fold loss (5 folds by scene)', bestEpoch: refit.epochs },
        variants: [{ name: result.arm, epochs: refit.epochs, outOfFoldLossByEpoch: refit.perEpoch }],
        variantRule: 'the recipe chosen earlier on val and out-of-fold (reports/error-analysis-val.md), refit on every choosing scene',
        decisionRule: refit.how,
      },
      metrics: { outOfFold: refit.validation },
    }
  : built;
await writeFile(path.join(MODELS, 'mask-head.json'), `${JSON.stringify(artifact, null, 1)}\n`);
if (fold !== undefined) {
  const gt = JSON.parse(await readFile(path.join(DIR, 'train-gt.json'), 'utf8')) as Array<{ stem: string; fold: number }>;
  await writeFile(path.join(MODELS, '..', 'folds.json'), JSON.stringify(Object.fromEntries(gt.map((g) => [g.stem, g.fold]))));
}
const where = path.relative(process.cwd(), MODELS);
process.stderr.write(`wrote ${where}/${TAIL_FILE} (${bytes.length} bytes, ${tensors.length} tensors, largest change ${largest.toPrecision(3)}) and ${where}/mask-head.json (${result.arm}, epoch ${result.best.epoch})${refit ? ', with the rule chosen out-of-fold' : '; now choose the rule: npx maskwatch train --rechoose models/mask-head.json'}\n`);
