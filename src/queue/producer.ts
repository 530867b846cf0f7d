import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { QUEUES, type DetectionsJob, type FrameJob, type JobMap } from './jobs.ts';
import { createFrameBacklog, type FrameBacklog } from './backlog.ts';
import { redisOptionsFromUrl } from './redis-options.ts';
import { onceEvery } from '../system/logger.ts';

/** Raised when a frame could not be durably enqueued (Redis down, slow or refusing). */
export class EnqueueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnqueueError';
  }
}

export const FRAME_JOB_OPTIONS: JobsOptions = {
  // Newest first: under a backlog the fresh frames (the useful ones) are analysed before the old ones,
  // which the workers then skip as stale (queue/freshness.ts). One queue for all cameras, so with equal
  // frame rates cameras alternate; the per-camera backlog cap bounds what one camera can queue.
  lifo: true,
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  // Finished jobs are kept a while for inspection, then dropped so Redis stays small.
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export interface FrameProducer {
  /** `priority`: 0 (or absent) = plain FIFO; n ≥ 1 = after every plain job, lower n first (BullMQ priorities). */
  enqueue(job: FrameJob, opts?: { priority?: number }): Promise<void>;
  /** An edge agent's detections: their own queue (QUEUES.detections), with the same options, ordering and timeout as a frame. */
  enqueueDetections(job: DetectionsJob, opts?: { priority?: number }): Promise<void>;
  /** Whether the detections job of `frameId` has already run to its end (completed or failed, and still kept). */
  detectionsFinished(frameId: string): Promise<boolean>;
  backlog: FrameBacklog;
  /** The producer's fail-fast connection (no offline queue, short command timeout), for per-frame checks. */
  redis: Redis;
  /** Job counts by state for metrics / readiness. */
  jobCounts(): Promise<Record<string, number>>;
  /** Workers connected to the frames queue now (BullMQ's client list): 0 means frames wait for nobody. */
  frameWorkerCount(): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface FrameProducerOptions {
  redisUrl: string;
  prefix: string;
  logger: Logger;
  /** An enqueue taking longer than this fails (→ 503), so a request never hangs on Redis. */
  timeoutMs?: number;
}

/** Connection options that fail fast instead of queueing commands while Redis is away. */
export function failFastRedisOptions(redisUrl: string, timeoutMs: number): RedisOptions {
  return {
    ...redisOptionsFromUrl(redisUrl),
    enableOfflineQueue: false,
    // Commands issued in the same tick (concurrent frames) go out in one write.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    // Keep reconnecting in the background, at most every 2 s, so service resumes by itself.
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EnqueueError(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function createFrameProducer(opts: FrameProducerOptions): FrameProducer {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const connection = failFastRedisOptions(opts.redisUrl, timeoutMs);
  // One connection of our own for the queue and the backlog: BullMQ leaves a shared
  // instance alone on close, so we can always disconnect it — even while Redis is away,
  // where BullMQ's own quit() would fail and leave its client reconnecting forever.
  const redis = new Redis(connection);
  const queueOf = <T>(name: string) =>
    new Queue<T>(name, {
      // ioredis 6's option types differ slightly from the ones bullmq declares.
      connection: redis as unknown as ConnectionOptions,
      prefix: opts.prefix,
    });
  const queue = queueOf<FrameJob>(QUEUES.frames);
  const detectionsQueue = queueOf<DetectionsJob>(QUEUES.detections);
  // Redis being away produces an error per reconnect attempt: log at most every 10 s.
  const onError = onceEvery((err, suppressed) => opts.logger.warn({ err: err.message, suppressed }, 'redis connection error (frame producer)'));
  queue.on('error', onError);
  detectionsQueue.on('error', onError);
  redis.on('error', onError);
  const backlog = createFrameBacklog(redis, { prefix: opts.prefix });

  async function add(
    target: Queue<FrameJob> | Queue<DetectionsJob>,
    name: 'frame.analyze' | 'detections.record',
    job: FrameJob | DetectionsJob,
    enqueueOpts: { priority?: number } = {},
  ) {
    const q = target as Queue<FrameJob | DetectionsJob>;
    const priority = Math.min(Math.max(0, Math.floor(enqueueOpts.priority ?? 0)), 2_097_152); // BullMQ's range
    if (redis.status !== 'ready') throw new EnqueueError(`redis is not connected (${redis.status})`);
    try {
      // BullMQ waits for its connection to become ready before a command, so the
      // timeout also covers "Redis has never been reachable".
      await withTimeout(q.add(name satisfies keyof JobMap, job, { ...FRAME_JOB_OPTIONS, jobId: job.frameId, ...(priority > 0 ? { priority } : {}) }), timeoutMs, 'enqueue');
    } catch (err) {
      if (err instanceof EnqueueError) {
        // The add may still land later; remove it (best effort) so a 503 never leaves a job behind.
        q.remove(job.frameId).catch(() => undefined);
        throw err;
      }
      throw new EnqueueError(`enqueue failed: ${(err as Error).message}`, { cause: err });
    }
  }

  return {
    backlog,
    redis,
    enqueue: (job, enqueueOpts) => add(queue, 'frame.analyze', job, enqueueOpts),
    enqueueDetections: (job, enqueueOpts) => add(detectionsQueue, 'detections.record', job, enqueueOpts),
    async detectionsFinished(frameId) {
      const state = await withTimeout(detectionsQueue.getJobState(frameId), timeoutMs, 'job state');
      return state === 'completed' || state === 'failed';
    },
    async jobCounts() {
      // Frames and edge detections together: the ingestion backlog.
      const states = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;
      const [frames, detections] = await withTimeout(
        Promise.all([queue.getJobCounts(...states), detectionsQueue.getJobCounts(...states)]),
        timeoutMs,
        'job counts',
      );
      return Object.fromEntries(states.map((s) => [s, (frames[s] ?? 0) + (detections[s] ?? 0)]));
    },
    frameWorkerCount: () => withTimeout(queue.getWorkersCount(), timeoutMs, 'worker count'),
    async ping() {
      await withTimeout(redis.ping(), timeoutMs, 'redis ping');
    },
    async close() {
      await Promise.all([queue.close().catch(() => undefined), detectionsQueue.close().catch(() => undefined)]);
      if (redis.status === 'ready') await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}
