import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { tensorValues } from './dequantize.ts';

/**
 * Fine-tuned weights for the last layers of the float backbone
 * (scripts/tail-finetune/), stored as their change from the ImageNet weights of
 * the float rewrite (src/vision/dequantize.ts), in IEEE half precision: the
 * changes are at most ~0.002, which half precision keeps to ~1e-6, at half the
 * file size. The head artifact lists the file (`backbone.tail`); at
 * load time each delta is added to the same-named initializer, in memory, so
 * the read-only asset file stays the one its sha256 names.
 */
export interface BackboneTailRef {
  /** File name, relative to the head artifact's folder. */
  file: string;
  sha256: string;
  encoding: typeof TAIL_ENCODING;
  /** Initializers of the float rewrite, at `offset` (in values) in the file. */
  tensors: Array<{ name: string; dims: number[]; offset: number; length: number }>;
}

export const TAIL_ENCODING = 'float16-le-delta';

export interface BackboneTail {
  sha256: string;
  /** Per initializer: what to add to the float rewrite's values. */
  deltas: Map<string, { dims: number[]; values: Float32Array }>;
}

/** IEEE 754 half → float (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float → IEEE 754 half, rounded to nearest even (through the float32 bits). */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  let half = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  e = half >> 10;
  return sign | (e >= 0x1f ? 0x7c00 : half);
}

/** Reads and checks (encoding, sha256, sizes) the tail file a head artifact lists. */
export async function loadBackboneTail(ref: BackboneTailRef, headDir: string): Promise<BackboneTail> {
  const file = path.join(headDir, ref.file);
  if (ref.encoding !== TAIL_ENCODING) throw new Error(`backbone tail ${file}: encoding "${String(ref.encoding)}" is not ${TAIL_ENCODING}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new Error(`backbone tail not readable at ${file}: ${(err as Error).message}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== ref.sha256) throw new Error(`backbone tail ${file} has sha256 ${sha256.slice(0, 12)}…, the head expects ${ref.sha256.slice(0, 12)}…`);
  const count = Math.floor(bytes.length / 2);
  const deltas = new Map<string, { dims: number[]; values: Float32Array }>();
  for (const t of ref.tensors) {
    const size = t.dims.reduce((a, b) => a * b, 1);
    if (size !== t.length || t.offset + t.length > count) throw new Error(`backbone tail ${file}: tensor ${t.name} does not fit (dims ${t.dims.join('×')}, ${t.length} values at ${t.offset} of ${count})`);
    const values = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) values[i] = halfToFloat(bytes.readUInt16LE((t.offset + i) * 2));
    deltas.set(t.name, { dims: t.dims, values });
  }
  return { sha256, deltas };
}

/** The model with each tail delta added to the float initializer of the same name and shape. */
export function applyBackboneTail(modelBytes: Uint8Array, tail: BackboneTail): Uint8Array {
  const model = onnxProto.onnx.ModelProto.decode(modelBytes);
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name!, t]));
  for (const [name, d] of tail.deltas) {
    const init = inits.get(name);
    if (!init) throw new Error(`backbone tail tensor ${name} is not an initializer of the float backbone`);
    const dims = (init.dims ?? []).map(Number);
    if (init.dataType !== onnxProto.onnx.TensorProto.DataType.FLOAT || dims.join('×') !== d.dims.join('×')) {
      throw new Error(`backbone tail tensor ${name} is ${d.dims.join('×')} float, the backbone's is ${dims.join('×')} (type ${init.dataType})`);
    }
    const tuned = Float32Array.from(tensorValues(init), (v, i) => v + d.values[i]!);
    init.rawData = new Uint8Array(tuned.buffer);
    init.floatData = [];
  }
  return onnxProto.onnx.ModelProto.encode(model).finish();
}

/** The fine-tuned tail a head artifact at `headPath` lists, or null for a head on the plain backbone. */
export function loadHeadTail(artifact: { backbone: { tail?: BackboneTailRef } }, headPath: string): Promise<BackboneTail | null> {
  return artifact.backbone.tail ? loadBackboneTail(artifact.backbone.tail, path.dirname(headPath)) : Promise.resolve(null);
}
