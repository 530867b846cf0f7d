/**
 * BullMQ Worker factory: one handler per job name of the JobMap. Start-up fails
 * when a job name has no handler, so a producer can never enqueue work nobody runs.
 *
 * Failure semantics (BullMQ): a thrown error fails the attempt and the job is
 * retried with the producer's backoff (FRAME_JOB_OPTIONS: 5 attempts,
 * exponential from 1 s); UnrecoverableError fails it at once. Stalled jobs
 * (the worker died or blocked its event loop) are detected by any live worker
 * after `lockDurationMs` (default 30 s, checked every `stalledIntervalMs`) and
 * moved back to waiting, up to maxStalledCount (1) times, then failed.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { onceEvery } from '../system/logger.ts';
import { JOB_QUEUE, QUEUES, type JobMap, type JobName, type JobNameOf, type QueueName } from './jobs.ts';

export type JobHandler<N extends JobName> = (job: Job<JobMap[N], unknown, N>) => Promise<unknown>;
/** One handler per job name of a queue (the frames queue unless told). */
export type JobHandlers<Q extends QueueName = typeof QUEUES.frames> = { [N in JobNameOf<Q>]: JobHandler<N> };

/** Every job name at run time; the Record type makes the compiler flag a name missing here. */
const JOB_NAMES_SET: Record<JobName, true> = { 'frame.analyze': true, 'detections.record': true, 'alert.escalate': true, 'webhook.deliver': true, 'retention.enforce': true };
export const JOB_NAMES = Object.keys(JOB_NAMES_SET) as JobName[];

export class MissingHandlerError extends Error {
  constructor(readonly jobNames: string[]) {
    super(`no handler for job name(s): ${jobNames.join(', ')}`);
    this.name = 'MissingHandlerError';
  }
}

export interface QueueWorkerOptions<Q extends QueueName = typeof QUEUES.frames> {
  /** Connection OPTIONS (not an ioredis instance), so close() also closes the connections it made. */
  connection: ConnectionOptions;
  prefix: string;
  /** The queue to consume (default: frames); handlers are required for every job name of it. */
  queue?: Q;
  handlers: JobHandlers<Q>;
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  logger: Logger;
  /** Called once a job failed for good (no attempts left, or unrecoverable). */
  onFinalFailure?(job: Job): Promise<void> | void;
  /** Do not start consuming yet (tests start it explicitly with worker.run()). */
  autorun?: boolean;
}

export function assertHandlers(handlers: Partial<Record<string, unknown>>, queue: QueueName = QUEUES.frames): void {
  const missing = JOB_NAMES.filter((name) => JOB_QUEUE[name] === queue && typeof handlers[name] !== 'function');
  if (missing.length > 0) throw new MissingHandlerError(missing);
}

function isFinalFailure(job: Job, err: Error): boolean {
  return err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}

export function createQueueWorker<Q extends QueueName = typeof QUEUES.frames>(opts: QueueWorkerOptions<Q>): Worker {
  const queue: QueueName = opts.queue ?? QUEUES.frames;
  assertHandlers(opts.handlers, queue);
  const handlers = opts.handlers as unknown as Record<string, (job: Job) => Promise<unknown>>;
  const log = opts.logger.child({ component: 'worker', queue });

  const worker = new Worker(
    queue,
    async (job: Job) => {
      const handler = handlers[job.name];
      if (!handler) throw new UnrecoverableError(`unknown job name "${job.name}"`);
      log.debug({ jobId: job.id, name: job.name, attempt: job.attemptsMade + 1 }, 'job started');
      return handler(job);
    },
    {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency ?? 1,
      autorun: opts.autorun ?? true,
      ...(opts.lockDurationMs ? { lockDuration: opts.lockDurationMs } : {}),
      ...(opts.stalledIntervalMs ? { stalledInterval: opts.stalledIntervalMs } : {}),
    },
  );

  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = isFinalFailure(job, err);
    log[final ? 'error' : 'warn'](
      { jobId: job.id, name: job.name, attempt: job.attemptsMade, final, err: err.message },
      final ? 'job failed for good' : 'job failed, will retry',
    );
    if (final && opts.onFinalFailure) {
      Promise.resolve(opts.onFinalFailure(job)).catch((e: unknown) => log.warn({ err: e, jobId: job.id }, 'onFinalFailure failed'));
    }
  });
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'stalled job moved back to waiting'));
  // While Redis is away BullMQ reports every reconnect attempt (about twice a second): at most one line every 10 s.
  worker.on('error', onceEvery((err, suppressed) => log.error({ err: err.message, suppressed }, 'worker error')));
  return worker;
}
