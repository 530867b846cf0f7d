/**
 * `npm run test:container` (issue 14): builds the Docker image with podman or
 * docker, runs `maskwatch start` in it beside a Redis of the test's own, and
 * checks /readyz and one frame → alert. Skipped, saying why, when no working
 * container engine is installed.
 *
 * Environment:
 *   MASKWATCH_NODE_IMAGE     base image (build arg NODE_IMAGE); default: localhost/maskwatch-node:20-bookworm
 *                            when it exists (scripts/container-base.sh), else the Dockerfile's node:20-slim
 *   MASKWATCH_CONTAINER_ENGINE  podman | docker (default: the first that works)
 *   MASKWATCH_ENGINE_FLAGS   global engine flags, e.g. "--runtime runc --cgroup-manager=cgroupfs" (this sandbox)
 *   MASKWATCH_RUN_FLAGS      extra build/run flags, e.g. "--ulimit nofile=16384:16384 --ulimit nproc=4096:4096"
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ADMIN, ASSETS, freePort, login, postFrame, registerCamera, startOwnRedis, waitFor, type OwnRedis } from '../faults/processes.ts';
import { UNMASKED } from '../faults/support.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const LOCAL_BASE = 'localhost/maskwatch-node:20-bookworm';
const TAG = 'localhost/maskwatch:container-test';
const words = (v: string | undefined) => (v ?? '').split(/\s+/).filter(Boolean);
const engineFlags = words(process.env.MASKWATCH_ENGINE_FLAGS);
const runFlags = words(process.env.MASKWATCH_RUN_FLAGS);

/** The engine to use, or why there is none. */
function findEngine(): { engine: string } | { skip: string } {
  const candidates = process.env.MASKWATCH_CONTAINER_ENGINE ? [process.env.MASKWATCH_CONTAINER_ENGINE] : ['podman', 'docker'];
  const reasons: string[] = [];
  for (const engine of candidates) {
    const info = spawnSync(engine, [...engineFlags, 'info'], { encoding: 'utf8', timeout: 180_000 });
    if ((info.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') reasons.push(`${engine}: not installed`);
    else if (info.error) reasons.push(`${engine}: \`${engine} info\` failed (${info.error.message})`);
    else if (info.status !== 0) reasons.push(`${engine}: \`${engine} info\` failed (${(info.stderr || info.stdout).trim().split('\n').at(-1)})`);
    else return { engine };
  }
  return { skip: `no working container engine (${reasons.join('; ')}); install podman or docker to run this test` };
}

const found = findEngine();
if ('skip' in found) process.stderr.write(`test:container skipped: ${found.skip}\n`);

describe('container image', { skip: 'skip' in found ? found.skip : false }, () => {
  const engine = 'engine' in found ? found.engine : '';
  const ce = (args: string[], timeoutMs = 60_000) => run(engine, [...engineFlags, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const name = `maskwatch-test-${process.pid}`;
  let redis: OwnRedis | undefined;
  after(async () => {
    if (process.env.MASKWATCH_KEEP_CONTAINER !== '1') await ce(['rm', '-f', '-v', name]).catch(() => undefined);
    await redis?.close();
  });

  it('builds, starts with Redis, answers /readyz and turns one frame into an alert', async () => {
    const hasLocalBase = spawnSync(engine, [...engineFlags, 'image', 'exists', LOCAL_BASE]).status === 0;
    const base = process.env.MASKWATCH_NODE_IMAGE || (hasLocalBase ? LOCAL_BASE : undefined);
    const buildArgs = ['build', '--network=host', ...runFlags, ...(base ? ['--build-arg', `NODE_IMAGE=${base}`] : []), '-t', TAG, ROOT];
    process.stderr.write(`test:container: ${engine} ${[...engineFlags, ...buildArgs].join(' ')}\n`);
    await ce(buildArgs, 30 * 60_000).catch((err: Error & { stderr?: string }) => {
      throw new Error(`image build failed: ${err.message}\n${(err.stderr ?? '').slice(-4000)}`);
    });

    redis = await startOwnRedis();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // Host network: the container reaches the test's Redis on 127.0.0.1 and the test reaches its API.
    await ce([
      'run', '-d', '--name', name, '--network=host', ...runFlags,
      '-v', `${ASSETS}:/assets:ro`,
      '-e', `PORT=${port}`, '-e', 'HOST=127.0.0.1', '-e', `REDIS_URL=${redis.url}`,
      '-e', `MASKWATCH_ADMIN_USER=${ADMIN.username}`, '-e', `MASKWATCH_ADMIN_PASSWORD=${ADMIN.password}`, '-e', 'MASKWATCH_ADMIN_MUST_CHANGE_PASSWORD=false',
      TAG, 'start', '--workers', '1',
    ]);
    // The container's last lines, without the request lines of this test's own polling.
    const logs = async () => {
      const { stdout, stderr } = await ce(['logs', '--tail', '2000', name]).catch(() => ({ stdout: '', stderr: '(no logs)' }));
      const polling = /"msg":"request"/;
      return `${stdout}${stderr}`.split('\n').filter((l) => !polling.test(l)).slice(-60).join('\n');
    };
    const running = async () => (await ce(['inspect', '-f', '{{.State.Running}}', name])).stdout.trim() === 'true';
    try {
      await waitFor('/readyz 200 from the container (API up, worker models loaded)', async () => {
        if (!(await running())) throw new Error(`container exited:\n${await logs()}`);
        return (await fetch(`${url}/readyz`).catch(() => null))?.status === 200;
      }, { timeoutMs: 300_000, intervalMs: 1000 });

      const token = await login(url);
      // A snapshot camera (1 of 1, as in README's quick start): with the image's default confirmation (2 of the
      // last 2 frames) one frame never makes an alert.
      const camera = await registerCamera(url, token, 'container cam', { confirmFrames: 1, confirmWindow: 1 });
      const posted = await postFrame(url, camera.apiKey, UNMASKED);
      assert.equal(posted.status, 202);
      const alert = await waitFor('an alert for the posted frame', async () => {
        const res = await fetch(`${url}/api/v1/alerts?cameraId=${camera.id}`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { items?: { id: string; cameraId: string }[] };
        return body.items?.find((a) => a.cameraId === camera.id);
      }, { timeoutMs: 120_000, intervalMs: 500 });
      assert.equal(alert.cameraId, camera.id);
      process.stderr.write(`test:container: /readyz 200, frame ${posted.frameId} → alert ${alert.id}\n`);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- container logs ---\n${await logs()}`);
    }
  });
});
