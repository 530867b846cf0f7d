import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { applyBackboneTail, loadBackboneTail, type BackboneTail } from '../../src/vision/backbone-tail.ts';
import { tensorValues } from '../../src/vision/dequantize.ts';

const { ModelProto, TensorProto } = onnxProto.onnx;
const floatInit = (name: string, dims: number[], values: number[]) =>
  TensorProto.create({ name, dims, dataType: TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
const model = () => ModelProto.encode(ModelProto.create({ graph: { initializer: [floatInit('W', [2, 2], [1, 2, 3, 4]), floatInit('B', [2], [5, 6])] } })).finish();
const tail = (entries: Array<[string, number[], number[]]>): BackboneTail => ({
  sha256: 'x',
  tensors: new Map(entries.map(([name, dims, values]) => [name, { dims, values: Float32Array.from(values) }])),
});

describe('applyBackboneTail', () => {
  it('writes the tail over the initializers of the same name and leaves the others', () => {
    const out = ModelProto.decode(applyBackboneTail(model(), tail([['W', [2, 2], [9, 8, 7, 6]]])));
    const byName = new Map(out.graph!.initializer!.map((t) => [t.name, Array.from(tensorValues(t))]));
    assert.deepEqual(byName.get('W'), [9, 8, 7, 6]);
    assert.deepEqual(byName.get('B'), [5, 6]);
  });
  it('refuses a tensor the backbone does not have, or of another shape', () => {
    assert.throws(() => applyBackboneTail(model(), tail([['Conv_1__W', [2], [1, 2]]])), /Conv_1__W is not an initializer/);
    assert.throws(() => applyBackboneTail(model(), tail([['W', [4], [1, 2, 3, 4]]])), /W is 4 float, the backbone's is 2×2/);
  });
});

describe('loadBackboneTail', () => {
  let dir: string;
  const values = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const bytes = Buffer.from(values.buffer);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'maskwatch-tail-'));
    await writeFile(path.join(dir, 'tail.bin'), bytes);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads each listed tensor at its offset, beside the head', async () => {
    const t = await loadBackboneTail({ file: 'tail.bin', sha256, tensors: [{ name: 'W', dims: [2, 2], offset: 0, length: 4 }, { name: 'B', dims: [2], offset: 4, length: 2 }] }, dir);
    assert.equal(t.sha256, sha256);
    assert.deepEqual(Array.from(t.tensors.get('W')!.values), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(t.tensors.get('B')!.values), [5, 6]);
  });
  it('refuses another file than the one the head names, a tensor past its end, a missing file', async () => {
    await assert.rejects(loadBackboneTail({ file: 'tail.bin', sha256: '0'.repeat(64), tensors: [] }, dir), /has sha256 .*, the head expects 000000000000/);
    await assert.rejects(loadBackboneTail({ file: 'tail.bin', sha256, tensors: [{ name: 'W', dims: [2, 2], offset: 4, length: 4 }] }, dir), /tensor W does not fit/);
    await assert.rejects(loadBackboneTail({ file: 'tail.bin', sha256, tensors: [{ name: 'W', dims: [3], offset: 0, length: 4 }] }, dir), /tensor W does not fit/);
    await assert.rejects(loadBackboneTail({ file: 'gone.bin', sha256, tensors: [] }, dir), /backbone tail not readable/);
  });
});
