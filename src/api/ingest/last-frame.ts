/**
 * camera.lastFrameAt ("camera alive" in the dashboard) for both ingestion routes: at most once per
 * camera per `intervalMs`, and written in batches — the cameras seen during `flushMs` get one UPDATE
 * together instead of one each. 1,000 cameras cost ~1 query a second instead of ~100, and the
 * thousand first uploads after an API restart (every camera reconnecting at once) cost a handful of
 * queries instead of a thousand queued behind the pool. A batch is stamped with its latest upload's
 * time, so a camera's value may be up to `flushMs` late; a failed write is retried with the next batch.
 */
import type { Logger } from 'pino';
import type { CameraRepository } from '../../db/repositories/cameras.ts';
import { createKeyThrottle } from './throttle.ts';

export interface LastFrameRecorderOptions {
  cameras: Pick<CameraRepository, 'touchLastFrames'>;
  logger: Logger;
  /** Per camera, at most one write in this long (default 10 s). */
  intervalMs?: number;
  /** How long a batch collects cameras before its write (default 1 s). */
  flushMs?: number;
  now?: () => number;
}

export function createLastFrameRecorder(opts: LastFrameRecorderOptions) {
  const flushMs = opts.flushMs ?? 1000;
  const throttle = createKeyThrottle(opts.intervalMs ?? 10_000, opts.now);
  let pending = new Map<string, Date>();
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();

  async function write(batch: Map<string, Date>): Promise<void> {
    if (batch.size === 0) return;
    const latest = new Date(Math.max(...[...batch.values()].map((d) => d.getTime())));
    try {
      await opts.cameras.touchLastFrames([...batch.keys()], latest);
    } catch (err) {
      for (const id of batch.keys()) throttle.reset(id);
      opts.logger.warn({ err: (err as Error).message, cameras: batch.size }, 'could not update camera.lastFrameAt');
    }
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = pending;
    pending = new Map();
    writing = writing.then(() => write(batch));
    return writing;
  }

  return {
    /** An accepted upload of `cameraId` received at `at`. */
    seen(cameraId: string, at: Date): void {
      if (!throttle.shouldRun(cameraId)) return;
      pending.set(cameraId, at);
      timer ??= setTimeout(() => void flush(), flushMs).unref();
    },
    /** Writes what is pending now (API shutdown; tests). */
    flush,
  };
}

export type LastFrameRecorder = ReturnType<typeof createLastFrameRecorder>;
