import { hiddenForward, outputForward, type HeadWeights } from '../head.ts';
import { mulberry32, shuffled, type Rng } from './rng.ts';

/**
 * Plain-JS trainer for the head: Dense(H, ReLU) → Dropout → Dense(K, softmax),
 * weighted cross-entropy, Adam. The head is tiny (1280×H), so no framework is
 * needed and training runs anywhere the product runs.
 */
export interface MlpOptions {
  hidden: number;
  dropout: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty on the kernels (not biases). */
  weightDecay: number;
  seed: number;
}

export const DEFAULT_MLP_OPTIONS: MlpOptions = {
  hidden: 64,
  dropout: 0.5,
  epochs: 30,
  batchSize: 64,
  learningRate: 1e-3,
  weightDecay: 1e-4,
  seed: 42,
};

export interface WeightedSet {
  x: Float32Array[];
  /** Class index 0..K-1. */
  y: number[];
  /** Per-sample loss weight (class balance, domain weight). */
  w: number[];
}

export interface MlpEpoch {
  epoch: number;
  loss: number;
  valLoss?: number;
}

function glorot(rows: number, cols: number, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / (rows + cols));
  return Float32Array.from({ length: rows * cols }, () => (rng() * 2 - 1) * limit);
}

/** Weighted mean cross-entropy of a head on a set. */
export function weightedLoss(weights: HeadWeights, set: WeightedSet): number {
  let loss = 0;
  let total = 0;
  set.x.forEach((x, i) => {
    const p = outputForward(weights, hiddenForward(weights, x));
    loss -= set.w[i]! * Math.log(Math.max(1e-7, p[set.y[i]!]!));
    total += set.w[i]!;
  });
  return total ? loss / total : 0;
}

/** Weights so each class carries the same total weight (times an optional per-sample factor). */
export function balancedWeights(y: number[], classes: number, factor: (i: number) => number = () => 1): number[] {
  const mass = new Array<number>(classes).fill(0);
  y.forEach((c, i) => (mass[c]! += factor(i)));
  const total = mass.reduce((a, b) => a + b, 0);
  return y.map((c, i) => (mass[c]! > 0 ? (factor(i) * total) / (classes * mass[c]!) : 0));
}

/**
 * Trains and returns the epoch with the lowest validation loss (or the last
 * epoch without a validation set). Deterministic for a seed.
 */
