import onnxProto from 'onnx-proto';

/**
 * Rewrites a QDQ-free int8 ONNX model (QuantizeLinear → QLinearConv / QLinearAdd /
 * QLinearGlobalAveragePool / QLinearMatMul → DequantizeLinear) into float ops,
 * in memory. Why: ONNX Runtime's int8 kernels round differently per CPU
 * (VNNI, AVX2, NEON…), so int8 features — and a head trained on them — are
 * machine-dependent; float Conv/Add give the same features everywhere up to
 * float rounding.
 *
 * Each quantized op becomes its float op on dequantized weights, followed by
 * a Clip to the range its uint8 output could represent,
 * [(0 − y_zp)·y_scale, (255 − y_zp)·y_scale]: that range is how the quantized
 * model encodes ReLU6 (and the saturation of every other layer), so the float
 * graph computes the same function minus the per-layer rounding.
 * Tensor names are kept (a float tensor takes the name of the uint8 one it
 * replaces), so '627' and 'output' mean the same in both forms.
 */

type Tensor = onnxProto.onnx.ITensorProto;
type Node = onnxProto.onnx.INodeProto;

const DT = onnxProto.onnx.TensorProto.DataType;

/**
 * Values of an initializer, from raw_data or the typed field. Typed-array views
 * (the weights are 3.4 M values: per-element reads cost a second of model load).
 * raw_data is little-endian, as are the CPUs ORT runs on here.
 */
export function tensorValues(t: Tensor): ArrayLike<number> {
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  // Copy: the view must be aligned for 4-byte types, and the source buffer is the whole model.
  const copy = (r: Uint8Array) => r.buffer.slice(r.byteOffset, r.byteOffset + r.byteLength);
  switch (t.dataType) {
    case DT.FLOAT:
      return raw ? new Float32Array(copy(raw)) : (t.floatData ?? []);
    case DT.UINT8:
      return raw ? raw : (t.int32Data ?? []);
    case DT.INT8:
      return raw ? new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength) : (t.int32Data ?? []);
    case DT.INT32:
      return raw ? new Int32Array(copy(raw)) : (t.int32Data ?? []);
    default:
      throw new Error(`initializer ${t.name}: data type ${t.dataType} not supported`);
  }
}

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): Tensor {
  const raw = new Uint8Array(Float32Array.from(values).buffer);
  return onnxProto.onnx.TensorProto.create({ name, dims, dataType: DT.FLOAT, rawData: raw });
}

const dimsOf = (t: Tensor) => (t.dims ?? []).map(Number);

/** uint8 / int8 levels of a quantized tensor's type. */
function levels(zp: Tensor): { qmin: number; qmax: number } {
  return zp.dataType === DT.INT8 ? { qmin: -128, qmax: 127 } : { qmin: 0, qmax: 255 };
}

export interface DequantizeStats {
  converted: Record<string, number>;
}

export interface DequantizeOptions {
  /**
   * Verification only: round every rewritten output back onto its uint8 grid
   * (QuantizeLinear + DequantizeLinear after each Clip). Such a graph should
   * match the int8 model up to accumulation order, which checks the rewrite.
   */
  fakeQuant?: boolean;
  stats?: DequantizeStats;
}

