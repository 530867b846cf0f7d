import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createLastFrameRecorder } from '../../src/api/ingest/last-frame.ts';

function setup(fail = false) {
  let t = 1_000_000;
  const writes: { ids: string[]; at: number }[] = [];
  const recorder = createLastFrameRecorder({
    cameras: {
      async touchLastFrames(ids, at) {
        if (fail) throw new Error('database down');
        writes.push({ ids: [...ids].sort(), at: at.getTime() });
      },
    },
    logger: pino({ level: 'silent' }),
    intervalMs: 10_000,
    now: () => t,
  });
  return { recorder, writes, advance: (ms: number) => (t += ms), setFail: (v: boolean) => (fail = v) };
}

describe('camera.lastFrameAt recorder', () => {
  it('writes the cameras seen since the last batch in one statement, stamped with the latest upload', async () => {
    const { recorder, writes } = setup();
    recorder.seen('a', new Date(5000));
    recorder.seen('b', new Date(5600));
    recorder.seen('c', new Date(5300));
    await recorder.flush();
    assert.deepEqual(writes, [{ ids: ['a', 'b', 'c'], at: 5600 }]);
    await recorder.flush();
    assert.equal(writes.length, 1, 'an empty batch writes nothing');
  });

  it('writes a camera at most once per interval', async () => {
    const { recorder, writes, advance } = setup();
    recorder.seen('a', new Date(1));
    await recorder.flush();
    advance(9_999);
    recorder.seen('a', new Date(2));
    await recorder.flush();
    assert.equal(writes.length, 1, 'within the interval: not written again');
    advance(1);
    recorder.seen('a', new Date(3));
    await recorder.flush();
    assert.deepEqual(writes.at(-1), { ids: ['a'], at: 3 });
  });

  it('a failed batch is retried with the next upload of its cameras', async () => {
    const { recorder, writes, setFail } = setup(true);
    recorder.seen('a', new Date(1));
    await recorder.flush();
    assert.equal(writes.length, 0);
    setFail(false);
    recorder.seen('a', new Date(2));
    await recorder.flush();
    assert.deepEqual(writes, [{ ids: ['a'], at: 2 }], 'not held back by the throttle after the failure');
  });
});
