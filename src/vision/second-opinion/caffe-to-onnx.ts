import onnxProto from 'onnx-proto';
import type { CaffeBlob } from './caffemodel.ts';
import { field, numbers, strings, type TextMessage } from './prototxt.ts';

/**
 * Builds an ONNX model (bytes, in memory) from a Caffe deploy prototxt and its
 * weights, for the few layer types a plain SSD uses: Convolution, ReLU,
 * Pooling (MAX), Permute, Reshape, Concat, Sigmoid. Anything else throws, so
 * a model that needs more is refused rather than converted wrongly.
 */
const { ModelProto, TensorProto, AttributeProto } = onnxProto.onnx;
type NodeInit = ConstructorParameters<typeof onnxProto.onnx.NodeProto>[0] & object;
type TensorInit = ConstructorParameters<typeof onnxProto.onnx.TensorProto>[0] & object;

const ints = (name: string, v: number[]) => ({ name, type: AttributeProto.AttributeType.INTS, ints: v });
const int = (name: string, v: number) => ({ name, type: AttributeProto.AttributeType.INT, i: v });

function floatTensor(name: string, blob: CaffeBlob): TensorInit {
  return { name, dims: blob.shape, dataType: TensorProto.DataType.FLOAT, rawData: new Uint8Array(blob.data.buffer, blob.data.byteOffset, blob.data.byteLength) };
}

/** Caffe's 2-d geometry fields: `x_h`/`x_w` win over the repeated/single `x`. */
function hw(param: TextMessage | undefined, key: string, fallback: number): [number, number] {
  const h = numbers(param, `${key}_h`)[0];
  const w = numbers(param, `${key}_w`)[0];
  if (h !== undefined && w !== undefined) return [h, w];
  const v = numbers(param, key);
  return [v[0] ?? fallback, v[1] ?? v[0] ?? fallback];
}

