/**
 * Wires one detection worker process: Redis clients, the per-camera lock, the
 * alert publisher and update throttle, repositories, the 'frame.analyze' and
 * 'detections.record' handlers (one post-analysis path) and the BullMQ Workers
 * (frames queue; detections queue, with its own concurrency). Everything comes in as a parameter, so tests
 * build it with real parts on their own prefix / database.
 */
import type { Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createAlertRepository } from '../../db/repositories/alerts.ts';
import { createViolationRepository } from '../../db/repositories/violations.ts';
import { createIncidentRepository } from '../../db/repositories/incidents.ts';
import type { ConfirmationSettings, ViolationThreshold } from '../../domain/people.ts';
import type { Db } from '../../db/client.ts';
import { createAlertPublisher } from '../../realtime/publisher.ts';
import { toAlertEvent } from '../../services/alert-view.ts';
import { createAnnouncer, escalationChannel, socketChannel, type AlertChannel } from '../../services/announcer.ts';
import type { AnalyzeOptions, VisionEngine } from '../../vision/types.ts';
import { createFrameBacklog } from '../backlog.ts';
import { createStaleFrameCounter } from '../freshness.ts';
import { DEFAULT_DETECTIONS_CONCURRENCY, QUEUES, type DetectionsJob, type FrameJob } from '../jobs.ts';
import type { EscalationPolicy } from '../../domain/escalation.ts';
import { createEscalationScheduler, createEscalationWorker, resumeEscalationTimers } from '../handlers/escalation.ts';
import { createQueueWorker } from '../worker.ts';
import { createCameraLock } from '../handlers/camera-lock.ts';
import { createAnalysisStep } from '../handlers/analysis-step.ts';
import { createAnalysisStateStore } from '../analysis-state.ts';
import type { ReuseSettings } from '../../domain/analysis-reuse.ts';
import { createFrameAnalyzeHandler } from '../handlers/frame-analyze.ts';
import { createDetectionsRecordHandler } from '../handlers/detections-record.ts';
import type { WorkerMetrics } from '../handlers/metrics.ts';
import { createUpdateThrottle } from '../handlers/update-throttle.ts';
import { redisOptionsFromUrl } from '../redis-options.ts';
import { onceEvery } from '../../system/logger.ts';


export interface DetectionWorkerOptions {
  redisUrl: string;
  queuePrefix: string;
  dataDir: string;
  prisma: Db;
  engine: Pick<VisionEngine, 'analyzeFrame' | 'renderSnapshots' | 'noMaskThreshold'>;
  analyzeOptions?: AnalyzeOptions;
  /** Less work per frame (config.vision.reuse): unchanged frames skip detection, tracked faces keep their verdict; off when omitted. */
  reuse?: ReuseSettings;
  /** Pixel limit of the frame decode and of the unchanged-frame thumbnail (config.ingest.maxFramePixels; default 16 MP). */
  maxFramePixels?: number;
  cooldownSeconds: number;
  /** Default person confirmation, k of n (config.alerts.confirmation); cameras may override it. */
  confirmation?: ConfirmationSettings;
  /** What a track's averaged probabilities must show to be confirmed (default: domain/people.ts DEFAULT_CONFIRMATION_THRESHOLD). */
  violationThreshold?: ViolationThreshold;
  concurrency?: number;
  /**
   * Detections jobs run at once (their own queue; database and Redis round trips, no inference):
   * config.worker.detectionsConcurrency, MASKWATCH_DETECTIONS_CONCURRENCY (default 8).
   */
  detectionsConcurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Minimum time between two alert.updated of one alert (default 1000 ms). */
  updateIntervalMs?: number;
  metrics?: WorkerMetrics;
  /** Where alert changes go besides the sockets and escalation timers, e.g. webhooks (alert-notifiers.ts startWebhookDelivery). */
  channels?: AlertChannel[];
  /** Frames older than this (ms since the API received them) when taken are skipped; 0 / omitted = never. */
  maxFrameAgeMs?: number;
  /** Clock of the freshness check (default Date.now). */
  now?: () => number;
  /** Escalate unhandled alerts (config.alerts.escalation); off when omitted or maxLevel is 0. */
  escalation?: EscalationPolicy;
  logger: Logger;
  autorun?: boolean;
}

export interface DetectionWorker {
  /** The frames queue's worker ('frame.analyze'; also 'detections.record' jobs an older version queued there). */
  worker: Worker<FrameJob>;
  /** The detections queue's worker (edge agents' detections, 'detections.record'). */
  detectionsWorker: Worker<DetectionsJob>;
  /** Consumes the alerts queue (escalation timers), when escalation is on. */
  escalationWorker?: Worker;
  /** Ensures every open alert has its escalation timer (see resumeEscalationTimers); 0 when escalation is off. */
  resumeEscalationTimers(): Promise<number>;
  /** Waits for in-flight jobs, flushes pending alert updates, closes Redis. Not the DB or the engine: the caller owns those. */
  close(): Promise<void>;
}

