/** watchParent: IPC disconnect and re-parenting both report the supervisor's death, once; stop() detaches. */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { watchParent, type ParentWatchOptions } from '../../src/system/parent-watch.ts';

function fakeProcess(opts: { ipc: boolean; ppid: number }) {
  const emitter = new EventEmitter();
  return Object.assign(emitter, { ppid: opts.ppid, connected: opts.ipc, send: opts.ipc ? () => true : undefined });
}

/** An EventEmitter stands in for process (its once/off overloads are wider than EventEmitter's). */
const asProcess = (fake: ReturnType<typeof fakeProcess>) => fake as unknown as NonNullable<ParentWatchOptions['proc']>;

describe('watchParent', () => {
  it('reports an IPC disconnect once and lets go of the channel', () => {
    const proc = fakeProcess({ ipc: true, ppid: 10 });
    const seen: string[] = [];
    watchParent({ proc: asProcess(proc), onParentExit: (how) => seen.push(how) });
    assert.equal(proc.listenerCount('disconnect'), 1);
    proc.emit('disconnect');
    proc.emit('disconnect');
    assert.deepEqual(seen, ['ipc-disconnect']);
    assert.equal(proc.listenerCount('disconnect'), 0, 'no listener keeps the IPC channel alive');
  });

  it('notices re-parenting by polling the parent pid', async () => {
    const proc = fakeProcess({ ipc: false, ppid: 10 });
    const reported = new Promise<string>((resolve) => watchParent({ proc: asProcess(proc), intervalMs: 5, onParentExit: resolve }));
    proc.ppid = 1;
    let timer: NodeJS.Timeout | undefined;
    const how = await Promise.race([reported, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('re-parenting not reported within 2 s')), 2000)))]);
    clearTimeout(timer);
    assert.equal(how, 'reparented');
  });

  it('stop() detaches: a later disconnect is not reported', () => {
    const proc = fakeProcess({ ipc: true, ppid: 10 });
    const seen: string[] = [];
    const stop = watchParent({ proc: asProcess(proc), onParentExit: (how) => seen.push(how) });
    stop();
    proc.emit('disconnect');
    assert.deepEqual(seen, []);
  });
});