export function caffeToOnnx(net: TextMessage, weights: Map<string, CaffeBlob[]>): { model: Uint8Array; input: string; inputShape: number[]; outputs: string[] } {
  const inputName = strings(net, 'input')[0];
  const inputShape = numbers(net, 'input_dim');
  if (!inputName || inputShape.length !== 4) throw new Error('prototxt: expected one `input` with four `input_dim`');
  const nodes: NodeInit[] = [];
  const initializers: TensorInit[] = [];
  // Caffe reuses blob names for in-place layers (ReLU, Sigmoid); ONNX needs each tensor written once.
  const current = new Map<string, string>([[inputName, inputName]]);
  const consumed = new Set<string>();
  const written = new Set<string>([inputName]);
  const read = (blob: string): string => {
    const t = current.get(blob);
    if (!t) throw new Error(`prototxt: blob "${blob}" is used before any layer writes it`);
    consumed.add(t);
    return t;
  };
  const write = (blob: string, layer: string): string => {
    const t = written.has(blob) ? `${blob}/${layer}` : blob;
    written.add(t);
    current.set(blob, t);
    return t;
  };
  for (const layer of (net.layer ?? []) as TextMessage[]) {
    const name = strings(layer, 'name')[0] ?? '';
    const type = strings(layer, 'type')[0];
    const inputs = strings(layer, 'bottom').map(read);
    const tops = strings(layer, 'top');
    if (tops.length !== 1) throw new Error(`layer ${name}: expected one top, got ${tops.length}`);
    const out = write(tops[0]!, name);
    switch (type) {
      case 'Convolution': {
        const p = field(layer, 'convolution_param');
        const blobs = weights.get(name);
        if (!blobs?.[0]) throw new Error(`layer ${name}: no weights in the caffemodel`);
        const [kh, kw] = hw(p, 'kernel_size', 1);
        const [sh, sw] = hw(p, 'stride', 1);
        const [ph, pw] = hw(p, 'pad', 0);
        const group = numbers(p, 'group')[0] ?? 1;
        const dilation = numbers(p, 'dilation')[0] ?? 1;
        const bias = strings(p, 'bias_term')[0] !== 'false';
        initializers.push(floatTensor(`${name}/W`, blobs[0]));
        const ins = [inputs[0]!, `${name}/W`];
        if (bias) {
          if (!blobs[1]) throw new Error(`layer ${name}: bias_term but no bias blob`);
          initializers.push(floatTensor(`${name}/B`, { shape: [blobs[1].data.length], data: blobs[1].data }));
          ins.push(`${name}/B`);
        }
        nodes.push({
          name, opType: 'Conv', input: ins, output: [out],
          attribute: [ints('kernel_shape', [kh, kw]), ints('strides', [sh, sw]), ints('pads', [ph, pw, ph, pw]), ints('dilations', [dilation, dilation]), int('group', group)],
        });
        break;
      }
      case 'ReLU':
        if (numbers(field(layer, 'relu_param'), 'negative_slope')[0]) throw new Error(`layer ${name}: leaky ReLU is not supported`);
        nodes.push({ name, opType: 'Relu', input: inputs, output: [out] });
        break;
      case 'Sigmoid':
        nodes.push({ name, opType: 'Sigmoid', input: inputs, output: [out] });
        break;
      case 'Pooling': {
        const p = field(layer, 'pooling_param');
        const pool = strings(p, 'pool')[0] ?? 'MAX';
        if (pool !== 'MAX' || strings(p, 'global_pooling')[0] === 'true') throw new Error(`layer ${name}: only MAX pooling is supported`);
        const [kh, kw] = hw(p, 'kernel_size', 1);
        const [sh, sw] = hw(p, 'stride', 1);
        const [ph, pw] = hw(p, 'pad', 0);
        // Caffe rounds pooled sizes up (260 → 130 → 65 → 33): ceil_mode.
        nodes.push({ name, opType: 'MaxPool', input: inputs, output: [out], attribute: [ints('kernel_shape', [kh, kw]), ints('strides', [sh, sw]), ints('pads', [ph, pw, ph, pw]), int('ceil_mode', 1)] });
        break;
      }
      case 'Permute':
        nodes.push({ name, opType: 'Transpose', input: inputs, output: [out], attribute: [ints('perm', numbers(field(layer, 'permute_param'), 'order'))] });
        break;
      case 'Reshape': {
        // Caffe's 0 = copy this dim and −1 = infer: the same meaning as ONNX Reshape (allowzero 0).
        const dims = numbers(field(field(layer, 'reshape_param') ?? {}, 'shape'), 'dim');
        initializers.push({ name: `${name}/shape`, dims: [dims.length], dataType: TensorProto.DataType.INT64, int64Data: dims });
        nodes.push({ name, opType: 'Reshape', input: [inputs[0]!, `${name}/shape`], output: [out] });
        break;
      }
      case 'Concat':
        nodes.push({ name, opType: 'Concat', input: inputs, output: [out], attribute: [int('axis', numbers(field(layer, 'concat_param'), 'axis')[0] ?? 1)] });
        break;
      default:
        throw new Error(`layer ${name}: Caffe layer type "${type}" is not supported`);
    }
  }
  // Outputs: the final tensors of blobs no later layer reads.
  const outputs = [...new Set(current.values())].filter((t) => !consumed.has(t) && t !== inputName);
  const valueInfo = (n: string) => ({ name: n, type: { tensorType: { elemType: TensorProto.DataType.FLOAT } } });
  const model = ModelProto.create({
    irVersion: 8,
    producerName: 'maskwatch-caffe-to-onnx',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: strings(net, 'name')[0] ?? 'caffe',
      node: nodes,
      initializer: initializers,
      input: [{ name: inputName, type: { tensorType: { elemType: TensorProto.DataType.FLOAT, shape: { dim: inputShape.map((d) => ({ dimValue: d })) } } } }],
      output: outputs.map(valueInfo),
    },
  });
  return { model: ModelProto.encode(model).finish(), input: inputName, inputShape, outputs };
}
