import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { applyBackboneTail, floatToHalf, halfToFloat, loadBackboneTail, TAIL_ENCODING, type BackboneTail, type BackboneTailRef } from '../../src/vision/backbone-tail.ts';
import { tensorValues } from '../../src/vision/dequantize.ts';

const { ModelProto, TensorProto } = onnxProto.onnx;
const floatInit = (name: string, dims: number[], values: number[]) =>
  TensorProto.create({ name, dims, dataType: TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
const model = () => ModelProto.encode(ModelProto.create({ graph: { initializer: [floatInit('W', [2, 2], [1, 2, 3, 4]), floatInit('B', [2], [5, 6])] } })).finish();
const tail = (entries: Array<[string, number[], number[]]>): BackboneTail => ({
  sha256: 'x',
  deltas: new Map(entries.map(([name, dims, values]) => [name, { dims, values: Float32Array.from(values) }])),
});

describe('half precision', () => {
  it('round-trips exactly representable values and rounds the rest to the nearest half', () => {
    for (const v of [0, -0, 1, -2, 0.5, 65504, 2 ** -24, -(2 ** -14), 0.000244140625]) assert.equal(halfToFloat(floatToHalf(v)), v);
    assert.equal(halfToFloat(floatToHalf(1e6)), Infinity);
    assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
    for (const v of [0.001234, -0.0021, 3.14159, 1e-6]) assert.ok(Math.abs(halfToFloat(floatToHalf(v)) - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v}`);
  });
});

describe('applyBackboneTail', () => {
  it('adds the deltas to the initializers of the same name and leaves the others', () => {
    const out = ModelProto.decode(applyBackboneTail(model(), tail([['W', [2, 2], [0.5, -0.25, 0, 1]]])));
    const byName = new Map(out.graph!.initializer!.map((t) => [t.name, Array.from(tensorValues(t))]));
    assert.deepEqual(byName.get('W'), [1.5, 1.75, 3, 5]);
    assert.deepEqual(byName.get('B'), [5, 6]);
  });
  it('refuses a tensor the backbone does not have, or of another shape', () => {
    assert.throws(() => applyBackboneTail(model(), tail([['Conv_1__W', [2], [1, 2]]])), /Conv_1__W is not an initializer/);
    assert.throws(() => applyBackboneTail(model(), tail([['W', [4], [1, 2, 3, 4]]])), /W is 4 float, the backbone's is 2×2/);
  });
});

describe('loadBackboneTail', () => {
  let dir: string;
  const values = [0.001, -0.002, 0.5, 0, 1, -1];
  const bytes = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => bytes.writeUInt16LE(floatToHalf(v), i * 2));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const ref = (over: Partial<BackboneTailRef> = {}): BackboneTailRef => ({ file: 'tail.bin', sha256, encoding: TAIL_ENCODING, tensors: [], ...over });
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'maskwatch-tail-'));
    await writeFile(path.join(dir, 'tail.bin'), bytes);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads each listed tensor at its offset, beside the head', async () => {
    const t = await loadBackboneTail(ref({ tensors: [{ name: 'W', dims: [2, 2], offset: 0, length: 4 }, { name: 'B', dims: [2], offset: 4, length: 2 }] }), dir);
    assert.equal(t.sha256, sha256);
    assert.deepEqual(Array.from(t.deltas.get('W')!.values, (v) => +v.toFixed(4)), [0.001, -0.002, 0.5, 0]);
    assert.deepEqual(Array.from(t.deltas.get('B')!.values), [1, -1]);
  });
  it('refuses another file than the one the head names, a tensor past its end, another encoding, a missing file', async () => {
    await assert.rejects(loadBackboneTail(ref({ sha256: '0'.repeat(64) }), dir), /has sha256 .*, the head expects 000000000000/);
    await assert.rejects(loadBackboneTail(ref({ tensors: [{ name: 'W', dims: [2, 2], offset: 4, length: 4 }] }), dir), /tensor W does not fit/);
    await assert.rejects(loadBackboneTail(ref({ tensors: [{ name: 'W', dims: [3], offset: 0, length: 4 }] }), dir), /tensor W does not fit/);
    await assert.rejects(loadBackboneTail(ref({ encoding: 'float32' as typeof TAIL_ENCODING }), dir), /encoding "float32" is not float16-le-delta/);
    await assert.rejects(loadBackboneTail(ref({ file: 'gone.bin' }), dir), /backbone tail not readable/);
  });
});
