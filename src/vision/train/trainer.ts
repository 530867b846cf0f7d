import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { CLASSES, predictNoMask, type HeadWeights } from '../head.ts';
import { mulberry32, shuffled, type Rng } from './rng.ts';
import type { Label } from './datasets.ts';

/** The seed recipe: Dense(128, ReLU) → Dropout(0.5) → Dense(2, softmax), Adam 1e-4 with decay lr/epochs, batch 32, 20 epochs. */
export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  hidden: number;
  dropout: number;
  seed: number;
  /** Weight each class by n / (2 · n_class) so both count equally in the loss. */
  balanceClasses: boolean;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  epochs: 20,
  batchSize: 32,
  learningRate: 1e-4,
  hidden: 128,
  dropout: 0.5,
  seed: 42,
  balanceClasses: true,
};

export interface EpochStats {
  epoch: number;
  loss: number;
  valLoss?: number;
  valAccuracy?: number;
  valBalancedAccuracy?: number;
  learningRate: number;
}

export interface Dataset {
  x: Float32Array[];
  y: Label[];
}

let backendReady: Promise<void> | null = null;

/** wasm backend (tfjs-node cannot install offline; pure-JS cpu is ~7× slower). */
export function initTf(): Promise<void> {
  backendReady ??= (async () => {
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('tfjs wasm backend failed to initialise');
    await tf.ready();
  })();
  return backendReady;
}

function glorotUniform(rows: number, cols: number, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / (rows + cols));
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = (rng() * 2 - 1) * limit;
  return out;
}

const EPS = 1e-7; // Keras backend epsilon: clip before log, as its BCE does

/** Keras-style binary cross-entropy on the 2-way softmax vs one-hot labels, per sample. */
export function bceOnSoftmax(probs: tf.Tensor2D, onehot: tf.Tensor2D): tf.Tensor1D {
  const p = tf.clipByValue(probs, EPS, 1 - EPS);
  const l = tf.add(tf.mul(onehot, tf.log(p)), tf.mul(tf.sub(1, onehot), tf.log(tf.sub(1, p))));
  return tf.neg(tf.mean(l, 1)) as tf.Tensor1D;
}

export function classWeights(y: Label[]): [number, number] {
  const n1 = y.filter((v) => v === 1).length;
  const n0 = y.length - n1;
  if (n0 === 0 || n1 === 0) throw new Error(`training data needs both classes (mask: ${n0}, no_mask: ${n1})`);
  return [y.length / (2 * n0), y.length / (2 * n1)];
}

function evaluateLoss(w: HeadWeights, data: Dataset): { loss: number; accuracy: number; balancedAccuracy: number } {
  const p = predictNoMask(w, data.x);
  let loss = 0;
  let correct = 0;
  const hit = [0, 0];
  const count = [0, 0];
  p.forEach((pn, i) => {
    const y = data.y[i]!;
    const q = Math.min(1 - EPS, Math.max(EPS, pn));
    loss += -(y * Math.log(q) + (1 - y) * Math.log(1 - q));
    const pred = pn >= 0.5 ? 1 : 0;
    count[y]!++;
    if (pred === y) {
      correct++;
      hit[y]!++;
    }
  });
  return { loss: loss / p.length, accuracy: correct / p.length, balancedAccuracy: (hit[0]! / count[0]! + hit[1]! / count[1]!) / 2 };
}

function snapshot(vars: tf.Variable[], inputDim: number, hidden: number): HeadWeights {
  const [w1, b1, w2, b2] = vars.map((v) => new Float32Array(v.dataSync()));
  return { inputDim, hiddenDim: hidden, w1: w1!, b1: b1!, w2: w2!, b2: b2! };
}

/**
 * Trains the head on feature vectors. Deterministic for a seed: our own RNG
 * drives initialisation, shuffling and dropout masks (tfjs' seeded dropout
 * repeats one mask). Keeps the epoch with the lowest validation loss.
 */
