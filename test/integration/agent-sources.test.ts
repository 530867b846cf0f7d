/**
 * The camera agent against a real API instance (real Redis queue, SQLite):
 * a video file decoded by ffmpeg into JPEG frames, a folder with a corrupt
 * image (rejected, not retried), a wrong key (agent stops), ffmpeg missing
 * (clear error). Frames are checked on the server side: jobs in the queue.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import pino from 'pino';
import sharp from 'sharp';
import { createCameraAgent } from '../../src/agent/camera-agent.ts';
import { ffmpegRun, folderSource, listImages, openSource, SourceError } from '../../src/agent/sources.ts';
import { openSpool } from '../../src/agent/spool.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import { QUEUES, type FrameJob } from '../../src/queue/jobs.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { UNMASKED_FILE, MASKED_FILE } from '../faults/support.ts';

const exec = promisify(execFile);
const logger = pino({ level: process.env.TEST_LOG || 'silent' });

describe('camera agent against a real API', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let queue: Queue<FrameJob>;
  let video: string;

  before(async () => {
    stack = await createTestStack('sqlite');
    api = await stack.startApi();
    queue = new Queue(QUEUES.frames, { connection: redisOptionsFromUrl(stack.config.redisUrl), prefix: stack.config.queuePrefix });
    // A 2-second 10 fps clip alternating two real photos.
    video = path.join(stack.dataDir, 'clip.mp4');
    await exec('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-loop', '1', '-t', '1', '-i', UNMASKED_FILE, '-loop', '1', '-t', '1', '-i', MASKED_FILE,
      '-filter_complex', '[0]scale=320:240,setsar=1[a];[1]scale=320:240,setsar=1[b];[a][b]concat=n=2:v=1[v]',
      '-map', '[v]', '-r', '10', '-pix_fmt', 'yuv420p', video,
    ]);
  });

  after(async () => {
    await queue?.close();
    await stack?.close();
  });

  async function camera(name: string) {
    const { token } = await loginAs(api, { username: `admin-${name}`, role: 'ADMIN' });
    const res = await call(api.url, 'POST', '/api/v1/cameras', { token, json: { name, latitude: 1, longitude: 2 } });
    assert.equal(res.status, 201);
    return res.body as { id: string; apiKey: string };
  }

  it('decodes a video file with ffmpeg into JPEG frames at the wanted fps and delivers them', async () => {
    const cam = await camera('video');
    const frames = [];
    for await (const f of ffmpegRun(video, { fps: 4, logger })) frames.push(f);
    // 2 s at 4 fps, read at native rate: 8 frames (ffmpeg's fps filter may round by one).
    assert.ok(frames.length >= 7 && frames.length <= 9, `${frames.length} frames`);
    for (const f of frames) assert.deepEqual(await sharp(f.image).metadata().then((m) => [m.format, m.width, m.height]), ['jpeg', 320, 240]);

    const accepted: string[] = [];
    const agent = createCameraAgent({
      server: api.url,
      apiKey: cam.apiKey,
      spool: await openSpool(path.join(stack.dataDir, 'spool-video'), 50),
      logger,
      statsIntervalMs: 0,
      onAccepted: ({ frameId }) => accepted.push(frameId),
    });
    const reason = await agent.run(await openSource(video, { fps: 5, logger }));
    assert.equal(reason, 'stopped');
    assert.ok(accepted.length >= 9, `${accepted.length} accepted`);
    assert.deepEqual(agent.stats(), { sent: accepted.length, spooled: 0, dropped: 0, rejected: 0, retried: 0, skipped: 0, spoolSize: 0, inFlight: 0 });
    const jobs = await Promise.all(accepted.map((id) => queue.getJob(id)));
    for (const job of jobs) assert.equal(job?.data.cameraId, cam.id);
  });

  it('drops a corrupt image (415) without retrying it and sends the rest', async () => {
    const cam = await camera('folder');
    const dir = path.join(stack.dataDir, 'folder');
    await mkdir(dir);
    await copyFile(UNMASKED_FILE, path.join(dir, 'a.jpg'));
    await writeFile(path.join(dir, 'b.jpg'), 'this is not a JPEG');
    await copyFile(MASKED_FILE, path.join(dir, 'c.jpg'));
    const accepted: string[] = [];
    const agent = createCameraAgent({
      server: api.url,
      apiKey: cam.apiKey,
      spool: await openSpool(path.join(stack.dataDir, 'spool-folder'), 50),
      logger,
      statsIntervalMs: 0,
      onAccepted: ({ frameId }) => accepted.push(frameId),
    });
    await agent.run(folderSource(await listImages(dir), { fps: 20 }));
    assert.equal(accepted.length, 2);
    assert.equal(agent.stats().rejected, 1);
    assert.equal(agent.stats().retried, 0);
  });

  it('stops on 401 with a clear error', async () => {
    const agent = createCameraAgent({
      server: api.url,
      apiKey: 'not-a-real-key',
      spool: await openSpool(path.join(stack.dataDir, 'spool-401'), 5),
      logger,
      statsIntervalMs: 0,
    });
    const reason = await agent.run(folderSource([UNMASKED_FILE], { fps: 10, loop: true }));
    assert.equal(reason, 'unauthorized');
    assert.match(agent.unauthorizedError!.message, /refused the camera API key/);
    assert.equal(agent.stats().sent, 0);
  });

  it('says how to install ffmpeg when it is missing', async () => {
    const run = ffmpegRun(video, { fps: 2, logger, ffmpegPath: '/nonexistent/ffmpeg' });
    await assert.rejects(run.next(), (err: Error) => err instanceof SourceError && /apt-get install -y ffmpeg/.test(err.message));
  });
});
