import { LEGACY_BACKBONE_FORM, type BackboneForm } from './backbone-form.ts';
import type { BackboneTailRef } from './backbone-tail.ts';

/**
 * The trained mask head, run in plain JS: Dense(H, ReLU) → Dense(K, softmax)
 * (dropout is identity at inference). A 1280×H matmul needs no framework,
 * so worker processes never load tfjs. K = 3 for the committed head
 * (mask, no_mask, mask_incorrect); K = 2 heads (older format) still run.
 */

export const CLASSES = ['mask', 'no_mask', 'mask_incorrect'] as const;
export type HeadClass = (typeof CLASSES)[number];
/** Index of P(no mask) in the softmax output. */
export const NO_MASK_INDEX = 1;

export interface HeadWeights {
  inputDim: number;
  hiddenDim: number;
  /** Kernel in Keras layout [inputDim][hiddenDim], row-major. */
  w1: Float32Array;
  b1: Float32Array;
  /** [hiddenDim][K], row-major; K = b2.length classes. */
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
    ['w2', w.w2, hiddenDim * w.b2.length],
  ];
  if (w.b2.length < 2 || w.b2.length > CLASSES.length) throw new Error(`head has ${w.b2.length} outputs, expected 2–${CLASSES.length}`);
  for (const [name, arr, len] of expect) {
    if (arr.length !== len) throw new Error(`head weight ${name} has ${arr.length} values, expected ${len}`);
    if (!arr.every(Number.isFinite)) throw new Error(`head weight ${name} contains non-finite values`);
  }
}

/** Hidden activations (ReLU) for one feature vector. */
export function hiddenForward(w: HeadWeights, x: Float32Array, out = new Float64Array(w.hiddenDim)): Float64Array {
  if (x.length !== w.inputDim) throw new Error(`feature has ${x.length} values, head expects ${w.inputDim}`);
  for (let j = 0; j < w.hiddenDim; j++) out[j] = w.b1[j]!;
  // Row-major kernel: stream over inputs, accumulate into all hidden units (cache friendly).
  for (let i = 0; i < w.inputDim; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const row = i * w.hiddenDim;
    for (let j = 0; j < w.hiddenDim; j++) out[j]! += xi * w.w1[row + j]!;
  }
  for (let j = 0; j < w.hiddenDim; j++) if (out[j]! < 0) out[j] = 0;
  return out;
}

/** Softmax over the output layer, given hidden activations. */
export function outputForward(w: HeadWeights, h: Float64Array): number[] {
  const k = w.b2.length;
  const z = Array.from(w.b2, Number);
  for (let j = 0; j < w.hiddenDim; j++) {
    const a = h[j]!;
    if (a === 0) continue;
    for (let c = 0; c < k; c++) z[c]! += a * w.w2[j * k + c]!;
  }
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Softmax probabilities in CLASSES order (first K classes) for one feature vector. */
export function headForward(w: HeadWeights, x: Float32Array): number[] {
  return outputForward(w, hiddenForward(w, x));
}

/** Probabilities of all three classes; a 2-class head gives P(mask_incorrect) = 0. */
export function headProbabilities(w: HeadWeights, x: Float32Array): Record<HeadClass, number> {
  const p = headForward(w, x);
  return { mask: p[0]!, no_mask: p[1]!, mask_incorrect: p[2] ?? 0 };
}

/** P(no mask) per feature vector. */
export function predictNoMask(w: HeadWeights, features: Float32Array[]): number[] {
  return features.map((f) => headForward(w, f)[NO_MASK_INDEX]!);
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
  format: 'maskwatch-mask-head/1' | 'maskwatch-mask-head/2';
  classes: readonly string[];
  /** maskProbability = softmax[NO_MASK_INDEX]. */
  output: string;
  /**
   * `form`: which form of the backbone file the head was trained on (absent in older heads: int8);
   * `tail`: fine-tuned weights of the float form's last layers, trained with the head (scripts/tail-finetune/).
   */
  backbone: { name: string; sha256: string; form?: BackboneForm; tail?: BackboneTailRef; featureTensor: string; featureDim: number; pooling: string };
  input: { size: number; resize: string; colour: 'RGB'; scale: number; mean: readonly number[]; std: readonly number[] };
  /** Fraction of the face box added on each side before cropping (matches the training/evaluation framing). */
  cropMargin: number;
  architecture: { hidden: number; activation: 'relu'; dropout: number; output: 'softmax' };
  weights: { w1: string; b1: string; w2: string; b2: string };
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /** Gates and class thresholds chosen on the validation split (format 2). */
  decision?: DecisionRule;
}

/**
 * How probabilities become a label and a violation. Every value is chosen on
 * the validation split of kaggle-scenes-dev by `maskwatch train`.
 */
export interface DecisionRule {
  /** P(no mask) at or above which the label is no_mask. */
  noMaskThreshold: number;
  /** P(mask_incorrect) at or above which (and not no_mask) the label is mask_incorrect. */
  incorrectThreshold: number;
  /** A face is a violation only if the detector score is at least this… */
  violationFaceScore: number;
  /** …and its shorter side at least this many px. */
  violationMinFaceSize: number;
}

/** The backbone form a head's features come from: it only accepts features of that form. */
export function headBackboneForm(a: Pick<HeadArtifact, 'backbone'>): BackboneForm {
  const f = a.backbone.form ?? LEGACY_BACKBONE_FORM;
  if (f !== 'int8' && f !== 'float') throw new Error(`unknown backbone form "${String(f)}" in head artifact`);
  return f;
}

export function headWeightsFromArtifact(a: HeadArtifact): HeadWeights {
  if (a.format !== 'maskwatch-mask-head/1' && a.format !== 'maskwatch-mask-head/2') throw new Error(`unknown head format "${String(a.format)}"`);
  const expected = CLASSES.slice(0, a.classes?.length ?? 0);
  if (a.classes.length < 2 || JSON.stringify(a.classes) !== JSON.stringify(expected)) throw new Error(`head classes ${JSON.stringify(a.classes)} are not a prefix of ${JSON.stringify(CLASSES)}`);
  const w: HeadWeights = {
    inputDim: a.backbone.featureDim,
    hiddenDim: a.architecture.hidden,
    w1: decodeFloat32(a.weights.w1, 'w1'),
    b1: decodeFloat32(a.weights.b1, 'b1'),
    w2: decodeFloat32(a.weights.w2, 'w2'),
    b2: decodeFloat32(a.weights.b2, 'b2'),
  };
  validateWeights(w);
  if (w.b2.length !== a.classes.length) throw new Error(`head has ${w.b2.length} outputs but lists ${a.classes.length} classes`);
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
