/**
 * The one job map: every queue, the job names it carries and each job's
 * payload. Producers and workers import names and payload types from here;
 * createQueueWorker (./worker.ts) fails at start-up when a job name of its
 * queue has no handler. Which handler runs each job is wired in src/queue/wiring/.
 *
 *   queue        job name            payload           handler
 *   frames       frame.analyze       FrameJob          queue/handlers/frame-analyze.ts
 *   detections   detections.record   DetectionsJob     queue/handlers/detections-record.ts
 *   alerts       alert.escalate      EscalationJob     queue/handlers/escalation.ts
 *   webhooks     webhook.deliver     WebhookJob        notify/webhooks.ts (createWebhookWorker)
 *   maintenance  retention.enforce   RetentionJob      queue/handlers/retention.ts
 */
import type { WebhookPayload } from '../notify/webhook-core.ts';

export const QUEUES = {
  frames: 'frames',
  /**
   * Edge agents' detections: database work only (no inference), so a queue of its own, consumed with a
   * higher concurrency (MASKWATCH_DETECTIONS_CONCURRENCY) and never waiting behind frames being analysed.
   */
  detections: 'detections',
  /** Alert timers (escalation): a queue of its own so they never wait behind a frame backlog. */
  alerts: 'alerts',
  /** Outbound webhook deliveries, retried with backoff. */
  webhooks: 'webhooks',
  /** Repeatable housekeeping (retention), off the frames queue so neither delays the other. */
  maintenance: 'maintenance',
} as const;

/**
 * Detections jobs one worker process runs at once by default (MASKWATCH_DETECTIONS_CONCURRENCY): each mostly
 * waits on PostgreSQL and Redis. With the frames worker's usual 2 it stays within pg's default pool of 10
 * connections, so no transaction waits for a connection.
 */
export const DEFAULT_DETECTIONS_CONCURRENCY = 8;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** A frame accepted by the API, stored at `${dataDir}/${path}`. jobId = frameId. */
export interface FrameJob {
  frameId: string;
  cameraId: string;
  /** Relative to the data dir, e.g. frames/<cameraId>/<frameId>.jpg */
  path: string;
  capturedAt: string; // ISO 8601
  receivedAt: string; // ISO 8601
}

/**
 * An edge agent's analysis of one frame, accepted by POST /api/v1/detections (the frame itself never
 * left the site). jobId = frameId. Checked by the API, violations decided there by the server's rule.
 * The crops of violating faces wait at frames/<cameraId>/<frameId>-<faceIndex>.jpg (paths derived,
 * never carried, so a job cannot name another file).
 */
export interface DetectionsJob {
  frameId: string;
  cameraId: string;
  capturedAt: string; // ISO 8601
  receivedAt: string; // ISO 8601
  width: number;
  height: number;
  faces: DetectedFace[];
}

export interface DetectedFace {
  box: [number, number, number, number];
  score: number;
  probabilities: { mask: number; no_mask: number; mask_incorrect: number };
  /** The server's label (decideFace with the deployed rule). */
  label: 'mask' | 'no_mask' | 'mask_incorrect';
  /** The server's verdict (decideFace with the deployed rule); exactly these faces have an uploaded crop. */
  violation: boolean;
}

/** A delayed escalation check (src/domain/escalation.ts); jobId = escalationJobId(plan). */
export interface EscalationJob {
  alertId: string;
  /** Escalate only if the alert is still in this status… */
  expectStatus: 'NEW' | 'DISPATCHED';
  /** …and still at this escalation level when the job fires. */
  level: number;
}

/** One delivery of an event to one webhook target; jobId = `${payload.id}_${target}`. */
export interface WebhookJob {
  /** Target name; the URL and secret are looked up at delivery time, so secrets never sit in Redis. */
  target: string;
  payload: WebhookPayload;
}

/** The retention sweep takes no input (the policy comes from config). */
export type RetentionJob = Record<string, never>;

export interface JobMap {
  'frame.analyze': FrameJob;
  'detections.record': DetectionsJob;
  'alert.escalate': EscalationJob;
  'webhook.deliver': WebhookJob;
  'retention.enforce': RetentionJob;
}

export type JobName = keyof JobMap;

/** The queue each job name is added to (and consumed from). */
export const JOB_QUEUE = {
  'frame.analyze': QUEUES.frames,
  // Same backlog, freshness rule, fairness and job options as frames (producer.ts), but its own queue.
  'detections.record': QUEUES.detections,
  'alert.escalate': QUEUES.alerts,
  'webhook.deliver': QUEUES.webhooks,
  'retention.enforce': QUEUES.maintenance,
} as const satisfies Record<JobName, QueueName>;

/** The job names of one queue. */
export type JobNameOf<Q extends QueueName> = { [N in JobName]: (typeof JOB_QUEUE)[N] extends Q ? N : never }[JobName];
