/**
 * The trained mask head, run in plain JS: Dense(128, ReLU) → Dense(2, softmax)
 * (dropout is identity at inference). A 1280×128 matmul needs no framework,
 * so worker processes never load tfjs.
 */

export const CLASSES = ['mask', 'no_mask'] as const;
/** Index of P(no mask) in the softmax output. */
export const NO_MASK_INDEX = 1;

export interface HeadWeights {
  inputDim: number;
  hiddenDim: number;
  /** Kernel in Keras layout [inputDim][hiddenDim], row-major. */
  w1: Float32Array;
  b1: Float32Array;
  /** [hiddenDim][2], row-major. */
  w2: Float32Array;
  b2: Float32Array;
}

export function validateWeights(w: HeadWeights): void {
  const { inputDim, hiddenDim } = w;
  if (!Number.isInteger(inputDim) || inputDim <= 0 || !Number.isInteger(hiddenDim) || hiddenDim <= 0) {
    throw new Error(`invalid head dimensions ${inputDim}×${hiddenDim}`);
  }
  const expect: Array<[string, Float32Array, number]> = [
    ['w1', w.w1, inputDim * hiddenDim],
    ['b1', w.b1, hiddenDim],
    ['w2', w.w2, hiddenDim * CLASSES.length],
    ['b2', w.b2, CLASSES.length],
  ];
  for (const [name, arr, len] of expect) {
    if (arr.length !== len) throw new Error(`head weight ${name} has ${arr.length} values, expected ${len}`);
    if (!arr.every(Number.isFinite)) throw new Error(`head weight ${name} contains non-finite values`);
  }
}

/** Softmax probabilities [mask, no_mask] for one feature vector. */
export function headForward(w: HeadWeights, x: Float32Array): [number, number] {
  if (x.length !== w.inputDim) throw new Error(`feature has ${x.length} values, head expects ${w.inputDim}`);
  const h = new Float64Array(w.hiddenDim);
  for (let j = 0; j < w.hiddenDim; j++) h[j] = w.b1[j]!;
  // Row-major kernel: stream over inputs, accumulate into all hidden units (cache friendly).
  for (let i = 0; i < w.inputDim; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const row = i * w.hiddenDim;
    for (let j = 0; j < w.hiddenDim; j++) h[j]! += xi * w.w1[row + j]!;
  }
  let z0 = w.b2[0]!;
  let z1 = w.b2[1]!;
  for (let j = 0; j < w.hiddenDim; j++) {
    const a = h[j]! > 0 ? h[j]! : 0;
    z0 += a * w.w2[j * 2]!;
    z1 += a * w.w2[j * 2 + 1]!;
  }
  const m = Math.max(z0, z1);
  const e0 = Math.exp(z0 - m);
  const e1 = Math.exp(z1 - m);
  return [e0 / (e0 + e1), e1 / (e0 + e1)];
}

/** P(no mask) per feature vector. */
export function predictNoMask(w: HeadWeights, features: Float32Array[]): number[] {
  return features.map((f) => headForward(w, f)[NO_MASK_INDEX]);
}

export function encodeFloat32(arr: Float32Array): string {
  // Copy so the encoding is little-endian bytes of exactly this view.
  const bytes = Buffer.alloc(arr.length * 4);
  arr.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

export function decodeFloat32(b64: string, name = 'array'): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length % 4 !== 0) throw new Error(`${name}: base64 payload is not a whole number of float32 values`);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

/** The committed model file (models/mask-head.json): weights plus everything needed to use them right. */
export interface HeadArtifact {
  format: 'maskwatch-mask-head/1';
  classes: readonly string[];
  /** maskProbability = softmax[NO_MASK_INDEX]. */
  output: string;
  backbone: { name: string; sha256: string; featureTensor: string; featureDim: number; pooling: string };
  input: { size: number; resize: string; colour: 'RGB'; scale: number; mean: readonly number[]; std: readonly number[] };
  /** Fraction of the face box added on each side before cropping (matches the training/evaluation framing). */
  cropMargin: number;
  architecture: { hidden: number; activation: 'relu'; dropout: number; output: 'softmax' };
  weights: { w1: string; b1: string; w2: string; b2: string };
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
}

export function headWeightsFromArtifact(a: HeadArtifact): HeadWeights {
  if (a.format !== 'maskwatch-mask-head/1') throw new Error(`unknown head format "${String(a.format)}"`);
  if (JSON.stringify(a.classes) !== JSON.stringify(CLASSES)) throw new Error(`head classes ${JSON.stringify(a.classes)} are not ${JSON.stringify(CLASSES)}`);
  const w: HeadWeights = {
    inputDim: a.backbone.featureDim,
    hiddenDim: a.architecture.hidden,
    w1: decodeFloat32(a.weights.w1, 'w1'),
    b1: decodeFloat32(a.weights.b1, 'b1'),
    w2: decodeFloat32(a.weights.w2, 'w2'),
    b2: decodeFloat32(a.weights.b2, 'b2'),
  };
  validateWeights(w);
  return w;
}

export function parseHeadArtifact(json: string, source = 'head file'): HeadArtifact {
  let a: unknown;
  try {
    a = JSON.parse(json);
  } catch (err) {
    throw new Error(`${source} is not JSON: ${(err as Error).message}`);
  }
  const o = a as Partial<HeadArtifact> | null;
  if (!o || typeof o !== 'object' || !o.weights || !o.backbone || !o.architecture || !o.input || typeof o.cropMargin !== 'number') {
    throw new Error(`${source} is not a mask head artifact (missing weights/backbone/architecture/input/cropMargin)`);
  }
  return o as HeadArtifact;
}