export function createDetectionWorker(opts: DetectionWorkerOptions): DetectionWorker {
  const connection = redisOptionsFromUrl(opts.redisUrl);
  const redis = new Redis({ ...connection, maxRetriesPerRequest: 3 });
  redis.on('error', onceEvery((err, suppressed) => opts.logger.warn({ err: err.message, suppressed }, 'redis connection error (worker)')));
  const alerts = createAlertRepository(opts.prisma);
  const violations = createViolationRepository(opts.prisma);
  const escalating = opts.escalation && opts.escalation.maxLevel > 0 ? opts.escalation : undefined;
  const scheduler = escalating ? createEscalationScheduler({ connection, prefix: opts.queuePrefix, policy: escalating, logger: opts.logger }) : undefined;
  // The worker's announcer. Sockets and timers are required: if either fails the job
  // is retried and re-announces (an alert must reach dashboards and get its timer).
  const announcer = createAnnouncer({
    channels: [
      socketChannel(createAlertPublisher({ redis, queuePrefix: opts.queuePrefix, logger: opts.logger }), { required: true }),
      ...(opts.channels ?? []),
      scheduler && escalationChannel(scheduler, { required: true }),
    ],
    logger: opts.logger,
  });
  const escalationWorker = scheduler
    ? createEscalationWorker({ connection, prefix: opts.queuePrefix, prisma: opts.prisma, announcer, scheduler, logger: opts.logger, autorun: opts.autorun })
    : undefined;
  const backlog = createFrameBacklog(redis, { prefix: opts.queuePrefix });
  const updates = createUpdateThrottle({
    redis,
    prefix: opts.queuePrefix,
    intervalMs: opts.updateIntervalMs,
    logger: opts.logger,
    async emit(alertId) {
      const alert = await alerts.findWithCamera(alertId);
      if (alert) await announcer.announce({ kind: 'sighting', alert: toAlertEvent(alert) });
    },
  });
  const freshness = opts.maxFrameAgeMs
    ? { maxAgeMs: opts.maxFrameAgeMs, now: opts.now ?? Date.now, counter: createStaleFrameCounter(redis, opts.queuePrefix) }
    : undefined;
  // What both job kinds share after analysis (record-analysis.ts).
  const recordDeps = {
    dataDir: opts.dataDir,
    violations,
    alerts,
    announcer,
    updates,
    cameraLock: createCameraLock(redis, { prefix: opts.queuePrefix }),
    cooldownSeconds: opts.cooldownSeconds,
    incidents: createIncidentRepository(opts.prisma),
    confirmation: opts.confirmation,
    violationThreshold: opts.violationThreshold,
    backlog,
    metrics: opts.metrics,
    freshness,
    logger: opts.logger,
  };
  const handler = createFrameAnalyzeHandler({
    ...recordDeps,
    engine: opts.engine,
    analyzeOptions: opts.analyzeOptions,
    maxPixels: opts.maxFramePixels,
    analyze: opts.reuse
      ? createAnalysisStep({
          engine: opts.engine,
          analyzeOptions: opts.analyzeOptions,
          settings: opts.reuse,
          // A few frame intervals: the state is only worth keeping for the camera's next frames.
          store: createAnalysisStateStore(redis, { prefix: opts.queuePrefix, ttlMs: opts.reuse.maxGapMs }),
          maxPixels: opts.maxFramePixels,
          metrics: opts.metrics,
          logger: opts.logger,
        })
      : undefined,
  });
  const detectionsHandler = createDetectionsRecordHandler(recordDeps);
  const common = {
    connection,
    prefix: opts.queuePrefix,
    lockDurationMs: opts.lockDurationMs,
    stalledIntervalMs: opts.stalledIntervalMs,
    logger: opts.logger,
    autorun: opts.autorun,
    async onFinalFailure(job: Job) {
      const data = job.data as Partial<FrameJob | DetectionsJob>;
      if (typeof data.cameraId === 'string' && typeof data.frameId === 'string') {
        await backlog.release(data.cameraId, data.frameId);
      }
    },
  };
  // 'detections.record' stays runnable on the frames queue: jobs queued there before an upgrade still drain.
  const frameHandlers = { 'frame.analyze': handler, 'detections.record': detectionsHandler };
  const worker = createQueueWorker({ ...common, concurrency: opts.concurrency, handlers: frameHandlers }) as Worker<FrameJob>;
  const detectionsWorker = createQueueWorker({
    ...common,
    queue: QUEUES.detections,
    concurrency: opts.detectionsConcurrency ?? DEFAULT_DETECTIONS_CONCURRENCY,
    handlers: { 'detections.record': detectionsHandler },
  }) as Worker<DetectionsJob>;

  let closing: Promise<void> | undefined;
  return {
    worker,
    detectionsWorker,
    escalationWorker,
    async resumeEscalationTimers() {
      return scheduler ? resumeEscalationTimers(opts.prisma, scheduler, opts.logger) : 0;
    },
    close() {
      closing ??= (async () => {
        await Promise.all([worker.close(), detectionsWorker.close(), escalationWorker?.close()]); // waits for in-flight jobs to finish
        await scheduler?.close();
        await updates.flush();
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}
