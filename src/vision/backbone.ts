import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { resolveAsset } from './assets.ts';
import { dequantizeModel } from './dequantize.ts';
import { applyBackboneTail, type BackboneTail } from './backbone-tail.ts';
import type { BackboneForm } from './backbone-form.ts';
import type { DecodedImage } from './image.ts';
import { resizeRgb, resizeRgbRect } from './resize.ts';
import type { Box } from './types.ts';

export { BACKBONE_FORMS, DEFAULT_BACKBONE_FORM, LEGACY_BACKBONE_FORM, parseBackboneForm, type BackboneForm } from './backbone-form.ts';

/**
 * ImageNet MobileNetV2 (int8 weights, float I/O; the committed head fine-tunes its
 * last block, src/vision/backbone-tail.ts) used as a feature
 * extractor: the 1280×7×7 map before the global pool, averaged to 1280-d.
 */
export const BACKBONE_NAME = 'mobilenetv2-12-int8';
/** Dequantized 1280×7×7 map feeding QLinearGlobalAveragePool in this file. */
export const FEATURE_TENSOR = '627';
export const FEATURE_DIM = 1280;
export const INPUT_SIZE = 224;
export const MEAN = [0.485, 0.456, 0.406] as const;
export const STD = [0.229, 0.224, 0.225] as const;
/** Name part of a backbone in feature-cache file names: the int8 form keeps the older names (its caches stay valid). */
export function backboneCacheTag(b: { sha256: string; form: BackboneForm; tailSha256?: string | null }): string {
  return `${BACKBONE_NAME}${b.form === 'int8' ? '' : `-${b.form}`}-${b.sha256.slice(0, 12)}${b.tailSha256 ? `-tail${b.tailSha256.slice(0, 12)}` : ''}`;
}

/** Verified (sha256 from models/manifest.json) path of the backbone file. */
export function backboneModelPath(assetsDir: string): Promise<string> {
  return resolveAsset(assetsDir, BACKBONE_NAME);
}

/**
 * Returns the model bytes with `tensorName` added as a graph output. Done in
 * memory at load time so the read-only asset is never modified.
 */
export function addGraphOutput(modelBytes: Uint8Array, tensorName: string): Uint8Array {
  const { ModelProto, ValueInfoProto, TensorProto } = onnxProto.onnx;
  const model = ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const produced = (graph.node ?? []).some((n) => (n.output ?? []).includes(tensorName));
  if (!produced) throw new Error(`ONNX model has no tensor "${tensorName}"`);
  graph.output ??= [];
  if (!graph.output.some((o) => o.name === tensorName)) {
    graph.output.push(
      ValueInfoProto.create({
        name: tensorName,
        // Shape left open: ORT infers it; elem type float (the dequantized map).
        type: { tensorType: { elemType: TensorProto.DataType.FLOAT } },
      }),
    );
  }
  return ModelProto.encode(model).finish();
}

/**
 * The model bytes ORT loads for a form: float-rewritten or not, with fine-tuned
 * last layers when given (float only: they name the rewrite's tensors), with the
 * feature map as an output.
 */
export function backboneSessionBytes(fileBytes: Uint8Array, form: BackboneForm, tail: BackboneTail | null = null): Uint8Array {
  if (tail && form !== 'float') throw new Error(`a fine-tuned backbone tail needs the float backbone form, not ${form}`);
  const model = form === 'float' ? dequantizeModel(fileBytes) : fileBytes;
  return addGraphOutput(tail ? applyBackboneTail(model, tail) : model, FEATURE_TENSOR);
}

/** Resizes any RGB image to the network input (stretched, as in training). */
export function resizeToInput(img: DecodedImage): Buffer {
  return resizeRgb(img, INPUT_SIZE, INPUT_SIZE);
}

/** Float input value of each 8-bit level per channel: (v / 255 − mean) / std, as float32. */
export const INPUT_LEVELS: readonly [Float32Array, Float32Array, Float32Array] = [0, 1, 2].map((c) => {
  const scale = 1 / (255 * STD[c]!);
  const shift = MEAN[c]! / STD[c]!;
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = v * scale - shift;
  return lut;
}) as unknown as [Float32Array, Float32Array, Float32Array];

const INPUT_VALUES = 3 * INPUT_SIZE * INPUT_SIZE;

/** Packs 224×224 RGB buffers into a normalised NCHW float tensor body. */
export function toInputTensor(rgb224: Buffer[], out = new Float32Array(rgb224.length * INPUT_VALUES)): Float32Array {
  const plane = INPUT_SIZE * INPUT_SIZE;
  rgb224.forEach((buf, n) => {
    if (buf.length !== plane * 3) throw new Error(`expected ${plane * 3} bytes of 224×224 RGB, got ${buf.length}`);
    const base = n * 3 * plane;
    for (let c = 0; c < 3; c++) {
      const lut = INPUT_LEVELS[c]!;
      const o = base + c * plane;
      for (let i = 0; i < plane; i++) out[o + i] = lut[buf[i * 3 + c]!]!;
    }
  });
  return out;
}

