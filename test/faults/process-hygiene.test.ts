/**
 * Issue 14, process hygiene, with real processes:
 *   - a crashed worker is restarted by `maskwatch start`, and the restart shows in /metrics;
 *   - `kill -9` of the supervisor → its workers are gone within 10 s (no orphans);
 *   - SIGTERM while Redis is down → the worker exits once its stop timeout (MASKWATCH_WORKER_STOP_TIMEOUT_MS) has passed;
 *   - `npm start` stopped with SIGTERM: npm's shell dies without passing the signal on, and the supervisor
 *     and its workers still stop (they notice their parent is gone).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { BIN, freePort, processEnv, spawnProc, startWorker, waitFor, type Proc, startOwnRedis } from './processes.ts';
import { createFaultEnv, type FaultEnv } from './support.ts';

/** Alive and not a zombie (an orphan's zombie may never be reaped here: PID 1 is not an init). */
function isJsonLine(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** pids the supervisor logged as started worker processes, in order. */
function workerPids(start: Proc): number[] {
  return start.logs().filter((l) => l.msg === 'worker process started' && typeof l.pid === 'number').map((l) => l.pid as number);
}

async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('fault: worker process hygiene', () => {
  const envs: FaultEnv[] = [];
  const leftovers: number[] = [];
  after(async () => {
    for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    for (const env of envs) await env.cleanup.run();
  });

  it('a crashed worker is restarted and counted in /metrics; kill -9 of the supervisor takes its workers down within 10 s', async () => {
    const env = await createFaultEnv({ label: 'hygiene' });
    envs.push(env);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = env.cleanup.proc(spawnProc('start', process.execPath, [BIN, 'start', '--workers', '1'], processEnv(env.sys, { PORT: String(port) })));
    const ready = () => waitFor('`maskwatch start` /readyz with a ready worker', async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 180_000, intervalMs: 250 });
    await ready();
    // stdout is JSON lines only (a log collector parses each); the summary for people is on stderr.
    await start.waitForLine((l) => l.startsWith('MaskWatch running'), 10_000);
    const notJson = start.stdoutLines.filter((l) => !isJsonLine(l));
    assert.deepEqual(notJson, [], 'stdout lines that are not JSON');
    assert.equal(await metric(url, 'maskwatch_worker_restarts_total'), 0);
    assert.equal(await metric(url, 'maskwatch_workers_ready'), 1);

    const [first] = workerPids(start);
    assert.ok(first, start.output());
    leftovers.push(first);
    process.kill(first, 'SIGKILL');
    await start.waitForLog('worker process exited; restarting', (l) => l.signal === 'SIGKILL');
    await waitFor('a second worker process', () => workerPids(start).length === 2, { timeoutMs: 30_000 });
    await waitFor('the restart counted in /metrics', async () => (await metric(url, 'maskwatch_worker_restarts_total')) === 1, { timeoutMs: 10_000 });
    await waitFor('the restarted worker ready', async () => (await metric(url, 'maskwatch_workers_ready')) === 1, { timeoutMs: 180_000, intervalMs: 250 });

    const second = workerPids(start)[1]!;
    leftovers.push(second);
    assert.ok(isAlive(second));
    start.kill('SIGKILL');
    await start.exited;
    const killedAt = Date.now();
    await waitFor(`worker ${second} gone after its supervisor's kill -9`, () => !isAlive(second), { timeoutMs: 10_000, intervalMs: 100 });
    assert.ok(Date.now() - killedAt < 10_000);
  });

  it('SIGTERM while Redis is down: the worker exits once its stop timeout has passed', async () => {
    const env = await createFaultEnv({ label: 'hygiene-term' });
    envs.push(env);
    const redis = await startOwnRedis();
    env.cleanup.add(() => redis.close());
    const sys = { ...env.sys, redisUrl: redis.url };
    // The stop timeout is the bound under test (10 s by default): 3 s keeps the test short.
    const worker = env.cleanup.proc(await startWorker(sys, { label: 'worker-redis-down', env: { MASKWATCH_WORKER_STOP_TIMEOUT_MS: '3000' } }));
    await redis.crash();
    await worker.waitForLog('redis connection error (worker)', undefined, 30_000);
    const sentAt = Date.now();
    worker.kill('SIGTERM');
    const timer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
    const { code, signal } = await worker.exited;
    clearTimeout(timer);
    const tookMs = Date.now() - sentAt;
    assert.notEqual(signal, 'SIGKILL', `the worker ignored SIGTERM:\n${worker.output()}`);
    assert.ok(tookMs < 8_000, `exited after ${tookMs} ms (stop timeout 3 s)`);
    assert.ok(code === 0 || code === 1, `exit code ${code}`);
    assert.ok(worker.logs().some((l) => l.msg === 'shutdown requested'), worker.output());
  });

  it('under npm, SIGTERM to the shell that runs `maskwatch start` (it does not pass it on) still stops the supervisor and its workers within 10 s', async () => {
    const env = await createFaultEnv({ label: 'hygiene-npm' });
    envs.push(env);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // What `npm start` runs: `sh -c "<script>"` with npm_lifecycle_event set. The trailing command keeps the shell
    // as the parent (a shell may exec a lone command), as npm's does here.
    const shell = env.cleanup.proc(
      spawnProc(
        'npm-shell',
        '/bin/sh',
        ['-c', `"${process.execPath}" "${BIN}" start --workers 1; echo start exited`],
        processEnv(env.sys, { PORT: String(port), npm_lifecycle_event: 'start' }),
      ),
    );
    await waitFor('`maskwatch start` /readyz with a ready worker', async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 180_000, intervalMs: 250 });
    const supervisor = shell.logs().find((l) => l.service === 'start' && typeof l.pid === 'number')?.pid as number | undefined;
    const [worker] = workerPids(shell);
    assert.ok(supervisor && worker, shell.output());
    leftovers.push(supervisor, worker);

    shell.kill('SIGTERM');
    await shell.exited;
    const killedAt = Date.now();
    await waitFor(`supervisor ${supervisor} gone after its npm shell's SIGTERM`, () => !isAlive(supervisor), { timeoutMs: 10_000, intervalMs: 100 });
    await waitFor(`worker ${worker} gone with its supervisor`, () => !isAlive(worker), { timeoutMs: 10_000, intervalMs: 100 });
    assert.ok(Date.now() - killedAt < 10_000);
  });
});