export function dequantizeModel(modelBytes: Uint8Array, opts: DequantizeOptions = {}): Uint8Array {
  const { stats } = opts;
  const { ModelProto, NodeProto } = onnxProto.onnx;
  const model = ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const init = (name: string | undefined | null): Tensor => {
    const t = name ? inits.get(name) : undefined;
    if (!t) throw new Error(`expected a constant initializer for "${name}"`);
    return t;
  };
  const scalar = (name: string) => {
    const v = tensorValues(init(name));
    if (v.length !== 1) throw new Error(`"${name}" is not a scalar (${v.length} values)`);
    return v[0]!;
  };
  const added: Tensor[] = [];
  const addConst = (name: string, dims: number[], values: ArrayLike<number>) => {
    added.push(floatTensor(name, dims, values));
    return name;
  };
  const nodes: Node[] = [];
  const count = (op: string) => {
    if (stats) stats.converted[op] = (stats.converted[op] ?? 0) + 1;
  };
  /** Clip of `x` to the range quantized tensor (scale, zp) represents, into `out`. */
  const clipTo = (base: string, x: string, out: string, scaleName: string, zpName: string) => {
    const yScale = scalar(scaleName);
    const yZp = scalar(zpName);
    const { qmin, qmax } = levels(init(zpName));
    const lo = addConst(`${base}__clip_min`, [], [(qmin - yZp) * yScale]);
    const hi = addConst(`${base}__clip_max`, [], [(qmax - yZp) * yScale]);
    const clipped = opts.fakeQuant ? `${out}__clipped` : out;
    nodes.push(NodeProto.create({ opType: 'Clip', name: `${base}__clip`, input: [x, lo, hi], output: [clipped] }));
    if (opts.fakeQuant) {
      nodes.push(NodeProto.create({ opType: 'QuantizeLinear', name: `${base}__q`, input: [clipped, scaleName, zpName], output: [`${out}__q`] }));
      nodes.push(NodeProto.create({ opType: 'DequantizeLinear', name: `${base}__dq`, input: [`${out}__q`, scaleName, zpName], output: [out] }));
    }
  };
  /** `op` writing to a temporary, then clipped to the quantized output range into `out`. */
  const withClip = (base: string, out: string, scaleName: string, zpName: string, make: (tmp: string) => Node) => {
    const tmp = `${out}__float`;
    nodes.push(make(tmp));
    clipTo(base, tmp, out, scaleName, zpName);
  };
  /** Dequantized constant (per-tensor or per-axis-0/last scale and zero point). */
  const dequantConst = (q: string, s: string, zp: string, axis: 'first' | 'last', name: string) => {
    const qt = init(q);
    const dims = dimsOf(qt);
    const w = tensorValues(qt);
    const scale = tensorValues(init(s));
    const zero = tensorValues(init(zp));
    const channels = scale.length;
    const out = new Float32Array(w.length);
    const inner = axis === 'first' ? w.length / Math.max(1, dims[0] ?? 1) : 1;
    const zeroAt = (c: number) => (zero.length === 1 ? zero[0]! : zero[c]!);
    if (channels === 1 || axis === 'first') {
      // Per tensor, or per output channel: contiguous runs of `inner` values share a scale.
      const runs = channels === 1 ? 1 : channels;
      const len = channels === 1 ? w.length : inner;
      for (let c = 0; c < runs; c++) {
        const s = scale[c]!;
        const z = zeroAt(c);
        for (let i = c * len, end = i + len; i < end; i++) out[i] = (w[i]! - z) * s;
      }
    } else {
      for (let i = 0; i < w.length; i++) {
        const c = i % channels;
        out[i] = (w[i]! - zeroAt(c)) * scale[c]!;
      }
    }
    return addConst(name, dims, out);
  };

  for (const n of graph.node ?? []) {
    const i = n.input ?? [];
    const o = n.output ?? [];
    const base = n.name || o[0]!;
    switch (n.opType) {
      case 'QuantizeLinear': {
        // Input quantization saturates too: keep that range.
        clipTo(base, i[0]!, o[0]!, i[1]!, i[2]!);
        break;
      }
      case 'DequantizeLinear':
        nodes.push(NodeProto.create({ opType: 'Identity', name: base, input: [i[0]!], output: [o[0]!] }));
        break;
      case 'QLinearConv': {
        // x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, [B]
        const w = dequantConst(i[3]!, i[4]!, i[5]!, 'first', `${base}__W`);
        const inputs = [i[0]!, w];
        if (i[8]) {
          const xScale = scalar(i[1]!);
          const wScale = tensorValues(init(i[4]));
          const b = tensorValues(init(i[8]));
          inputs.push(addConst(`${base}__B`, [b.length], Array.from(b, (v, c) => v * xScale * (wScale.length === 1 ? wScale[0]! : wScale[c]!))));
        }
        withClip(base, o[0]!, i[6]!, i[7]!, (tmp) => NodeProto.create({ opType: 'Conv', name: base, input: inputs, output: [tmp], attribute: n.attribute ?? [] }));
        break;
      }
      case 'QLinearAdd': {
        // a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp: either operand may be a constant.
        const operand = (q: string, s: string, zp: string, tag: string) => (inits.has(q) ? dequantConst(q, s, zp, 'last', `${base}__${tag}`) : q);
        const a = operand(i[0]!, i[1]!, i[2]!, 'A');
        const b = operand(i[3]!, i[4]!, i[5]!, 'B');
        withClip(base, o[0]!, i[6]!, i[7]!, (tmp) => NodeProto.create({ opType: 'Add', name: base, input: [a, b], output: [tmp] }));
        break;
      }
      case 'QLinearGlobalAveragePool':
        // x, x_scale, x_zp, y_scale, y_zp
        withClip(base, o[0]!, i[3]!, i[4]!, (tmp) => NodeProto.create({ opType: 'GlobalAveragePool', name: base, input: [i[0]!], output: [tmp] }));
        break;
      case 'QLinearMatMul': {
        // a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp; b constant [K, N], per-column scale.
        const b = dequantConst(i[3]!, i[4]!, i[5]!, 'last', `${base}__B`);
        withClip(base, o[0]!, i[6]!, i[7]!, (tmp) => NodeProto.create({ opType: 'MatMul', name: base, input: [i[0]!, b], output: [tmp] }));
        break;
      }
      default:
        if (/^QLinear|Quantize/.test(n.opType ?? '')) throw new Error(`quantized op ${n.opType} (${base}) has no float rewrite`);
        nodes.push(n);
        continue;
    }
    count(n.opType!);
  }
  // Drop the now unused quantized initializers (the float ones replace them).
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => used.has(t.name!)), ...added];
  graph.node = nodes;
  // Shapes/types recorded for the uint8 tensors no longer hold.
  graph.valueInfo = [];
  return ModelProto.encode(model).finish();
}
