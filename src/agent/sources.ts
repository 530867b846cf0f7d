/**
 * Frame sources for the agent: a folder of images, a video file or an RTSP
 * stream (both decoded by an ffmpeg child process emitting MJPEG), or images
 * held in memory (simulator). Each is an async iterable of frames stamped
 * with their capture time, ending when the AbortSignal fires.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Frame } from './camera-agent.ts';
import { fullJitterDelay } from './backoff.ts';
import { MjpegSplitter } from './mjpeg-splitter.ts';
import { ticker, validateFps } from './pacing.ts';

const IMAGE_EXT = /\.(jpe?g|png|webp)$/i;

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

/** Image files of a folder in name order (the order a camera would have taken them). */
export async function listImages(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => IMAGE_EXT.test(n)).sort();
  if (names.length === 0) throw new SourceError(`no .jpg/.jpeg/.png/.webp images in ${dir}`);
  return names.map((n) => path.join(dir, n));
}

export interface PacedOptions {
  fps: number;
  signal?: AbortSignal;
  loop?: boolean;
  /** Start at this index of the list (virtual cameras of one folder show different images). */
  offset?: number;
  startDelayMs?: number;
  now?: () => Date;
}

/** Frames from a list of image files, paced at fps. */
export async function* folderSource(files: string[], opts: PacedOptions): AsyncGenerator<Frame> {
  if (files.length === 0) throw new SourceError('no images to send');
  const now = opts.now ?? (() => new Date());
  let n = 0;
  for await (const _tick of ticker(opts.fps, opts.signal, opts.startDelayMs)) {
    if (!opts.loop && n >= files.length) return;
    const file = files[((opts.offset ?? 0) + n) % files.length]!;
    n += 1;
    const capturedAt = now();
    yield { image: await readFile(file), capturedAt };
  }
}

/** Frames from images already in memory, paced at fps, looping (simulator). */
export async function* memorySource(images: Buffer[], opts: PacedOptions & { maxFrames?: number }): AsyncGenerator<Frame> {
  if (images.length === 0) throw new SourceError('no images to send');
  const now = opts.now ?? (() => new Date());
  let n = 0;
  for await (const _tick of ticker(opts.fps, opts.signal, opts.startDelayMs)) {
    if (opts.maxFrames !== undefined && n >= opts.maxFrames) return;
    if (!opts.loop && n >= images.length) return;
    const image = images[((opts.offset ?? 0) + n) % images.length]!;
    n += 1;
    yield { image, capturedAt: now() };
  }
}

export function isStreamUrl(source: string): boolean {
  return /^(rtsps?|rtmp|http|https):\/\//i.test(source);
}

/** ffmpeg arguments that decode `source` and write JPEG frames at `fps` to stdout. */
export function ffmpegArgs(source: string, fps: number, opts: { loop?: boolean; quality?: number } = {}): string[] {
  validateFps(fps);
  const input: string[] = [];
  if (/^rtsps?:\/\//i.test(source)) input.push('-rtsp_transport', 'tcp');
  // A file is read at its native rate (-re), as a live camera would deliver it.
  else if (!isStreamUrl(source)) input.push('-re', ...(opts.loop ? ['-stream_loop', '-1'] : []));
  return [
    '-hide_banner',
    '-loglevel', 'error',
    '-nostdin',
    ...input,
    '-i', source,
    '-an',
    '-vf', `fps=${fps}`,
    '-f', 'image2pipe',
    '-vcodec', 'mjpeg',
    '-q:v', String(opts.quality ?? 5),
    'pipe:1',
  ];
}

export interface FfmpegSourceOptions {
  fps: number;
  loop?: boolean;
  signal?: AbortSignal;
  logger: Logger;
  ffmpegPath?: string;
  now?: () => Date;
}

/**
 * One ffmpeg run: yields its frames; throws SourceError if ffmpeg is missing
 * or fails. Capture time = when the frame came out of the decoder.
 */
export async function* ffmpegRun(source: string, opts: FfmpegSourceOptions): AsyncGenerator<Frame> {
  const bin = opts.ffmpegPath ?? 'ffmpeg';
  const child = spawn(bin, ffmpegArgs(source, opts.fps, { loop: opts.loop }), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-2000);
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const onAbort = () => child.kill('SIGTERM');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const now = opts.now ?? (() => new Date());
  const splitter = new MjpegSplitter();
  try {
    const failed = await Promise.race([spawnError, new Promise<null>((r) => child.once('spawn', () => r(null)))]);
    if (failed) {
      const code = (failed as NodeJS.ErrnoException).code;
      throw new SourceError(
        code === 'ENOENT'
          ? `ffmpeg not found (looked for "${bin}"): it decodes video files and RTSP streams. Install it, e.g. apt-get install -y ffmpeg`
          : `cannot start ffmpeg: ${failed.message}`,
      );
    }
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      for (const image of splitter.push(chunk)) yield { image, capturedAt: now() };
    }
    const code = await exited;
    if (code !== 0 && !opts.signal?.aborted) throw new SourceError(`ffmpeg exited with code ${code}: ${stderr.trim() || '(no message)'}`);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}

/**
 * A video file (ends with the file unless loop) or a live stream (ffmpeg is
 * restarted with backoff when the stream drops: cameras reboot, links flap).
 */
export async function* ffmpegSource(source: string, opts: FfmpegSourceOptions): AsyncGenerator<Frame> {
  const live = isStreamUrl(source);
  let failures = 0;
  for (;;) {
    try {
      let got = false;
      for await (const frame of ffmpegRun(source, opts)) {
        got = true;
        failures = 0;
        yield frame;
      }
      if (!live || opts.signal?.aborted) return;
      if (!got) failures += 1;
      opts.logger.warn({ source: redactUrl(source) }, 'stream ended; reconnecting');
    } catch (err) {
      if (!live || (err instanceof SourceError && /not found|cannot start/.test(err.message))) throw err;
      failures += 1;
      opts.logger.warn({ source: redactUrl(source), err: (err as Error).message }, 'stream failed; reconnecting');
    }
    try {
      await sleep(1000 + fullJitterDelay(Math.min(failures, 6), { baseMs: 500, maxMs: 30_000 }), undefined, { signal: opts.signal });
    } catch {
      return;
    }
  }
}

export function redactUrl(source: string): string {
  return source.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

export type OpenSourceOptions = FfmpegSourceOptions;

/** The right source for a --source value: folder, video file, or stream URL. */
export async function openSource(source: string, opts: OpenSourceOptions): Promise<AsyncIterable<Frame>> {
  if (isStreamUrl(source)) return ffmpegSource(source, opts);
  let info;
  try {
    info = await stat(source);
  } catch {
    throw new SourceError(`source not found: ${source} (expected a folder of images, a video file or an rtsp:// URL)`);
  }
  if (info.isDirectory()) return folderSource(await listImages(source), { fps: opts.fps, signal: opts.signal, loop: opts.loop, now: opts.now });
  return ffmpegSource(source, opts);
}
