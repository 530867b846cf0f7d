import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';

/**
 * Fine-tuned weights for the last layers of the float backbone
 * (scripts/tail-finetune/): a raw little-endian float32 file beside the head,
 * listed by the head artifact (`backbone.tail`). At load time they replace the
 * same-named initializers of the float rewrite (src/vision/dequantize.ts), in
 * memory, so the read-only asset file stays the one its sha256 names.
 */
export interface BackboneTailRef {
  /** File name, relative to the head artifact's folder. */
  file: string;
  sha256: string;
  /** Initializers of the float rewrite, at `offset` (in float32 values) in the file. */
  tensors: Array<{ name: string; dims: number[]; offset: number; length: number }>;
}

export interface BackboneTail {
  sha256: string;
  tensors: Map<string, { dims: number[]; values: Float32Array }>;
}

/** Reads and checks (sha256, sizes) the tail file a head artifact lists. */
export async function loadBackboneTail(ref: BackboneTailRef, headDir: string): Promise<BackboneTail> {
  const file = path.join(headDir, ref.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new Error(`backbone tail not readable at ${file}: ${(err as Error).message}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== ref.sha256) throw new Error(`backbone tail ${file} has sha256 ${sha256.slice(0, 12)}…, the head expects ${ref.sha256.slice(0, 12)}…`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const tensors = new Map<string, { dims: number[]; values: Float32Array }>();
  for (const t of ref.tensors) {
    const size = t.dims.reduce((a, b) => a * b, 1);
    if (size !== t.length || t.offset + t.length > all.length) throw new Error(`backbone tail ${file}: tensor ${t.name} does not fit (dims ${t.dims.join('×')}, ${t.length} values at ${t.offset} of ${all.length})`);
    tensors.set(t.name, { dims: t.dims, values: all.subarray(t.offset, t.offset + t.length) });
  }
  return { sha256, tensors };
}

/** The model with each tail tensor written over the initializer of the same name and shape. */
export function applyBackboneTail(modelBytes: Uint8Array, tail: BackboneTail): Uint8Array {
  const model = onnxProto.onnx.ModelProto.decode(modelBytes);
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name!, t]));
  for (const [name, t] of tail.tensors) {
    const init = inits.get(name);
    if (!init) throw new Error(`backbone tail tensor ${name} is not an initializer of the float backbone`);
    const dims = (init.dims ?? []).map(Number);
    if (init.dataType !== onnxProto.onnx.TensorProto.DataType.FLOAT || dims.join('×') !== t.dims.join('×')) {
      throw new Error(`backbone tail tensor ${name} is ${t.dims.join('×')} float, the backbone's is ${dims.join('×')} (type ${init.dataType})`);
    }
    init.rawData = new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
    init.floatData = [];
  }
  return onnxProto.onnx.ModelProto.encode(model).finish();
}

/** The fine-tuned tail a head artifact at `headPath` lists, or null for a head on the plain backbone. */
export function loadHeadTail(artifact: { backbone: { tail?: BackboneTailRef } }, headPath: string): Promise<BackboneTail | null> {
  return artifact.backbone.tail ? loadBackboneTail(artifact.backbone.tail, path.dirname(headPath)) : Promise.resolve(null);
}
