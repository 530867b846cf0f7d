/**
 * `maskwatch simulate` as a user runs it: registers N cameras through the
 * admin API, drives them from a folder for a few seconds, prints totals;
 * frames arrive as queued jobs of those cameras.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import { QUEUES, type FrameJob } from '../../src/queue/jobs.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { BIN, spawnProc } from '../faults/processes.ts';
import { MASKED_FILE, UNMASKED_FILE } from '../faults/support.ts';

describe('maskwatch simulate', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let queue: Queue<FrameJob>;
  before(async () => {
    stack = await createTestStack('sqlite');
    api = await stack.startApi();
    queue = new Queue(QUEUES.frames, { connection: redisOptionsFromUrl(stack.config.redisUrl), prefix: stack.config.queuePrefix });
  });
  after(async () => {
    await queue?.close();
    await stack?.close();
  });

  it('registers cameras through the admin API and drives them from a folder', async () => {
    const password = 'simulate-admin-password';
    await loginAs(api, { username: 'simadmin', password, role: 'ADMIN' });
    const images = path.join(stack.dataDir, 'images');
    await mkdir(images);
    await copyFile(UNMASKED_FILE, path.join(images, '1.jpg'));
    await copyFile(MASKED_FILE, path.join(images, '2.jpg'));
    const keysOut = path.join(stack.dataDir, 'keys.txt');
    const sim = spawnProc('simulate', process.execPath, [
      BIN, 'simulate', '--server', api.url, '--cameras', '3', '--fps', '4', '--images', images, '--duration', '2',
      '--admin-user', 'simadmin', '--keys-out', keysOut,
    ], { PATH: process.env.PATH, MASKWATCH_ADMIN_PASSWORD: password, LOG_LEVEL: 'info' });
    const { code } = await sim.exited;
    assert.equal(code, 0, sim.output());
    const totals = sim.logs().find((l) => l.msg === 'simulation totals')!;
    assert.ok(totals, sim.output());
    assert.equal(totals.cameras, 3);
    assert.equal(totals.dropped, 0);
    assert.equal(totals.rejected, 0);
    // 2 s at 4 fps per camera: about 8 frames each (the first tick is at t=0).
    assert.ok((totals.sent as number) >= 18 && (totals.sent as number) <= 30, `sent ${totals.sent}`);

    const keys = (await readFile(keysOut, 'utf8')).trim().split('\n');
    assert.equal(keys.length, 3);
    const cams = await stack.db.prisma.camera.findMany({ where: { name: { startsWith: 'sim-' } } });
    assert.equal(cams.length, 3);
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active']);
    assert.equal(jobs.length, totals.sent);
    assert.deepEqual(new Set(jobs.map((j) => j.data.cameraId)), new Set(cams.map((c) => c.id)));
  });

  it('explains what it needs when keys and admin credentials are both missing', async () => {
    const sim = spawnProc('simulate', process.execPath, [BIN, 'simulate', '--server', api.url, '--images', stack.dataDir], { PATH: process.env.PATH });
    const { code } = await sim.exited;
    assert.equal(code, 1);
    assert.match(sim.output(), /give either --keys FILE or --admin-user/);
  });
});