export async function trainHead(
  train: Dataset,
  val: Dataset | null,
  options: Partial<TrainOptions> = {},
  onEpoch?: (s: EpochStats) => void,
): Promise<{ weights: HeadWeights; history: EpochStats[]; bestEpoch: number }> {
  const o = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  if (train.x.length !== train.y.length || train.x.length === 0) throw new Error('training set is empty or x/y lengths differ');
  await initTf();
  const dim = train.x[0]!.length;
  const rng = mulberry32(o.seed);
  const cw = o.balanceClasses ? classWeights(train.y) : ([1, 1] as [number, number]);
  const w1 = tf.variable(tf.tensor2d(glorotUniform(dim, o.hidden, rng), [dim, o.hidden]));
  const b1 = tf.variable(tf.zeros([o.hidden]));
  const w2 = tf.variable(tf.tensor2d(glorotUniform(o.hidden, CLASSES.length, rng), [o.hidden, CLASSES.length]));
  const b2 = tf.variable(tf.zeros([CLASSES.length]));
  const vars = [w1, b1, w2, b2];
  const optimizer = tf.train.adam(o.learningRate);
  // Keras legacy `decay`: lr_t = lr / (1 + decay · iterations), decay = lr / epochs.
  const decay = o.learningRate / o.epochs;
  const n = train.x.length;
  const flat = new Float32Array(n * dim);
  train.x.forEach((v, i) => flat.set(v, i * dim));
  const history: EpochStats[] = [];
  let best: { loss: number; weights: HeadWeights; epoch: number } | null = null;
  let iteration = 0;
  const keep = 1 - o.dropout;
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const order = shuffled(Array.from({ length: n }, (_, i) => i), rng);
      let lossSum = 0;
      for (let start = 0; start < n; start += o.batchSize) {
        const idx = order.slice(start, start + o.batchSize);
        const b = idx.length;
        const xb = new Float32Array(b * dim);
        const yb = new Float32Array(b * 2);
        const sw = new Float32Array(b);
        const mask = new Float32Array(b * o.hidden);
        idx.forEach((k, r) => {
          xb.set(flat.subarray(k * dim, (k + 1) * dim), r * dim);
          const y = train.y[k]!;
          yb[r * 2 + y] = 1;
          sw[r] = cw[y]!;
        });
        for (let i = 0; i < mask.length; i++) mask[i] = rng() < keep ? 1 / keep : 0;
        (optimizer as unknown as { learningRate: number }).learningRate = o.learningRate / (1 + decay * iteration);
        const loss = tf.tidy((): tf.Scalar => {
          const x = tf.tensor2d(xb, [b, dim]);
          const y = tf.tensor2d(yb, [b, 2]);
          const weights = tf.tensor1d(sw);
          const m = tf.tensor2d(mask, [b, o.hidden]);
          return optimizer.minimize(() => {
            const h = tf.mul(tf.relu(tf.add(tf.matMul(x, w1), b1)), m);
            const probs = tf.softmax(tf.add(tf.matMul(h, w2), b2)) as tf.Tensor2D;
            return tf.mean(tf.mul(bceOnSoftmax(probs, y), weights)) as tf.Scalar;
          }, true, vars)!;
        });
        lossSum += (await loss.data())[0]! * b;
        loss.dispose();
        iteration++;
      }
      const stats: EpochStats = { epoch, loss: lossSum / n, learningRate: o.learningRate / (1 + decay * iteration) };
      const weights = snapshot(vars, dim, o.hidden);
      if (val && val.x.length > 0) {
        const v = evaluateLoss(weights, val);
        stats.valLoss = v.loss;
        stats.valAccuracy = v.accuracy;
        stats.valBalancedAccuracy = v.balancedAccuracy;
        if (!best || v.loss < best.loss) best = { loss: v.loss, weights, epoch };
      } else {
        best = { loss: stats.loss, weights, epoch };
      }
      history.push(stats);
      onEpoch?.(stats);
    }
  } finally {
    vars.forEach((v) => v.dispose());
    optimizer.dispose();
  }
  return { weights: best!.weights, history, bestEpoch: best!.epoch };
}