export function trainMlp(
  train: WeightedSet,
  val: WeightedSet | null,
  classes: number,
  options: Partial<MlpOptions> = {},
  onEpoch?: (e: MlpEpoch) => void,
): { weights: HeadWeights; history: MlpEpoch[]; bestEpoch: number } {
  const o = { ...DEFAULT_MLP_OPTIONS, ...options };
  const n = train.x.length;
  if (n === 0 || train.y.length !== n || train.w.length !== n) throw new Error('training set is empty or x/y/w lengths differ');
  const D = train.x[0]!.length;
  const H = o.hidden;
  const K = classes;
  const rng = mulberry32(o.seed);
  const W: HeadWeights = { inputDim: D, hiddenDim: H, w1: glorot(D, H, rng), b1: new Float32Array(H), w2: glorot(H, K, rng), b2: new Float32Array(K) };
  const params = [W.w1, W.b1, W.w2, W.b2];
  const grads = params.map((p) => new Float64Array(p.length));
  const m = params.map((p) => new Float64Array(p.length));
  const v = params.map((p) => new Float64Array(p.length));
  const [b1m, b2m] = [0.9, 0.999];
  let step = 0;
  const keep = 1 - o.dropout;
  const h = new Float64Array(H);
  const dh = new Float64Array(H);
  const history: MlpEpoch[] = [];
  let best: { loss: number; epoch: number; weights: HeadWeights } | null = null;
  const copy = (): HeadWeights => ({ inputDim: D, hiddenDim: H, w1: W.w1.slice(), b1: W.b1.slice(), w2: W.w2.slice(), b2: W.b2.slice() });
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const order = shuffled(Array.from({ length: n }, (_, i) => i), rng);
    let lossSum = 0;
    let weightSum = 0;
    for (let start = 0; start < n; start += o.batchSize) {
      const batch = order.slice(start, start + o.batchSize);
      const bw = batch.reduce((a, k) => a + train.w[k]!, 0);
      if (bw === 0) continue;
      grads.forEach((g) => g.fill(0));
      const [g1, gb1, g2, gb2] = grads as [Float64Array, Float64Array, Float64Array, Float64Array];
      for (const k of batch) {
        const x = train.x[k]!;
        hiddenForward(W, x, h);
        // Inverted dropout: scale kept units so inference needs no change.
        for (let j = 0; j < H; j++) h[j] = rng() < keep ? h[j]! / keep : 0;
        const p = outputForward(W, h);
        const sw = train.w[k]! / bw;
        lossSum -= train.w[k]! * Math.log(Math.max(1e-7, p[train.y[k]!]!));
        weightSum += train.w[k]!;
        dh.fill(0);
        for (let c = 0; c < K; c++) {
          const dz = (p[c]! - (c === train.y[k] ? 1 : 0)) * sw;
          if (dz === 0) continue;
          gb2[c]! += dz;
          for (let j = 0; j < H; j++) {
            if (h[j] === 0) continue;
            g2[j * K + c]! += h[j]! * dz;
            dh[j]! += W.w2[j * K + c]! * dz;
          }
        }
        // Through dropout and ReLU: units that were zero pass no gradient.
        for (let j = 0; j < H; j++) dh[j] = h[j]! > 0 ? dh[j]! / keep : 0;
        for (let j = 0; j < H; j++) gb1[j]! += dh[j]!;
        for (let i = 0; i < D; i++) {
          const xi = x[i]!;
          if (xi === 0) continue;
          const row = i * H;
          for (let j = 0; j < H; j++) g1[row + j]! += xi * dh[j]!;
        }
      }
      step++;
      const lr = (o.learningRate * Math.sqrt(1 - b2m ** step)) / (1 - b1m ** step);
      params.forEach((p, pi) => {
        const g = grads[pi]!;
        const mm = m[pi]!;
        const vv = v[pi]!;
        const decay = pi === 0 || pi === 2 ? o.weightDecay : 0;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]! + decay * p[i]!;
          mm[i] = b1m * mm[i]! + (1 - b1m) * gi;
          vv[i] = b2m * vv[i]! + (1 - b2m) * gi * gi;
          p[i] = p[i]! - (lr * mm[i]!) / (Math.sqrt(vv[i]!) + 1e-8);
        }
      });
    }
    const stats: MlpEpoch = { epoch, loss: weightSum ? lossSum / weightSum : 0 };
    if (val && val.x.length > 0) {
      stats.valLoss = weightedLoss(W, val);
      if (!best || stats.valLoss < best.loss) best = { loss: stats.valLoss, epoch, weights: copy() };
    } else {
      best = { loss: stats.loss, epoch, weights: copy() };
    }
    history.push(stats);
    onEpoch?.(stats);
  }
  return { weights: best!.weights, history, bestEpoch: best!.epoch };
}

/**
 * Heads of the same shape averaged in logit space, as one head: their hidden
 * layers side by side, the output kernel stacked and scaled by 1/M, the output
 * biases averaged. The softmax of the mean logits is then exactly what the
 * wider head computes, so the runtime needs no ensemble code.
 */
export function mergeLogitAverage(members: HeadWeights[]): HeadWeights {
  const first = members[0];
  if (!first) throw new Error('no heads to merge');
  const { inputDim: D, hiddenDim: H } = first;
  const K = first.b2.length;
  if (members.some((w) => w.inputDim !== D || w.hiddenDim !== H || w.b2.length !== K)) throw new Error('heads to merge differ in shape');
  const M = members.length;
  const w1 = new Float32Array(D * H * M);
  const b1 = new Float32Array(H * M);
  const w2 = new Float32Array(H * M * K);
  const b2 = new Float32Array(K);
  members.forEach((w, m) => {
    for (let i = 0; i < D; i++) w1.set(w.w1.subarray(i * H, (i + 1) * H), i * H * M + m * H);
    b1.set(w.b1, m * H);
    for (let j = 0; j < H * K; j++) w2[m * H * K + j] = w.w2[j]! / M;
    for (let c = 0; c < K; c++) b2[c]! += w.b2[c]! / M;
  });
  return { inputDim: D, hiddenDim: H * M, w1, b1, w2, b2 };
}