/**
 * Writes the network input of one crop — rectangle `rect` of `frame`,
 * stretched to 224×224 and normalised — as image `index` of an NCHW tensor
 * body, in one pass. Bit-identical to toInputTensor([resizeToInput(extractRgb(frame, rect))]):
 * the same resize code, the same byte rounding, the same float per level.
 */
export function writeCropInput(frame: DecodedImage, rect: Box, out: Float32Array, index: number): void {
  resizeRgbRect(frame, rect, INPUT_SIZE, INPUT_SIZE, { kind: 'planes', data: out, offset: index * INPUT_VALUES, levels: INPUT_LEVELS });
}

/** Mirrors image `index` of an NCHW tensor body left to right, in place (the same crop seen in a mirror). */
export function mirrorInput(out: Float32Array, index: number): void {
  for (let row = 0; row < 3 * INPUT_SIZE; row++) out.subarray(index * INPUT_VALUES + row * INPUT_SIZE, index * INPUT_VALUES + (row + 1) * INPUT_SIZE).reverse();
}

/** Averages an [N, C, H, W] map over H×W → N vectors of C. */
export function globalAveragePool(map: Float32Array, n: number, channels: number, spatial: number): Float32Array[] {
  if (map.length !== n * channels * spatial) throw new Error(`feature map has ${map.length} values, expected ${n * channels * spatial}`);
  const out: Float32Array[] = [];
  for (let b = 0; b < n; b++) {
    const v = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      let s = 0;
      const o = (b * channels + c) * spatial;
      for (let k = 0; k < spatial; k++) s += map[o + k]!;
      v[c] = s / spatial;
    }
    out.push(v);
  }
  return out;
}

export interface BackboneOutput {
  features: Float32Array[];
  /** ImageNet logits, [N][1000] — only for wiring checks. */
  logits: Float32Array[];
}

export class Backbone {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** sha256 of the model file as read, recorded in the head artifact. */
    readonly sha256: string,
    readonly form: BackboneForm,
    /** sha256 of the fine-tuned last layers applied over the file's, if any. */
    readonly tailSha256: string | null,
  ) {}

  static async load(opts: { modelPath: string; form: BackboneForm; tail?: BackboneTail | null; intraOpThreads?: number }): Promise<Backbone> {
    let bytes: Buffer;
    try {
      bytes = await readFile(opts.modelPath);
    } catch (err) {
      throw new Error(`backbone model not readable at ${opts.modelPath}: ${(err as Error).message}`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const session = await ort.InferenceSession.create(backboneSessionBytes(bytes, opts.form, opts.tail), {
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new Backbone(session, sha256, opts.form, opts.tail?.sha256 ?? null);
  }

  /** Runs 224×224 RGB buffers through the network in one batch. */
  async run(rgb224: Buffer[], withLogits = false): Promise<BackboneOutput> {
    if (rgb224.length === 0) return { features: [], logits: [] };
    return this.runInput(toInputTensor(rgb224), rgb224.length, withLogits);
  }

  /**
   * Runs a ready NCHW tensor body of `n` images (see writeCropInput). The
   * body is only read during the call: the caller may reuse it afterwards.
   */
  async runInput(body: Float32Array, n: number, withLogits = false): Promise<BackboneOutput> {
    if (body.length < n * INPUT_VALUES) throw new RangeError(`tensor body holds ${body.length} values, need ${n * INPUT_VALUES}`);
    const data = body.length === n * INPUT_VALUES ? body : body.subarray(0, n * INPUT_VALUES);
    const input = new ort.Tensor('float32', data, [n, 3, INPUT_SIZE, INPUT_SIZE]);
    const fetches = withLogits ? [FEATURE_TENSOR, 'output'] : [FEATURE_TENSOR];
    const result = await this.session.run({ input }, fetches);
    const map = result[FEATURE_TENSOR]!;
    const dims = map.dims;
    if (dims.length !== 4 || dims[1] !== FEATURE_DIM) throw new Error(`unexpected feature map shape [${dims.join(',')}]`);
    const features = globalAveragePool(map.data as Float32Array, n, FEATURE_DIM, dims[2]! * dims[3]!);
    const logits: Float32Array[] = [];
    if (withLogits) {
      const data = result.output!.data as Float32Array;
      const k = data.length / n;
      for (let b = 0; b < n; b++) logits.push(data.slice(b * k, (b + 1) * k));
      result.output!.dispose();
    }
    map.dispose();
    return { features, logits };
  }

  /** Features for images of any size (resized to 224×224 first). */
  async embed(images: DecodedImage[]): Promise<Float32Array[]> {
    return (await this.run(images.map(resizeToInput))).features;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
